//! What the cloud says happened, normalised.
//!
//! ECS instances and eflo (Lingjun) nodes report deliveries in slightly
//! different shapes (`InvokeInstances` vs `InvokeNodes`, `VmCount` vs
//! `NodeCount`, `Z` vs `+08:00` times). The cloud client turns both into the
//! types here, and the evaluation only ever sees these.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use jiff::Timestamp;
use serde::Serialize;

use crate::protocol::{Provider, join_path};

/// How `Content` is encoded (`ContentType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub enum ContentType {
    #[default]
    PlainText,
    Base64,
    /// A value this version does not know; kept so it can be reported.
    Other(String),
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
        }
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
    Unknown(String),
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
            other => Self::Unknown(other.to_owned()),
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
    /// `Content` exactly as the API returned it (see [`Self::decoded_content`]).
    pub content: String,
    pub content_type: ContentType,
    /// `FileMode` as text, whatever JSON type it arrived as.
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
    /// `Err` carries the raw text when the declared encoding does not decode.
    pub fn decoded_content(&self) -> Result<Cow<'_, [u8]>, &str> {
        match self.content_type {
            ContentType::Base64 => decode_base64(&self.content)
                .map(Cow::Owned)
                .ok_or(self.content.as_str()),
            _ => Ok(Cow::Borrowed(self.content.as_bytes())),
        }
    }
}

/// One target (instance or node) of a SendFile task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileTarget {
    /// `InstanceId` or `NodeId`.
    pub id: String,
    pub status: TargetStatus,
    /// Empty codes from the API become `None`.
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    pub created: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    pub updated: Option<Timestamp>,
}

impl FileTarget {
    /// The best time to date this attempt by: finish, then update, start, creation.
    pub fn when(&self) -> Option<Timestamp> {
        self.finished
            .or(self.updated)
            .or(self.started)
            .or(self.created)
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
    pub exit_code: Option<i64>,
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    /// The output, decoded when it was requested Base64-encoded.
    pub output: Option<Vec<u8>>,
    /// Bytes of output dropped beyond the API's 24 KB.
    pub dropped: Option<u64>,
    pub repeats: Option<u64>,
    pub username: Option<String>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
}

impl CommandResult {
    pub fn is_in_flight(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Pending" | "Running" | "Stopping" | "Scheduled"
        )
    }
}

/// Everything fetched for one check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observations {
    pub files: Vec<FileInvocation>,
    pub commands: Vec<CommandResult>,
    /// When the fetch finished; ages and retention are measured from here.
    pub fetched_at: Option<Timestamp>,
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
            content: "ZWNobyBoZWxsbw==".into(),
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
        inv.content = "not base64!".into();
        assert_eq!(inv.decoded_content(), Err("not base64!"));
        inv.content_type = ContentType::PlainText;
        assert_eq!(inv.decoded_content().unwrap().as_ref(), b"not base64!");
    }
}
