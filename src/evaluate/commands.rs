//! Commands: per declared command × target, the latest execution is judged
//! on its status, exit code and output. A status this version does not know
//! (or none), or a finished run without the `ExitCode` or `Output` a
//! declaration asks about, makes that check unverified.

use std::collections::BTreeMap;

use foldhash::HashSet;

use crate::expect::{CommandExpectation, CommandSelector, OutputMatch};
use crate::findings::{FindingCode, error_codes};
use crate::observe::{CommandResult, GapReason, Observed, Stamp};
use crate::report::model::{CommandKey, CommandReport, Detail, TargetReport};

use super::content::unified_diff;
use super::{Evaluator, FindingBuilder};

/// Characters of output shown for a `contains` or `regex` mismatch.
const EXCERPT_CHARS: usize = 600;

pub(super) fn evaluate(
    eval: &Evaluator<'_>,
    command: &CommandExpectation,
    results: &[CommandResult],
) -> CommandReport {
    let key = match &command.selector.value {
        CommandSelector::CommandId(id) => CommandKey::CommandId(id.clone()),
        CommandSelector::InvokeId(id) => CommandKey::InvokeId(id.clone()),
    };
    // The latest execution on each target, among those started at or after
    // `since` (a run of unknown start does not count then) and, for a
    // command pinned by `task_tags`, listed under those tags.
    let since = command.since.as_ref().map(|s| s.value.at(eval.options.now));
    let mut latest: BTreeMap<&str, &CommandResult> = BTreeMap::new();
    for result in results.iter().filter(|r| {
        r.region == command.region()
            && match &command.selector.value {
                CommandSelector::CommandId(id) => &r.command_id == id,
                CommandSelector::InvokeId(id) => &r.invoke_id == id,
            }
            && since.is_none_or(|since| r.started.is_some_and(|at| at >= since))
            && r.listed_under(&command.task_tags)
    }) {
        let slot = latest.entry(result.instance_id.as_str()).or_insert(result);
        if result.recency() > slot.recency() {
            *slot = result;
        }
    }

    let entry = eval.location(command.origin);
    let mut report = CommandReport {
        key,
        region: command.region().to_owned(),
        location: entry,
        targets: Vec::new(),
        findings: Vec::new(),
    };
    // A pinned command's messages name its tags: "no execution of c-1
    // tagged release=42" says why a later untagged run did not count.
    let mut label = report.key.label();
    if !command.task_tags.is_empty() {
        let tags: Vec<String> = command
            .task_tags
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        label = format!("{label} tagged {}", tags.join(", "));
    }

    // No targets means "wherever it ran", unless they were to come from
    // instance sets that resolved to nothing (reported on their own).
    if command.targets.is_empty() && command.target_sources.is_empty() {
        if let Some(gap) = eval.command_gap(command, None) {
            let subject = format!("{label} in {}", command.region());
            report
                .findings
                .push(FindingBuilder::from_gap(gap, None, None, entry, &subject));
            return report;
        }
        if latest.is_empty() {
            report.findings.push(
                FindingBuilder::new(FindingCode::CommandNotFound, None, None, entry)
                    .message(format!(
                        "no execution of {label} in {}; execution records age out of the API \
                         after 4 weeks (30 days in some documents), so an older run may no \
                         longer be listed",
                        command.region()
                    ))
                    .label("no execution found".to_owned())
                    .build(),
            );
        }
        for (id, result) in &latest {
            report
                .targets
                .push(judge(eval, command, &label, id, Some(result)));
        }
        return report;
    }

    for target in &command.targets {
        if let Some(gap) = eval.command_gap(command, Some(&target.id)) {
            let id = target.id.as_str();
            let subject = format!("{label} on instance {id}");
            let location = eval.location(target.origin);
            report.targets.push(TargetReport {
                id: id.into(),
                declared: true,
                invoke_id: None,
                finished_at: None,
                evidence: None,
                findings: vec![FindingBuilder::from_gap(
                    gap,
                    Some(id),
                    None,
                    location,
                    &subject,
                )],
            });
            continue;
        }
        let result = latest.get(target.id.as_str()).copied();
        let mut judged = judge(eval, command, &label, &target.id, result);
        if result.is_none() {
            for finding in &mut judged.findings {
                finding.location = eval.location(target.origin);
            }
        }
        report.targets.push(judged);
    }
    if eval.options.strict {
        let declared: HashSet<&str> = command.targets.iter().map(|t| t.id.as_str()).collect();
        for (id, result) in latest.iter().filter(|(id, _)| !declared.contains(**id)) {
            let finding =
                FindingBuilder::new(FindingCode::UnexpectedInstance, Some(id), None, entry)
                    .message(format!(
                        "{label} ran on instance {id} (task {}), which its instances do not name",
                        result.invoke_id
                    ))
                    .label(format!("{id} is not declared here"))
                    .build();
            report.targets.push(TargetReport {
                id: (*id).into(),
                declared: false,
                invoke_id: Some(result.invoke_id.as_str().into()),
                finished_at: Stamp::of(result.finished),
                evidence: None,
                findings: vec![finding],
            });
        }
    }
    report
}

fn judge(
    eval: &Evaluator<'_>,
    command: &CommandExpectation,
    label: &str,
    id: &str,
    result: Option<&CommandResult>,
) -> TargetReport {
    let entry = eval.location(command.origin);
    let mut target = TargetReport {
        id: id.into(),
        declared: true,
        invoke_id: result.map(|r| r.invoke_id.as_str().into()),
        finished_at: Stamp::of(result.and_then(|r| r.finished)),
        evidence: None,
        findings: Vec::new(),
    };
    let new = |code, location| FindingBuilder::new(code, Some(id), None, location);
    let Some(result) = result else {
        target.findings.push(
            new(FindingCode::CommandNotFound, entry)
                .message(format!(
                    "no execution of {label} on instance {id}; execution records age out of the \
                     API after 4 weeks (30 days in some documents), so an older run may no longer \
                     be listed"
                ))
                .label("no execution on this instance".to_owned())
                .build(),
        );
        return target;
    };
    let task = &result.invoke_id;
    let unverified = |reason, why: String| {
        FindingBuilder::unverified(
            Some(id),
            None,
            entry,
            reason,
            format!("{label} on instance {id} is unverified: {why} (task {task})"),
        )
        .build()
    };

    if !result.has_known_status() {
        let finding = match result.status.trim() {
            "" => unverified(
                GapReason::FieldMissing,
                "the result has no InvocationStatus".into(),
            ),
            other => unverified(
                GapReason::FieldInvalid,
                format!("the result has an unknown InvocationStatus `{other}`"),
            ),
        };
        target.findings.push(finding);
        return target;
    }

    if result.is_in_flight() {
        target.findings.push(
            new(FindingCode::CommandPending, entry)
                .message(format!(
                    "{label} is {} on instance {id} (task {task})",
                    result.status
                ))
                .label(format!("{} on this instance", result.status))
                .observed(result.status.clone())
                .build(),
        );
        return target;
    }

    let expected_status = &command.status.value;
    // An exit code declared non-zero, with no declared status, expects the
    // API's Failed/ExitCodeNonzero: that is not a failure.
    let expected_nonzero_exit = command.status.origin.is_none()
        && result.error_code.as_deref() == Some("ExitCodeNonzero")
        && command
            .exit_code
            .as_ref()
            .is_some_and(|code| code.value != 0 && Some(code.value) == result.exit_code);
    if &result.status != expected_status && !expected_nonzero_exit {
        let explained =
            error_codes::explain(result.error_code.as_deref(), result.error_info.as_deref());
        let status_location = eval.attr_location(&command.status, command.origin);
        let finding = if expected_status == "Success" {
            let code = explained.code.as_deref().unwrap_or("no ErrorCode");
            new(FindingCode::CommandFailed, status_location)
                .message(format!(
                    "{label} ended {} on instance {id} ({code}, task {task})",
                    result.status
                ))
                .label(format!("{code} on {id}"))
        } else {
            new(FindingCode::CommandStatusMismatch, status_location)
                .message(format!(
                    "{label} ended {} on instance {id}, declared {expected_status} (task {task})",
                    result.status
                ))
                .label(format!("declared {expected_status}, got {}", result.status))
        };
        target.findings.push(
            finding
                .expected(expected_status.clone())
                .observed(result.status.clone())
                .help(explained.remediation.clone())
                .detail(Detail::Error(explained))
                .build(),
        );
    }

    if command.exit_code.is_some() && result.exit_code.is_none() {
        target.findings.push(unverified(
            GapReason::FieldMissing,
            "the finished run has no ExitCode".into(),
        ));
    } else if let Some(expected) = &command.exit_code
        && result.exit_code != Some(expected.value)
    {
        let observed = result
            .exit_code
            .map_or_else(|| "none".to_owned(), |c| c.to_string());
        target.findings.push(
            new(
                FindingCode::ExitCodeMismatch,
                eval.attr_location(expected, command.origin),
            )
            .message(format!(
                "{label} exited with {observed} on instance {id}, declared {} (task {task})",
                expected.value
            ))
            .label(format!("declared {}, got {observed}", expected.value))
            .expected(expected.value.to_string())
            .observed(observed)
            .build(),
        );
    }

    if let Some(expected) = &command.output {
        let location = eval.attr_location(expected, command.origin);
        let output = match &result.output {
            Observed::Value(bytes) => String::from_utf8_lossy(bytes),
            Observed::Missing => {
                target.findings.push(unverified(
                    GapReason::FieldMissing,
                    "the finished run has no Output".into(),
                ));
                return target;
            }
            Observed::Invalid(why) => {
                target
                    .findings
                    .push(unverified(GapReason::FieldInvalid, why.clone()));
                return target;
            }
        };
        if let Some(finding) = match_output(&expected.value, &output) {
            target.findings.push(
                new(FindingCode::OutputMismatch, location)
                    .message(format!(
                        "the output of {label} on instance {id} {} (task {task})",
                        finding.what
                    ))
                    .label(finding.label)
                    .detail(finding.detail)
                    .build(),
            );
        }
        if let Some(dropped) = result.dropped.filter(|d| *d > 0) {
            target.findings.push(
                new(FindingCode::OutputTruncated, location)
                    .message(format!(
                        "the API dropped {dropped} bytes of the output of {label} on instance \
                         {id}; the output was matched on the first 24 KB (task {task})"
                    ))
                    .label(format!(
                        "matched on truncated output ({dropped} bytes dropped)"
                    ))
                    .build(),
            );
        }
    }
    target
}

struct OutputMiss {
    what: String,
    label: String,
    detail: Detail,
}

/// Trailing newlines never matter: `echo` adds one, YAML block scalars too.
fn trim_end_newlines(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

fn match_output(expected: &OutputMatch, output: &str) -> Option<OutputMiss> {
    let output_trimmed = trim_end_newlines(output);
    let excerpt = || {
        let truncated = output.chars().count() > EXCERPT_CHARS;
        Detail::Output {
            excerpt: output.chars().take(EXCERPT_CHARS).collect(),
            truncated,
        }
    };
    match expected {
        OutputMatch::Equals(text) => {
            (trim_end_newlines(text) != output_trimmed).then(|| OutputMiss {
                what: "is not the declared text".to_owned(),
                label: "declared output".to_owned(),
                detail: Detail::Diff(unified_diff(
                    format!("{}\n", trim_end_newlines(text)).as_bytes(),
                    format!("{output_trimmed}\n").as_bytes(),
                )),
            })
        }
        OutputMatch::Contains(text) => (!output.contains(text.as_str())).then(|| OutputMiss {
            what: format!("does not contain {text:?}"),
            label: format!("expected to contain {text:?}"),
            detail: excerpt(),
        }),
        OutputMatch::Regex(regex) => (!regex.is_match(output)).then(|| OutputMiss {
            what: format!("does not match /{}/", regex.as_str()),
            label: format!("expected to match /{}/", regex.as_str()),
            detail: excerpt(),
        }),
    }
}
