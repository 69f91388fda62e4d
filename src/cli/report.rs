//! `shipcheck report`: a saved JSON report rendered again, in any format,
//! with the exit code it carries (driftctl `fmt`, `terraform show`).

use std::path::PathBuf;

use clap::Args;

use super::check::ReportTarget;
use super::terminal::{self, Colors};
use crate::exit::{Exit, Failure};
use crate::report::{HumanOptions, ReportFormat};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A report written by `check --format json` (or `--report json=PATH`).
    #[arg(value_name = "REPORT.json")]
    pub path: PathBuf,

    /// The format printed on stdout.
    #[arg(long, env = "SHIPCHECK_FORMAT", value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    /// Also write the report to a file (repeatable): --report junit=shipcheck.xml.
    #[arg(long = "report", env = "SHIPCHECK_REPORT", value_name = "FORMAT=PATH")]
    pub reports: Vec<ReportTarget>,
}

/// Renders the saved report; its manifests are re-read, where they still
/// are, for the human report's source snippets.
pub fn run(args: &ReportArgs, colors: Colors) -> Result<Exit, Failure> {
    let text = std::fs::read_to_string(&args.path).map_err(|err| {
        Failure::invalid(miette::miette!(
            "cannot read the report {}: {err}",
            args.path.display()
        ))
    })?;
    let manifest = |path: &str| std::fs::read_to_string(path).ok();
    let report = crate::report::parse::from_json(&text, &manifest).map_err(|err| {
        Failure::invalid(miette::miette!(
            help = "`shipcheck report` reads the JSON report (schemas/report.v1.schema.json)",
            "{}: {err}",
            args.path.display()
        ))
    })?;
    for target in &args.reports {
        terminal::write_file_with(&target.path, false, |out| {
            crate::report::write(&report, target.format, &HumanOptions::default(), out)
        })
        .map_err(|err| {
            Failure::invalid(miette::miette!(
                "cannot write the {:?} report to {}: {err}",
                target.format,
                target.path.display()
            ))
        })?;
    }
    let human = args.format == ReportFormat::Human;
    let options = HumanOptions {
        color: colors.stdout && human,
        width: terminal::stdout_width(),
        quiet: false,
    };
    terminal::stdout_with(|out| crate::report::write(&report, args.format, &options, out))?;
    Ok(report.exit())
}
