//! The JSON report: a stable contract, `schemas/report.v1.schema.json`.
//!
//! The document is built from its own serde types rather than by
//! serialising the report model, so refactoring the model can never change
//! the contract by accident; the tests validate the output against the
//! schema. `sensitive` content never appears: the evaluation only ever
//! records digests for it.
//!
//! The lists are serialised item by item as the document is written
//! (`Each`): a fleet's report runs to hundreds of megabytes, and neither
//! a second copy of it in these types nor the whole text is ever held.

use std::io::Write;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use super::model::{
    CommandKey, CommandReport, Detail, EvidenceSource, FileReport, Finding, Location, Outcome,
    Report, Summary, TargetReport, Verdict,
};
use crate::findings::error_codes::ErrorExplanation;
use crate::findings::{FindingCode, Severity};
use crate::observe::{GapReason, Stamp};
use crate::protocol::Provider;

/// The version of the JSON report's shape; bumped only on breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

/// `schemas/report.v1.schema.json`, embedded for `shipcheck schema report`.
pub const SCHEMA: &str = crate::schemas::REPORT_V1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    checked_at: String,
    strict: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict_coverage: Option<JsonStrictCoverage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    narrowed: Option<JsonNarrowed<'a>>,
    verdict: Verdict,
    /// Whether anything is still Pending/Running.
    pending: bool,
    summary: Summary,
    manifests: Vec<&'a str>,
    files: Each<'a, FileReport, File<'a>>,
    commands: Each<'a, CommandReport, Command<'a>>,
    other_findings: Each<'a, Finding, JsonFinding<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    instance_sets: Vec<JsonInstanceSet<'a>>,
    /// `--wait` ran out with something still moving (exit 4); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    wait_expired: bool,
}

/// An instance set resolved when the check ran; absent when there were none.
#[derive(Serialize)]
struct JsonInstanceSet<'a> {
    name: &'a str,
    region: &'a str,
    source: &'a str,
    /// `null` when the listing failed (`error` says why).
    instances: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// What `--strict` listed; absent without it.
#[derive(Serialize)]
struct JsonStrictCoverage<'a> {
    instances: &'a [String],
    names: &'a [String],
    uncovered: &'a [String],
}

/// What `--only` and `--instance` narrowed the check to; absent when whole.
#[derive(Serialize)]
struct JsonNarrowed<'a> {
    only: &'a [String],
    instances: &'a [String],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    manifest: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct File<'a> {
    name: &'a str,
    target_dir: &'a str,
    path: &'a str,
    provider: Provider,
    region: &'a str,
    sensitive: bool,
    outcome: Outcome,
    location: JsonLocation<'a>,
    targets: Each<'a, TargetReport, Target<'a>>,
}

#[derive(Serialize)]
struct Command<'a> {
    selector: &'a CommandKey,
    region: &'a str,
    outcome: Outcome,
    location: JsonLocation<'a>,
    findings: Each<'a, Finding, JsonFinding<'a>>,
    targets: Each<'a, TargetReport, Target<'a>>,
}

#[derive(Serialize)]
struct Target<'a> {
    id: &'a str,
    declared: bool,
    outcome: Outcome,
    /// Why the outcome is `unverified` (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<GapReason>,
    invoke_id: Option<&'a str>,
    /// As RFC 3339 text: jiff serialises a timestamp as its `Display`.
    finished_at: Option<Timestamp>,
    /// Where the evidence came from (absent when the caller did not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<JsonEvidence<'a>>,
    findings: Each<'a, Finding, JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonEvidence<'a> {
    /// `live` or `snapshot PATH`.
    #[serde(serialize_with = "as_text")]
    source: &'a EvidenceSource,
    fetched_at: Timestamp,
}

fn as_text<S: Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// A list of the report's items, each turned into its JSON form only when
/// it is written.
struct Each<'a, T, J> {
    report: &'a Report,
    items: &'a [T],
    each: fn(&'a Report, &'a T) -> J,
}

impl<'a, T, J> Each<'a, T, J> {
    fn new(report: &'a Report, items: &'a [T], each: fn(&'a Report, &'a T) -> J) -> Self {
        Self {
            report,
            items,
            each,
        }
    }
}

impl<T, J: Serialize> Serialize for Each<'_, T, J> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.items.iter().map(|item| (self.each)(self.report, item)))
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: FindingCode,
    severity: Severity,
    title: &'static str,
    message: &'a str,
    target: Option<&'a str>,
    file: Option<&'a str>,
    location: JsonLocation<'a>,
    label: &'a str,
    expected: Option<&'a str>,
    observed: Option<&'a str>,
    detail: Option<JsonDetail<'a>>,
    help: &'a str,
    waived: Option<JsonWaiver<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonDetail<'a> {
    Diff {
        unified: &'a str,
    },
    Digest {
        expected_size: Option<usize>,
        expected_sha256: &'a str,
        observed_size: usize,
        observed_sha256: &'a str,
    },
    Error {
        #[serde(flatten)]
        error: &'a ErrorExplanation,
    },
    Output {
        excerpt: &'a str,
        truncated: bool,
    },
    Unverified {
        reason: GapReason,
    },
}

#[derive(Serialize)]
struct JsonWaiver<'a> {
    reason: &'a str,
    expires: Option<String>,
    location: JsonLocation<'a>,
}

/// The report as pretty-printed JSON, with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = Vec::new();
    write(report, &mut text).expect("the report types serialise to JSON infallibly");
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// Writes the report to `out` as pretty-printed JSON with a trailing
/// newline, as it is serialised.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    out.write_all(b"\n")
}

fn document(report: &Report) -> Document<'_> {
    Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        checked_at: report.checked_at.to_string(),
        strict: report.strict,
        strict_coverage: report
            .strict_coverage
            .as_ref()
            .map(|coverage| JsonStrictCoverage {
                instances: &coverage.instances,
                names: &coverage.names,
                uncovered: &coverage.uncovered,
            }),
        narrowed: report.narrowed.as_ref().map(|narrowed| JsonNarrowed {
            only: &narrowed.only,
            instances: &narrowed.instances,
        }),
        verdict: report.verdict(),
        pending: report.is_pending(),
        summary: report.summary(),
        manifests: report.manifests.iter().map(|m| m.path.as_str()).collect(),
        files: Each::new(report, &report.files, file),
        commands: Each::new(report, &report.commands, command),
        other_findings: Each::new(report, &report.general, finding),
        instance_sets: report
            .instance_sets
            .iter()
            .map(|set| JsonInstanceSet {
                name: &set.name,
                region: &set.region,
                source: &set.source,
                instances: set.instances.as_deref(),
                error: set.error.as_deref(),
            })
            .collect(),
        wait_expired: report.wait_expired,
    }
}

fn location(report: &Report, location: Location) -> JsonLocation<'_> {
    JsonLocation {
        manifest: &report.manifest(location).path,
        line: location.line,
        column: location.column,
        end_line: location.end_line,
        end_column: location.end_column,
    }
}

fn file<'a>(report: &'a Report, file: &'a FileReport) -> File<'a> {
    File {
        name: &file.name,
        target_dir: &file.target_dir,
        path: &file.path,
        provider: file.provider,
        region: &file.region,
        sensitive: file.sensitive,
        outcome: Outcome::of(file.targets.iter().flat_map(|t| &t.findings)),
        location: location(report, file.location),
        targets: Each::new(report, &file.targets, target),
    }
}

fn command<'a>(report: &'a Report, command: &'a CommandReport) -> Command<'a> {
    Command {
        selector: &command.key,
        region: &command.region,
        outcome: command.outcome(),
        location: location(report, command.location),
        findings: Each::new(report, &command.findings, finding),
        targets: Each::new(report, &command.targets, target),
    }
}

fn target<'a>(report: &'a Report, target: &'a TargetReport) -> Target<'a> {
    Target {
        id: &target.id,
        declared: target.declared,
        outcome: target.outcome(),
        reason: target.unverified_reason(),
        invoke_id: target.invoke_id.as_deref(),
        finished_at: target.finished_at.map(Stamp::get),
        evidence: target.evidence.as_ref().map(|evidence| JsonEvidence {
            source: &evidence.source,
            fetched_at: evidence.fetched_at,
        }),
        findings: Each::new(report, &target.findings, finding),
    }
}

fn finding<'a>(report: &'a Report, finding: &'a Finding) -> JsonFinding<'a> {
    JsonFinding {
        code: finding.code,
        severity: finding.severity(),
        title: finding.code.title(),
        message: &finding.message,
        target: finding.target.as_deref(),
        file: finding.file.as_deref(),
        location: location(report, finding.location),
        label: &finding.label,
        expected: finding.expected.as_deref(),
        observed: finding.observed.as_deref(),
        detail: finding.detail.as_ref().map(|detail| match detail {
            Detail::Diff(unified) => JsonDetail::Diff { unified },
            Detail::Digest {
                expected_size,
                expected_sha256,
                observed_size,
                observed_sha256,
            } => JsonDetail::Digest {
                expected_size: *expected_size,
                expected_sha256,
                observed_size: *observed_size,
                observed_sha256,
            },
            Detail::Error(error) => JsonDetail::Error { error },
            Detail::Output { excerpt, truncated } => JsonDetail::Output {
                excerpt,
                truncated: *truncated,
            },
            Detail::Unverified(reason) => JsonDetail::Unverified { reason: *reason },
        }),
        help: finding.help_text(),
        waived: finding.waived.as_ref().map(|waived| JsonWaiver {
            reason: &waived.reason,
            expires: waived.expires.map(|d| d.to_string()),
            location: location(report, waived.location),
        }),
    }
}
