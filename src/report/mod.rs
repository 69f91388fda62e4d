//! The report model and one renderer per output format.
//!
//! `evaluate` builds a [`Report`]; each submodule turns it into one format.
//! Renderers only format: they never decide the verdict or the exit code,
//! so `--format` can never change the outcome of a check.

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod sarif;

pub use model::{Outcome, Report, Summary, Verdict};

use crate::cli::ReportFormat;

/// Options that only the human format reads.
pub use human::HumanOptions;

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
