//! The report for people: miette diagnostics labelled on the manifest line
//! that declared each expectation, grouped per file and per target, with
//! diffs, ending with one summary line. Fits 80 columns.
//!
//! At fleet scale one drifted task gives the same finding on each of its
//! targets, so targets whose findings say the same thing (same codes,
//! task, declared and observed values; only the id differs) share one
//! block that lists their ids, and only the first [`MAX_BLOCKS`] blocks are
//! drawn: the rest is counted, and the machine formats keep every finding.
//! That also draws each manifest snippet once per block, not per finding.

use foldhash::{HashMap, HashMapExt};
use std::cell::Cell;
use std::fmt::{self, Write as _};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};

use super::model::{
    CommandReport, Detail, Evidence, EvidenceSource, FileReport, Finding, Outcome, Report,
    StrictCoverage, TargetReport, Verdict,
};
use crate::findings::Severity;
use crate::text::count;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct HumanOptions {
    pub color: bool,
    /// Columns; 80 keeps reports readable in CI logs.
    pub width: usize,
    /// Only what failed: no header, no in-sync lines, no waivers; the
    /// findings and the verdict line.
    pub quiet: bool,
}

impl Default for HumanOptions {
    fn default() -> Self {
        Self {
            color: false,
            width: 80,
            quiet: false,
        }
    }
}

/// Passing targets listed by id before they are only counted.
const LIST_PASSING: usize = 8;
/// Indentation of a target's diagnostics under its file.
const INDENT: &str = "  ";
/// Blocks of findings drawn before the rest are only counted.
pub const MAX_BLOCKS: usize = 50;
/// Unverified findings listed by reason before the rest are only counted.
const LIST_UNVERIFIED: usize = 50;

pub fn render(report: &Report, options: &HumanOptions) -> String {
    // Names, ids, messages and diffs come from the manifest and the API:
    // nothing in them may act on the terminal.
    crate::text::inert_render(options.color, |color| {
        render_with(report, &HumanOptions { color, ..*options })
    })
}

fn render_with(report: &Report, options: &HumanOptions) -> String {
    let printer = Printer::new(report, options);
    let mut out = String::new();
    if !options.quiet {
        printer.header(&mut out);
        instance_sets(&printer, report, &mut out);
    }
    for file in &report.files {
        printer.file(&mut out, file);
    }
    for command in &report.commands {
        printer.command(&mut out, command);
    }
    let general: Vec<&Finding> = report.general.iter().filter(|f| !f.is_waived()).collect();
    if !general.is_empty() {
        let _ = writeln!(out, "{}", printer.heading("other findings"));
        for finding in general {
            if printer.take_block(1) {
                printer.finding(&mut out, finding);
            }
        }
        out.push('\n');
    }
    printer.untold(&mut out);
    if !options.quiet {
        printer.waived(&mut out);
    }
    printer.unverified(&mut out);
    printer.snapshot_evidence(&mut out);
    printer.summary(&mut out);
    if let Some(line) = report.fix.as_ref().and_then(|fix| fix.line()) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// What each instance set resolved when the check ran, a line per set
/// and region, the first ids listed.
fn instance_sets(printer: &Printer<'_>, report: &Report, out: &mut String) {
    if report.instance_sets.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", printer.heading("instance sets"));
    for set in &report.instance_sets {
        let members = match (&set.instances, &set.error) {
            (Some(ids), _) if ids.is_empty() => "no instance".to_owned(),
            (Some(ids), _) => {
                let shown: Vec<&str> = ids.iter().take(LIST_PASSING).map(String::as_str).collect();
                let more = ids.len().saturating_sub(shown.len());
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!(
                    "{}: {}{tail}",
                    crate::text::count(ids.len(), "instance"),
                    shown.join(", ")
                )
            }
            (None, error) => format!("not resolved: {}", error.as_deref().unwrap_or("unknown")),
        };
        let _ = writeln!(
            out,
            "{INDENT}{} ({}, DescribeInstances {}) → {members}",
            set.name, set.region, set.source
        );
    }
    out.push('\n');
}

/// Wraps only at spaces: miette's default splits words at hyphens, which
/// cut `i-bp1web0000000002` and `f-hz0demonginx0001` across lines, and
/// breaks words longer than the width. An id must stay one copyable word,
/// even if its line runs past the width.
pub fn unbroken_ids(handler: GraphicalReportHandler) -> GraphicalReportHandler {
    handler
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
}

struct Printer<'a> {
    report: &'a Report,
    options: &'a HumanOptions,
    handler: GraphicalReportHandler,
    /// Blocks drawn so far.
    blocks: Cell<usize>,
    /// Findings and blocks past [`MAX_BLOCKS`], only counted.
    untold_findings: Cell<usize>,
    untold_blocks: Cell<usize>,
}

/// Targets whose findings say the same thing, in report order.
struct TargetGroup<'r> {
    members: Vec<&'r TargetReport>,
}

impl<'r> TargetGroup<'r> {
    /// Groups the targets by [`signature`], each group where its first
    /// member was.
    fn of(targets: impl Iterator<Item = &'r TargetReport>, noun: &str) -> Vec<Self> {
        let mut groups: Vec<Self> = Vec::new();
        let mut by_signature: HashMap<String, usize> = HashMap::new();
        for target in targets {
            let at = *by_signature
                .entry(signature(target, noun))
                .or_insert_with(|| {
                    groups.push(Self {
                        members: Vec::new(),
                    });
                    groups.len() - 1
                });
            groups[at].members.push(target);
        }
        groups
    }

    fn first(&self) -> &'r TargetReport {
        self.members[0]
    }

    /// Unwaived findings in the whole group.
    fn findings(&self) -> usize {
        self.members.len() * unwaived(self.first()).count()
    }
}

/// What a target's block would say with its id taken out: targets with
/// equal signatures share a block.
fn signature(target: &TargetReport, noun: &str) -> String {
    let mut key = format!(
        "{:?}\0{}\0{:?}",
        target.outcome(),
        target.declared,
        target.invoke_id
    );
    for finding in unwaived(target) {
        let _ = write!(
            key,
            "\0{}\0{:?}\0{}\0{}\0{:?}\0{:?}\0{:?}\0{:?}",
            finding.code,
            finding.location,
            for_many(&finding.message, &target.id, noun, 2),
            for_many(&finding.label, &target.id, noun, 2),
            finding.expected,
            finding.observed,
            finding.detail,
            finding.help,
        );
    }
    key
}

/// `text` about one target `id` said of `n` of them: `instance i-1`
/// becomes `50 instances`, a bare `i-1` `each instance`.
fn for_many(text: &str, id: &str, noun: &str, n: usize) -> String {
    text.replace(&format!("{noun} {id}"), &count(n, noun))
        .replace(id, &format!("each {noun}"))
}

fn unwaived(target: &TargetReport) -> impl Iterator<Item = &Finding> {
    target.findings.iter().filter(|f| !f.is_waived())
}

/// ANSI styles; only used when colour is on.
#[derive(Clone, Copy)]
enum Style {
    Bold,
    Red,
    Green,
    Yellow,
    Cyan,
    Dim,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Red => "31",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Cyan => "36",
            Style::Dim => "2",
        }
    }
}

impl<'a> Printer<'a> {
    fn new(report: &'a Report, options: &'a HumanOptions) -> Self {
        let theme = if options.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = unbroken_ids(
            GraphicalReportHandler::new_themed(theme)
                .with_width(options.width.saturating_sub(INDENT.len() * 2).max(40))
                .with_links(false)
                .with_context_lines(1),
        );
        Self {
            report,
            options,
            handler,
            blocks: Cell::new(0),
            untold_findings: Cell::new(0),
            untold_blocks: Cell::new(0),
        }
    }

    /// Whether a block of `findings` findings is drawn; counts it either way.
    fn take_block(&self, findings: usize) -> bool {
        if self.blocks.get() < MAX_BLOCKS {
            self.blocks.set(self.blocks.get() + 1);
            return true;
        }
        self.untold_blocks.set(self.untold_blocks.get() + 1);
        self.untold_findings
            .set(self.untold_findings.get() + findings);
        false
    }

    /// The line that counts what [`MAX_BLOCKS`] left out.
    fn untold(&self, out: &mut String) {
        let blocks = self.untold_blocks.get();
        if blocks == 0 {
            return;
        }
        let line = format!(
            "… and {} more {} in {}; see --format json/sarif/junit for all",
            self.untold_findings.get(),
            if self.untold_findings.get() == 1 {
                "finding"
            } else {
                "findings"
            },
            count(blocks, "group"),
        );
        let _ = writeln!(out, "{}\n", wrap(&line, self.options.width, "  "));
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.options.color {
            format!("\x1b[{}m{text}\x1b[0m", style.code())
        } else {
            text.to_owned()
        }
    }

    fn heading(&self, text: &str) -> String {
        self.paint(Style::Bold, &format!("── {text}"))
    }

    fn header(&self, out: &mut String) {
        let manifests: Vec<&str> = self
            .report
            .manifests
            .iter()
            .map(|m| m.path.as_str())
            .collect();
        let summary = self.report.summary();
        let strict = if self.report.strict { ", strict" } else { "" };
        let line = format!(
            "shipcheck: {} against Cloud Assistant ({}, {}{strict})",
            manifests.join(", "),
            count(summary.files, "file"),
            count(summary.commands, "command"),
        );
        let _ = writeln!(out, "{}\n", wrap(&line, self.options.width, "  "));
        if let Some(coverage) = &self.report.strict_coverage {
            let _ = writeln!(
                out,
                "{}\n",
                wrap(&strict_line(coverage), self.options.width, "  ")
            );
        }
        if let Some(narrowed) = &self.report.narrowed {
            let _ = writeln!(
                out,
                "{}\n",
                wrap(&narrowed.describe(), self.options.width, "  ")
            );
        }
    }

    fn outcome_mark(&self, outcome: Outcome) -> String {
        match outcome {
            Outcome::Pass => self.paint(Style::Green, "✔"),
            Outcome::Warn => self.paint(Style::Yellow, "!"),
            Outcome::Pending => self.paint(Style::Cyan, "…"),
            Outcome::Unverified => self.paint(Style::Yellow, "?"),
            Outcome::Drift => self.paint(Style::Red, "✘"),
        }
    }

    fn file(&self, out: &mut String, file: &FileReport) {
        if self.options.quiet && all_pass(&file.targets) {
            return;
        }
        let noun = file.provider.target_noun();
        let _ = writeln!(
            out,
            "{}",
            self.heading(&format!(
                "{} ({} {})",
                file.path,
                file.provider_label(),
                file.region
            ))
        );
        self.targets(out, &file.targets, noun);
    }

    fn command(&self, out: &mut String, command: &CommandReport) {
        let unwaived = command.findings.iter().any(|f| !f.is_waived());
        if self.options.quiet && !unwaived && all_pass(&command.targets) {
            return;
        }
        let _ = writeln!(
            out,
            "{}",
            self.heading(&format!("{} ({})", command.key.label(), command.region))
        );
        for finding in command.findings.iter().filter(|f| !f.is_waived()) {
            if self.take_block(1) {
                self.finding(out, finding);
                out.push('\n');
            }
        }
        self.targets(out, &command.targets, "instance");
    }

    fn targets(&self, out: &mut String, targets: &[TargetReport], noun: &str) {
        let passing: Vec<&TargetReport> = targets
            .iter()
            .filter(|t| t.outcome() == Outcome::Pass)
            .collect();
        if !passing.is_empty() && !self.options.quiet {
            let ids: Vec<&str> = passing.iter().map(|t| t.id.as_str()).collect();
            let listed = if ids.len() <= LIST_PASSING {
                format!(": {}", ids.join(", "))
            } else {
                String::new()
            };
            let line = format!(
                "{INDENT}{} in sync on {}{listed}",
                self.outcome_mark(Outcome::Pass),
                count(ids.len(), noun)
            );
            let _ = writeln!(out, "{}", wrap(&line, self.options.width, "      "));
        }
        let failing = targets.iter().filter(|t| t.outcome() != Outcome::Pass);
        for group in TargetGroup::of(failing, noun) {
            if self.take_block(group.findings()) {
                self.target_group(out, &group, noun);
            }
        }
        if all_pass(targets) {
            out.push('\n');
        }
    }

    /// One block: the target (or how many, then their ids) and the findings.
    fn target_group(&self, out: &mut String, group: &TargetGroup<'_>, noun: &str) {
        let target = group.first();
        let outcome = target.outcome();
        let undeclared = if target.declared {
            ""
        } else {
            " (not declared)"
        };
        let task = target
            .invoke_id
            .as_deref()
            .map(|id| format!(", task {id}"))
            .unwrap_or_default();
        let many = group.members.len();
        let who = if many == 1 {
            format!("{noun} {}", self.paint(Style::Bold, &target.id))
        } else {
            count(many, noun)
        };
        let line = format!(
            "{INDENT}{} {who}{undeclared}: {}{task}",
            self.outcome_mark(outcome),
            outcome.as_str(),
        );
        let _ = writeln!(out, "{}", wrap(&line, self.options.width, "      "));
        if many > 1 {
            // Separated by spaces only, so wrapping never splits an id.
            let ids: Vec<String> = group
                .members
                .iter()
                .map(|t| self.paint(Style::Bold, &t.id))
                .collect();
            let line = format!("{INDENT}    {}", ids.join(", "));
            let _ = writeln!(out, "{}", wrap(&line, self.options.width, "      "));
        }
        for finding in unwaived(target) {
            if many == 1 {
                self.finding(out, finding);
            } else {
                let said_of_all = Finding {
                    message: for_many(&finding.message, &target.id, noun, many),
                    label: for_many(&finding.label, &target.id, noun, many),
                    ..finding.clone()
                };
                self.finding(out, &said_of_all);
            }
        }
        out.push('\n');
    }

    fn finding(&self, out: &mut String, finding: &Finding) {
        let manifest = self.report.manifest(finding.location);
        let diagnostic = FindingDiagnostic {
            finding,
            source: manifest.named_source(),
        };
        let mut rendered = String::new();
        if self
            .handler
            .render_report(&mut rendered, &diagnostic)
            .is_err()
        {
            rendered = format!("{}: {}\n", finding.code, finding.message);
        }
        out.push('\n');
        for line in rendered.trim_end().lines() {
            push_indented(out, INDENT, line);
        }
        if let Some(detail) = &finding.detail {
            self.detail(out, detail);
        }
    }

    fn detail(&self, out: &mut String, detail: &Detail) {
        let pad = "      ";
        out.push('\n');
        match detail {
            Detail::Diff(diff) => {
                for line in diff.lines() {
                    let styled = match line.as_bytes().first() {
                        _ if line.starts_with("---") || line.starts_with("+++") => {
                            self.paint(Style::Bold, line)
                        }
                        Some(b'-') => self.paint(Style::Red, line),
                        Some(b'+') => self.paint(Style::Green, line),
                        Some(b'@') => self.paint(Style::Cyan, line),
                        _ => line.to_owned(),
                    };
                    push_indented(out, pad, &styled);
                }
            }
            other => {
                for line in other.plain_lines() {
                    let wrapped = wrap(&format!("{pad}{line}"), self.options.width, pad);
                    for part in wrapped.lines() {
                        let (indent, text) = part.split_at(pad.len().min(part.len()));
                        push_indented(out, indent, &self.paint(Style::Dim, text));
                    }
                }
            }
        }
    }

    fn waived(&self, out: &mut String) {
        let waived: Vec<&Finding> = self.report.findings().filter(|f| f.is_waived()).collect();
        if waived.is_empty() {
            return;
        }
        let _ = writeln!(out, "{}", self.heading("waived"));
        for finding in waived {
            let Some(waiver) = &finding.waived else {
                continue;
            };
            let manifest = self.report.manifest(waiver.location);
            let subject = match (&finding.file, &finding.target) {
                (Some(file), Some(target)) => format!(", {file} on {target}"),
                (Some(one), None) | (None, Some(one)) => format!(", {one}"),
                (None, None) => String::new(),
            };
            let until = waiver
                .expires
                .map(|d| format!(", until {d}"))
                .unwrap_or_default();
            let line = format!(
                "{INDENT}~ {}{subject}: {} ({}:{}{until})",
                finding.code, waiver.reason, manifest.path, waiver.location.line
            );
            let _ = writeln!(out, "{}", wrap(&line, self.options.width, "    "));
        }
        out.push('\n');
    }

    /// What could not be verified, grouped by why: the list to act on when
    /// the check ends with 3 (or lists it beside drift with 1).
    fn unverified(&self, out: &mut String) {
        let mut by_reason: std::collections::BTreeMap<_, Vec<&Finding>> = Default::default();
        for finding in self.report.findings() {
            if let Some(reason) = finding.unverified_reason() {
                by_reason.entry(reason).or_default().push(finding);
            }
        }
        if by_reason.is_empty() {
            return;
        }
        let total: usize = by_reason.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "{}",
            self.heading(&format!("unverified ({total}), by reason"))
        );
        let mut listed = 0;
        for (reason, findings) in by_reason {
            let _ = writeln!(out, "{INDENT}{} ({}):", reason.title(), reason.as_str());
            let room = LIST_UNVERIFIED.saturating_sub(listed);
            for finding in findings.iter().take(room) {
                let line = format!("{INDENT}{INDENT}? {}", finding.message);
                let _ = writeln!(out, "{}", wrap(&line, self.options.width, "      "));
            }
            listed += findings.len().min(room);
            if findings.len() > room {
                let _ = writeln!(out, "{INDENT}{INDENT}… and {} more", findings.len() - room);
            }
        }
        out.push('\n');
    }

    /// Which checks rest on snapshots rather than the API, and how old
    /// that evidence is.
    fn snapshot_evidence(&self, out: &mut String) {
        let mut sources: std::collections::BTreeMap<&str, (usize, jiff::Timestamp)> =
            std::collections::BTreeMap::new();
        let targets = self
            .report
            .files
            .iter()
            .flat_map(|f| &f.targets)
            .chain(self.report.commands.iter().flat_map(|c| &c.targets));
        for target in targets {
            if let Some(Evidence {
                source: EvidenceSource::Snapshot(path),
                fetched_at,
            }) = target.evidence.as_deref()
            {
                let entry = sources.entry(path).or_insert((0, *fetched_at));
                entry.0 += 1;
                entry.1 = entry.1.min(*fetched_at);
            }
        }
        if sources.is_empty() {
            return;
        }
        let _ = writeln!(out, "{}", self.heading("evidence from snapshots"));
        for (path, (checks, oldest)) in sources {
            let age = self.report.checked_at.duration_since(oldest);
            let line = format!(
                "{INDENT}{} from snapshot {path}, {} old (fetched {oldest})",
                count(checks, "check"),
                age_text(age.as_secs().max(0).unsigned_abs()),
            );
            let _ = writeln!(out, "{}", wrap(&line, self.options.width, "      "));
        }
        out.push('\n');
    }

    fn summary(&self, out: &mut String) {
        let s = self.report.summary();
        let verdict = self.report.verdict();
        let style = match verdict {
            Verdict::Pass => Style::Green,
            Verdict::Drift => Style::Red,
            Verdict::Pending => Style::Cyan,
            Verdict::Unverified => Style::Yellow,
        };
        let verdict = self.paint(style, verdict.as_str());
        let mut counts = vec![count(s.errors, "error"), count(s.warnings, "warning")];
        if s.waived > 0 {
            counts.push(format!("{} waived", s.waived));
        }
        let line = format!(
            "{verdict}: {} · {} of {} in sync",
            counts.join(", "),
            s.in_sync(),
            count(s.checks, "check"),
        );
        let line = if s.pending > 0 {
            format!("{line}, {} pending", s.pending)
        } else {
            line
        };
        let line = if s.unverified > 0 {
            format!("{line}, {} unverified", s.unverified)
        } else {
            line
        };
        let _ = writeln!(out, "{}", self.paint(Style::Bold, &line));
    }
}

impl FileReport {
    fn provider_label(&self) -> &'static str {
        match self.provider {
            crate::protocol::Provider::Ecs => "ecs",
            crate::protocol::Provider::Eflo => "eflo",
        }
    }
}

/// What `--strict` looked at: the listings it added, and what it cannot see.
pub(crate) fn strict_line(coverage: &StrictCoverage) -> String {
    let mut line = format!(
        "strict: every delivery on {} and every delivery of {} was listed",
        count(coverage.instances.len(), "declared instance"),
        count(coverage.names.len(), "declared file name"),
    );
    if !coverage.uncovered.is_empty() {
        line.push_str(&format!(
            "; not widened (eflo lists by task only): {}",
            coverage.uncovered.join(", ")
        ));
    }
    line
}

fn all_pass(targets: &[TargetReport]) -> bool {
    targets.iter().all(|t| t.outcome() == Outcome::Pass)
}

fn push_indented(out: &mut String, indent: &str, line: &str) {
    if line.is_empty() {
        out.push('\n');
    } else {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
}

/// Wraps a plain line at spaces to `width` columns.
fn wrap(line: &str, width: usize, continuation: &str) -> String {
    if line.chars().count() <= width {
        return line.to_owned();
    }
    let mut out = String::new();
    let mut column = 0;
    for (i, word) in line.split(' ').enumerate() {
        let len = word.chars().count();
        if i > 0 {
            if column + 1 + len > width && column > continuation.len() {
                out.push('\n');
                out.push_str(continuation);
                column = continuation.len();
            } else {
                out.push(' ');
                column += 1;
            }
        }
        out.push_str(word);
        column += len;
    }
    out
}

/// A finding as a miette diagnostic, labelled on its manifest span.
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: miette::NamedSource<std::sync::Arc<str>>,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("code", &self.finding.code)
            .finish()
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.help_text()))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_with_span(
            Some(self.finding.label.clone()),
            self.finding.location.span,
        );
        Some(Box::new(std::iter::once(label)))
    }
}

/// An age at a glance: `3 d`, `5 h`, `12 min`.
fn age_text(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{} d", s / 86_400),
        s if s >= 3_600 => format!("{} h", s / 3_600),
        s => format!("{} min", s / 60),
    }
}
