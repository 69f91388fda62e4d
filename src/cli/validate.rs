//! `shipcheck validate`: manifests checked without calling the API.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::terminal::{self, Colors};
use super::values::parse_var;
use crate::exit::{Exit, Failure};
use crate::manifest::VarOverride;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifests to validate.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// How to print the diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,

    /// Set a manifest variable (repeatable): --var env=prod.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<VarOverride>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    Human,
    Json,
}

/// 0 when every manifest is valid, 2 otherwise. JSON goes to stdout (an
/// empty list when valid); the human form goes to stderr.
pub fn run(args: &ValidateArgs, colors: Colors) -> Result<Exit, Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let outcome = crate::manifest::load(&args.files, &args.vars, &env);
    match args.format {
        DiagnosticFormat::Json => {
            let records = match &outcome {
                Ok(_) => Vec::new(),
                Err(errors) => errors.to_records(),
            };
            let json = serde_json::to_string_pretty(&records).expect("records serialise");
            terminal::stdout(&format!("{json}\n"))?;
        }
        DiagnosticFormat::Human => match &outcome {
            Ok(expectations) => terminal::stderr(&format!(
                "{} valid: {}, {}, {}\n",
                match args.files.len() {
                    1 => "manifest".to_owned(),
                    n => format!("{n} manifests"),
                },
                count(expectations.files.len(), "file"),
                count(expectations.commands.len(), "command"),
                count(expectations.waivers.len(), "waiver"),
            ))?,
            Err(errors) => terminal::stderr(&errors.render_human(colors.stderr))?,
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
