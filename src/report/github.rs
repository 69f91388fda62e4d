//! GitHub Actions workflow commands: one annotation per finding, on the
//! manifest line and column that declared the expectation.
//!
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.
//! The message escapes `%`, CR and LF; property values also escape `:` and
//! `,` (the runner's own `escapeData` / `escapeProperty`), so no text can
//! end an annotation or start a workflow command of its own; control
//! characters are made visible first ([`crate::text::inert`]) so none acts
//! on the log viewer. Waived findings become notices that carry the
//! waiver's reason.

use std::fmt::Write as _;

use super::model::{Finding, Report};
use crate::findings::Severity;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in report.findings() {
        annotation(&mut out, report, finding);
    }
    let summary = report.summary();
    // A plain line: shown in the log, not an annotation.
    let _ = writeln!(
        out,
        "shipcheck: {} — {} error(s), {} warning(s), {} waived, {} of {} checks in sync",
        report.verdict().as_str(),
        summary.errors,
        summary.warnings,
        summary.waived,
        summary.in_sync(),
        summary.checks
    );
    out
}

fn annotation(out: &mut String, report: &Report, finding: &Finding) {
    let (command, title, mut message) = match &finding.waived {
        Some(waived) => (
            "notice",
            format!("{} (waived)", finding.code),
            format!("{} — waived: {}", finding.message, waived.reason),
        ),
        None => (
            // Not seen is not proven wrong: a warning, naming the reason.
            match finding.severity() {
                _ if finding.code.is_unverified() => "warning",
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            finding.code.to_string(),
            finding.message.clone(),
        ),
    };
    if finding.waived.is_none() {
        if let Some(detail) = &finding.detail {
            message.push('\n');
            message.push_str(&detail.plain_lines().join("\n"));
        }
        message.push_str("\nhelp: ");
        message.push_str(finding.help_text());
    }
    let location = finding.location;
    let _ = writeln!(
        out,
        "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        property(&report.manifest(location).path),
        location.line,
        location.column,
        location.end_line,
        location.end_column,
        property(&title),
        data(&message),
    );
}

/// The runner's `escapeData`; the control characters it leaves are then
/// made visible.
pub fn data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    crate::text::inert(&escaped).into_owned()
}

/// The runner's `escapeProperty`.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        // `::` in a message cannot end the command early once `:` is kept
        // as-is in data: the runner splits on the first `::` only.
        assert_eq!(data("x::y"), "x::y");
        // No text can start a line, hence no workflow command.
        let hostile = "a\n::add-mask::x\r\n::set-output name=a::b\x1b[2J";
        assert!(!data(hostile).contains(['\n', '\r', '\x1b']));
        assert!(!property(hostile).contains([':', ',', '\n']));
    }
}
