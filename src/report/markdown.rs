//! Markdown for pull-request comments and GitHub step summaries: a verdict
//! line, then a table per declared file and command listing the targets that
//! need attention (passing ones are counted, so a 1,000-instance fleet stays
//! a short comment), with diffs and evidence collapsed in `<details>`.

use std::fmt::Write as _;

use super::model::{Finding, Outcome, Report, TargetReport, Verdict};
use crate::text::count;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let summary = report.summary();
    let verdict = match report.verdict() {
        Verdict::Pass => "✅ in sync",
        Verdict::Drift => "❌ drift",
        Verdict::Pending => "⏳ pending",
        Verdict::Unverified => "❔ unverified",
    };
    let manifests: Vec<String> = report.manifests.iter().map(|m| code(&m.path)).collect();
    let _ = writeln!(out, "## shipcheck: {verdict}\n");
    let _ = writeln!(
        out,
        "{} of {} checks in sync · {} errors · {} warnings · {} waived · {} pending{} — {}\n",
        summary.in_sync(),
        summary.checks,
        summary.errors,
        summary.warnings,
        summary.waived,
        summary.pending,
        match summary.unverified {
            0 => String::new(),
            n => format!(" · {n} unverified"),
        },
        manifests.join(", "),
    );

    if let Some(coverage) = &report.strict_coverage {
        let _ = writeln!(out, "{}\n", inline(&super::human::strict_line(coverage)));
    }
    if let Some(narrowed) = &report.narrowed {
        let _ = writeln!(out, "{}\n", inline(&narrowed.describe()));
    }
    for file in &report.files {
        let _ = writeln!(
            out,
            "### {} {}\n",
            mark(Outcome::of(file.targets.iter().flat_map(|t| &t.findings))),
            code(&file.path)
        );
        table(&mut out, report, &file.targets, file.provider.target_noun());
    }
    for command in &report.commands {
        let _ = writeln!(
            out,
            "### {} {}\n",
            mark(command.outcome()),
            code(&command.key.label())
        );
        if !command.findings.is_empty() {
            findings_list(&mut out, report, &command.findings);
        }
        table(&mut out, report, &command.targets, "instance");
    }
    if !report.general.is_empty() {
        let _ = writeln!(out, "### Other findings\n");
        findings_list(&mut out, report, &report.general);
    }
    if let Some(line) = report.fix.as_ref().and_then(|fix| fix.line()) {
        let _ = writeln!(out, "{line}\n");
    }
    out
}

fn mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "✅",
        Outcome::Warn => "⚠️",
        Outcome::Pending => "⏳",
        Outcome::Unverified => "❔",
        Outcome::Drift => "❌",
    }
}

fn table(out: &mut String, report: &Report, targets: &[TargetReport], noun: &str) {
    let passing = targets
        .iter()
        .filter(|t| t.outcome() == Outcome::Pass)
        .count();
    let attention: Vec<&TargetReport> = targets
        .iter()
        .filter(|t| t.outcome() != Outcome::Pass || t.findings.iter().any(Finding::is_waived))
        .collect();
    if !attention.is_empty() {
        let _ = writeln!(out, "| {noun} | outcome | findings |");
        let _ = writeln!(out, "|---|---|---|");
        for target in &attention {
            let findings: Vec<String> = target
                .findings
                .iter()
                .map(|f| {
                    let text = format!("{} {}", code(f.code.as_str()), cell(&f.message));
                    match &f.waived {
                        Some(w) => format!("~~{text}~~ waived: {}", cell(&w.reason)),
                        None => text,
                    }
                })
                .collect();
            let id = if target.declared {
                code(&target.id)
            } else {
                format!("{} (not declared)", code(&target.id))
            };
            let _ = writeln!(
                out,
                "| {id} | {} {} | {} |",
                mark(target.outcome()),
                target.outcome().as_str(),
                findings.join("<br>")
            );
        }
        out.push('\n');
    }
    if passing > 0 {
        let _ = writeln!(out, "✅ in sync on {}.\n", count(passing, noun));
    }
    let evidence: Vec<&Finding> = attention
        .iter()
        .flat_map(|t| &t.findings)
        .filter(|f| f.detail.is_some() && !f.is_waived())
        .collect();
    for finding in evidence {
        details(out, report, finding);
    }
}

fn findings_list(out: &mut String, report: &Report, findings: &[Finding]) {
    for finding in findings {
        let manifest = report.manifest(finding.location);
        let waived = match &finding.waived {
            Some(w) => format!(" — waived: {}", inline(&w.reason)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "- {} {} ({}:{}){waived}",
            code(finding.code.as_str()),
            inline(&finding.message),
            inline(&manifest.path),
            finding.location.line
        );
    }
    out.push('\n');
    for finding in findings
        .iter()
        .filter(|f| f.detail.is_some() && !f.is_waived())
    {
        details(out, report, finding);
    }
}

/// Collapsed evidence: a diff, digests, the explained ErrorCode or output.
fn details(out: &mut String, report: &Report, finding: &Finding) {
    let Some(detail) = &finding.detail else {
        return;
    };
    let manifest = report.manifest(finding.location);
    let subject = finding.target.as_deref().unwrap_or("");
    let lang = match detail {
        super::model::Detail::Diff(_) => "diff",
        _ => "text",
    };
    let body = crate::text::inert(&detail.plain_lines().join("\n")).into_owned();
    let fence = fence_for(&body);
    let _ = writeln!(
        out,
        "<details><summary>{} {} ({}:{})</summary>\n\n{fence}{lang}\n{body}\n{fence}\n\n**What to do:** {}\n\n</details>\n",
        finding.code,
        html(subject),
        html(&manifest.path),
        finding.location.line,
        // Remediations are shipcheck's own Markdown (`code` spans), never user text.
        finding.help_text().replace('\n', " "),
    );
}

/// A fence longer than any backtick run in the body.
fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Inline code that survives backticks in the text: delimited by a run
/// longer than any inside it, on one line, pipes escaped for tables.
fn code(text: &str) -> String {
    let text = crate::text::inert(text)
        .replace(['\n', '\r'], " ")
        .replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{text}`")
    } else {
        let ticks = "`".repeat(longest + 1);
        format!("{ticks} {text} {ticks}")
    }
}

/// Text for a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// One line of Markdown text: emphasis and HTML neutralised (masked ids
/// such as `i-bp1****` must not turn bold).
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::text::inert(text).chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '*' | '_' | '`' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    html(&out)
}

fn html(text: &str) -> String {
    crate::text::inert(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
