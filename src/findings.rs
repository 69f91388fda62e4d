//! The registry of finding codes: stable kebab-case names, one place.
//!
//! A finding code is a contract: users write it in waivers, CI dashboards
//! group by it (SARIF rule ids, JUnit failure types, JSON `code`), and
//! docs/findings.md explains it. Codes are only ever added, never renamed.
//! Each code has one severity, so a waiver or a dashboard never has to guess
//! whether a finding fails the gate.
//!
//! The per-target `ErrorCode`s the API reports (why a delivery or a command
//! failed on one instance) are explained in [`error_codes`].

pub mod error_codes;

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Whether a finding fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The expectation does not hold: exit 1 unless waived.
    Error,
    /// Worth a look; the check still passes.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every kind of finding shipcheck reports.
///
/// The discriminant indexes [`REGISTRY`]; a test keeps the two in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingCode {
    NotDelivered,
    DeliveryFailed,
    DeliveryPending,
    LastAttemptFailed,
    ModeMismatch,
    OwnerMismatch,
    GroupMismatch,
    OverwriteMismatch,
    ContentMismatch,
    StaleDelivery,
    DiskMissing,
    DiskModeMismatch,
    DiskOwnerMismatch,
    DiskGroupMismatch,
    DiskContentMismatch,
    UnexpectedDelivery,
    UnexpectedInstance,
    CommandNotFound,
    CommandFailed,
    CommandPending,
    CommandStatusMismatch,
    ExitCodeMismatch,
    OutputMismatch,
    OutputTruncated,
    WaiverExpired,
    Unverified,
    InstanceSetEmpty,
}

/// What a finding code means, for every renderer and for docs/findings.md.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: FindingCode,
    /// The stable kebab-case name.
    pub name: &'static str,
    pub severity: Severity,
    /// One line, for SARIF rule names and table headers.
    pub title: &'static str,
    /// What happened, in plain words.
    pub explanation: &'static str,
    /// What to do about it.
    pub remediation: &'static str,
}

/// Every finding code, in [`FindingCode`] order.
pub const REGISTRY: &[CodeInfo] = &[
    CodeInfo {
        code: FindingCode::NotDelivered,
        name: "not-delivered",
        severity: Severity::Error,
        title: "No delivery record for a declared file on a target",
        explanation: "The API holds no delivery of this file (name and target directory) to this \
            target. Cloud Assistant keeps delivery records for a limited time (2 to 6 weeks \
            depending on the documentation version), so an older delivery may have aged out: \
            this does not prove the file was never sent.",
        remediation: "Send the file (SendFile) to this target, or pin the check to the task with \
            `invoke_id:` if it is recent; if the delivery is older than the retention window, \
            send it again to get a fresh record.",
    },
    CodeInfo {
        code: FindingCode::DeliveryFailed,
        name: "delivery-failed",
        severity: Severity::Error,
        title: "Every delivery attempt on a target failed",
        explanation: "The file was sent to this target, but no attempt succeeded. The API's \
            ErrorCode says why.",
        remediation: "Fix the cause named by the ErrorCode, then send the file again.",
    },
    CodeInfo {
        code: FindingCode::DeliveryPending,
        name: "delivery-pending",
        severity: Severity::Error,
        title: "The latest delivery is still pending or running",
        explanation: "The latest delivery attempt on this target has not settled yet, so the \
            file cannot be verified now.",
        remediation: "Run the check again later, or use `--wait DURATION` to poll until the \
            delivery settles.",
    },
    CodeInfo {
        code: FindingCode::LastAttemptFailed,
        name: "last-attempt-failed",
        severity: Severity::Warning,
        title: "A later delivery attempt failed after an earlier success",
        explanation: "An earlier delivery succeeded and still stands (it is what was checked), \
            but a later attempt on this target failed, often with FileAlreadyExists when \
            `overwrite` is false.",
        remediation: "Nothing is required if the earlier delivery is the one you want. To replace \
            the file, send it again with Overwrite=true.",
    },
    CodeInfo {
        code: FindingCode::ModeMismatch,
        name: "mode-mismatch",
        severity: Severity::Error,
        title: "The delivered file mode differs from the declaration",
        explanation: "The mode the delivery set (FileMode, compared as an octal number) is not \
            the declared one.",
        remediation: "Send the file again with the declared mode, or correct `mode:` in the \
            manifest.",
    },
    CodeInfo {
        code: FindingCode::OwnerMismatch,
        name: "owner-mismatch",
        severity: Severity::Error,
        title: "The delivered file owner differs from the declaration",
        explanation: "The owner the delivery set (FileOwner) is not the declared one; SendFile's \
            default owner is root.",
        remediation: "Send the file again with the declared owner, or correct `owner:` in the \
            manifest.",
    },
    CodeInfo {
        code: FindingCode::GroupMismatch,
        name: "group-mismatch",
        severity: Severity::Error,
        title: "The delivered file group differs from the declaration",
        explanation: "The group the delivery set (FileGroup) is not the declared one; SendFile's \
            default group is root.",
        remediation: "Send the file again with the declared group, or correct `group:` in the \
            manifest.",
    },
    CodeInfo {
        code: FindingCode::OverwriteMismatch,
        name: "overwrite-mismatch",
        severity: Severity::Error,
        title: "The delivery's overwrite flag differs from the declaration",
        explanation: "The delivery was sent with a different Overwrite flag than declared; \
            SendFile's default is false.",
        remediation: "Send the file again with the declared Overwrite flag, or correct \
            `overwrite:` in the manifest.",
    },
    CodeInfo {
        code: FindingCode::ContentMismatch,
        name: "content-mismatch",
        severity: Severity::Error,
        title: "The delivered content differs from the declaration",
        explanation: "The content of the effective delivery, compared after decoding, is not the \
            declared content (or its SHA-256 is not the declared hash).",
        remediation: "Send the declared content again (with Overwrite=true), or update the \
            manifest's `content`, `content_file` or `sha256`.",
    },
    CodeInfo {
        code: FindingCode::StaleDelivery,
        name: "stale-delivery",
        severity: Severity::Error,
        title: "The effective delivery is older than max_age",
        explanation: "The latest successful delivery finished longer ago than the declared \
            `max_age`.",
        remediation: "Send the file again, or raise `max_age` if older deliveries are fine.",
    },
    CodeInfo {
        code: FindingCode::DiskMissing,
        name: "disk-missing",
        severity: Severity::Error,
        title: "The declared file is not on the target's disk (--probe)",
        explanation: "The probe found nothing at the declared path, or something that is not a \
            regular file, whatever the delivery record says: the file was deleted or replaced \
            after its delivery.",
        remediation: "Send the file again (the --fix-script and --fix-plan outputs do), and find \
            out what removed it.",
    },
    CodeInfo {
        code: FindingCode::DiskModeMismatch,
        name: "disk-mode-mismatch",
        severity: Severity::Error,
        title: "The file's mode on disk differs from the declaration (--probe)",
        explanation: "The mode the probe read with `stat` is not the declared one: the file was \
            chmod-ed after its delivery (or delivered with another mode).",
        remediation: "Send the file again with the declared mode (--fix-script), or correct \
            `mode:` in the manifest.",
    },
    CodeInfo {
        code: FindingCode::DiskOwnerMismatch,
        name: "disk-owner-mismatch",
        severity: Severity::Error,
        title: "The file's owner on disk differs from the declaration (--probe)",
        explanation: "The owner the probe read with `stat` is not the declared one: the file was \
            chown-ed after its delivery (or delivered with another owner).",
        remediation: "Send the file again with the declared owner (--fix-script), or correct \
            `owner:` in the manifest.",
    },
    CodeInfo {
        code: FindingCode::DiskGroupMismatch,
        name: "disk-group-mismatch",
        severity: Severity::Error,
        title: "The file's group on disk differs from the declaration (--probe)",
        explanation: "The group the probe read with `stat` is not the declared one.",
        remediation: "Send the file again with the declared group (--fix-script), or correct \
            `group:` in the manifest.",
    },
    CodeInfo {
        code: FindingCode::DiskContentMismatch,
        name: "disk-content-mismatch",
        severity: Severity::Error,
        title: "The file's content on disk differs from the declaration (--probe)",
        explanation: "The size and SHA-256 the probe computed on the target are not those of the \
            declared content: the file was edited after its delivery. The probe never reads the \
            content back, so only sizes and hashes are shown.",
        remediation: "Send the declared content again (--fix-script), or update the manifest's \
            `content`, `content_file` or `sha256`.",
    },
    CodeInfo {
        code: FindingCode::UnexpectedDelivery,
        name: "unexpected-delivery",
        severity: Severity::Error,
        title: "A delivery the manifest does not declare (--strict)",
        explanation: "A successful delivery shares its name or its target directory with a \
            declared file, but that name in that directory is not declared anywhere.",
        remediation: "Declare the file in the manifest, or remove it from the targets; waive the \
            finding if it is expected.",
    },
    CodeInfo {
        code: FindingCode::UnexpectedInstance,
        name: "unexpected-instance",
        severity: Severity::Error,
        title: "A declared file or command reached an undeclared target (--strict)",
        explanation: "The file (or command) was delivered to (or run on) a target that its \
            `instances:` list does not name.",
        remediation: "Add the target to `instances:`, or remove the file from it; waive the \
            finding if it is expected.",
    },
    CodeInfo {
        code: FindingCode::CommandNotFound,
        name: "command-not-found",
        severity: Severity::Error,
        title: "No record of a declared command on a target",
        explanation: "The API holds no execution of this command on this target. Execution \
            records are kept for a limited time (4 weeks or 30 days depending on the \
            documentation version), so an older run may have aged out: this does not prove the \
            command never ran.",
        remediation: "Run the command on this target, or check the command or invocation id in \
            the manifest.",
    },
    CodeInfo {
        code: FindingCode::CommandFailed,
        name: "command-failed",
        severity: Severity::Error,
        title: "The command did not succeed on a target",
        explanation: "The latest execution on this target did not end in Success. The API's \
            ErrorCode says why.",
        remediation: "Fix the cause named by the ErrorCode and run the command again.",
    },
    CodeInfo {
        code: FindingCode::CommandPending,
        name: "command-pending",
        severity: Severity::Error,
        title: "The command is still pending or running",
        explanation: "The latest execution on this target has not settled yet.",
        remediation: "Run the check again later, or use `--wait DURATION`.",
    },
    CodeInfo {
        code: FindingCode::CommandStatusMismatch,
        name: "command-status-mismatch",
        severity: Severity::Error,
        title: "The command's status differs from the declared status",
        explanation: "The latest execution settled with a status other than the declared \
            `status:`.",
        remediation: "Investigate the execution, or correct `status:` in the manifest.",
    },
    CodeInfo {
        code: FindingCode::ExitCodeMismatch,
        name: "exit-code-mismatch",
        severity: Severity::Error,
        title: "The command's exit code differs from the declaration",
        explanation: "The latest execution on this target exited with another code than the \
            declared `exit_code:`.",
        remediation: "Look at the command's output on that target, fix the cause and run it \
            again, or correct `exit_code:`.",
    },
    CodeInfo {
        code: FindingCode::OutputMismatch,
        name: "output-mismatch",
        severity: Severity::Error,
        title: "The command's output does not match the declaration",
        explanation: "The output of the latest execution does not satisfy the declared `output:` \
            (equals, contains or regex).",
        remediation: "Look at the output shown, fix the cause and run the command again, or \
            correct `output:`.",
    },
    CodeInfo {
        code: FindingCode::OutputTruncated,
        name: "output-truncated",
        severity: Severity::Warning,
        title: "The API dropped part of the command's output",
        explanation: "The API keeps only the first 24 KB of output; the output match was made on \
            the part that was kept.",
        remediation: "Match on text near the start of the output, or make the command print \
            less.",
    },
    CodeInfo {
        code: FindingCode::WaiverExpired,
        name: "waiver-expired",
        severity: Severity::Warning,
        title: "A waiver has expired and no longer applies",
        explanation: "The waiver's `expires` date has passed, so the findings it used to silence \
            are reported again.",
        remediation: "Fix what the waiver covered and delete it, or renew it with a new \
            `expires` date and reason.",
    },
    CodeInfo {
        code: FindingCode::Unverified,
        name: "unverified",
        severity: Severity::Error,
        title: "The evidence does not cover this expectation",
        explanation: "shipcheck could not see what it needs to judge this expectation: a query \
            failed after its retries, an answer lacked its documented structure, a record lacked \
            a field the verdict depends on (or carried an unreadable one), the listing changed \
            while it was read, or the deadline passed. It is neither in sync nor drifted; the \
            reason says which.",
        remediation: "Look at the reason: fix credentials, permissions or the network and run \
            the check again; if the API keeps answering without a field, report it with the \
            RequestId.",
    },
    CodeInfo {
        code: FindingCode::InstanceSetEmpty,
        name: "instance-set-empty",
        severity: Severity::Error,
        title: "An instance set resolved to no instance",
        explanation: "An instance set declared by tags or resource group matched no instance \
            (in the status it asks for) in the entry's region when the check ran, so nothing \
            could be verified for it. The check is unverified, never a silent pass.",
        remediation: "Check the set's tags, resource group, status and region (and that the \
            credentials may call ecs:DescribeInstances there); waive the finding if an empty \
            fleet is expected.",
    },
];

impl FindingCode {
    /// Every code, in registry order.
    pub fn all() -> impl Iterator<Item = FindingCode> {
        REGISTRY.iter().map(|info| info.code)
    }

    pub fn info(self) -> &'static CodeInfo {
        &REGISTRY[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }

    pub fn title(self) -> &'static str {
        self.info().title
    }

    /// A finding that only says "not settled yet": `--wait` polls on these,
    /// and they make the check unverified rather than drifted.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::DeliveryPending | Self::CommandPending)
    }

    /// A finding that says "no record at all": right after SendFile or
    /// RunCommand this may only mean "not listed yet", so `--wait` gives
    /// it a grace period before it counts.
    pub fn is_not_listed(self) -> bool {
        matches!(self, Self::NotDelivered | Self::CommandNotFound)
    }

    /// A finding that says "could not see": never in sync, never drift.
    pub fn is_unverified(self) -> bool {
        matches!(self, Self::Unverified | Self::InstanceSetEmpty)
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown finding code, with the closest known names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a shipcheck finding code")]
pub struct UnknownCode {
    pub given: String,
}

impl FromStr for FindingCode {
    type Err = UnknownCode;

    /// The manifest loader uses this to validate `waivers[].finding`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        REGISTRY
            .iter()
            .find(|info| info.name == s)
            .map(|info| info.code)
            .ok_or_else(|| UnknownCode {
                given: s.to_owned(),
            })
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn is_kebab_case(name: &str) -> bool {
        !name.is_empty()
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.contains("--")
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
    }

    #[test]
    fn registry_is_indexed_by_the_enum() {
        for (index, info) in REGISTRY.iter().enumerate() {
            assert_eq!(info.code as usize, index, "{} is out of place", info.name);
            assert_eq!(info.code.info().name, info.name);
        }
    }

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for info in REGISTRY {
            assert!(is_kebab_case(info.name), "{} is not kebab-case", info.name);
            assert!(seen.insert(info.name), "{} is registered twice", info.name);
            assert_eq!(info.name.parse::<FindingCode>(), Ok(info.code));
            assert!(!info.title.is_empty() && !info.title.contains('\n'));
            assert!(!info.explanation.is_empty() && !info.remediation.is_empty());
            assert!(
                !info.explanation.contains("http") && !info.remediation.contains("http"),
                "{}: explanations carry no URLs",
                info.name
            );
        }
        assert_eq!(seen.len(), REGISTRY.len());
        assert!("Mode-Mismatch".parse::<FindingCode>().is_err());
    }

    #[test]
    fn the_codes_the_design_names_exist() {
        for name in [
            "not-delivered",
            "delivery-failed",
            "delivery-pending",
            "mode-mismatch",
            "owner-mismatch",
            "group-mismatch",
            "overwrite-mismatch",
            "content-mismatch",
            "stale-delivery",
            "last-attempt-failed",
            "unexpected-delivery",
            "unexpected-instance",
            "command-not-found",
            "command-failed",
            "command-pending",
            "exit-code-mismatch",
            "output-mismatch",
        ] {
            assert!(name.parse::<FindingCode>().is_ok(), "{name} is missing");
        }
    }

    #[test]
    fn only_pending_codes_are_pending_and_they_are_errors() {
        let pending: Vec<_> = FindingCode::all().filter(|c| c.is_pending()).collect();
        assert_eq!(
            pending,
            [FindingCode::DeliveryPending, FindingCode::CommandPending]
        );
        assert!(pending.iter().all(|c| c.severity() == Severity::Error));
    }

    #[test]
    fn docs_describe_every_code() {
        let docs = include_str!("../docs/findings.md");
        for info in REGISTRY {
            assert!(
                docs.contains(&format!("### `{}`", info.name)),
                "docs/findings.md has no section for {}",
                info.name
            );
        }
    }
}
