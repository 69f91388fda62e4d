//! `shipcheck check`: load → plan → fetch → evaluate → render, and the exit code.
//!
//! Orchestration only: every step is another module's job. What this module
//! decides is the order, the `--wait` polling loop, and how failures map to
//! exit codes (DESIGN.md's table): an invalid manifest is 2, anything that
//! stops us from seeing the whole truth is 3, a deadline with deliveries
//! still moving is 4, and otherwise the report's verdict (0 or 1).

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

use crate::cli::{CheckArgs, ColorChoice, ReportFormat};
use crate::cloud::{ClientConfig, CloudClient, CredentialConfig, Credentials, Env};
use crate::evaluate::{EvalOptions, evaluate};
use crate::exit::{Exit, Failure};
use crate::expect::Expectations;
use crate::report::{HumanOptions, Report};
use crate::secret::Secret;
use crate::sim::{SimConfig, SimServer};

/// Runs a check; `stderr_color` is for diagnostics, `choice` decides stdout's.
pub fn run(args: &CheckArgs, choice: ColorChoice, stderr_color: bool) -> Result<Exit, Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let expectations = match crate::manifest::load(&args.manifests, &args.vars, &env) {
        Ok(expectations) => expectations,
        Err(errors) => {
            eprint!("{}", errors.render_human(stderr_color));
            return Ok(Exit::Invalid);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            Failure::unverified(miette::miette!("cannot start the async runtime: {err}"))
        })?;
    runtime.block_on(check(args, expectations, choice, stderr_color))
}

async fn check(
    args: &CheckArgs,
    mut expectations: Expectations,
    choice: ColorChoice,
    stderr_color: bool,
) -> Result<Exit, Failure> {
    // The in-process simulator, when asked for, lives as long as the check.
    let simulator = match &args.simulate {
        Some(state) => Some(start_simulator(state).await?),
        None => None,
    };
    let client =
        CloudClient::new(client_config(args, simulator.as_ref())).map_err(Failure::unverified)?;
    let simulator = simulator.map(|(server, _)| server);

    // A region the manifest does not name: --region, then the profile or
    // environment the credentials came from, then the environment alone.
    let fallback = args
        .cloud
        .region
        .clone()
        .or_else(|| client.region_hint().map(str::to_owned))
        .or_else(|| Env::from_process().region());
    if let Err(missing) = expectations.apply_region_fallback(fallback.as_deref()) {
        let errors = crate::manifest::missing_regions(expectations, &missing);
        eprint!("{}", errors.render_human(stderr_color));
        return Ok(Exit::Invalid);
    }
    let plan = crate::plan::plan(&expectations);
    if let Some(unplannable) = plan.unplannable.first() {
        return Err(Failure::invalid(miette::miette!(
            "{} cannot be fetched: {}",
            expectations.files[unplannable.file].path(),
            unplannable.reason
        )));
    }
    tracing::info!(
        queries = plan.queries.len(),
        estimated_pages = plan.estimated_pages,
        "plan"
    );

    let now = || {
        simulator
            .as_ref()
            .map_or_else(Timestamp::now, SimServer::now)
    };
    let deadline = args.wait.map(|wait| Instant::now() + wait);
    let progress = Progress::new(args.wait.is_some());
    let (report, exit) = loop {
        let mut observations = crate::fetch::fetch(&client, &plan)
            .await
            .map_err(Failure::unverified)?;
        let fetched_at = now();
        observations.fetched_at = Some(fetched_at);
        let report = evaluate(
            &expectations,
            &observations,
            &EvalOptions {
                now: fetched_at,
                strict: args.strict,
            },
        );
        let exit = report.exit();
        // Poll only while something is still moving and nothing has failed
        // for good: a terminal failure ends the wait at once.
        let Some(deadline) = deadline.filter(|_| report.is_pending() && exit != Exit::Drift) else {
            break (report, exit);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break (report, Exit::Pending);
        }
        progress.waiting(report.summary().pending, left);
        tokio::time::sleep(args.interval.min(left)).await;
    };
    progress.finish();

    emit(&report, args, choice)?;
    if let Some(simulator) = simulator {
        simulator.shutdown().await;
    }
    Ok(exit)
}

/// Starts the simulator on `state` with a fresh key pair that only this
/// check knows and signs with, so `--simulate` needs no credentials at all.
async fn start_simulator(state: &Path) -> Result<(SimServer, Credentials), Failure> {
    let config = SimConfig::from_state_file(state).map_err(Failure::invalid)?;
    let id = format!("LTAI-shipcheck-{}", uuid::Uuid::new_v4().simple());
    let secret = Secret::new(uuid::Uuid::new_v4().simple().to_string());
    let server = crate::sim::start(config.with_key(id.clone(), secret.clone()))
        .await
        .map_err(Failure::unverified)?;
    Ok((server, Credentials::new(id, secret)))
}

fn client_config(args: &CheckArgs, simulator: Option<&(SimServer, Credentials)>) -> ClientConfig {
    let mut config = ClientConfig::from_args(&args.cloud);
    if let Some((server, credentials)) = simulator {
        config.endpoint = Some(server.url());
        config.credentials = CredentialConfig::Explicit(credentials.clone());
    }
    config
}

/// Prints the report on stdout and writes every `--report` file.
fn emit(report: &Report, args: &CheckArgs, choice: ColorChoice) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let color = crate::terminal::color_enabled(
        choice,
        stdout.is_terminal(),
        std::env::var_os("NO_COLOR").is_some(),
    );
    let text = crate::report::render(
        report,
        args.format,
        &HumanOptions {
            color: color && args.format == ReportFormat::Human,
            ..HumanOptions::default()
        },
    );
    for target in &args.reports {
        let file = crate::report::render(report, target.format, &HumanOptions::default());
        write_report(&target.path, &file).map_err(|err| {
            Failure::invalid(miette::miette!(
                help = "check that the directory exists and is writable",
                "cannot write the {:?} report to {}: {err}",
                target.format,
                target.path.display()
            ))
        })?;
    }
    let mut out = stdout.lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::unverified(
            miette::miette!("cannot write the report to stdout: {err}"),
        )),
        _ => Ok(()),
    }
}

fn write_report(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// A spinner on stderr while `--wait` polls; drawn only on a terminal.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(waiting: bool) -> Self {
        if !waiting || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(Some(bar))
    }

    fn waiting(&self, pending: usize, left: Duration) {
        tracing::info!(
            pending,
            left_secs = left.as_secs(),
            "waiting for pending deliveries"
        );
        if let Some(bar) = &self.0 {
            bar.set_message(format!(
                "{pending} pending; waiting up to {} more",
                humantime::format_duration(Duration::from_secs(left.as_secs()))
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
