//! What the cloud says happened, normalised.
//!
//! ECS instances and eflo (Lingjun) nodes report deliveries in slightly
//! different shapes (`InvokeInstances` vs `InvokeNodes`, `VmCount` vs
//! `NodeCount`, `Z` vs `+08:00` times). The cloud client turns both into the
//! types here, and the evaluation only ever sees these.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use compact_str::CompactString;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::plan::Query;
use crate::probe::script::DiskState;
use crate::protocol::{Provider, join_path};

/// How `Content` is encoded (`ContentType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub enum ContentType {
    #[default]
    PlainText,
    Base64,
    /// A value this version does not know; kept so it can be reported.
    Other(String),
    /// Only sizes and SHA-256 digests are known, never the bytes: a snapshot
    /// keeps no more of a file that is not declared non-sensitive.
    /// `content` holds one [`ContentDigest`] per way of reading the echo,
    /// the one a report shows first (see `ContentDigest::encode`).
    Digests,
}

impl ContentType {
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "" | "PlainText" => Self::PlainText,
            "Base64" => Self::Base64,
            other if other.eq_ignore_ascii_case("plaintext") => Self::PlainText,
            other if other.eq_ignore_ascii_case("base64") => Self::Base64,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::PlainText => "PlainText",
            Self::Base64 => "Base64",
            Self::Other(s) => s,
            Self::Digests => "Digests",
        }
    }
}

/// The size and SHA-256 of one reading of an echoed content (see
/// [`ContentType::Digests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDigest {
    pub size: usize,
    /// Lowercase hex.
    pub sha256: String,
    /// Whether this reading is a `PlainText` echo decoded as Base64.
    pub decoded: bool,
}

impl ContentDigest {
    /// One line per digest: `SIZE SHA256` and ` decoded` when it was.
    pub fn encode(digests: &[ContentDigest]) -> String {
        digests
            .iter()
            .map(|d| {
                let decoded = if d.decoded { " decoded" } else { "" };
                format!("{} {}{decoded}", d.size, d.sha256)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The inverse of [`Self::encode`]; `None` when any line is malformed.
    pub fn decode(text: &str) -> Option<Vec<ContentDigest>> {
        text.lines()
            .map(|line| {
                let mut words = line.split(' ');
                let size = words.next()?.parse().ok()?;
                let sha256 = words.next()?;
                let well_formed = sha256.len() == 64
                    && sha256
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                let decoded = match words.next() {
                    None => false,
                    Some("decoded") => true,
                    Some(_) => return None,
                };
                (well_formed && words.next().is_none()).then(|| ContentDigest {
                    size,
                    sha256: sha256.to_owned(),
                    decoded,
                })
            })
            .collect::<Option<Vec<_>>>()
            .filter(|digests| !digests.is_empty())
    }
}

/// The per-target status of a file delivery (`InvokeInstance.InvocationStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum TargetStatus {
    Pending,
    Invalid,
    Running,
    Aborted,
    Success,
    Failed,
    Error,
    Timeout,
    /// A status this version does not know; treated as a failure to settle.
    Unknown(Box<str>),
}

impl TargetStatus {
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "Pending" => Self::Pending,
            "Invalid" => Self::Invalid,
            "Running" => Self::Running,
            "Aborted" => Self::Aborted,
            "Success" => Self::Success,
            "Failed" => Self::Failed,
            "Error" => Self::Error,
            "Timeout" => Self::Timeout,
            other => Self::Unknown(other.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "Pending",
            Self::Invalid => "Invalid",
            Self::Running => "Running",
            Self::Aborted => "Aborted",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Timeout => "Timeout",
            Self::Unknown(s) => s,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success)
    }

    /// Still moving: `--wait` polls these.
    pub fn is_in_flight(&self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }

    /// Settled without the file on disk.
    pub fn is_failure(&self) -> bool {
        !self.is_success() && !self.is_in_flight()
    }
}

impl fmt::Display for TargetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One SendFile task (an `InvokeId`) and what happened on each target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInvocation {
    pub provider: Provider,
    pub region: String,
    pub invoke_id: String,
    pub name: String,
    pub target_dir: String,
    pub description: Option<String>,
    /// `Content` exactly as the API returned it (see [`Self::decoded_content`]);
    /// `None` when absent or null, which no declared content can match.
    pub content: Option<String>,
    pub content_type: ContentType,
    /// `FileMode` as text, whatever JSON type it arrived as. This and the
    /// next three are `None` when the API left them out (or blank): the
    /// attribute is then unverified, never assumed to be SendFile's default.
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub overwrite: Option<bool>,
    /// The overall `InvocationStatus` (Pending, Running, Success, Failed, PartialFailed).
    pub status: String,
    pub created: Option<Timestamp>,
    /// `VmCount` or `NodeCount`.
    pub target_count: Option<u64>,
    pub tags: Vec<(String, String)>,
    pub targets: Vec<FileTarget>,
}

impl FileInvocation {
    /// `target_dir` joined with `name`, the way users name the file.
    pub fn path(&self) -> String {
        join_path(&self.target_dir, &self.name)
    }

    /// The content's bytes: Base64 decoded when `ContentType` says so.
    ///
    /// `Err` carries the raw text when the declared encoding does not decode
    /// (or `""` when there is no content at all).
    pub fn decoded_content(&self) -> Result<Cow<'_, [u8]>, &str> {
        let Some(content) = self.content.as_deref() else {
            return Err("");
        };
        match self.content_type {
            ContentType::Base64 => decode_base64(content).map(Cow::Owned).ok_or(content),
            _ => Ok(Cow::Borrowed(content.as_bytes())),
        }
    }
}

/// One target (instance or node) of a SendFile task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileTarget {
    /// `InstanceId` or `NodeId` (inline: there is one per delivered pair).
    pub id: CompactString,
    pub status: TargetStatus,
    /// `ErrorCode` and `ErrorInfo`, boxed: most targets have neither, and
    /// a fleet holds one target per pair.
    pub error: Option<Box<TargetError>>,
    pub created: Option<Stamp>,
    pub started: Option<Stamp>,
    pub finished: Option<Stamp>,
    pub updated: Option<Stamp>,
}

/// A time the API gave, in 8 bytes where jiff's `Option<Timestamp>` takes
/// 24: nanoseconds since the Unix epoch, which spans 1677 to 2262. A fleet
/// holds four per delivered pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(std::num::NonZeroU64);

impl Stamp {
    /// The sign bit flipped: unsigned order is then time order, and the one
    /// value that cannot be held (0, i.e. `i64::MIN` nanoseconds) lies out
    /// of range anyway.
    const FLIP: u64 = 1 << 63;

    /// `None` outside 1677–2262.
    pub fn new(at: Timestamp) -> Option<Self> {
        let nanos = i64::try_from(at.as_nanosecond()).ok()?;
        std::num::NonZeroU64::new(nanos.cast_unsigned() ^ Self::FLIP).map(Self)
    }

    /// An optional time, `None` also when it is out of range.
    pub fn of(at: Option<Timestamp>) -> Option<Self> {
        at.and_then(Self::new)
    }

    pub fn get(self) -> Timestamp {
        let nanos = (self.0.get() ^ Self::FLIP).cast_signed();
        Timestamp::from_nanosecond(i128::from(nanos))
            .expect("jiff holds every time an i64 of nanoseconds can")
    }
}

impl Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

/// Why a target's delivery failed, as the API said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetError {
    /// Empty codes from the API become `None`.
    pub code: Option<String>,
    pub info: Option<String>,
}

impl TargetError {
    /// `None` when the API said neither.
    pub fn of(code: Option<String>, info: Option<String>) -> Option<Box<Self>> {
        (code.is_some() || info.is_some()).then(|| Box::new(Self { code, info }))
    }
}

impl FileTarget {
    pub fn error_code(&self) -> Option<&str> {
        self.error.as_ref()?.code.as_deref()
    }

    pub fn error_info(&self) -> Option<&str> {
        self.error.as_ref()?.info.as_deref()
    }

    /// The best time to date this attempt by: finish, then update, start, creation.
    pub fn when(&self) -> Option<Timestamp> {
        self.finished
            .or(self.updated)
            .or(self.started)
            .or(self.created)
            .map(Stamp::get)
    }
}

/// One command execution on one instance (`DescribeInvocationResults`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandResult {
    pub region: String,
    pub invoke_id: String,
    pub command_id: String,
    pub instance_id: String,
    /// The per-instance `InvocationStatus` (Success, Failed, Running, …).
    pub status: String,
    /// `InvokeRecordStatus` (Running, Finished, Failed, Stopped, …).
    pub record_status: Option<String>,
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    /// `None` when the API left it out.
    pub exit_code: Option<i64>,
    /// The output, decoded when it was requested Base64-encoded.
    pub output: Observed<Vec<u8>>,
    /// Bytes of output dropped beyond the API's 24 KB.
    pub dropped: Option<u64>,
    pub repeats: Option<u64>,
    pub username: Option<String>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    /// The tag sets of the tagged queries that listed this run, each sorted
    /// by key: the invocation carries every tag of each. The results carry
    /// no tags of their own, so this is all that is known of them; a
    /// command pinned by `task_tags` counts only runs listed under them.
    pub listed_with_tags: Vec<Vec<(String, String)>>,
}

impl CommandResult {
    /// Whether this run was listed under every one of `tags` (always, when
    /// there are none).
    pub fn listed_under(&self, tags: &[(String, String)]) -> bool {
        tags.is_empty()
            || self
                .listed_with_tags
                .iter()
                .any(|listed| tags.iter().all(|tag| listed.contains(tag)))
    }

    /// Adds the tag sets `other` (the same run, listed again) was listed
    /// under.
    pub fn merge_listings(&mut self, other: &[Vec<(String, String)>]) {
        for tags in other {
            if !self.listed_with_tags.contains(tags) {
                self.listed_with_tags.push(tags.clone());
            }
        }
        self.listed_with_tags.sort();
    }

    /// What orders two runs on one instance: the later finish (or start),
    /// then the invocation id; the greatest is the latest run.
    pub fn recency(&self) -> (Option<Timestamp>, &str) {
        (self.finished.or(self.started), &self.invoke_id)
    }

    pub fn is_in_flight(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Pending" | "Running" | "Stopping" | "Scheduled"
        )
    }

    /// A per-instance `InvocationStatus` the API documents; anything else
    /// (absent included) cannot be judged.
    pub fn has_known_status(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Pending"
                | "Scheduled"
                | "Running"
                | "Stopping"
                | "Success"
                | "Failed"
                | "Invalid"
                | "Aborted"
                | "Error"
                | "Timeout"
                | "Cancelled"
                | "Stopped"
                | "Terminated"
        )
    }
}

/// A field a verdict depends on, as the API gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "value")]
pub enum Observed<T> {
    Value(T),
    /// Absent or null.
    Missing,
    /// Present but unreadable (undecodable Base64, an impossible value).
    Invalid(String),
}

impl<T> Observed<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(value) => Some(value),
            Self::Missing | Self::Invalid(_) => None,
        }
    }
}

/// Why some expectations have no evidence: a verdict on them would be a
/// guess, so they are reported `unverified` with this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapReason {
    /// The query failed (after its retries), or could not be sent.
    QueryFailed,
    /// The answers never carried the action's documented structure.
    MalformedResponse,
    /// A record lacks a field the verdict depends on.
    FieldMissing,
    /// A record carries a field the verdict depends on, unreadable.
    FieldInvalid,
    /// The listing moved while it was read and never added up.
    ListingChanged,
    /// The check's deadline passed before the query finished.
    Deadline,
    /// `--probe`: the probe did not run to completion on the target
    /// (failed, timed out, a Windows instance, an agent not running).
    ProbeFailed,
    /// `--probe`: the probe's output was cut (`Dropped` > 0) or malformed.
    ProbeOutputIncomplete,
    /// `--offline`: no snapshot holds the query's answer.
    NotInSnapshot,
}

impl GapReason {
    /// The stable kebab-case name (JSON `reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueryFailed => "query-failed",
            Self::MalformedResponse => "malformed-response",
            Self::FieldMissing => "field-missing",
            Self::FieldInvalid => "field-invalid",
            Self::ListingChanged => "listing-changed",
            Self::Deadline => "deadline",
            Self::ProbeFailed => "probe-failed",
            Self::ProbeOutputIncomplete => "probe-output-incomplete",
            Self::NotInSnapshot => "not-in-snapshot",
        }
    }

    /// How the human report heads a group of these.
    pub fn title(self) -> &'static str {
        match self {
            Self::QueryFailed => "query failed after retries",
            Self::MalformedResponse => "malformed response",
            Self::FieldMissing => "a field the verdict needs is missing",
            Self::FieldInvalid => "a field the verdict needs is unreadable",
            Self::ListingChanged => "the listing changed while it was read",
            Self::Deadline => "the check's deadline passed",
            Self::ProbeFailed => "the disk probe did not run",
            Self::ProbeOutputIncomplete => "the disk probe's output is incomplete",
            Self::NotInSnapshot => "offline, and no snapshot covers it",
        }
    }
}

impl fmt::Display for GapReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A planned query that returned no (complete) evidence: every expectation
/// it covers is unverified. Any step that gives up on a query (the client,
/// a listing-integrity check, a deadline) produces one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub query: Query,
    pub reason: GapReason,
    /// What went wrong, naming the action and what was missing.
    pub detail: String,
    /// What to do about it, when known.
    pub help: Option<String>,
}

/// Everything fetched for one check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observations {
    pub files: Vec<FileInvocation>,
    pub commands: Vec<CommandResult>,
    /// The queries that failed: what they cover is unverified.
    pub gaps: Vec<Gap>,
    /// When the fetch finished; ages and retention are measured from here.
    pub fetched_at: Option<Timestamp>,
    /// What `--probe` read on the disks; `None` without `--probe`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskObservations>,
}

/// What the probe read, per (instance, declared path).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiskObservations {
    /// Keyed by instance id, then path.
    pub probed: BTreeMap<String, BTreeMap<String, Probed>>,
}

impl DiskObservations {
    pub fn get(&self, instance: &str, path: &str) -> Option<&Probed> {
        self.probed.get(instance)?.get(path)
    }
}

/// One (instance, path) as the probe saw it, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Probed {
    Seen { state: DiskState },
    Unprobed { reason: GapReason, detail: String },
}

/// Decodes standard Base64, tolerating missing padding and surrounding space.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let text = text.trim();
    STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_hold_times_exactly_and_in_order() {
        let times = [
            "1677-09-21T00:12:44Z",
            "1969-12-31T23:59:59.999999999Z",
            "1970-01-01T00:00:00Z",
            "2020-09-11T08:30:55.123456789Z",
            "2262-04-11T23:47:16.854775807Z",
        ]
        .map(|t| t.parse::<Timestamp>().unwrap());
        let stamps = times.map(|t| Stamp::new(t).unwrap());
        assert_eq!(stamps.map(Stamp::get), times);
        assert!(stamps.is_sorted(), "stamps order like times");
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
        for outside in ["1600-01-01T00:00:00Z", "2262-04-11T23:47:16.854775808Z"] {
            assert_eq!(Stamp::new(outside.parse().unwrap()), None, "{outside}");
        }
    }

    #[test]
    fn statuses_classify() {
        assert!(TargetStatus::parse("Success").is_success());
        assert!(TargetStatus::parse("Pending").is_in_flight());
        assert!(TargetStatus::parse("Running").is_in_flight());
        for failed in ["Invalid", "Aborted", "Failed", "Error", "Timeout", "Weird"] {
            assert!(TargetStatus::parse(failed).is_failure(), "{failed}");
        }
        assert_eq!(TargetStatus::parse("Weird").as_str(), "Weird");
    }

    #[test]
    fn base64_content_decodes() {
        let mut inv = FileInvocation {
            provider: Provider::Ecs,
            region: "cn-hangzhou".into(),
            invoke_id: "f-1".into(),
            name: "test.txt".into(),
            target_dir: "/root".into(),
            description: None,
            content: Some("ZWNobyBoZWxsbw==".into()),
            content_type: ContentType::Base64,
            mode: None,
            owner: None,
            group: None,
            overwrite: None,
            status: "Success".into(),
            created: None,
            target_count: None,
            tags: vec![],
            targets: vec![],
        };
        assert_eq!(inv.decoded_content().unwrap().as_ref(), b"echo hello");
        inv.content = Some("not base64!".into());
        assert_eq!(inv.decoded_content(), Err("not base64!"));
        inv.content_type = ContentType::PlainText;
        assert_eq!(inv.decoded_content().unwrap().as_ref(), b"not base64!");
        inv.content = None;
        assert_eq!(inv.decoded_content(), Err(""));
    }
}
