//! shipcheck verifies Alibaba Cloud Cloud Assistant deliveries against a
//! declared manifest, the way `terraform plan` verifies infrastructure.
//!
//! The pipeline (DESIGN.md): `manifest` → `expect` → plan → `cloud` →
//! `observe` → `evaluate` → `report`, orchestrated by `app`.

pub mod app;
pub mod check;
pub mod cli;
pub mod cloud;
pub mod evaluate;
pub mod exit;
pub mod expect;
pub mod fetch;
pub mod findings;
pub mod manifest;
pub mod mode;
pub mod observe;
pub mod plan;
pub mod protocol;
pub mod report;
pub mod schemas;
pub mod secret;
pub mod sim;
pub mod terminal;
pub mod text;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

use crate::exit::Exit;

/// Parses `args`, runs, prints any error, and returns the exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
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
    let color = terminal::init(cli.color, cli.verbose);
    match app::run(cli) {
        Ok(exit) => exit.into(),
        Err(failure) => {
            terminal::print_error(&failure.report, color);
            failure.exit.into()
        }
    }
}
