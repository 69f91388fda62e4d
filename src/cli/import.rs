//! `shipcheck import`: the flags, and writing the manifest (and its content
//! files) that [`crate::import::run`] returns.
//!
//! Nothing is written unless every file can be: an existing output or
//! content file is refused before the first write, unless `--force`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tokio::runtime::Runtime;

use super::check::CloudArgs;
use super::terminal;
use super::values::parse_duration;
use crate::check::Api;
use crate::exit::{Exit, Failure};
use crate::import::{ImportOptions, Imported, Since};
use crate::text::inert;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Where to write the manifest; content files go beside it, in `files/`.
    #[arg(long, short, value_name = "PATH", required_unless_present = "dry_run")]
    pub output: Option<PathBuf>,

    /// Print the manifest on stdout and write nothing (no --output needed).
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite an existing manifest and content files.
    #[arg(long)]
    pub force: bool,

    /// Only files of this name (repeatable).
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,

    /// Only these instances (repeatable).
    #[arg(long = "instance", value_name = "ID")]
    pub instances: Vec<String>,

    /// Only files in this directory (repeatable).
    #[arg(long = "target-dir", value_name = "DIR")]
    pub target_dirs: Vec<String>,

    /// Only deliveries that finished since this time (RFC 3339) or this long
    /// ago (e.g. 7d).
    #[arg(long, value_name = "TIME|DURATION", value_parser = parse_since)]
    pub since: Option<Since>,

    /// Also read the evidence in this snapshot (repeatable); the newest
    /// record per task and target wins.
    #[arg(long = "from-snapshot", value_name = "PATH")]
    pub from_snapshot: Vec<PathBuf>,

    /// Also import the commands whose latest run on an instance succeeded
    /// (their exit code, not their output).
    #[arg(long)]
    pub commands: bool,

    /// Call no API: import from --from-snapshot evidence only.
    #[arg(long, conflicts_with = "simulate", requires = "from_snapshot")]
    pub offline: bool,

    /// Start the simulator in-process on this state file and import from it.
    #[arg(long, value_name = "STATE", conflicts_with = "endpoint")]
    pub simulate: Option<PathBuf>,

    /// The most time the listing may take.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
    pub timeout: Duration,

    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// `--since`: RFC 3339, else a duration before now.
fn parse_since(text: &str) -> Result<Since, String> {
    if let Ok(at) = text.trim().parse::<jiff::Timestamp>() {
        return Ok(Since::At(at));
    }
    parse_duration(text)
        .map(Since::Ago)
        .map_err(|_| format!("`{text}` is neither an RFC 3339 time nor a duration (e.g. 7d)"))
}

pub fn run(args: &ImportArgs, runtime: &Runtime) -> Result<Exit, Failure> {
    // Where to write: nowhere on a dry run.
    let output = match (&args.output, args.dry_run) {
        (Some(output), false) => Some(output.as_path()),
        _ => None,
    };
    if let Some(output) = output
        && !args.force
        && output.exists()
    {
        return Err(refuse(output));
    }
    let options = ImportOptions {
        region: args.cloud.region.clone(),
        names: args.names.clone(),
        instances: args.instances.clone(),
        target_dirs: args.target_dirs.clone(),
        since: args.since,
        snapshots: args
            .from_snapshot
            .iter()
            .map(|path| crate::snapshot::load(path).map_err(Failure::invalid))
            .collect::<Result<_, _>>()?,
        commands: args.commands,
        timeout: args.timeout,
    };
    let imported = runtime.block_on(crate::import::run(api(args)?, &options))?;
    match output {
        Some(output) => write(output, args.force, &imported)?,
        None => terminal::stdout(&imported.manifest)?,
    }
    terminal::stderr(&summary(args, output, &imported))?;
    Ok(Exit::Ok)
}

fn api(args: &ImportArgs) -> Result<Api, Failure> {
    if args.offline {
        return Ok(Api::Offline);
    }
    let config = args.cloud.client_config();
    match &args.simulate {
        None => Ok(Api::Cloud(config)),
        #[cfg(feature = "sim")]
        Some(state) => Ok(Api::Simulator {
            state: state.clone(),
            client: config,
        }),
        #[cfg(not(feature = "sim"))]
        Some(_) => Err(super::sim::not_built("import --simulate")),
    }
}

fn refuse(path: &Path) -> Failure {
    Failure::invalid(miette::miette!(
        help = "pass --force to overwrite it, or --dry-run to print the manifest",
        "{} exists; import does not overwrite it",
        path.display()
    ))
}

/// Writes the content files, then the manifest, after checking that none
/// exists (unless `--force`).
fn write(output: &Path, force: bool, imported: &Imported) -> Result<(), Failure> {
    let dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let side: Vec<(PathBuf, &[u8])> = imported
        .side_files
        .iter()
        .map(|f| (dir.join(&f.path), f.bytes.as_slice()))
        .collect();
    if !force && let Some((taken, _)) = side.iter().find(|(path, _)| path.exists()) {
        return Err(refuse(taken));
    }
    let cannot = |path: &Path, err: std::io::Error| {
        Failure::invalid(miette::miette!(
            help = "check that the directory exists and is writable",
            "cannot write {}: {err}",
            path.display()
        ))
    };
    for (path, bytes) in &side {
        // Content files hold text only: binary content is imported as its digest.
        let text = String::from_utf8_lossy(bytes);
        terminal::write_file(path, &text, false).map_err(|err| cannot(path, err))?;
    }
    terminal::write_file(output, &imported.manifest, false).map_err(|err| cannot(output, err))
}

fn summary(args: &ImportArgs, output: Option<&Path>, imported: &Imported) -> String {
    let mut text = format!("imported {}", crate::text::count(imported.files, "file"));
    if args.commands {
        text.push_str(&format!(
            " and {}",
            crate::text::count(imported.commands, "command")
        ));
    }
    text.push_str(&format!(
        " on {}",
        crate::text::count(imported.instances, "instance")
    ));
    if let Some(output) = output {
        text.push_str(&format!(" into {}", output.display()));
        if !imported.side_files.is_empty() {
            text.push_str(&format!(
                " and {}",
                crate::text::count(imported.side_files.len(), "content file")
            ));
        }
    } else {
        text.push_str(" (dry run: nothing written");
        if !imported.side_files.is_empty() {
            text.push_str(&format!(
                "; {} would go beside the manifest",
                crate::text::count(imported.side_files.len(), "content file")
            ));
        }
        text.push(')');
    }
    text.push('\n');
    for skipped in &imported.skipped {
        text.push_str(&format!(
            "skipped {} on {}: {}\n",
            inert(&skipped.path),
            inert(&skipped.instance),
            inert(&skipped.reason)
        ));
    }
    text
}
