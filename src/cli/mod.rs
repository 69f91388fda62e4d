//! The command line: the edge between a person (or a CI job) and the
//! library.
//!
//! Everything clap lives here, with each subcommand's glue in its own file,
//! and so does every write to stdout and stderr (`terminal.rs`). The rest of
//! the crate takes plain values and returns results; it never parses flags
//! and never prints. [`run`] is the whole program, injectable for tests;
//! `main` only hands it the process arguments.

mod check;
mod completions;
mod diff;
mod import;
mod plan;
mod probe;
mod progress;
mod report;
mod schema;
mod sim;
mod terminal;
mod validate;
mod values;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};
use tokio::runtime::Runtime;

use self::check::CheckArgs;
use self::completions::{CompletionsArgs, ManArgs};
use self::diff::DiffArgs;
use self::import::ImportArgs;
use self::report::ReportArgs;
use self::schema::SchemaArgs;
use self::sim::SimArgs;
use self::terminal::ColorChoice;
use self::validate::ValidateArgs;
use crate::exit::{Exit, Failure};

/// `--version`: the release, the commit (`unknown` in a build from a
/// source tarball) and the build date, from build.rs.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SHIPCHECK_COMMIT"),
    ", built ",
    env!("SHIPCHECK_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "shipcheck",
    version = VERSION,
    about = "Verify Cloud Assistant file deliveries and command runs against a declared manifest",
    long_about = None,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// When to use colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, env = "SHIPCHECK_COLOR", value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Log each API request to stderr (-v: requests, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare the manifest with what Cloud Assistant reports, and exit with the verdict.
    Check(Box<CheckArgs>),
    /// Print the queries, regions and RAM actions a check would need,
    /// without credentials or any API call (takes check's flags).
    Plan(Box<CheckArgs>),
    /// Validate manifests without calling the API.
    Validate(ValidateArgs),
    /// Render a saved JSON report again, in any format, with its exit code.
    Report(ReportArgs),
    /// Compare two JSON reports: findings added, resolved, unchanged (exit 1 on added drift).
    Diff(DiffArgs),
    /// Write a manifest of the latest successful deliveries (the fleet as it is).
    Import(Box<ImportArgs>),
    /// Print a JSON Schema (the manifest's, by default).
    Schema(SchemaArgs),
    /// Run a local Cloud Assistant API simulator.
    Sim(Box<SimArgs>),
    /// Print a shell completion script (see the README's "Install").
    Completions(CompletionsArgs),
    /// Print a manual page in roff (`shipcheck man | man -l -`).
    Man(ManArgs),
}

/// Parses `args` (the program name first), runs, prints any error, and
/// returns the exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout with status 0, usage
            // errors to stderr with status 2: our "invalid command line".
            let _ = err.print();
            return if err.use_stderr() {
                Exit::Invalid.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    let colors = terminal::init(cli.color, cli.verbose);
    let outcome = match cli.command {
        Command::Check(args) => runtime().and_then(|rt| check::run(&args, colors, &rt)),
        Command::Plan(args) => plan::run(&args, colors),
        Command::Validate(args) => validate::run(&args, colors),
        Command::Report(args) => report::run(&args, colors),
        Command::Diff(args) => diff::run(&args),
        Command::Import(args) => runtime().and_then(|rt| import::run(&args, &rt)),
        Command::Schema(args) => schema::run(&args),
        Command::Sim(args) => runtime().and_then(|rt| sim::run(&args, &rt)),
        Command::Completions(args) => completions::completions(&args, Cli::command()),
        Command::Man(args) => completions::man(&args, Cli::command()),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(failure) => {
            terminal::print_error(&failure.report);
            failure.exit.into()
        }
    }
}

/// The async runtime `check` and `sim` run their network work on.
fn runtime() -> Result<Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            Failure::unverified(miette::miette!("cannot start the async runtime: {err}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
