//! The manifest as written (version 1): the Rust types that the JSON Schema
//! is generated from and that each section is deserialised into.
//!
//! These types are the contract. `schemas/manifest.v1.schema.json` is
//! generated from them (`schema_json`, with the `schema` feature that the
//! tests turn on) and a test fails when the committed
//! file differs, so the schema editors use and the code that reads manifests
//! cannot drift apart. Values stay as written here (strings with
//! `${var.NAME}` references, modes as text); `resolve` turns them into
//! [`crate::expect`] values.

use std::collections::BTreeMap;

#[cfg(feature = "schema")]
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value as Json;

/// A shipcheck manifest: the files and commands Cloud Assistant should have
/// delivered and run.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(
    title = "shipcheck manifest, version 1",
    extend("additionalProperties" = false)
))]
pub struct Manifest {
    /// The manifest format version; always 1.
    #[cfg_attr(feature = "schema", schemars(extend("const" = 1)))]
    pub version: u32,
    /// Which API reports the deliveries: `ecs` (instances, the default) or
    /// `eflo` (Lingjun nodes, which need `invoke_id` on every file).
    pub provider: Option<ProviderName>,
    /// Variables with their default values, used as `${var.NAME}` in any
    /// string; `--var NAME=VALUE` overrides a default. A null default means
    /// the variable must be given with `--var`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "var_defaults_schema"))]
    pub vars: Option<BTreeMap<String, Json>>,
    /// Values every file takes unless it declares its own.
    pub defaults: Option<Defaults>,
    /// Named sets of instances (or nodes), usable in `instances:`/`nodes:`:
    /// a list of ids, or a source (`tags:`, `resource_group:`, `file:`).
    pub instance_sets: Option<BTreeMap<String, InstanceSet>>,
    /// The files that should have been sent (SendFile).
    pub files: Option<Vec<FileEntry>>,
    /// The commands that should have run (RunCommand / InvokeCommand).
    pub commands: Option<Vec<CommandEntry>>,
    /// Findings accepted for a reason, optionally until a date.
    pub waivers: Option<Vec<WaiverEntry>>,
}

/// One entry of `instance_sets:`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(untagged)]
pub enum InstanceSet {
    /// Instance (or node) ids.
    Ids(Vec<String>),
    /// Instances found by what they are, or listed in a file.
    Source(SetSource),
}

/// Where an instance set's members come from: `tags` and/or
/// `resource_group` (ECS DescribeInstances, when the check runs), or `file`
/// (read with the manifest).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
pub struct SetSource {
    /// Instances carrying every one of these tags.
    pub tags: Option<BTreeMap<String, String>>,
    /// Instances in this resource group (`rg-…`).
    pub resource_group: Option<String>,
    /// Only instances in this status: Running (the default), Stopped,
    /// Starting, Stopping, Pending, or `any`.
    pub status: Option<String>,
    /// A file of ids, relative to the manifest's directory (inside the
    /// content root): one id a line (`#` comments and blank lines ignored),
    /// or a JSON array of ids such as `terraform output -json` writes.
    pub file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    Ecs,
    Eflo,
}

/// Defaults for every file (SendFile's own defaults apply when neither the
/// file nor this section says: mode 0644, owner root, group root, overwrite
/// false, PlainText).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
pub struct Defaults {
    /// The region of every file and command that names none (cn-hangzhou).
    pub region: Option<String>,
    /// The file mode, octal: "0644", "644" or 644.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "mode_schema"))]
    pub mode: Option<ModeSpec>,
    /// The owning user (default root).
    pub owner: Option<String>,
    /// The owning group (default root).
    pub group: Option<String>,
    /// Whether the delivery was allowed to overwrite (default false).
    pub overwrite: Option<bool>,
    /// How content was sent: PlainText (default) or Base64.
    pub content_type: Option<ContentTypeName>,
    /// A delivery older than this is stale: 30m, 12h, 7d.
    pub max_age: Option<String>,
    /// Only deliveries whose SendFile task, and runs whose RunCommand
    /// invocation, carry every one of these tags count (`release: "42"`);
    /// the planner filters by them too.
    pub task_tags: Option<BTreeMap<String, String>>,
    /// Only deliveries created at or after this count: an RFC 3339 time, or
    /// a duration (2h, 30m) measured back from the check's clock.
    pub since: Option<String>,
    /// How long the API keeps delivery records, named when one is not
    /// listed (`not-delivered`); --retention overrides it. The documents
    /// say 14d, 30d or 1d: see the README's "Evidence that outlives the API".
    pub retention: Option<String>,
}

/// A mode as written: `"0644"` or the YAML number `644`, both octal digits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ModeSpec {
    Digits(u64),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub enum ContentTypeName {
    PlainText,
    Base64,
}

/// One file that should be on every target listed.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
pub struct FileEntry {
    /// The file name, as sent (SendFile `Name`, at most 255 characters).
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub name: String,
    /// The absolute directory on the target (SendFile `TargetDir`, at most
    /// 255 characters).
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub target_dir: String,
    /// The file mode, octal: "0644", "644" or 644.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "mode_schema"))]
    pub mode: Option<ModeSpec>,
    /// The owning user.
    pub owner: Option<String>,
    /// The owning group.
    pub group: Option<String>,
    /// Whether the delivery was allowed to overwrite an existing file.
    pub overwrite: Option<bool>,
    /// The expected content, inline (Base64 text when content_type is
    /// Base64). At most one of content, content_file and sha256.
    pub content: Option<String>,
    /// A file holding the expected content, relative to this manifest.
    pub content_file: Option<String>,
    /// The SHA-256 of the expected content, 64 hex digits.
    pub sha256: Option<String>,
    /// How content was sent: PlainText or Base64.
    pub content_type: Option<ContentTypeName>,
    /// ECS targets: instance ids (i-…) and instance set names.
    pub instances: Option<Vec<String>>,
    /// eflo targets: node ids (e01-…) and instance set names.
    pub nodes: Option<Vec<String>>,
    /// Pin the check to one SendFile task (f-…); required for eflo.
    pub invoke_id: Option<String>,
    /// The region, when not the default one.
    pub region: Option<String>,
    /// A delivery older than this is stale: 30m, 12h, 7d.
    pub max_age: Option<String>,
    /// Only deliveries whose SendFile task carries every one of these tags
    /// count (`release: "42"`); the planner filters by them too.
    pub task_tags: Option<BTreeMap<String, String>>,
    /// Only deliveries created at or after this count: an RFC 3339 time, or
    /// a duration (2h, 30m) measured back from the check's clock.
    pub since: Option<String>,
    /// Never print the content; show sizes and SHA-256 only.
    pub sensitive: Option<bool>,
    /// Free text for people; not checked.
    pub description: Option<String>,
}

/// One command that should have run.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
pub struct CommandEntry {
    /// The command (c-…); exactly one of command_id and invoke_id.
    pub command_id: Option<String>,
    /// One invocation (t-…); required for eflo.
    pub invoke_id: Option<String>,
    /// ECS targets; empty means every instance it ran on.
    pub instances: Option<Vec<String>>,
    /// eflo targets; empty means every node it ran on.
    pub nodes: Option<Vec<String>>,
    /// The expected exit code.
    pub exit_code: Option<i64>,
    /// The expected per-target status (default Success, or Failed when
    /// exit_code is not 0).
    pub status: Option<CommandStatus>,
    /// An expectation on the output.
    pub output: Option<OutputSpec>,
    /// The region, when not the default one.
    pub region: Option<String>,
    /// Only runs started at or after this count: an RFC 3339 time, or a
    /// duration (2h, 30m) measured back from the check's clock.
    /// DescribeInvocationResults has no time filter: runs are filtered
    /// after they are listed.
    pub since: Option<String>,
    /// Only runs whose invocation carries every one of these tags count
    /// (`release: "42"`, as given to RunCommand's `Tag.N`); the planner
    /// filters DescribeInvocationResults by them.
    pub task_tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub enum CommandStatus {
    Pending,
    Invalid,
    Aborted,
    Running,
    Success,
    Failed,
    Error,
    Timeout,
    Cancelled,
    Stopping,
    Terminated,
    Scheduled,
}

impl CommandStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Invalid => "Invalid",
            Self::Aborted => "Aborted",
            Self::Running => "Running",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Timeout => "Timeout",
            Self::Cancelled => "Cancelled",
            Self::Stopping => "Stopping",
            Self::Terminated => "Terminated",
            Self::Scheduled => "Scheduled",
        }
    }
}

/// Exactly one of equals, contains, regex.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend(
    "additionalProperties" = false,
    "minProperties" = 1,
    "maxProperties" = 1
)))]
pub struct OutputSpec {
    /// The whole output, exactly.
    pub equals: Option<String>,
    /// A substring of the output.
    pub contains: Option<String>,
    /// A regular expression (Rust regex syntax) that matches the output.
    pub regex: Option<String>,
}

/// A finding the team has accepted.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
pub struct WaiverEntry {
    /// The finding code it silences (mode-mismatch, content-mismatch, …).
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub finding: String,
    /// Only on this instance or node.
    pub instance: Option<String>,
    /// Only for this full path (/etc/nginx/nginx.conf).
    pub file: Option<String>,
    /// Why the finding is accepted; required.
    pub reason: String,
    /// The last day the waiver applies (YYYY-MM-DD).
    pub expires: Option<String>,
}

#[cfg(feature = "schema")]
fn mode_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["string", "integer"],
        "description": "The file mode, octal: \"0644\", \"644\" or 644."
    })
}

#[cfg(feature = "schema")]
fn var_defaults_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        "description": "Variables with their default values, used as ${var.NAME} in any string; --var NAME=VALUE overrides a default. A null default means the variable must be given with --var."
    })
}

#[cfg(feature = "schema")]
/// The JSON Schema of [`Manifest`], as committed in `schemas/`.
pub fn schema_json() -> String {
    let settings = schemars::generate::SchemaSettings::draft07();
    let schema = settings.into_generator().into_root_schema_for::<Manifest>();
    let mut value = schema.to_value();
    drop_optional_null(&mut value);
    let mut text = serde_json::to_string_pretty(&value).expect("a schema serialises");
    text.push('\n');
    text
}

#[cfg(feature = "schema")]
/// schemars marks `Option<T>` fields as nullable; in a manifest, `key:` with
/// no value is a mistake, not "absent", so nulls are taken out again (the
/// `vars` values, which may be null on purpose, keep theirs).
fn drop_optional_null(value: &mut Json) {
    match value {
        Json::Object(object) => {
            let is_null = |s: &Json| s.get("type") == Some(&Json::from("null"));
            if let Some(Json::Array(types)) = object.get_mut("type")
                && types.len() == 2
                && types.iter().any(|t| t == "null")
            {
                types.retain(|t| t != "null");
                let only = types.remove(0);
                object.insert("type".to_owned(), only);
            }
            let nullable_ref = match object.get("anyOf") {
                Some(Json::Array(any_of)) if any_of.len() == 2 && any_of.iter().any(is_null) => {
                    any_of.iter().find(|s| !is_null(s)).cloned()
                }
                _ => None,
            };
            if let Some(Json::Object(kept)) = nullable_ref {
                object.remove("anyOf");
                for (k, v) in kept {
                    object.entry(k).or_insert(v);
                }
            }
            for child in object.values_mut() {
                drop_optional_null(child);
            }
        }
        Json::Array(items) => items.iter_mut().for_each(drop_optional_null),
        _ => {}
    }
}

#[cfg(all(test, feature = "schema"))]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_is_in_sync_with_the_model() {
        crate::schemas::assert_committed(
            "schemas/manifest.v1.schema.json",
            &schema_json(),
            crate::schemas::MANIFEST_V1,
            "INSTA_UPDATE=always cargo test --lib schema_is_in_sync",
        );
    }
}
