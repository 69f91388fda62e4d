//! The spanned YAML tree as JSON, plus an index from JSON pointer to span.
//!
//! JSON Schema validation and serde's typed deserialisation both work on
//! `serde_json::Value`, which has no positions. The [`SpanIndex`] keeps them:
//! any JSON pointer a validator reports (`/files/0/mode`) maps back to the
//! bytes of the value, and of its key, in the YAML text.

use std::collections::HashMap;

use serde_json::{Map, Number, Value as Json};

use super::diagnostics::{Code, ManifestDiagnostic, Sink};
use super::parse::{Node, Value};
use crate::expect::Span;

/// Where one JSON value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spans {
    /// The whole value (a collection spans all its entries).
    pub value: Span,
    /// The mapping key it sits under, if any.
    pub key: Option<Span>,
}

#[derive(Debug, Default)]
pub struct SpanIndex {
    spans: HashMap<String, Spans>,
}

impl SpanIndex {
    pub fn get(&self, pointer: &str) -> Option<Spans> {
        self.spans.get(pointer).copied()
    }

    /// The value's span, or the nearest ancestor's when the pointer names a
    /// value that is not there (a missing key).
    pub fn value(&self, pointer: &str) -> Span {
        self.nearest(pointer).value
    }

    /// The key's span when there is one, else the value's: the short label
    /// for "this entry" rather than a block of lines.
    pub fn head(&self, pointer: &str) -> Span {
        let spans = self.nearest(pointer);
        spans.key.unwrap_or(spans.value)
    }

    fn nearest(&self, pointer: &str) -> Spans {
        let mut pointer = pointer;
        loop {
            if let Some(spans) = self.spans.get(pointer) {
                return *spans;
            }
            match pointer.rfind('/') {
                Some(i) => pointer = &pointer[..i],
                None => {
                    return Spans {
                        value: Span::default(),
                        key: None,
                    };
                }
            }
        }
    }
}

/// A manifest as JSON with its spans.
#[derive(Debug)]
pub struct Document {
    pub json: Json,
    pub index: SpanIndex,
}

/// Appends one reference token to a JSON pointer (RFC 6901 escaping).
pub fn pointer_push(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// `/files/0/mode` → `files[0].mode`, the way people name a place.
pub fn pointer_display(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    if out.is_empty() {
        "the manifest".to_owned()
    } else {
        out
    }
}

/// Converts the tree, reporting duplicate and non-scalar keys (the first of
/// duplicates is kept).
pub fn build(root: &Node, text: &str, sink: &mut Sink) -> Document {
    let mut index = SpanIndex::default();
    let json = convert(root, text, String::new(), None, &mut index, sink);
    Document { json, index }
}

fn convert(
    node: &Node,
    text: &str,
    pointer: String,
    key: Option<Span>,
    index: &mut SpanIndex,
    sink: &mut Sink,
) -> Json {
    let (json, span) = match &node.value {
        Value::Null => (Json::Null, node.span),
        Value::Bool(b) => (Json::Bool(*b), node.span),
        Value::Int(i) => (
            i64::try_from(*i)
                .map(Number::from)
                .ok()
                .or_else(|| Number::from_f64(*i as f64))
                .map_or(Json::Null, Json::Number),
            node.span,
        ),
        Value::Float(f) => (
            Number::from_f64(*f).map_or_else(|| Json::String(f.to_string()), Json::Number),
            node.span,
        ),
        Value::Str(s) => (Json::String(s.clone()), node.span),
        Value::Seq(items) => {
            let mut span = node.span;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    span = cover(span, item.span);
                    convert(
                        item,
                        text,
                        pointer_push(&pointer, &i.to_string()),
                        None,
                        index,
                        sink,
                    )
                })
                .collect();
            (Json::Array(values), span)
        }
        Value::Map(entries) => {
            let mut span = node.span;
            let mut object = Map::new();
            for entry in entries {
                span = cover(cover(span, entry.key.span), entry.value.span);
                let Some(name) = key_text(&entry.key, text) else {
                    sink.push(
                        ManifestDiagnostic::new(
                            Code::ComplexKey,
                            "a mapping key must be a plain name, not a list or a mapping",
                        )
                        .label(entry.key.span, "this key is a collection")
                        .help("write the key as a plain word, for example `name:`"),
                    );
                    continue;
                };
                let child = pointer_push(&pointer, &name);
                if let Some(first) = index.get(&child).filter(|_| object.contains_key(&name)) {
                    sink.push(
                        ManifestDiagnostic::new(
                            Code::DuplicateKey,
                            format!("`{name}` is defined twice in the same mapping"),
                        )
                        .label(entry.key.span, "defined again here")
                        .label(first.key.unwrap_or(first.value), "first defined here")
                        .help("YAML keeps only one of them; remove or rename one"),
                    );
                    continue;
                }
                let value = convert(&entry.value, text, child, Some(entry.key.span), index, sink);
                object.insert(name, value);
            }
            (Json::Object(object), span)
        }
    };
    index.spans.insert(pointer, Spans { value: span, key });
    json
}

/// A key's name: strings as they are, other scalars as written (`1: x`).
fn key_text(key: &Node, text: &str) -> Option<String> {
    match &key.value {
        Value::Str(s) => Some(s.clone()),
        Value::Seq(_) | Value::Map(_) => None,
        _ => text
            .get(key.span.start..key.span.end)
            .map(|raw| raw.trim().to_owned()),
    }
}

fn cover(a: Span, b: Span) -> Span {
    if a.is_empty() && a.start == 0 {
        return b;
    }
    Span::new(a.start.min(b.start), a.end.max(b.end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse::parse;

    fn doc(text: &str) -> (Document, Sink) {
        let mut sink = Sink::for_source(0);
        let root = parse(text).unwrap();
        (build(&root, text, &mut sink), sink)
    }

    #[test]
    fn pointers_map_back_to_values_and_keys() {
        let text = "files:\n  - name: a\n    mode: \"0644\"\n";
        let (doc, sink) = doc(text);
        assert!(sink.is_empty());
        let mode = doc.index.get("/files/0/mode").unwrap();
        assert_eq!(&text[mode.value.start..mode.value.end], "\"0644\"");
        assert_eq!(
            &text[mode.key.unwrap().start..mode.key.unwrap().end],
            "mode"
        );
        let entry = doc.index.value("/files/0");
        assert_eq!(&text[entry.start..entry.end], "name: a\n    mode: \"0644\"");
        // A missing key falls back to its parent.
        assert_eq!(doc.index.value("/files/0/owner"), entry);
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_first_kept() {
        let (doc, sink) = doc("a: 1\nb: 2\na: 3\n");
        assert_eq!(doc.json["a"], 1);
        assert_eq!(sink.diagnostics.len(), 1);
        assert_eq!(sink.diagnostics[0].code, Code::DuplicateKey);
        assert_eq!(sink.diagnostics[0].labels[0].span, Span::new(10, 11));
        assert_eq!(sink.diagnostics[0].labels[1].span, Span::new(0, 1));
    }

    #[test]
    fn pointers_escape_and_display() {
        assert_eq!(pointer_push("/a", "x/y~z"), "/a/x~1y~0z");
        assert_eq!(pointer_display("/files/0/mode"), "files[0].mode");
        assert_eq!(pointer_display(""), "the manifest");
    }
}
