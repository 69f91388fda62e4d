//! Validation against the embedded JSON Schema, every violation at once,
//! each turned into a diagnostic on the YAML span it is about.
//!
//! The schema is the contract for structure and types (keys, required
//! keys, enums). Formats that depend on resolved variables (modes,
//! durations, dates, paths) are checked later, in `resolve`, on the values
//! after `${var.NAME}` substitution.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use super::diagnostics::{Code, ManifestDiagnostic, Sink, did_you_mean};
use super::document::{Document, pointer_display, pointer_push};
use crate::expect::Span;

/// How the Cloud Assistant API spells what the manifest calls otherwise.
const API_SPELLINGS: &[(&str, &str)] = &[
    ("TargetDir", "target_dir"),
    ("FileMode", "mode"),
    ("FileOwner", "owner"),
    ("FileGroup", "group"),
    ("InstanceId", "instances"),
    ("InstanceIds", "instances"),
    ("NodeId", "nodes"),
    ("NodeIdList", "nodes"),
    ("Name", "name"),
    ("Content", "content"),
    ("ContentType", "content_type"),
    ("Overwrite", "overwrite"),
    ("InvokeId", "invoke_id"),
    ("CommandId", "command_id"),
    ("RegionId", "region"),
    ("ExitCode", "exit_code"),
    ("InvocationStatus", "status"),
    ("Output", "output"),
    ("Description", "description"),
];

/// The parsed embedded schema.
pub fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(crate::schemas::MANIFEST_V1)
            .expect("the embedded manifest schema is JSON (tested)")
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(schema()).expect("the embedded manifest schema compiles (tested)")
    })
}

/// Validates `doc`, pushing one diagnostic per violation; returns the JSON
/// pointers of the values that failed, so later stages skip them.
pub fn validate(doc: &Document, text: &str, sink: &mut Sink) -> Vec<String> {
    let mut failed = Vec::new();
    for error in validator().iter_errors(&doc.json) {
        let pointer = error.instance_path().as_str().to_owned();
        for diagnostic in describe(&error, &pointer, doc, text) {
            sink.push(diagnostic);
        }
        failed.push(pointer);
    }
    failed
}

fn describe(
    error: &jsonschema::ValidationError<'_>,
    pointer: &str,
    doc: &Document,
    text: &str,
) -> Vec<ManifestDiagnostic> {
    let place = pointer_display(pointer);
    let value_span = doc.index.value(pointer);
    let single = |d: ManifestDiagnostic| vec![d];
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = subschema_at(pointer)
                .and_then(|s| s.get("properties"))
                .and_then(Json::as_object)
                .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|key| {
                    unknown_key(
                        key,
                        &known,
                        &place,
                        doc.index.head(&pointer_push(pointer, key)),
                    )
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default();
            let span = first_line(doc.index.head(pointer), text);
            if property == "reason" && pointer.starts_with("/waivers/") {
                return single(
                    ManifestDiagnostic::new(
                        Code::WaiverWithoutReason,
                        format!("{place} has no `reason`"),
                    )
                    .label(span, "no `reason:` in this waiver")
                    .help("add `reason:` with why the finding is accepted (a ticket, a person, a date)"),
                );
            }
            single(
                ManifestDiagnostic::new(
                    Code::MissingKey,
                    format!("{place} has no `{property}`, which is required"),
                )
                .label(span, format!("`{property}` missing here"))
                .help(format!("add `{property}:` to this entry")),
            )
        }
        ValidationErrorKind::Type { .. } => {
            let expected = subschema_at(pointer)
                .map(expected_types)
                .unwrap_or_else(|| "another type".to_owned());
            let actual = json_type(error.instance());
            let help = match error.instance().as_ref() {
                Json::String(s) if expected.contains("boolean") => {
                    Some(format!("write true or false without quotes, not `{s}`"))
                }
                Json::Number(n) if expected.contains("string") => {
                    Some(format!("quote it: \"{n}\""))
                }
                Json::Null => Some("give it a value, or remove the key".to_owned()),
                _ => None,
            };
            single(
                ManifestDiagnostic::new(
                    Code::WrongType,
                    format!("{place} must be {expected}, not {actual}"),
                )
                .label(value_span, format!("this is {actual}"))
                .help(help.unwrap_or_else(|| format!("{place} takes {expected}"))),
            )
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<&str> = options
                .as_array()
                .map(|o| o.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let given = scalar_text(error.instance());
            let help = match did_you_mean(&given, options.iter().copied()) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => format!("use one of: {}", options.join(", ")),
            };
            single(
                ManifestDiagnostic::new(
                    Code::InvalidValue,
                    format!("`{given}` is not a valid {place}"),
                )
                .label(
                    value_span,
                    format!("expected one of {}", options.join(", ")),
                )
                .help(help),
            )
        }
        ValidationErrorKind::Constant { expected_value } if pointer == "/version" => single(
            ManifestDiagnostic::new(
                Code::UnsupportedVersion,
                format!(
                    "this manifest is version {}; shipcheck {} reads version {expected_value}",
                    scalar_text(error.instance()),
                    env!("CARGO_PKG_VERSION")
                ),
            )
            .label(value_span, "unsupported version")
            .help("write `version: 1`, or upgrade shipcheck"),
        ),
        ValidationErrorKind::MinLength { .. } => single(
            ManifestDiagnostic::new(Code::EmptyValue, format!("{place} must not be empty"))
                .label(value_span, "empty")
                .help("give it a value, or remove the key if it is optional"),
        ),
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. }
            if pointer.ends_with("/output") =>
        {
            single(
                ManifestDiagnostic::new(
                    Code::InvalidValue,
                    format!("{place} must hold exactly one of equals, contains, regex"),
                )
                .label(value_span, "one match per command")
                .help("write for example `output: { contains: \"reloaded\" }`"),
            )
        }
        _ => single(
            ManifestDiagnostic::new(Code::Schema, format!("{place}: {error}"))
                .label(value_span, "does not match the manifest schema")
                .help("run `shipcheck schema` to see the manifest schema"),
        ),
    }
}

fn unknown_key(key: &str, known: &[&str], place: &str, span: Span) -> ManifestDiagnostic {
    if let Some((api, ours)) = API_SPELLINGS
        .iter()
        .find(|(api, ours)| *api == key && known.contains(ours))
    {
        return ManifestDiagnostic::new(
            Code::ApiSpelling,
            format!("`{api}` is the API's name for what the manifest calls `{ours}`"),
        )
        .label(span, format!("write `{ours}`"))
        .help(format!(
            "manifest keys are snake_case; rename `{api}:` to `{ours}:`"
        ));
    }
    let help = match did_you_mean(key, known.iter().copied()) {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None if known.is_empty() => "remove it".to_owned(),
        None => format!("the keys allowed here are: {}", known.join(", ")),
    };
    ManifestDiagnostic::new(Code::UnknownKey, format!("unknown key `{key}` in {place}"))
        .label(span, "not a manifest key")
        .help(help)
}

/// The schema that applies at an instance pointer (following `$ref`).
fn subschema_at(pointer: &str) -> Option<&'static Json> {
    let root = schema();
    let mut current = resolve_ref(root, root)?;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = current
            .get("properties")
            .and_then(|p| p.get(&token))
            .or_else(|| {
                current
                    .get("items")
                    .filter(|_| token.parse::<usize>().is_ok())
            })
            .or_else(|| {
                current
                    .get("additionalProperties")
                    .filter(|s| s.is_object())
            })?;
        current = resolve_ref(root, next)?;
    }
    Some(current)
}

fn resolve_ref<'a>(root: &'a Json, mut schema: &'a Json) -> Option<&'a Json> {
    for _ in 0..16 {
        if let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
            schema = root.pointer(reference.strip_prefix('#')?)?;
        } else if let Some([only]) = schema
            .get("allOf")
            .and_then(Json::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
        } else {
            return Some(schema);
        }
    }
    None
}

fn expected_types(schema: &Json) -> String {
    let article = |t: &str| match t {
        "integer" | "array" | "object" => format!("an {}", noun(t)),
        _ => format!("a {}", noun(t)),
    };
    match schema.get("type") {
        Some(Json::String(t)) => article(t),
        Some(Json::Array(types)) => {
            let names: Vec<String> = types.iter().filter_map(Json::as_str).map(article).collect();
            match names.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => "another type".to_owned(),
            }
        }
        _ => "another type".to_owned(),
    }
}

fn noun(json_type: &str) -> &str {
    match json_type {
        "object" => "mapping",
        "array" => "list",
        other => other,
    }
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "empty (null)",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A span cut at its first line end: "this entry" without the whole block.
pub fn first_line(span: Span, text: &str) -> Span {
    let slice = text.get(span.start..span.end).unwrap_or_default();
    match slice.find('\n') {
        Some(i) => Span::new(span.start, span.start + slice[..i].trim_end().len()),
        None => span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subschemas_follow_refs_items_and_maps() {
        let file = subschema_at("/files/0").unwrap();
        assert!(file["properties"].get("target_dir").is_some());
        let set = subschema_at("/instance_sets/web").unwrap();
        // A list of ids, or a source.
        assert_eq!(set["anyOf"][0]["type"], "array");
        assert_eq!(
            expected_types(subschema_at("/files/0/mode").unwrap()),
            "a string or an integer"
        );
        assert_eq!(
            expected_types(subschema_at("/files/0/overwrite").unwrap()),
            "a boolean"
        );
    }

    #[test]
    fn first_line_cuts_a_block() {
        let text = "- name: a\n  mode: x\n";
        assert_eq!(first_line(Span::new(2, 19), text), Span::new(2, 9));
    }
}
