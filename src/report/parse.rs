//! A saved JSON report read back into a [`Report`], so that `shipcheck
//! report` renders it again in any format.
//!
//! The JSON carries every value a renderer reads but the manifests' text
//! (it names them by path): the caller supplies what it can re-read, and
//! locations get their byte spans back from their lines and columns. A
//! manifest that is gone leaves an empty text: renderers then show the
//! findings without their source snippet.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

use super::model::{
    CommandKey, CommandReport, Detail, Evidence, EvidenceSource, FileReport, Finding, Location,
    ManifestFile, Report, SharedEvidence, StrictCoverage, TargetReport, Waived,
};
use crate::expect::Span;
use crate::findings::FindingCode;
use crate::findings::error_codes::ErrorExplanation;
use crate::observe::{GapReason, Stamp};
use crate::protocol::Provider;
use crate::report::model::InstanceSetReport;

#[derive(Deserialize)]
struct Document {
    schema_version: u32,
    checked_at: Timestamp,
    strict: bool,
    #[serde(default)]
    strict_coverage: Option<Coverage>,
    manifests: Vec<String>,
    files: Vec<File>,
    commands: Vec<Command>,
    other_findings: Vec<JsonFinding>,
    #[serde(default)]
    narrowed: Option<JsonNarrowed>,
    #[serde(default)]
    instance_sets: Vec<JsonInstanceSet>,
    #[serde(default)]
    wait_expired: bool,
}

#[derive(Deserialize)]
struct JsonNarrowed {
    only: Vec<String>,
    instances: Vec<String>,
}

#[derive(Deserialize)]
struct JsonInstanceSet {
    name: String,
    region: String,
    source: String,
    instances: Option<Vec<String>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Coverage {
    instances: Vec<String>,
    names: Vec<String>,
    uncovered: Vec<String>,
}

#[derive(Deserialize)]
struct JsonLocation {
    manifest: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Deserialize)]
struct File {
    name: String,
    target_dir: String,
    path: String,
    provider: Provider,
    region: String,
    sensitive: bool,
    location: JsonLocation,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Command {
    selector: CommandKey,
    region: String,
    location: JsonLocation,
    findings: Vec<JsonFinding>,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    id: String,
    declared: bool,
    invoke_id: Option<String>,
    finished_at: Option<Timestamp>,
    #[serde(default)]
    evidence: Option<JsonEvidence>,
    findings: Vec<JsonFinding>,
}

#[derive(Deserialize)]
struct JsonEvidence {
    source: String,
    fetched_at: Timestamp,
}

#[derive(Deserialize)]
struct JsonFinding {
    code: String,
    message: String,
    target: Option<String>,
    file: Option<String>,
    location: JsonLocation,
    label: String,
    expected: Option<String>,
    observed: Option<String>,
    detail: Option<JsonDetail>,
    help: String,
    waived: Option<JsonWaiver>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonDetail {
    Diff {
        unified: String,
    },
    Digest {
        expected_size: Option<usize>,
        expected_sha256: String,
        observed_size: usize,
        observed_sha256: String,
    },
    Error {
        code: Option<String>,
        info: Option<String>,
        meaning: String,
        remediation: String,
    },
    Output {
        excerpt: String,
        truncated: bool,
    },
    Unverified {
        reason: GapReason,
    },
}

#[derive(Deserialize)]
struct JsonWaiver {
    reason: String,
    expires: Option<Date>,
    location: JsonLocation,
}

/// Reads a JSON report (`--format json`); `manifest(path)` returns a
/// manifest's text when it can still be read.
pub fn from_json(text: &str, manifest: &dyn Fn(&str) -> Option<String>) -> Result<Report, String> {
    let document: Document =
        serde_json::from_str(text).map_err(|err| format!("not a shipcheck JSON report: {err}"))?;
    if document.schema_version != super::json::SCHEMA_VERSION {
        return Err(format!(
            "the report has schema_version {}; this shipcheck reads {}",
            document.schema_version,
            super::json::SCHEMA_VERSION
        ));
    }
    let manifests: Vec<ManifestFile> = document
        .manifests
        .iter()
        .map(|path| ManifestFile {
            path: path.clone(),
            text: Arc::from(manifest(path).unwrap_or_default()),
        })
        .collect();
    let mut reader = Reader {
        manifests: &manifests,
        evidence: SharedEvidence::default(),
    };
    let files = document
        .files
        .into_iter()
        .map(|file| {
            Ok(FileReport {
                location: reader.location(&file.location),
                targets: reader.targets(file.targets)?,
                name: file.name,
                target_dir: file.target_dir,
                path: file.path,
                provider: file.provider,
                region: file.region,
                sensitive: file.sensitive,
            })
        })
        .collect::<Result<_, String>>()?;
    let commands = document
        .commands
        .into_iter()
        .map(|command| {
            Ok(CommandReport {
                location: reader.location(&command.location),
                targets: reader.targets(command.targets)?,
                findings: reader.findings(command.findings)?,
                key: command.selector,
                region: command.region,
            })
        })
        .collect::<Result<_, String>>()?;
    let general = reader.findings(document.other_findings)?;
    Ok(Report {
        checked_at: document.checked_at,
        strict: document.strict,
        strict_coverage: document.strict_coverage.map(|c| StrictCoverage {
            instances: c.instances,
            names: c.names,
            uncovered: c.uncovered,
        }),
        files,
        commands,
        general,
        manifests,
        narrowed: document.narrowed.map(|n| crate::narrow::Narrowing {
            only: n.only,
            instances: n.instances,
        }),
        instance_sets: document
            .instance_sets
            .into_iter()
            .map(|set| InstanceSetReport {
                name: set.name,
                region: set.region,
                source: set.source,
                instances: set.instances,
                error: set.error,
            })
            .collect(),
        // The paths a fix was written to belong to that run, not the report.
        fix: None,
        wait_expired: document.wait_expired,
    })
}

struct Reader<'a> {
    manifests: &'a [ManifestFile],
    evidence: SharedEvidence,
}

impl Reader<'_> {
    fn location(&self, location: &JsonLocation) -> Location {
        let source = self
            .manifests
            .iter()
            .position(|m| m.path == location.manifest)
            .unwrap_or_default();
        let text = self.manifests.get(source).map_or("", |m| &*m.text);
        let start = offset(text, location.line, location.column);
        let end = offset(text, location.end_line, location.end_column).max(start);
        Location {
            source,
            span: Span { start, end },
            line: location.line,
            column: location.column,
            end_line: location.end_line,
            end_column: location.end_column,
        }
    }

    fn targets(&mut self, targets: Vec<Target>) -> Result<Vec<TargetReport>, String> {
        targets
            .into_iter()
            .map(|target| {
                Ok(TargetReport {
                    findings: self.findings(target.findings)?,
                    id: target.id.into(),
                    declared: target.declared,
                    invoke_id: target.invoke_id.map(Into::into),
                    finished_at: Stamp::of(target.finished_at),
                    evidence: target.evidence.map(|e| {
                        self.evidence.share(Evidence {
                            source: match e.source.strip_prefix("snapshot ") {
                                Some(path) => EvidenceSource::Snapshot(path.to_owned()),
                                None => EvidenceSource::Live,
                            },
                            fetched_at: e.fetched_at,
                        })
                    }),
                })
            })
            .collect()
    }

    fn findings(&self, findings: Vec<JsonFinding>) -> Result<Vec<Finding>, String> {
        findings
            .into_iter()
            .map(|finding| {
                let code: FindingCode = finding
                    .code
                    .parse()
                    .map_err(|_| format!("unknown finding code `{}`", finding.code))?;
                // The JSON carries the help a reader sees: the registry's
                // remediation unless the finding had its own.
                let help = (finding.help != code.info().remediation).then_some(finding.help);
                Ok(Finding {
                    code,
                    location: self.location(&finding.location),
                    waived: finding.waived.map(|w| Waived {
                        location: self.location(&w.location),
                        reason: w.reason,
                        expires: w.expires,
                    }),
                    detail: finding.detail.map(detail),
                    message: finding.message,
                    target: finding.target,
                    file: finding.file,
                    label: finding.label,
                    expected: finding.expected,
                    observed: finding.observed,
                    help,
                })
            })
            .collect()
    }
}

fn detail(detail: JsonDetail) -> Detail {
    match detail {
        JsonDetail::Diff { unified } => Detail::Diff(unified),
        JsonDetail::Digest {
            expected_size,
            expected_sha256,
            observed_size,
            observed_sha256,
        } => Detail::Digest {
            expected_size,
            expected_sha256,
            observed_size,
            observed_sha256,
        },
        JsonDetail::Error {
            code,
            info,
            meaning,
            remediation,
        } => Detail::Error(ErrorExplanation {
            code,
            info,
            meaning,
            remediation,
        }),
        JsonDetail::Output { excerpt, truncated } => Detail::Output { excerpt, truncated },
        JsonDetail::Unverified { reason } => Detail::Unverified(reason),
    }
}

/// The byte offset of a 1-based line and column (in characters), the
/// inverse of `text::LineIndex::line_col`; the end of the text when past it.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let Some(start) = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .try_fold(0usize, |at, len| at.checked_add(len))
    else {
        return text.len();
    };
    let rest = text.get(start..).unwrap_or_default();
    start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(at, _)| at)
}
