//! The report model and one renderer per output format.
//!
//! `evaluate` builds a [`Report`]; each submodule turns it into one format.
//! Renderers only format: they never decide the verdict or the exit code,
//! so `--format` can never change the outcome of a check.

pub mod diagnostics;
pub mod diff;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod parse;
pub mod sarif;

pub use model::{Evidence, EvidenceSource, Outcome, Report, Summary, Verdict};

/// Options that only the human format reads.
pub use human::{HumanOptions, unbroken_ids};

/// The formats a report renders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Diagnostics for people, labelled on the manifest.
    Human,
    /// Machine-readable, `schemas/report.v1.schema.json`.
    Json,
    /// JUnit XML, one test case per file and instance.
    Junit,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A Markdown table per file, for PR comments and step summaries.
    Markdown,
    /// GitHub Actions workflow-command annotations.
    Github,
}

/// Writes `report` in `format` to `out`: JSON as it is serialised (a
/// fleet's is hundreds of megabytes), the other formats rendered first.
pub fn write(
    report: &Report,
    format: ReportFormat,
    human: &HumanOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Json => json::write(report, out),
        format => out.write_all(render(report, format, human).as_bytes()),
    }
}

/// Renders `report` in `format`. Every format ends with a newline.
pub fn render(report: &Report, format: ReportFormat, human: &HumanOptions) -> String {
    match format {
        ReportFormat::Human => human::render(report, human),
        ReportFormat::Json => json::render(report),
        ReportFormat::Junit => junit::render(report),
        ReportFormat::Sarif => sarif::render(report),
        ReportFormat::Markdown => markdown::render(report),
        ReportFormat::Github => github::render(report),
    }
}

#[cfg(test)]
mod tests;
