//! The API's per-target `ErrorCode`s, explained for the person reading a
//! failed gate: what the code means and what to do next.
//!
//! The list covers every code in the DescribeSendFileResults (ECS and eflo)
//! and DescribeInvocationResults documents (docs/api/); a test parses those
//! documents so a code added there cannot be forgotten here. A code this
//! version does not know gets a generic text that shows the raw `ErrorInfo`.

use serde::Serialize;

/// One documented `ErrorCode`.
#[derive(Debug)]
pub struct ErrorCodeHelp {
    pub code: &'static str,
    pub meaning: &'static str,
    pub remediation: &'static str,
}

const AGENT_DOCS: &str = "Check the Cloud Assistant Agent on the target \
    (`systemctl status aliyun.service` on Linux, the AliyunService service on Windows)";

/// Every documented per-target `ErrorCode`.
pub const ERROR_CODES: &[ErrorCodeHelp] = &[
    // Targets that are gone or stopped (ECS instances and eflo nodes).
    ErrorCodeHelp {
        code: "InstanceNotExists",
        meaning: "The instance does not exist or has been released.",
        remediation: "Check the instance id and region in the manifest; remove released \
            instances from `instances:`.",
    },
    ErrorCodeHelp {
        code: "InstanceReleased",
        meaning: "The instance was released while the task was running.",
        remediation: "Remove the released instance from `instances:`, or send to its \
            replacement.",
    },
    ErrorCodeHelp {
        code: "InstanceNotRunning",
        meaning: "The instance was not running when the task was created.",
        remediation: "Start the instance and send again; Cloud Assistant only reaches running \
            instances.",
    },
    ErrorCodeHelp {
        code: "NodeNotExists",
        meaning: "The Lingjun node does not exist or has been released.",
        remediation: "Check the node id in the manifest; remove released nodes.",
    },
    ErrorCodeHelp {
        code: "NodeReleased",
        meaning: "The Lingjun node was released while the file was being sent.",
        remediation: "Remove the released node from the manifest, or send to its replacement.",
    },
    ErrorCodeHelp {
        code: "NodeNotRunning",
        meaning: "The Lingjun node was not running when the task was created.",
        remediation: "Start the node and send again.",
    },
    // The Cloud Assistant Agent.
    ErrorCodeHelp {
        code: "ClientNotRunning",
        meaning: "The Cloud Assistant Agent is not running on the target.",
        remediation: AGENT_DOCS,
    },
    ErrorCodeHelp {
        code: "ClientNotResponse",
        meaning: "The Cloud Assistant Agent on the target did not respond.",
        remediation: "Check that the Agent is running and that the target can reach the Cloud \
            Assistant service endpoints, then send again.",
    },
    ErrorCodeHelp {
        code: "ClientIsUpgrading",
        meaning: "The Cloud Assistant Agent was upgrading itself.",
        remediation: "Wait a few minutes for the upgrade to finish, then send again.",
    },
    ErrorCodeHelp {
        code: "ClientNeedUpgrade",
        meaning: "The Cloud Assistant Agent is too old for this operation (SendFile needs \
            Agent > 1.0.2.569 on Linux, > 1.0.0.149 on Windows).",
        remediation: "Upgrade the Cloud Assistant Agent on the target, then send again.",
    },
    ErrorCodeHelp {
        code: "DeliveryTimeout",
        meaning: "Sending to the target timed out.",
        remediation: "Check the Agent and the target's network, then send again (a larger \
            Timeout may help for big files).",
    },
    // The file itself (SendFile).
    ErrorCodeHelp {
        code: "AccountNotExists",
        meaning: "The account (file owner or command user) does not exist on the target.",
        remediation: "Create the user on the target, or correct `owner:` in the manifest and \
            send again.",
    },
    ErrorCodeHelp {
        code: "UserGroupNotExists",
        meaning: "The file's group does not exist on the target.",
        remediation: "Create the group on the target, or correct `group:` and send again.",
    },
    ErrorCodeHelp {
        code: "FileCreateFail",
        meaning: "The Agent could not create the file (an unexpected error on the target).",
        remediation: "Check disk space, a read-only file system, and what is at the target \
            path, then send again.",
    },
    ErrorCodeHelp {
        code: "FileAlreadyExists",
        meaning: "A file with the same name already exists in the target directory, and \
            Overwrite was false.",
        remediation: "Send again with Overwrite=true (and `overwrite: true` in the manifest) if \
            the file should be replaced.",
    },
    ErrorCodeHelp {
        code: "FileContentInvalid",
        meaning: "The file content was invalid (empty, or not valid for its ContentType).",
        remediation: "Check the content and its ContentType (PlainText or Base64), then send \
            again.",
    },
    ErrorCodeHelp {
        code: "FileNameInvalid",
        meaning: "The file name is not valid on the target.",
        remediation: "Use a name without path separators or characters the target's file \
            system refuses.",
    },
    ErrorCodeHelp {
        code: "FilePathInvalid",
        meaning: "The target directory is not a valid path on the target.",
        remediation: "Use an absolute directory path valid for the target's OS.",
    },
    ErrorCodeHelp {
        code: "FileAuthorityInvalid",
        meaning: "The file mode, owner or group was refused (for example a mode that is not \
            chmod-style octal).",
        remediation: "Use an octal mode such as 0644 and an owner and group that exist on the \
            target.",
    },
    // Commands (DescribeInvocationResults).
    ErrorCodeHelp {
        code: "CommandNotApplicable",
        meaning: "The command type does not apply to this target (for example a shell script \
            on Windows).",
        remediation: "Use a command type that matches the target's OS, or remove the target.",
    },
    ErrorCodeHelp {
        code: "DirectoryNotExists",
        meaning: "The command's working directory does not exist on the target.",
        remediation: "Create the directory, or correct the command's WorkingDir.",
    },
    ErrorCodeHelp {
        code: "BadCronExpression",
        meaning: "The cron expression of the command's schedule is invalid.",
        remediation: "Correct the schedule's cron expression and invoke the command again.",
    },
    ErrorCodeHelp {
        code: "ExecutionTimeout",
        meaning: "The command ran longer than its timeout and was stopped.",
        remediation: "Find why it is slow on that target, or raise the command's Timeout.",
    },
    ErrorCodeHelp {
        code: "ExecutionException",
        meaning: "An exception occurred while the command was running.",
        remediation: "Look at the ErrorInfo and the output on the target, then run it again.",
    },
    ErrorCodeHelp {
        code: "ExecutionInterrupted",
        meaning: "The execution was interrupted (stopped, or the target restarted).",
        remediation: "Run the command again once the target is stable.",
    },
    ErrorCodeHelp {
        code: "ExitCodeNonzero",
        meaning: "The command finished, but its exit code was not 0.",
        remediation: "Look at the command's output on that target to see why it failed.",
    },
];

/// The help for a documented code.
pub fn lookup(code: &str) -> Option<&'static ErrorCodeHelp> {
    ERROR_CODES.iter().find(|help| help.code == code)
}

/// Why a delivery or command failed on one target, ready to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorExplanation {
    /// The raw `ErrorCode`, when the API gave one.
    pub code: Option<String>,
    /// The raw `ErrorInfo`, when the API gave one.
    pub info: Option<String>,
    pub meaning: String,
    pub remediation: String,
}

/// Explains an `ErrorCode` / `ErrorInfo` pair; unknown codes keep the raw
/// text so nothing the API said is lost.
pub fn explain(code: Option<&str>, info: Option<&str>) -> ErrorExplanation {
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    let info = info.map(str::trim).filter(|i| !i.is_empty());
    let (meaning, remediation) = match code.and_then(lookup) {
        Some(help) => (help.meaning.to_owned(), help.remediation.to_owned()),
        None => {
            let meaning = match (code, info) {
                (Some(code), Some(info)) => {
                    format!(
                        "The API reported error `{code}`, which shipcheck does not know: {info}"
                    )
                }
                (Some(code), None) => {
                    format!("The API reported error `{code}`, which shipcheck does not know.")
                }
                (None, Some(info)) => format!("The API reported: {info}"),
                (None, None) => "The API gave no error code or message.".to_owned(),
            };
            (
                meaning,
                "Look at the task in the Cloud Assistant console for details, then try again."
                    .to_owned(),
            )
        }
    };
    ErrorExplanation {
        code: code.map(str::to_owned),
        info: info.map(str::to_owned),
        meaning,
        remediation,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use regex::Regex;

    use super::*;

    /// The codes each API document lists under its per-target `ErrorCode`.
    fn documented_codes() -> BTreeSet<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api");
        // "ErrorCode" heading, then the list of `Code: meaning` / `Code：meaning`.
        let item = Regex::new(r"(?m)(?:^|[\s•\-|])([A-Z][a-z]+(?:[A-Z][a-z]*)+)\s*[:：]").unwrap();
        let mut codes = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // Each document describes ErrorCode in one section; take the text
            // from each "ErrorCode" mention up to the next field's "ErrorInfo"
            // or 2,500 bytes, whichever comes first.
            for (start, _) in text.match_indices("ErrorCode") {
                let rest = &text[start..];
                let end = rest
                    .char_indices()
                    .take_while(|(i, _)| *i < 2500)
                    .last()
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let mut section = &rest[..end];
                if let Some(next) = section[1..].find("ErrorInfo") {
                    section = &section[..next + 1];
                }
                for cap in item.captures_iter(section) {
                    codes.insert(cap[1].to_owned());
                }
            }
        }
        // Field names that share the `Word: ` shape are not error codes.
        for field in [
            "ErrorCode",
            "ErrorInfo",
            "FinishTime",
            "NodeId",
            "InstanceId",
        ] {
            codes.remove(field);
        }
        codes
    }

    #[test]
    fn every_documented_error_code_is_explained() {
        let documented = documented_codes();
        // The documents list 16 SendFile codes, 3 eflo node codes and 7
        // command-only codes; a parser that found fewer is broken.
        assert!(documented.len() >= 26, "parsed only {documented:?}");
        for code in &documented {
            assert!(
                lookup(code).is_some(),
                "{code} is documented but not explained"
            );
        }
        for expected in [
            "InstanceNotExists",
            "UserGroupNotExists",
            "NodeNotRunning",
            "ExitCodeNonzero",
            "BadCronExpression",
        ] {
            assert!(documented.contains(expected), "parser missed {expected}");
        }
    }

    #[test]
    fn docs_list_every_error_code() {
        let docs = include_str!("../../docs/findings.md");
        for help in ERROR_CODES {
            assert!(
                docs.contains(&format!("| `{}` |", help.code)),
                "{}",
                help.code
            );
        }
    }

    #[test]
    fn codes_are_unique_and_every_text_is_written() {
        let mut seen = BTreeSet::new();
        for help in ERROR_CODES {
            assert!(seen.insert(help.code), "{} twice", help.code);
            assert!(help.meaning.ends_with('.'), "{}", help.code);
            assert!(!help.remediation.is_empty(), "{}", help.code);
        }
    }

    #[test]
    fn known_codes_are_explained_and_unknown_ones_keep_the_raw_text() {
        let known = explain(Some("FileAlreadyExists"), Some("File already exists"));
        assert!(known.meaning.contains("already exists"));
        assert!(known.remediation.contains("Overwrite=true"));
        assert_eq!(known.info.as_deref(), Some("File already exists"));

        let unknown = explain(Some("DiskOnFire"), Some("the disk is on fire"));
        assert!(unknown.meaning.contains("`DiskOnFire`"));
        assert!(unknown.meaning.contains("the disk is on fire"));

        let blank = explain(Some(""), Some("  "));
        assert_eq!(blank.code, None);
        assert_eq!(blank.info, None);
        assert!(blank.meaning.contains("no error code"));
    }
}
