//! The command line, as clap derive types. Parsing only: no behaviour here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cloud::CloudArgs;
use crate::sim::SimArgs;

#[derive(Debug, Parser)]
#[command(
    name = "shipcheck",
    version,
    about = "Verify Cloud Assistant file deliveries and command runs against a declared manifest",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to use colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log each API request to stderr (-v: requests, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare the manifest with what Cloud Assistant reports, and exit with the verdict.
    Check(Box<CheckArgs>),
    /// Validate manifests without calling the API.
    Validate(ValidateArgs),
    /// Print a JSON Schema (the manifest's, by default).
    Schema(SchemaArgs),
    /// Run a local Cloud Assistant API simulator.
    Sim(Box<SimArgs>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--var NAME=VALUE`, the way Terraform takes `-var`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarArg {
    pub name: String,
    pub value: String,
}

impl std::str::FromStr for VarArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "`{name}` is not a variable name (letters, digits, `_` and `-`)"
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifests to validate.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// How to print the diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,

    /// Set a manifest variable (repeatable): --var env=prod.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<VarArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema to print.
    #[arg(value_enum, default_value_t = SchemaKind::Manifest)]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The manifest (shipcheck.yaml).
    Manifest,
    /// The JSON report (`--format json`).
    Report,
    /// The simulator's state file.
    SimState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Diagnostics for people, labelled on the manifest.
    Human,
    /// Machine-readable, `schemas/report.v1.schema.json`.
    Json,
    /// JUnit XML, one test case per file and instance.
    Junit,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A Markdown table per file, for PR comments and step summaries.
    Markdown,
    /// GitHub Actions workflow-command annotations.
    Github,
}

/// `--report FORMAT=PATH`: one more report written to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: ReportFormat,
    pub path: PathBuf,
}

impl std::str::FromStr for ReportTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (format, path) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not FORMAT=PATH (for example junit=report.xml)"))?;
        let format = ReportFormat::from_str(format, true).map_err(|_| {
            let known: Vec<_> = ReportFormat::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|v| v.get_name().to_owned())
                .collect();
            format!(
                "unknown report format `{format}` (one of {})",
                known.join(", ")
            )
        })?;
        if path.is_empty() {
            return Err(format!("`{s}` has no path after `=`"));
        }
        Ok(Self {
            format,
            path: PathBuf::from(path),
        })
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Manifests to check.
    #[arg(value_name = "MANIFEST", default_value = "shipcheck.yaml")]
    pub manifests: Vec<PathBuf>,

    /// The report printed on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    /// Also write a report to a file (repeatable): --report junit=shipcheck.xml.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<ReportTarget>,

    /// Poll pending deliveries until they settle or this long has passed (e.g. 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,

    /// How often to poll with --wait.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub interval: std::time::Duration,

    /// Also report deliveries the manifest does not declare (other instances,
    /// other files in declared directories).
    #[arg(long)]
    pub strict: bool,

    /// Set a manifest variable (repeatable): --var env=prod.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<VarArg>,

    /// Start the simulator in-process on this state file and check against it
    /// (no credentials needed).
    #[arg(long, value_name = "STATE", conflicts_with = "endpoint")]
    pub simulate: Option<PathBuf>,

    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// Parses `90s`, `5m`, `1h30m`, `7d`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); try 30s, 5m or 2h"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn vars_parse() {
        let var: VarArg = "env=prod=blue".parse().unwrap();
        assert_eq!(
            (var.name.as_str(), var.value.as_str()),
            ("env", "prod=blue")
        );
        assert!("novalue".parse::<VarArg>().is_err());
        assert!("bad name=1".parse::<VarArg>().is_err());
    }

    #[test]
    fn report_targets_parse() {
        let target: ReportTarget = "junit=out/report.xml".parse().unwrap();
        assert_eq!(target.format, ReportFormat::Junit);
        assert_eq!(target.path, PathBuf::from("out/report.xml"));
        assert!(
            "xml=out"
                .parse::<ReportTarget>()
                .unwrap_err()
                .contains("unknown report format")
        );
        assert!("junit=".parse::<ReportTarget>().is_err());
    }
}
