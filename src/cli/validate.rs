//! `shipcheck validate`: manifests checked without calling the API.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::terminal::{self, Colors};
use super::values::parse_var;
use crate::exit::{Exit, Failure};
use crate::manifest::{DEFAULT_MAX_BYTES, DEFAULT_MAX_PAIRS, LoadOptions, VarOverride};

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

    #[command(flatten)]
    pub trust: ManifestTrust,
}

/// How far an (untrusted) manifest may reach and how much it may ask for;
/// shared by `check` and `validate`.
#[derive(Debug, Clone, Args)]
pub struct ManifestTrust {
    /// Let `content_file` read inside DIR instead of only inside each
    /// manifest's own directory (symlinks are followed, then checked).
    #[arg(long, env = "SHIPCHECK_CONTENT_ROOT", value_name = "DIR")]
    pub content_root: Option<PathBuf>,

    /// Let `${env:NAME}` read a variable whose name looks like a secret
    /// (repeatable). The credential chain's variables are never readable.
    #[arg(
        long = "allow-env",
        value_name = "NAME",
        env = "SHIPCHECK_ALLOW_ENV",
        value_delimiter = ','
    )]
    pub allow_env: Vec<String>,

    /// The most (file, target) pairs the manifests may expand to.
    #[arg(long, env = "SHIPCHECK_MAX_PAIRS", value_name = "N", default_value_t = DEFAULT_MAX_PAIRS)]
    pub max_pairs: u64,

    /// The largest manifest file read, in bytes.
    #[arg(long, env = "SHIPCHECK_MAX_MANIFEST_BYTES", value_name = "BYTES", default_value_t = DEFAULT_MAX_BYTES)]
    pub max_manifest_bytes: u64,
}

impl ManifestTrust {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            content_root: self.content_root.clone(),
            allow_env: self
                .allow_env
                .iter()
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect(),
            max_pairs: self.max_pairs,
            max_bytes: self.max_manifest_bytes,
        }
    }
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
    let outcome =
        crate::manifest::load_with(&args.files, &args.vars, &env, &args.trust.load_options());
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
