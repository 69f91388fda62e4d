//! `shipcheck plan`: the queries a check would make, printed without
//! reading credentials or calling the API ([`crate::dry_run`]).
//!
//! It takes `check`'s own flags (the same struct), so a manifest, a
//! selection and a `--strict` plan exactly as they would check; the flags
//! about fetching (`--wait`, `--endpoint`, …) are accepted and change
//! nothing here.

use super::check::{CheckArgs, emit_invalid};
use super::terminal::{self, Colors};
use crate::check::CheckError;
use crate::exit::{Exit, Failure};
use crate::expect::Expectations;
use crate::report::ReportFormat;

/// Prints the plan of the check `args` describe.
pub fn run(args: &CheckArgs, colors: Colors) -> Result<Exit, Failure> {
    let expectations = match args.load() {
        Ok(expectations) => expectations,
        Err(errors) => return emit_invalid(&errors, args, colors),
    };
    print(expectations, args, colors)
}

/// Prints the plan of loaded `expectations` (also `check --dry-run`).
pub fn print(
    expectations: Expectations,
    args: &CheckArgs,
    colors: Colors,
) -> Result<Exit, Failure> {
    if !matches!(args.format, ReportFormat::Human | ReportFormat::Json) {
        return Err(Failure::invalid(miette::miette!(
            "`plan` prints --format human or json, not {:?}",
            args.format
        )));
    }
    if !args.reports.is_empty() {
        return Err(Failure::invalid(miette::miette!(
            "`plan` writes no --report files: it prints the plan on stdout"
        )));
    }
    match crate::dry_run::dry_run(expectations, &args.check_options()) {
        Ok(dry_run) => {
            terminal::stdout(&match args.format {
                ReportFormat::Json => dry_run.render_json(),
                _ => dry_run.render_human(),
            })?;
            Ok(Exit::Ok)
        }
        Err(CheckError::Manifest(errors)) => emit_invalid(&errors, args, colors),
        Err(CheckError::Failed(failure)) => Err(failure),
    }
}
