//! Orchestration only: load → plan → fetch → evaluate → render.

use std::io::{IsTerminal as _, Write as _};

use crate::cli::{Cli, Command, DiagnosticFormat, ValidateArgs};
use crate::exit::{Exit, Failure};

pub fn run(cli: Cli) -> Result<Exit, Failure> {
    let color = crate::terminal::color_enabled(
        cli.color,
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").is_some(),
    );
    match cli.command {
        Command::Validate(args) => validate(&args, color),
        Command::Schema(args) => {
            print!("{}", crate::schemas::for_kind(args.kind));
            Ok(Exit::Ok)
        }
        Command::Sim(args) => crate::sim::run(&args),
        Command::Check(args) => crate::check::run(&args, cli.color, color),
    }
}

/// `shipcheck validate`: 0 when every manifest is valid, 2 otherwise.
fn validate(args: &ValidateArgs, color: bool) -> Result<Exit, Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let outcome = crate::manifest::load(&args.files, &args.vars, &env);
    match args.format {
        DiagnosticFormat::Json => {
            let records = match &outcome {
                Ok(_) => Vec::new(),
                Err(errors) => errors.to_records(),
            };
            let json = serde_json::to_string_pretty(&records).expect("records serialise");
            let _ = writeln!(std::io::stdout(), "{json}");
        }
        DiagnosticFormat::Human => match &outcome {
            Ok(expectations) => eprintln!(
                "{} valid: {}, {}, {}",
                match args.files.len() {
                    1 => "manifest".to_owned(),
                    n => format!("{n} manifests"),
                },
                count(expectations.files.len(), "file"),
                count(expectations.commands.len(), "command"),
                count(expectations.waivers.len(), "waiver"),
            ),
            Err(errors) => eprint!("{}", errors.render_human(color)),
        },
    }
    Ok(if outcome.is_ok() {
        Exit::Ok
    } else {
        Exit::Invalid
    })
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
