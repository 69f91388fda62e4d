//! `shipcheck diff OLD.json NEW.json`: what a change fixed and what it broke.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::terminal;
use crate::exit::{Exit, Failure};
use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier JSON report (e.g. the base branch's).
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The later JSON report (e.g. the pull request's).
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// How the comparison is printed.
    #[arg(long, env = "SHIPCHECK_FORMAT", value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
}

/// Exit 1 when NEW adds drift, else 0.
pub fn run(args: &DiffArgs) -> Result<Exit, Failure> {
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    let diff = crate::report::diff::diff(&old, &new);
    let text = match args.format {
        DiffFormat::Human => crate::report::diff::render_human(&diff),
        DiffFormat::Markdown => crate::report::diff::render_markdown(&diff),
        DiffFormat::Json => crate::report::diff::render_json(&diff),
    };
    terminal::stdout(&text)?;
    Ok(if diff.adds_drift() {
        Exit::Drift
    } else {
        Exit::Ok
    })
}

/// A JSON report; identities need no manifest text.
fn read(path: &Path) -> Result<Report, Failure> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Failure::invalid(miette::miette!(
            "cannot read the report {}: {err}",
            path.display()
        ))
    })?;
    crate::report::parse::from_json(&text, &|_| None)
        .map_err(|err| Failure::invalid(miette::miette!("{}: {err}", path.display())))
}
