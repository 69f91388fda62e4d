//! Orchestration only: load → plan → fetch → evaluate → render.

use crate::cli::{Cli, Command};
use crate::exit::{Exit, Failure};

pub fn run(cli: Cli) -> Result<Exit, Failure> {
    match cli.command {
        Command::Sim(args) => crate::sim::run(&args),
        Command::Check(_) | Command::Validate(_) | Command::Schema(_) => {
            Err(Failure::invalid(miette::miette!("not built yet")))
        }
    }
}
