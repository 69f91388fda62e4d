//! The local Cloud Assistant API simulator (`shipcheck sim`).
//!
//! Nothing in the tests can reach Alibaba Cloud, so the project carries a
//! stand-in that speaks the real protocol: signed V1/V3 RPC calls, the
//! documented error envelope, both paging styles, the response quirks of the
//! API documents, task lifecycles, retention and injected faults. The
//! official Python SDK talks to it (tests/sdk/), and so does our client.
//!
//! Use it in-process:
//!
//! ```no_run
//! # async fn demo() -> Result<(), shipcheck::sim::SimError> {
//! use shipcheck::secret::Secret;
//! let config = shipcheck::sim::SimConfig::from_state_file("state.yaml".as_ref())?
//!     .with_key("ephemeral-id", Secret::new("ephemeral-secret"));
//! let server = shipcheck::sim::start(config).await?;
//! println!("{}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod actions;
mod auth;
mod clock;
mod config;
mod context;
mod delivery;
mod errors;
mod faults;
mod handle;
mod invocation;
mod lifecycle;
mod listing;
mod paging;
mod params;
mod product;
mod records;
mod regions;
mod server;
mod state;
mod stats;
mod store;
mod synth;
mod tables;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

pub use self::config::{
    ClockSetting, DEFAULT_RETENTION, DEFAULT_TIMESTAMP_TOLERANCE, SimConfig, SimError,
};
pub use self::faults::{Fault, FaultSpec};
pub use self::handle::{SimServer, start};
pub use self::lifecycle::Lifecycle;
pub use self::product::Product;
use self::records::parse_time;
pub use self::state::STATE_SCHEMA;
pub use self::stats::Stats;
pub use self::synth::SynthSpec;
use crate::cli::parse_duration;
use crate::exit::{Exit, Failure};

/// `shipcheck sim` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// The state file to serve (machines, deliveries, command results, keys).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,

    /// Add a generated fleet (see --instances, --files, --seed).
    #[arg(long, help_heading = "Synthesis")]
    pub synthesize: bool,

    /// Instances in the generated fleet.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000,
        help_heading = "Synthesis"
    )]
    pub instances: u64,

    /// Files sent to every instance of the generated fleet.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10,
        help_heading = "Synthesis"
    )]
    pub files: u64,

    /// RunCommand invocations on every instance of the generated fleet.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        help_heading = "Synthesis"
    )]
    pub commands: u64,

    /// Instances per generated SendFile/RunCommand call (1 to 50).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 50,
        help_heading = "Synthesis"
    )]
    pub per_call: u64,

    /// Fraction of generated per-instance results that fail (0 to 1).
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.0,
        help_heading = "Synthesis"
    )]
    pub failure_rate: f64,

    /// Fraction of generated tasks whose mode, owner or content drifted.
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.0,
        help_heading = "Synthesis"
    )]
    pub drift_rate: f64,

    /// Seed of the generated fleet and of the injected faults.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Fraction of requests answered 400 Throttling.User.
    #[arg(long, value_name = "RATE", help_heading = "Faults")]
    pub throttle: Option<f64>,

    /// Fraction of requests answered 500 InternalError.Dispatch.
    #[arg(long, value_name = "RATE", help_heading = "Faults")]
    pub internal_error: Option<f64>,

    /// Fraction of requests answered 503 ServiceUnavailable.
    #[arg(long, value_name = "RATE", help_heading = "Faults")]
    pub unavailable: Option<f64>,

    /// Fraction of connections closed without an answer.
    #[arg(long, value_name = "RATE", help_heading = "Faults")]
    pub drop: Option<f64>,

    /// Fraction of answers whose body is cut short.
    #[arg(long, value_name = "RATE", help_heading = "Faults")]
    pub truncate: Option<f64>,

    /// Latency added to every API request (e.g. 50ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Faults")]
    pub latency: Option<Duration>,

    /// The x-acs-retry-after of throttling answers, in milliseconds.
    #[arg(long, value_name = "MS", help_heading = "Faults")]
    pub retry_after: Option<u64>,

    /// Exact faults for the first requests, in order (e.g. throttle,none,drop).
    #[arg(
        long,
        value_name = "FAULT",
        value_delimiter = ',',
        help_heading = "Faults"
    )]
    pub fault_script: Vec<Fault>,

    /// Only these actions meet faults (repeatable; default all).
    #[arg(long = "fault-action", value_name = "ACTION", help_heading = "Faults")]
    pub fault_actions: Vec<String>,

    /// Records older than this vanish (default 14d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retention: Option<Duration>,

    /// How long a new task stays Pending (default 1s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub pending_for: Option<Duration>,

    /// How long a task then stays Running (default 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub running_for: Option<Duration>,

    /// Pin the simulated clock at this RFC 3339 time (frozen).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// How far a signed timestamp may be from the host clock.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "15m")]
    pub timestamp_tolerance: Duration,
}

impl SimConfig {
    /// What `shipcheck sim` runs: the state file (if any), the generated
    /// fleet (if asked), the key pair from the environment (if set), then
    /// the command line's settings over the state's.
    pub fn from_args(args: &SimArgs) -> Result<Self, SimError> {
        let mut config = match &args.state {
            Some(path) => Self::from_state_file(path)?,
            None => Self::new(),
        };
        config.listen = args.listen.parse().map_err(|_| {
            SimError::InvalidOption(format!(
                "--listen `{}` is not HOST:PORT (e.g. 127.0.0.1:0)",
                args.listen
            ))
        })?;
        config = config.with_env_credentials();
        config.seed = args.seed;
        config.timestamp_tolerance = args.timestamp_tolerance;
        if let Some(now) = &args.now {
            let at = parse_time(now).map_err(|e| SimError::InvalidOption(format!("--now: {e}")))?;
            config.clock = ClockSetting::Frozen(at);
        }
        if let Some(retention) = args.retention {
            config.retention = retention;
        }
        if let Some(pending) = args.pending_for {
            config.lifecycle.pending = pending;
        }
        if let Some(running) = args.running_for {
            config.lifecycle.running = running;
        }
        let faults = &mut config.faults;
        let rates = [
            (&mut faults.throttle, args.throttle, "--throttle"),
            (
                &mut faults.internal_error,
                args.internal_error,
                "--internal-error",
            ),
            (&mut faults.unavailable, args.unavailable, "--unavailable"),
            (&mut faults.drop, args.drop, "--drop"),
            (&mut faults.truncate, args.truncate, "--truncate"),
        ];
        for (slot, value, flag) in rates {
            if let Some(rate) = value {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(SimError::InvalidOption(format!(
                        "{flag} {rate} is not a fraction between 0 and 1"
                    )));
                }
                *slot = rate;
            }
        }
        if args.latency.is_some() {
            faults.latency = args.latency;
        }
        if args.retry_after.is_some() {
            faults.retry_after_ms = args.retry_after;
        }
        if !args.fault_script.is_empty() {
            faults.script = args.fault_script.clone();
        }
        if !args.fault_actions.is_empty() {
            faults.actions = args.fault_actions.clone();
        }
        if faults.seed.is_none() {
            faults.seed = Some(args.seed);
        }
        if args.synthesize {
            for (rate, flag) in [
                (args.failure_rate, "--failure-rate"),
                (args.drift_rate, "--drift-rate"),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(SimError::InvalidOption(format!(
                        "{flag} {rate} is not a fraction between 0 and 1"
                    )));
                }
            }
            if !(1..=50).contains(&args.per_call) {
                return Err(SimError::InvalidOption(format!(
                    "--per-call {} is outside 1 to 50 (SendFile's limit)",
                    args.per_call
                )));
            }
            let region = config.default_region().to_owned();
            config = config.synthesize(SynthSpec {
                seed: args.seed,
                instances: args.instances,
                files: args.files,
                commands: args.commands,
                per_call: args.per_call,
                failure_rate: args.failure_rate,
                drift_rate: args.drift_rate,
                region,
            });
        }
        Ok(config)
    }
}

/// `shipcheck sim`: serve until SIGINT/SIGTERM, then print the counts.
pub fn run(args: &SimArgs) -> Result<Exit, Failure> {
    let config = SimConfig::from_args(args).map_err(|e| match e {
        SimError::Bind { .. } => Failure::unverified(e),
        _ => Failure::invalid(e),
    })?;
    if config.credential_count() == 0 {
        tracing::warn!(
            "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET or add `credentials:` to the state, or every request is refused"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::unverified(miette::miette!("could not start the async runtime: {e}"))
        })?;
    runtime.block_on(async {
        let server = start(config).await.map_err(Failure::unverified)?;
        let mut stdout = std::io::stdout().lock();
        // The first line is the contract scripts wait for.
        let _ = writeln!(stdout, "listening on {}", server.url());
        let _ = stdout.flush();
        drop(stdout);
        wait_for_signal().await;
        let stats = server.stats();
        server.shutdown().await;
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "{}",
            serde_json::to_string(&stats).expect("stats serialise")
        );
        let _ = stdout.flush();
        Ok(Exit::Ok)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
