//! `shipcheck check`: the flags, the client configuration built from them,
//! and the report printed on stdout and written to `--report` files.
//!
//! The check itself is [`crate::check::run`]; this file only turns flags
//! into its plain inputs and its result into output and an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use tokio::runtime::Runtime;

use super::progress::Spinner;
use super::terminal::{self, Colors};
use super::validate::ManifestTrust;
use super::values::{parse_duration, parse_endpoint, parse_glob, parse_region, parse_var};
use crate::check::{Api, CheckError, CheckOptions};
use crate::cloud::{
    ChainOptions, ClientConfig, Clock, CredentialConfig, DEFAULT_CONCURRENCY, Paging, RetryPolicy,
};
use crate::exit::{Exit, Failure};
use crate::manifest::{ManifestErrors, VarOverride};
use crate::narrow::Narrowing;
use crate::protocol::sign::SignatureVersion;
use crate::report::{HumanOptions, Report, ReportFormat};

/// Every flag can also be set in the environment as `SHIPCHECK_<FLAG>`
/// (shown in `--help`); a flag on the command line beats its variable. A
/// repeatable flag takes one value from its variable.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Manifests to check.
    #[arg(value_name = "MANIFEST", default_value = "shipcheck.yaml")]
    pub manifests: Vec<PathBuf>,

    /// The report printed on stdout.
    #[arg(long, env = "SHIPCHECK_FORMAT", value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    /// Also write a report to a file (repeatable): --report junit=shipcheck.xml.
    #[arg(long = "report", env = "SHIPCHECK_REPORT", value_name = "FORMAT=PATH")]
    pub reports: Vec<ReportTarget>,

    /// Poll pending deliveries until they settle or this long has passed (e.g. 5m).
    #[arg(long, env = "SHIPCHECK_WAIT", value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,

    /// The most time the check may take (--wait comes on top): queries still
    /// running then stop, and what they cover is unverified (exit 3).
    #[arg(long, env = "SHIPCHECK_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
    pub timeout: Duration,

    /// How often to poll with --wait.
    #[arg(long, env = "SHIPCHECK_INTERVAL", value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub interval: Duration,

    /// With --wait, how long a declared delivery or command that is not
    /// listed at all may still appear (the API can list a new task a moment
    /// late) before it counts as missing; at most the --wait deadline.
    #[arg(
        long,
        env = "SHIPCHECK_GRACE",
        value_name = "DURATION",
        value_parser = parse_duration,
        default_value = "30s",
        requires = "wait"
    )]
    pub grace: Duration,

    /// Only deliveries created at or after this count, for files that set no
    /// `since:`: an RFC 3339 time, or a duration (2h) back from the check's
    /// clock (the simulator's under --simulate).
    #[arg(long, env = "SHIPCHECK_SINCE", value_name = "TIME|DURATION", value_parser = crate::expect::Since::parse)]
    pub since: Option<crate::expect::Since>,

    /// Also report deliveries the manifest does not declare (other instances,
    /// other files in declared directories).
    #[arg(long, env = "SHIPCHECK_STRICT")]
    pub strict: bool,

    /// Check only the declared files whose path matches this glob
    /// (repeatable; `*` stays in one directory, `**` crosses them); no
    /// commands are checked then. A glob that matches nothing is an error.
    #[arg(
        long,
        env = "SHIPCHECK_ONLY",
        value_name = "GLOB",
        value_parser = parse_glob,
        conflicts_with = "strict"
    )]
    pub only: Vec<String>,

    /// Check only this instance or node (repeatable). An id no entry
    /// declares is an error.
    #[arg(
        long = "instance",
        env = "SHIPCHECK_INSTANCE",
        value_name = "ID",
        conflicts_with = "strict"
    )]
    pub instances: Vec<String>,

    /// Set a manifest variable (repeatable): --var env=prod.
    #[arg(long = "var", env = "SHIPCHECK_VAR", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<VarOverride>,

    /// Print nothing when the check passes; on failure, only the findings
    /// and the verdict line (the human format; other formats are unchanged).
    #[arg(short, long, env = "SHIPCHECK_QUIET")]
    pub quiet: bool,

    /// Also read each declared file on its instances' disks with a read-only
    /// RunCommand (exists, mode, owner, group, size, SHA-256; never content).
    /// Needs ecs:RunCommand and ecs:DescribeInvocationResults.
    #[arg(long, env = "SHIPCHECK_PROBE", conflicts_with = "offline")]
    pub probe: bool,

    /// Print what the check would call (as `shipcheck plan` does; with
    /// --probe, the probe's script and calls too) and stop: no
    /// credentials, no calls.
    #[arg(long, env = "SHIPCHECK_DRY_RUN")]
    pub dry_run: bool,

    /// Write a bash script of `aliyun ecs SendFile` calls that would fix
    /// every drifted file (shipcheck never runs it).
    #[arg(long, env = "SHIPCHECK_FIX_SCRIPT", value_name = "PATH")]
    pub fix_script: Option<PathBuf>,

    /// Write the same SendFile calls as JSON: {"calls": [{"action", "parameters"}]}.
    #[arg(long, env = "SHIPCHECK_FIX_PLAN", value_name = "PATH")]
    pub fix_plan: Option<PathBuf>,

    /// Start the simulator in-process on this state file and check against it
    /// (no credentials needed).
    #[arg(
        long,
        env = "SHIPCHECK_SIMULATE",
        value_name = "STATE",
        conflicts_with = "endpoint"
    )]
    pub simulate: Option<PathBuf>,

    /// Merge the evidence in this snapshot with the API's (repeatable): the
    /// newest record per task and target wins, so a delivery the API has
    /// forgotten is still known (with its age).
    #[arg(
        long = "from-snapshot",
        env = "SHIPCHECK_FROM_SNAPSHOT",
        value_name = "PATH"
    )]
    pub from_snapshot: Vec<PathBuf>,

    /// Write the evidence this check used to a snapshot (on every exit code
    /// with a report; never credentials; only digests of sensitive content).
    #[arg(long, env = "SHIPCHECK_SAVE_SNAPSHOT", value_name = "PATH")]
    pub save_snapshot: Option<PathBuf>,

    /// Call no API and need no credentials: judge from --from-snapshot
    /// evidence only (an --endpoint is never contacted); what no snapshot
    /// covers is unverified.
    #[arg(long, env = "SHIPCHECK_OFFLINE", conflicts_with = "simulate")]
    pub offline: bool,

    /// How long the API keeps delivery records (over the manifest's
    /// `defaults.retention`), named when a declared delivery is not listed.
    #[arg(long, env = "SHIPCHECK_RETENTION", value_name = "DURATION", value_parser = parse_duration)]
    pub retention: Option<Duration>,

    #[command(flatten)]
    pub trust: ManifestTrust,

    #[command(flatten)]
    pub cloud: CloudArgs,
}

impl CheckArgs {
    /// The check's options (`plan` reads them too, to plan the same check).
    pub fn check_options(&self) -> CheckOptions {
        CheckOptions {
            strict: self.strict,
            wait: self.wait,
            interval: self.interval,
            grace: self.grace,
            region: self.cloud.region.clone(),
            timeout: self.timeout,
            since: self.since,
            probe: self.probe,
            fix: self.fix_script.is_some() || self.fix_plan.is_some(),
            narrowing: Narrowing {
                only: self.only.clone(),
                instances: self.instances.clone(),
            },
            // Loaded (and refused when unreadable) by `check` alone.
            snapshots: Vec::new(),
            save_snapshot: self.save_snapshot.is_some(),
            retention: self.retention,
        }
    }

    /// The manifests, loaded with `--var` and the trust flags.
    pub fn load(&self) -> Result<crate::expect::Expectations, ManifestErrors> {
        let env = |name: &str| std::env::var(name).ok();
        crate::manifest::load_with(
            &self.manifests,
            &self.vars,
            &env,
            &self.trust.load_options(),
        )
    }
}

/// How to reach the API.
#[derive(Debug, Clone, Args)]
pub struct CloudArgs {
    /// Send every request to this URL instead of the regional endpoint
    /// (http:// only for loopback addresses).
    #[arg(long, env = "SHIPCHECK_ENDPOINT", value_name = "URL", value_parser = parse_endpoint)]
    pub endpoint: Option<String>,

    /// The region for entries that name none (else the manifest's default,
    /// then ALIBABA_CLOUD_REGION_ID).
    #[arg(long, env = "SHIPCHECK_REGION", value_parser = parse_region)]
    pub region: Option<String>,

    /// The ~/.aliyun/config.json profile to use (else ALIBABA_CLOUD_PROFILE, then `current`).
    #[arg(long, env = "SHIPCHECK_PROFILE", conflicts_with = "simulate")]
    pub profile: Option<String>,

    /// The request signature scheme.
    #[arg(long, env = "SHIPCHECK_SIGNATURE", value_enum, default_value_t = SignatureVersion::V1)]
    pub signature: SignatureVersion,

    /// Use the VPC endpoints (ecs-vpc.<region>.aliyuncs.com).
    #[arg(long, env = "SHIPCHECK_VPC", conflicts_with_all = ["endpoint", "simulate"])]
    pub vpc: bool,

    /// The most API requests in flight at once [default: 8].
    #[arg(long, env = "SHIPCHECK_CONCURRENCY", value_name = "N", value_parser = parse_concurrency)]
    pub concurrency: Option<usize>,

    /// How listings are paged: token (NextToken, sequential) or pages
    /// (PageNumber, parallel once TotalCount is known, count-checked).
    #[arg(long, env = "SHIPCHECK_PAGING", value_enum, default_value_t = Paging::Token)]
    pub paging: Paging,

    /// How long to wait for a connection.
    #[arg(long, env = "SHIPCHECK_CONNECT_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub connect_timeout: Duration,

    /// How long to wait for a response.
    #[arg(long, env = "SHIPCHECK_READ_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub read_timeout: Duration,

    /// The most attempts per request that may fail with an error (5xx, a
    /// broken connection, a malformed answer); throttled answers do not count.
    #[arg(
        long,
        env = "SHIPCHECK_MAX_ATTEMPTS",
        value_name = "N",
        default_value_t = 5
    )]
    pub max_attempts: u32,

    /// The most throttled answers one request may meet before giving up
    /// (the client also slows down while the API throttles).
    #[arg(
        long,
        env = "SHIPCHECK_MAX_THROTTLED",
        value_name = "N",
        default_value_t = 20
    )]
    pub max_throttled: u32,

    /// The most time one request may spend retrying.
    #[arg(long, env = "SHIPCHECK_RETRY_BUDGET", value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub retry_budget: Duration,
}

impl CloudArgs {
    /// The client these flags and the process environment describe.
    pub(super) fn client_config(&self) -> ClientConfig {
        ClientConfig {
            endpoint: self.endpoint.clone(),
            vpc: self.vpc,
            signature: self.signature,
            concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            retry: RetryPolicy {
                max_attempts: self.max_attempts.max(1),
                max_throttled: self.max_throttled.max(1),
                budget: self.retry_budget,
                ..RetryPolicy::default()
            },
            paging: self.paging,
            credentials: CredentialConfig::Chain(ChainOptions::from_process(self.profile.clone())),
            clock: Clock::system(),
            deadline: None,
        }
    }
}

/// `--concurrency`: 1 to 256.
fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a number from 1 to 256")),
    }
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

/// Runs a check and prints its report; returns the verdict's exit code.
pub fn run(args: &CheckArgs, colors: Colors, runtime: &Runtime) -> Result<Exit, Failure> {
    let api = api(args)?;
    let expectations = match args.load() {
        Ok(expectations) => expectations,
        Err(errors) => return emit_invalid(&errors, args, colors),
    };
    if args.dry_run {
        return super::plan::print(expectations, args, colors);
    }
    let mut options = args.check_options();
    options.snapshots = args
        .from_snapshot
        .iter()
        .map(|path| crate::snapshot::load(path).map_err(Failure::invalid))
        .collect::<Result<_, _>>()?;
    let mut spinner = Spinner::new();
    let checked = runtime.block_on(crate::check::run(expectations, api, &options, &mut spinner));
    spinner.finish();
    match checked {
        Ok(mut checked) => {
            if let (Some(path), Some(snapshot)) = (&args.save_snapshot, &checked.snapshot) {
                save_snapshot(path, snapshot)?;
            }
            // Written on every exit code: an unreachable API fixes nothing.
            if args.fix_script.is_some() || args.fix_plan.is_some() {
                let fix = checked.fix.take().unwrap_or_default();
                checked.report.fix = Some(super::probe::write_fix(&fix, args)?);
            }
            emit(&checked.report, args, colors, checked.exit)?;
            Ok(checked.exit)
        }
        Err(CheckError::Manifest(errors)) => emit_invalid(&errors, args, colors),
        Err(CheckError::Failed(failure)) => Err(failure),
    }
}

/// Writes `--save-snapshot`, scrubbed like every other file.
fn save_snapshot(path: &Path, snapshot: &crate::snapshot::Snapshot) -> Result<(), Failure> {
    terminal::write_file(path, &crate::snapshot::to_json(snapshot), false).map_err(|err| {
        Failure::invalid(miette::miette!(
            help = "check that the directory exists and is writable",
            "cannot write the snapshot to {}: {err}",
            path.display()
        ))
    })
}

/// The API the flags point at: the cloud, the simulator on `--simulate`,
/// or none at all with `--offline`.
fn api(args: &CheckArgs) -> Result<Api, Failure> {
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
        Some(_) => Err(super::sim::not_built("check --simulate")),
    }
}

/// Prints the report on stdout and writes every `--report` file.
fn emit(report: &Report, args: &CheckArgs, colors: Colors, exit: Exit) -> Result<(), Failure> {
    write_reports(args, |format, out| {
        crate::report::write(report, format, &HumanOptions::default(), out)
    })?;
    let human = args.format == ReportFormat::Human;
    if args.quiet && human && exit == Exit::Ok {
        return Ok(());
    }
    let options = HumanOptions {
        color: colors.stdout && human,
        width: terminal::stdout_width(),
        quiet: args.quiet,
    };
    terminal::stdout_with(|out| crate::report::write(report, args.format, &options, out))
}

/// Exit 2: the manifest's diagnostics in the requested format (the human
/// form on stderr, like any error; the others on stdout, where the report
/// would be), and in every `--report` file, so CI shows why the gate failed.
pub(super) fn emit_invalid(
    errors: &ManifestErrors,
    args: &CheckArgs,
    colors: Colors,
) -> Result<Exit, Failure> {
    // The fix files exist on every exit code; an invalid manifest fixes nothing.
    if args.fix_script.is_some() || args.fix_plan.is_some() {
        super::probe::write_fix(&crate::fix::FixPlan::default(), args)?;
    }
    write_reports(args, |format, out| {
        out.write_all(crate::report::diagnostics::render(errors, format).as_bytes())
    })?;
    match args.format {
        ReportFormat::Human => terminal::stderr(&errors.render_human(colors.stderr))?,
        format => terminal::stdout(&crate::report::diagnostics::render(errors, format))?,
    }
    Ok(Exit::Invalid)
}

/// Writes every `--report` file, each as `write` writes it. GitHub's job
/// summary (`$GITHUB_STEP_SUMMARY`) is appended to: every step of a job
/// shares it, and a step that overwrote it would erase the earlier ones.
fn write_reports(
    args: &CheckArgs,
    write: impl Fn(ReportFormat, &mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let step_summary = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from);
    for target in &args.reports {
        let append = step_summary
            .as_deref()
            .is_some_and(|summary| same_file(summary, &target.path));
        terminal::write_file_with(&target.path, append, |out| write(target.format, out)).map_err(
            |err| {
                Failure::invalid(miette::miette!(
                    help = "check that the directory exists and is writable",
                    "cannot write the {:?} report to {}: {err}",
                    target.format,
                    target.path.display()
                ))
            },
        )?;
    }
    Ok(())
}

/// Whether two spellings name one file: equal as written, or once resolved
/// (`./summary.md` and `$PWD/summary.md`).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(a), Ok(b)) if a == b
        )
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn concurrency_is_bounded() {
        assert_eq!(parse_concurrency(" 16 "), Ok(16));
        assert!(parse_concurrency("0").is_err());
        assert!(parse_concurrency("257").is_err());
    }
}
