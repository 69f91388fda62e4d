//! The report: what the evaluation found, in the shape every renderer reads.
//!
//! Findings are grouped the way people ask about them: per declared file ×
//! target and per declared command × target, plus the few findings that
//! belong to neither (an expired waiver, an undeclared delivery). The report
//! carries the manifests' text so renderers can label findings on the exact
//! line that declared them without going back to the loader.

use std::sync::Arc;

use compact_str::CompactString;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::exit::Exit;
use crate::expect::{Origin, Source, Span};
use crate::findings::error_codes::ErrorExplanation;
use crate::findings::{FindingCode, Severity};
pub use crate::narrow::Narrowing;
use crate::observe::{GapReason, Stamp};
pub use crate::plan::StrictCoverage;
use crate::protocol::Provider;
use crate::text::LineIndex;

/// A manifest the report refers to.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The path as the user gave it.
    pub path: String,
    pub text: Arc<str>,
}

impl ManifestFile {
    pub fn named_source(&self) -> miette::NamedSource<Arc<str>> {
        miette::NamedSource::new(&self.path, Arc::clone(&self.text)).with_language("yaml")
    }
}

/// A place in a manifest, with its 1-based line and column already computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// Index into [`Report::manifests`].
    pub source: usize,
    pub span: Span,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Locates many origins quickly: each manifest's lines are indexed once,
/// so a fleet-sized report does not rescan the text per finding.
/// Agrees with [`Source::line_col`] (1-based, columns in characters).
#[derive(Debug)]
pub struct Locator<'a> {
    lines: Vec<LineIndex<'a>>,
}

impl<'a> Locator<'a> {
    pub fn new(sources: &'a [Source]) -> Self {
        let lines = sources
            .iter()
            .map(|source| LineIndex::new(&source.text))
            .collect();
        Self { lines }
    }

    pub fn line_col(&self, source: usize, offset: usize) -> (usize, usize) {
        self.lines[source].line_col(offset)
    }

    pub fn locate(&self, origin: Origin) -> Location {
        let (line, column) = self.line_col(origin.source, origin.span.start);
        let (end_line, end_column) = self.line_col(origin.source, origin.span.end);
        Location {
            source: origin.source,
            span: origin.span,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Extra evidence for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// A unified diff, declared (`-`) against observed (`+`).
    Diff(String),
    /// Sizes and SHA-256 only: the content is binary or `sensitive`.
    Digest {
        /// `None` when only a `sha256:` was declared.
        expected_size: Option<usize>,
        expected_sha256: String,
        observed_size: usize,
        observed_sha256: String,
    },
    /// The API's ErrorCode / ErrorInfo, explained.
    Error(ErrorExplanation),
    /// A command's output, cut to a readable length.
    Output { excerpt: String, truncated: bool },
    /// Why an `unverified` finding has no evidence.
    Unverified(GapReason),
}

/// The waiver that silenced a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waived {
    pub reason: String,
    pub location: Location,
    pub expires: Option<Date>,
}

/// One thing that does not match (or deserves a look).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: FindingCode,
    /// One sentence that names the target and the values.
    pub message: String,
    /// The instance or node it is about.
    pub target: Option<String>,
    /// The file's full path, for file findings (what waivers match on).
    pub file: Option<String>,
    /// The manifest value it is about.
    pub location: Location,
    /// Short text shown on the manifest span.
    pub label: String,
    pub expected: Option<String>,
    pub observed: Option<String>,
    pub detail: Option<Detail>,
    /// A remediation specific to this finding; the code's generic one otherwise.
    pub help: Option<String>,
    pub waived: Option<Waived>,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_waived(&self) -> bool {
        self.waived.is_some()
    }

    /// An unwaived error.
    pub fn fails(&self) -> bool {
        !self.is_waived() && self.severity() == Severity::Error
    }

    /// What to do: the specific help, or the registry's remediation.
    /// The reason of an `unverified` finding.
    pub fn unverified_reason(&self) -> Option<GapReason> {
        match (&self.detail, self.code.is_unverified() && !self.is_waived()) {
            (Some(Detail::Unverified(reason)), true) => Some(*reason),
            _ => None,
        }
    }

    pub fn help_text(&self) -> &str {
        self.help.as_deref().unwrap_or(self.code.info().remediation)
    }
}

/// How one file × target (or command × target) came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Everything declared holds (waived findings allowed).
    Pass,
    /// Holds, with warnings.
    Warn,
    /// Not settled yet.
    Pending,
    /// The evidence does not cover it: neither in sync nor drifted.
    Unverified,
    /// At least one unwaived error.
    Drift,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Pending => "pending",
            Outcome::Unverified => "unverified",
            Outcome::Drift => "drift",
        }
    }

    /// The outcome of a set of findings.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut outcome = Outcome::Pass;
        for finding in findings.into_iter().filter(|f| !f.is_waived()) {
            let this = match finding.severity() {
                Severity::Warning => Outcome::Warn,
                Severity::Error if finding.code.is_pending() => Outcome::Pending,
                Severity::Error if finding.code.is_unverified() => Outcome::Unverified,
                Severity::Error => Outcome::Drift,
            };
            outcome = outcome.max(this);
        }
        outcome
    }
}

/// One target of a declared file or command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReport {
    /// Inline, like the task id: a fleet's report holds one per pair.
    pub id: CompactString,
    /// `false` for a target found only by `--strict` (unexpected-instance).
    pub declared: bool,
    /// The task the verdict is based on (the effective delivery or run).
    pub invoke_id: Option<CompactString>,
    /// When that delivery or run finished.
    /// Compact: a fleet's report holds one per pair.
    pub finished_at: Option<Stamp>,
    /// Where the evidence for this verdict came from; `None` until the
    /// check that fetched it says (a bare `evaluate` does not know).
    /// Shared: a fleet's targets mostly rest on the same few.
    pub evidence: Option<Arc<Evidence>>,
    pub findings: Vec<Finding>,
}

/// Where a verdict's evidence came from, and when it was fetched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Evidence {
    pub source: EvidenceSource,
    pub fetched_at: Timestamp,
}

/// One `Arc` per distinct [`Evidence`]: a fleet's targets share the few
/// they rest on instead of holding a copy each.
#[derive(Debug, Default)]
pub(crate) struct SharedEvidence(foldhash::HashMap<Evidence, Arc<Evidence>>);

impl SharedEvidence {
    pub(crate) fn share(&mut self, evidence: Evidence) -> Arc<Evidence> {
        Arc::clone(
            self.0
                .entry(evidence)
                .or_insert_with_key(|evidence| Arc::new(evidence.clone())),
        )
    }
}

/// The API during this check, or a snapshot saved by an earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceSource {
    Live,
    /// The snapshot's path as the user gave it.
    Snapshot(String),
}

/// `live` or `snapshot PATH`, the JSON report's `evidence.source`.
impl std::fmt::Display for EvidenceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvidenceSource::Live => f.write_str("live"),
            EvidenceSource::Snapshot(path) => write!(f, "snapshot {path}"),
        }
    }
}

impl TargetReport {
    pub fn outcome(&self) -> Outcome {
        Outcome::of(&self.findings)
    }

    /// Why it is unverified, when it is.
    pub fn unverified_reason(&self) -> Option<GapReason> {
        if self.outcome() != Outcome::Unverified {
            return None;
        }
        self.findings.iter().find_map(Finding::unverified_reason)
    }
}

/// A declared file and how it fared on each target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub target_dir: String,
    /// `target_dir` joined with `name`.
    pub path: String,
    pub provider: Provider,
    pub region: String,
    pub sensitive: bool,
    /// The `files:` entry.
    pub location: Location,
    pub targets: Vec<TargetReport>,
}

/// How a declared command is identified, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum CommandKey {
    CommandId(String),
    InvokeId(String),
}

impl CommandKey {
    pub fn id(&self) -> &str {
        match self {
            CommandKey::CommandId(id) | CommandKey::InvokeId(id) => id,
        }
    }

    /// `command c-…` or `invocation t-…`.
    pub fn label(&self) -> String {
        match self {
            CommandKey::CommandId(id) => format!("command {id}"),
            CommandKey::InvokeId(id) => format!("invocation {id}"),
        }
    }
}

/// A declared command and how it fared on each target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReport {
    pub key: CommandKey,
    pub region: String,
    /// The `commands:` entry.
    pub location: Location,
    pub targets: Vec<TargetReport>,
    /// Findings about the command as a whole (no record on any target when
    /// the manifest names no instances).
    pub findings: Vec<Finding>,
}

impl CommandReport {
    pub fn outcome(&self) -> Outcome {
        Outcome::of(
            self.findings
                .iter()
                .chain(self.targets.iter().flat_map(|t| &t.findings)),
        )
    }
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every expectation holds: exit 0.
    Pass,
    /// At least one expectation does not hold: exit 1.
    Drift,
    /// Nothing drifted, but something has not settled yet.
    Pending,
    /// Nothing drifted, but the evidence does not cover everything: exit 3.
    Unverified,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Drift => "drift",
            Verdict::Pending => "pending",
            Verdict::Unverified => "unverified",
        }
    }
}

/// Counts over the whole report: what every format's summary line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Declared files and commands.
    pub files: usize,
    pub commands: usize,
    /// File × target and command × target pairs checked.
    pub checks: usize,
    pub passed: usize,
    pub warned: usize,
    pub pending: usize,
    pub drifted: usize,
    /// Checks the evidence does not cover (and commands declared on no
    /// instance whose listing failed).
    pub unverified: usize,
    /// Unwaived findings by severity, and waived findings.
    pub errors: usize,
    pub warnings: usize,
    pub waived: usize,
}

impl Summary {
    /// The checks that hold: passed, or passed with warnings.
    pub fn in_sync(&self) -> usize {
        self.passed + self.warned
    }
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct Report {
    pub manifests: Vec<ManifestFile>,
    /// The `now` the evaluation used (ages and waiver expiry).
    pub checked_at: Timestamp,
    pub strict: bool,
    /// With `--strict`, the listings it added (what "nothing undeclared"
    /// covers); set by the check that planned them.
    pub strict_coverage: Option<StrictCoverage>,
    /// With `--only`/`--instance`: what the check was narrowed to (the
    /// rest of the manifest was not checked).
    pub narrowed: Option<Narrowing>,
    pub files: Vec<FileReport>,
    pub commands: Vec<CommandReport>,
    /// Findings outside any declared file × target or command × target.
    pub general: Vec<Finding>,
    /// The instance sets resolved when the check ran (tags, resource
    /// group), set by the check that resolved them.
    pub instance_sets: Vec<InstanceSetReport>,
    /// The fix written by `--fix-script` / `--fix-plan`, when one was.
    pub fix: Option<FixNote>,
    /// `--wait` ran out with something still moving: exit 4 (kept in the
    /// JSON report, so `shipcheck report` gives the same code).
    pub wait_expired: bool,
}

/// Where the fix for this report's drift was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixNote {
    /// SendFile calls in it.
    pub calls: usize,
    /// The files written (the script, the plan).
    pub paths: Vec<String>,
}

impl FixNote {
    /// One line for the human and Markdown reports; `None` when there is
    /// nothing to send.
    pub fn line(&self) -> Option<String> {
        (self.calls > 0).then(|| {
            format!(
                "A fix is available: {} in {} (shipcheck does not run it).",
                crate::text::count(self.calls, "SendFile call"),
                self.paths.join(" and ")
            )
        })
    }
}

/// What an instance set resolved to, in one region, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSetReport {
    pub name: String,
    pub region: String,
    /// Where its members came from (`DescribeInstances: tags role=web; status Running`).
    pub source: String,
    /// The instances, by id; `None` when the listing failed.
    pub instances: Option<Vec<String>>,
    /// Why the listing failed.
    pub error: Option<String>,
}

impl Report {
    /// Every finding, waived or not, in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        let files = self
            .files
            .iter()
            .flat_map(|f| f.targets.iter().flat_map(|t| &t.findings));
        let commands = self.commands.iter().flat_map(|c| {
            c.findings
                .iter()
                .chain(c.targets.iter().flat_map(|t| &t.findings))
        });
        files.chain(commands).chain(&self.general)
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            files: self.files.len(),
            commands: self.commands.len(),
            ..Summary::default()
        };
        let targets = self
            .files
            .iter()
            .flat_map(|f| &f.targets)
            .chain(self.commands.iter().flat_map(|c| &c.targets));
        for target in targets {
            summary.checks += 1;
            match target.outcome() {
                Outcome::Pass => summary.passed += 1,
                Outcome::Warn => summary.warned += 1,
                Outcome::Pending => summary.pending += 1,
                Outcome::Unverified => summary.unverified += 1,
                Outcome::Drift => summary.drifted += 1,
            }
        }
        // A command declared on no instance has no target rows to count.
        summary.unverified += self
            .commands
            .iter()
            .filter(|c| c.targets.is_empty() && c.outcome() == Outcome::Unverified)
            .count();
        for finding in self.findings() {
            if finding.is_waived() {
                summary.waived += 1;
            } else if finding.severity() == Severity::Error {
                summary.errors += 1;
            } else {
                summary.warnings += 1;
            }
        }
        summary
    }

    pub fn verdict(&self) -> Verdict {
        match Outcome::of(self.findings()) {
            Outcome::Drift => Verdict::Drift,
            Outcome::Unverified => Verdict::Unverified,
            Outcome::Pending => Verdict::Pending,
            Outcome::Pass | Outcome::Warn => Verdict::Pass,
        }
    }

    /// Whether anything is still Pending/Running (unwaived): what `--wait`
    /// polls on.
    pub fn is_pending(&self) -> bool {
        self.findings()
            .any(|f| !f.is_waived() && f.code.is_pending())
    }

    /// The exit code this report alone decides.
    ///
    /// Drift wins over pending: a terminal failure is final, so `--wait`
    /// fails fast on it. A report with nothing drifted but something pending
    /// could not be verified (3); 4 when a `--wait` deadline passed with
    /// something still moving (`wait_expired`).
    pub fn exit(&self) -> Exit {
        if self.wait_expired {
            return Exit::Pending;
        }
        match self.verdict() {
            Verdict::Pass => Exit::Ok,
            Verdict::Drift => Exit::Drift,
            Verdict::Pending | Verdict::Unverified => Exit::Unverified,
        }
    }

    pub fn manifest(&self, location: Location) -> &ManifestFile {
        &self.manifests[location.source]
    }
}

impl Detail {
    /// The detail as plain lines, for text formats (no colour, no markup).
    pub fn plain_lines(&self) -> Vec<String> {
        match self {
            Detail::Diff(diff) => diff.lines().map(str::to_owned).collect(),
            Detail::Digest {
                expected_size,
                expected_sha256,
                observed_size,
                observed_sha256,
            } => {
                let expected_size = expected_size
                    .map_or_else(|| "size not declared".to_owned(), |s| format!("{s} bytes"));
                vec![
                    format!("declared:  {expected_size}"),
                    format!("  sha256 {expected_sha256}"),
                    format!("delivered: {observed_size} bytes"),
                    format!("  sha256 {observed_sha256}"),
                ]
            }
            Detail::Error(explained) => {
                let mut lines = vec![match (&explained.code, &explained.info) {
                    (Some(code), Some(info)) => format!("ErrorCode {code}: {info}"),
                    (Some(code), None) => format!("ErrorCode {code}"),
                    (None, Some(info)) => format!("ErrorInfo: {info}"),
                    (None, None) => "no ErrorCode".to_owned(),
                }];
                lines.push(explained.meaning.clone());
                lines
            }
            Detail::Unverified(reason) => vec![format!("unverified: {}", reason.title())],
            Detail::Output { excerpt, truncated } => {
                let mut lines = vec!["output:".to_owned()];
                lines.extend(excerpt.lines().map(|l| format!("  {l}")));
                if *truncated {
                    lines.push("  …".to_owned());
                }
                lines
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locator_agrees_with_source_line_col() {
        let source = Source {
            path: "m.yaml".into(),
            text: Arc::from("a: 1\nné: x\n\n  - b: é\nlast"),
        };
        let sources = [source];
        let locator = Locator::new(&sources);
        for offset in 0..=sources[0].text.len() + 3 {
            assert_eq!(
                locator.line_col(0, offset),
                sources[0].line_col(offset),
                "offset {offset}"
            );
        }
    }
}
