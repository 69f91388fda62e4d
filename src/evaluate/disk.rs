//! Disk: per declared file × instance, what `--probe` read on the disk,
//! judged against the declaration.
//!
//! The delivery record says what was asked for; the probe says what is
//! there now. Each differing attribute is its own finding, labelled on the
//! attribute's line, next to the delivery's findings. Content is compared
//! by size and SHA-256 only: the probe never reads content back.

use crate::expect::{ExpectedContent, FileExpectation, TargetRef};
use crate::findings::FindingCode;
use crate::mode::FileMode;
use crate::observe::Probed;
use crate::probe::script::DiskState;
use crate::report::model::{Detail, Finding};

use super::{Evaluator, FindingBuilder};

/// The disk findings for `file` on `target`; none without `--probe`.
pub(super) fn judge(
    eval: &Evaluator<'_>,
    file: &FileExpectation,
    target: &TargetRef,
) -> Vec<Finding> {
    let Some(disk) = eval.disk else {
        return Vec::new();
    };
    let path = file.path();
    let id = target.id.as_str();
    let finding = |code, location| FindingBuilder::new(code, Some(id), Some(&path), location);
    let Some(probed) = disk.get(id, &path) else {
        // Not probed (an eflo node: RunCommand reaches instances only).
        return Vec::new();
    };
    let facts = match probed {
        Probed::Unprobed { reason, detail } => {
            return vec![
                FindingBuilder::unverified(
                    Some(id),
                    Some(&path),
                    eval.location(target.origin),
                    *reason,
                    format!("{path} on instance {id} is unverified on disk: {detail}"),
                )
                .build(),
            ];
        }
        Probed::Seen {
            state: DiskState::File(facts),
        } => facts,
        Probed::Seen { state } => {
            let what = match state {
                DiskState::Absent => "nothing",
                _ => "something that is not a regular file",
            };
            return vec![
                finding(FindingCode::DiskMissing, eval.location(file.origin))
                    .message(format!("the probe found {what} at {path} on instance {id}"))
                    .label(format!("not on the disk of {id}"))
                    .expected("a regular file")
                    .observed(what)
                    .build(),
            ];
        }
    };
    let mut findings = Vec::new();
    let mode_on_disk = FileMode::from_bits(facts.mode);
    if mode_on_disk != Some(file.mode.value) {
        let observed = format!("{:04o}", facts.mode);
        let expected = format!("{:04o}", file.mode.value.bits());
        findings.push(
            finding(
                FindingCode::DiskModeMismatch,
                eval.attr_location(&file.mode, file.origin),
            )
            .message(format!(
                "{path} on instance {id} has mode {observed} on disk, declared {expected}"
            ))
            .label(format!("{observed} on the disk of {id}"))
            .expected(expected)
            .observed(observed)
            .build(),
        );
    }
    for (code, attr, seen, what) in [
        (
            FindingCode::DiskOwnerMismatch,
            &file.owner,
            &facts.owner,
            "owner",
        ),
        (
            FindingCode::DiskGroupMismatch,
            &file.group,
            &facts.group,
            "group",
        ),
    ] {
        if *seen != attr.value {
            findings.push(
                finding(code, eval.attr_location(attr, file.origin))
                    .message(format!(
                        "{path} on instance {id} has {what} {seen} on disk, declared {}",
                        attr.value
                    ))
                    .label(format!("{seen} on the disk of {id}"))
                    .expected(attr.value.clone())
                    .observed(seen.clone())
                    .build(),
            );
        }
    }
    if let Some(content) = &file.content {
        let (expected_size, expected_sha256) = match &content.value {
            ExpectedContent::Bytes(bytes) => (Some(bytes.len()), super::content::sha256_hex(bytes)),
            ExpectedContent::Sha256(hash) => (None, hex::encode(hash)),
        };
        let size_differs = expected_size.is_some_and(|size| size as u64 != facts.size);
        if size_differs || expected_sha256 != facts.sha256 {
            findings.push(
                finding(
                    FindingCode::DiskContentMismatch,
                    eval.location(content.origin.unwrap_or(file.origin)),
                )
                .message(format!(
                    "{path} on instance {id} holds other content on disk ({} bytes, SHA-256 {}) \
                     than declared",
                    facts.size, facts.sha256
                ))
                .label(format!("other content on the disk of {id}"))
                .detail(Detail::Digest {
                    expected_size,
                    expected_sha256,
                    observed_size: usize::try_from(facts.size).unwrap_or(usize::MAX),
                    observed_sha256: facts.sha256.clone(),
                })
                .build(),
            );
        }
    }
    findings
}
