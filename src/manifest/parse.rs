//! YAML text → a tree of nodes that each know their byte span.
//!
//! serde-saphyr deserialises straight into Rust types; we deserialise into a
//! generic, spanned tree instead so that every later stage (schema
//! validation, semantic checks, resolution) can point at the exact bytes a
//! value came from. Duplicate keys are passed through to us rather than
//! failing the parse, so they are reported together with everything else.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};

use crate::expect::Span;

/// One YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A mapping entry; keys keep their own span for "unknown key" labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in source order, duplicates included.
    Map(Vec<Entry>),
}

/// Why a text is not a YAML document we can read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    /// Where the parser stopped (1-based line, 1-based column in
    /// characters), when it knows.
    pub position: Option<(usize, usize)>,
    /// The input tripped a resource budget (an alias bomb, absurd nesting).
    pub over_budget: bool,
    /// What to do about a tripped budget.
    pub help: Option<String>,
}

/// The most values (scalars and collections) one manifest may hold: twenty
/// times a plain 10,000-entry manifest. Each costs at least a byte of text,
/// so only aliases can amplify, and they have budgets of their own.
pub const MAX_NODES: usize = 4_000_000;
/// Nesting deeper than this is no manifest.
pub const MAX_DEPTH: usize = 32;
/// Aliases are rare in manifests; these bound what they may expand to.
pub const MAX_ALIASES: usize = 10_000;
pub const MAX_REPLAYED_EVENTS: usize = 100_000;

/// Limits well above any real manifest, far below what hurts: a 1 MiB alias
/// bomb is refused after a few thousand events instead of expanding into
/// gigabytes, while a 10,000-entry manifest, or 50 MB of mostly comments,
/// is read. The file's size is bounded before parsing (`--max-manifest-bytes`).
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 2 * MAX_NODES,
            max_aliases: MAX_ALIASES,
            max_nodes: MAX_NODES,
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_total_scalar_bytes: usize::MAX,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: 16,
        },
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        // `mode: 0644` means the text "0644", not the decimal 644.
        leading_zero_numbers_as_strings: true,
        // `overwrite: yes` is a typo for a boolean, not a boolean.
        strict_booleans: true,
        with_snippet: false,
    }
}

/// Parses one YAML document. An empty text is an empty mapping.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    if text.trim().is_empty() {
        return Ok(Node {
            value: Value::Map(Vec::new()),
            span: Span::new(0, 0),
        });
    }
    serde_saphyr::from_str_with_options::<Node>(text, options()).map_err(|err| {
        let position = err
            .location()
            .filter(|loc| loc.line() > 0)
            .map(|loc| (loc.line() as usize, loc.column().max(1) as usize));
        if let Some((message, help)) = budget_message(&err) {
            return ParseError {
                message,
                position,
                over_budget: true,
                help: Some(help.to_owned()),
            };
        }
        let message = err.to_string();
        // The position is shown by the label; keep the message short.
        let message = match message.rfind(" at line ") {
            Some(i) if position.is_some() => message[..i].to_owned(),
            _ => message,
        };
        ParseError {
            message,
            position,
            over_budget: false,
            help: None,
        }
    })
}

/// A plain account of which resource budget the input exceeded, if any,
/// and what to do about it.
fn budget_message(err: &serde_saphyr::Error) -> Option<(String, &'static str)> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    const ALIASES: &str = "write the values out instead of aliasing them; a manifest needs no \
                           alias that expands to thousands of values";
    const SPLIT: &str = "split the manifest into several files and pass them together \
                         (`shipcheck check a.yaml b.yaml`)";
    let mut err = err.without_snippet();
    while let Error::AliasError { error, .. } = err {
        err = error.without_snippet();
    }
    Some(match err {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { depth } => (
                format!("it nests {depth} levels deep; the limit is {MAX_DEPTH}"),
                "flatten the structure; a manifest nests a few levels",
            ),
            BudgetBreach::Aliases { aliases } => (
                format!("it uses {aliases} aliases; the limit is {MAX_ALIASES}"),
                ALIASES,
            ),
            BudgetBreach::AliasAnchorRatio { aliases, anchors } => (
                format!("it uses {aliases} aliases for {anchors} anchors (an alias bomb)"),
                ALIASES,
            ),
            BudgetBreach::Events { events } => (
                format!(
                    "it holds over {events} YAML events; the limit is {} per manifest",
                    2 * MAX_NODES
                ),
                SPLIT,
            ),
            BudgetBreach::Nodes { nodes } => (
                format!("it holds over {nodes} values; the limit is {MAX_NODES} per manifest"),
                SPLIT,
            ),
            BudgetBreach::Documents { documents } => (
                format!("it holds {documents} YAML documents; a manifest is one"),
                "remove the `---` separators, or put each document in its own file",
            ),
            other => (format!("it exceeds a parser budget ({other:?})"), SPLIT),
        },
        Error::AliasReplayLimitExceeded {
            total_replayed_events,
            ..
        } => (
            format!("its aliases expand to over {total_replayed_events} values (an alias bomb)"),
            ALIASES,
        ),
        Error::AliasExpansionLimitExceeded { expansions, .. } => (
            format!("one anchor is expanded {expansions} times (an alias bomb)"),
            ALIASES,
        ),
        Error::AliasReplayStackDepthExceeded { depth, .. } => (
            format!("its aliases nest {depth} levels deep (an alias bomb)"),
            ALIASES,
        ),
        _ => return None,
    })
}

fn location_span(location: &serde_saphyr::Location) -> Option<Span> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len().unwrap_or(0)).ok()?;
    Some(Span::new(start, start + len))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let span = location_span(&spanned.referenced).unwrap_or_default();
        Ok(Node {
            value: spanned.value,
            span,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push(Entry { key, value });
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_byte_spans() {
        let text = "a: 1\nb:\n  - \"q\"\nc: &x {d: 0644}\ne: *x\n";
        let root = parse(text).unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("not a map: {root:?}");
        };
        let slice = |n: &Node| &text[n.span.start..n.span.end];
        assert_eq!(slice(&entries[0].key), "a");
        assert_eq!(entries[0].value.value, Value::Int(1));
        let Value::Seq(items) = &entries[1].value.value else {
            panic!("not a seq");
        };
        assert_eq!(slice(&items[0]), "\"q\"");
        let Value::Map(inner) = &entries[2].value.value else {
            panic!("not a map");
        };
        // A leading zero keeps a mode's spelling.
        assert_eq!(inner[0].value.value, Value::Str("0644".into()));
        // An alias is labelled where it is used.
        assert_eq!(slice(&entries[3].value), "*x");
    }

    #[test]
    fn syntax_errors_have_a_position_and_duplicates_pass_through() {
        let err = parse("a: [1\nb: 2").unwrap_err();
        assert!(err.position.is_some());
        assert!(!err.over_budget);
        let root = parse("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = root.value else {
            panic!("not a map");
        };
        assert_eq!(entries.len(), 2);
    }
}
