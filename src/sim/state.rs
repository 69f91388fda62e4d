//! The simulator's state file: YAML, checked against
//! `schemas/sim-state.v1.schema.json`, then read into typed records.
//!
//! A state file describes a world (instances and nodes, past deliveries and
//! command runs, accepted keys, the clock) and how responses are presented
//! (fixed RequestId, the `FileMode`/`Overwrite`/`TotalCount` spellings), so
//! that each documented sample response can be served back verbatim.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::secret::Secret;

/// The state schema, embedded so `shipcheck schema sim-state` and the loader
/// agree with the file in `schemas/`.
pub const STATE_SCHEMA: &str = crate::schemas::SIM_STATE_V1;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    pub version: u32,
    /// The region of records and instances that name none.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub clock: Option<ClockSpec>,
    /// Records older than this vanish (default 14 days).
    #[serde(default, deserialize_with = "opt_duration")]
    pub retention: Option<Duration>,
    #[serde(default)]
    pub lifecycle: Option<LifecycleSpec>,
    #[serde(default)]
    pub responses: ResponseSpec,
    #[serde(default)]
    pub credentials: Vec<CredentialSpec>,
    /// Treat instance ids the state does not know as running instances.
    #[serde(default)]
    pub accept_unknown_instances: bool,
    #[serde(default)]
    pub instances: Vec<MachineSpec>,
    #[serde(default)]
    pub nodes: Vec<MachineSpec>,
    #[serde(default)]
    pub deliveries: Vec<DeliverySpec>,
    #[serde(default)]
    pub commands: Vec<CommandSpec>,
    #[serde(default)]
    pub command_rules: Vec<CommandRuleSpec>,
    #[serde(default)]
    pub faults: Option<super::faults::FaultSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// RFC 3339; pins "now".
    pub now: String,
    /// Whether the pinned clock stands still (default) or runs from `now`.
    #[serde(default = "yes")]
    pub frozen: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSpec {
    /// How long a new task stays Pending.
    #[serde(default, deserialize_with = "opt_duration")]
    pub pending: Option<Duration>,
    /// How long it then stays Running before its final status.
    #[serde(default, deserialize_with = "opt_duration")]
    pub running: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// Every response carries this RequestId (default: a fresh UUID each).
    #[serde(default)]
    pub request_id: Option<String>,
    /// NextToken values handed out first, in order, before generated ones.
    #[serde(default)]
    pub next_tokens: Vec<String>,
    #[serde(default)]
    pub file_mode: FileModeStyle,
    #[serde(default)]
    pub overwrite: OverwriteStyle,
    #[serde(default)]
    pub eflo_total_count: TotalCountStyle,
}

/// How `FileMode` is spelled in responses: `"0644"` as sent (the declared
/// type) or the JSON number `644` (the EN document's `777`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileModeStyle {
    #[default]
    String,
    Number,
}

/// How ECS `Overwrite` is spelled: `false` (the JSON samples) or `"false"`
/// (the declared String type). eflo always answers a boolean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverwriteStyle {
    #[default]
    Boolean,
    String,
}

/// How eflo `TotalCount` is spelled: `"1"` (declared) or `1` (the sample).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TotalCountStyle {
    #[default]
    String,
    Number,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// Makes this an STS triple: requests must carry this token.
    #[serde(default)]
    pub security_token: Option<Secret>,
    /// RFC 3339; after it, the STS token is refused as expired.
    #[serde(default)]
    pub expiration: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum MachineStatus {
    #[default]
    Running,
    Stopped,
    Released,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentStatus {
    #[default]
    Running,
    Stopped,
    Unresponsive,
    Upgrading,
    Outdated,
}

impl AgentStatus {
    /// The ErrorCode and ErrorInfo Cloud Assistant reports when its agent
    /// cannot take a task; `None` when the agent is running.
    pub fn refusal(self) -> Option<(&'static str, &'static str)> {
        match self {
            AgentStatus::Running => None,
            AgentStatus::Stopped => Some((
                "ClientNotRunning",
                "the aliyun service is not running on the instance",
            )),
            AgentStatus::Unresponsive => Some((
                "ClientNotResponse",
                "the aliyun service in the instance does not response",
            )),
            AgentStatus::Upgrading => Some((
                "ClientIsUpgrading",
                "the aliyun service in the instance is upgrading now",
            )),
            AgentStatus::Outdated => Some((
                "ClientNeedUpgrade",
                "the aliyun service in the instance need upgrade",
            )),
        }
    }
}

/// An ECS instance or an eflo node, with what SendFile's rules look at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineSpec {
    pub id: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub status: MachineStatus,
    #[serde(default)]
    pub agent: AgentStatus,
    #[serde(default)]
    pub resource_group_id: Option<String>,
    /// ECS tags, as DescribeInstances reports and filters them.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Accounts that exist (default: root).
    #[serde(default)]
    pub users: Option<Vec<String>>,
    /// Groups that exist (default: root).
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Files on the machine's disk now, applied after the state's
    /// deliveries (so they can say a delivered file was changed since).
    #[serde(default)]
    pub files: Vec<FileSpec>,
    /// `windows` machines refuse shell scripts (the probe).
    #[serde(default)]
    pub os: OsSpec,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsSpec {
    #[default]
    Linux,
    Windows,
}

/// One file on a machine's disk: a plain path (present, whatever a
/// delivery left there, else empty with SendFile's defaults), the file as
/// it is now, or its absence.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FileSpec {
    Path(String),
    Absent(AbsentFileSpec),
    Present(PresentFileSpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsentFileSpec {
    pub path: String,
    /// Must be `true`: the path was deleted after its delivery.
    #[serde(rename = "absent", deserialize_with = "must_be_true")]
    _absent: (),
}

fn must_be_true<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    match bool::deserialize(deserializer)? {
        true => Ok(()),
        false => Err(serde::de::Error::custom(
            "`absent: false` says nothing; list the file by path or as an object",
        )),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresentFileSpec {
    pub path: String,
    #[serde(default = "default_mode", deserialize_with = "string_or_number")]
    pub mode: String,
    #[serde(default = "root")]
    pub owner: String,
    #[serde(default = "root")]
    pub group: String,
    /// Plain text.
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductSpec {
    #[default]
    Ecs,
    Eflo,
}

/// A past SendFile task.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySpec {
    #[serde(default)]
    pub product: ProductSpec,
    /// Default: generated (`f-...`).
    #[serde(default)]
    pub invoke_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub content: String,
    #[serde(default = "plain_text")]
    pub content_type: String,
    pub target_dir: String,
    #[serde(default = "default_mode", deserialize_with = "string_or_number")]
    pub mode: String,
    #[serde(default = "root")]
    pub owner: String,
    #[serde(default = "root")]
    pub group: String,
    #[serde(default)]
    pub overwrite: bool,
    #[serde(default)]
    pub resource_group_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// RFC 3339, echoed exactly as written (surrounding whitespace included).
    pub creation_time: String,
    /// Overrides the overall status computed from the targets.
    #[serde(default)]
    pub status: Option<String>,
    /// Overrides VmCount / NodeCount (default: the number of targets).
    #[serde(default)]
    pub target_count: Option<u64>,
    pub targets: Vec<TargetSpec>,
}

fn plain_text() -> String {
    "PlainText".to_owned()
}

fn default_mode() -> String {
    "0644".to_owned()
}

fn root() -> String {
    "root".to_owned()
}

/// One instance (or node) of a delivery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// The instance id (ECS) or node id (eflo).
    pub id: String,
    /// The final status (default Success); while the task is young the
    /// lifecycle shows Pending and Running first.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_info: Option<String>,
    /// Times echoed verbatim; absent ones follow the lifecycle.
    #[serde(default)]
    pub creation_time: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub finish_time: Option<String>,
    #[serde(default)]
    pub update_time: Option<String>,
}

/// A past RunCommand invocation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    #[serde(default)]
    pub invoke_id: Option<String>,
    #[serde(default)]
    pub command_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "shell")]
    pub command_type: String,
    /// The command text (plain).
    #[serde(default)]
    pub content: String,
    #[serde(default = "once")]
    pub repeat_mode: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub resource_group_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub creation_time: String,
    #[serde(default)]
    pub status: Option<String>,
    pub targets: Vec<CommandTargetSpec>,
}

fn shell() -> String {
    "RunShellScript".to_owned()
}

fn once() -> String {
    "Once".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandTargetSpec {
    /// Required for targets (the schema says so); absent in history runs.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub invoke_record_status: Option<String>,
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// Plain text; responses encode it as the request's ContentEncoding asks.
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub dropped: u64,
    #[serde(default)]
    pub repeats: Option<u64>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_info: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub finished_time: Option<String>,
    #[serde(default)]
    pub stop_time: Option<String>,
    /// Earlier runs of a recurring invocation (IncludeHistory=true).
    #[serde(default)]
    pub history: Vec<CommandTargetSpec>,
}

/// How the simulator "runs" a RunCommand: the first rule whose regex
/// matches the command text decides the exit code and output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRuleSpec {
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub output: String,
}

/// `"0644"` or `644`: a mode written without quotes is still its digits.
fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    })
}

/// Durations as humantime text (`90s`, `2w`).
fn opt_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    text.map(|t| {
        humantime::parse_duration(&t).map_err(|e| {
            serde::de::Error::custom(format!("`{t}` is not a duration ({e}); try 30s, 5m or 14d"))
        })
    })
    .transpose()
}

/// Every schema violation, as `/json/pointer: message`.
pub fn schema_problems(value: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(STATE_SCHEMA).expect("the embedded schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the embedded schema is valid");
    validator
        .iter_errors(value)
        .map(|error| {
            let at = error.instance_path().to_string();
            // Values are shown to help, except where they may be secrets.
            let message = if at.starts_with("/credentials") {
                error.masked().to_string()
            } else {
                error.to_string()
            };
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {message}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The states the repository ships must load, and name their schema on
    /// their first line so editors validate them.
    #[test]
    fn every_bundled_state_is_valid_and_names_its_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["tests/data/fixtures/sim", "examples/sim"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "yaml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let first = text.lines().next().unwrap_or_default();
                assert!(
                    first.starts_with("# yaml-language-server: $schema=")
                        && first.ends_with("schemas/sim-state.v1.schema.json"),
                    "{}: first line is {first:?}",
                    path.display()
                );
                if let Err(e) = crate::sim::SimConfig::from_state_file(&path) {
                    panic!("{}: {e}", path.display());
                }
                seen += 1;
            }
        }
        assert!(seen >= 6, "only {seen} states found");
    }

    #[test]
    fn schema_problems_come_with_their_path() {
        let value = serde_json::json!({
            "version": 1,
            "instances": [{ "id": "i-1", "status": "Sleeping" }],
            "typo": true,
        });
        let problems = schema_problems(&value);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("/instances/0/status: "))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("/: ") && p.contains("typo"))
        );
    }
}
