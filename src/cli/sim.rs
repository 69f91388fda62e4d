//! `shipcheck sim`: the simulator's flags, and serving until a signal.
//!
//! Built without the `sim` feature, the subcommand still parses (so the
//! command line stays the same) and says how to get it.

#[cfg(feature = "sim")]
pub use with_sim::{SimArgs, run};
#[cfg(not(feature = "sim"))]
pub use without_sim::{SimArgs, not_built, run};

#[cfg(feature = "sim")]
mod with_sim {
    use std::path::PathBuf;
    use std::time::Duration;

    use clap::Args;
    use jiff::Timestamp;
    use tokio::runtime::Runtime;

    use crate::cli::terminal;
    use crate::cli::values::parse_duration;
    use crate::exit::{Exit, Failure};
    use crate::sim::{
        ClockSetting, Fault, HostileKind, HostileSpec, SimConfig, SimError, SynthSpec,
    };

    /// `shipcheck sim` options.
    #[derive(Debug, Clone, Args)]
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

        /// Make the listings break their contract this way (see docs/simulator.md).
        #[arg(long, value_enum, value_name = "KIND", help_heading = "Faults")]
        pub hostile: Option<HostileKind>,

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

    impl SimArgs {
        /// The state file (if any), the generated fleet (if asked), the key
        /// pair from the environment (if set), then these flags over the
        /// state's settings.
        fn config(&self) -> Result<SimConfig, SimError> {
            let mut config = match &self.state {
                Some(path) => SimConfig::from_state_file(path)?,
                None => SimConfig::new(),
            };
            config.listen = self.listen.parse().map_err(|_| {
                SimError::InvalidOption(format!(
                    "--listen `{}` is not HOST:PORT (e.g. 127.0.0.1:0)",
                    self.listen
                ))
            })?;
            config = config.with_env_credentials();
            config.seed = self.seed;
            config.timestamp_tolerance = self.timestamp_tolerance;
            if let Some(now) = &self.now {
                let at = now.trim().parse::<Timestamp>().map_err(|e| {
                    SimError::InvalidOption(format!(
                        "--now: `{}` is not an RFC 3339 time ({e})",
                        now.escape_debug()
                    ))
                })?;
                config.clock = ClockSetting::Frozen(at);
            }
            if let Some(retention) = self.retention {
                config.retention = retention;
            }
            if let Some(pending) = self.pending_for {
                config.lifecycle.pending = pending;
            }
            if let Some(running) = self.running_for {
                config.lifecycle.running = running;
            }
            let faults = &mut config.faults;
            let rates = [
                (&mut faults.throttle, self.throttle, "--throttle"),
                (
                    &mut faults.internal_error,
                    self.internal_error,
                    "--internal-error",
                ),
                (&mut faults.unavailable, self.unavailable, "--unavailable"),
                (&mut faults.drop, self.drop, "--drop"),
                (&mut faults.truncate, self.truncate, "--truncate"),
            ];
            for (slot, value, flag) in rates {
                if let Some(rate) = value {
                    *slot = fraction(rate, flag)?;
                }
            }
            if self.latency.is_some() {
                faults.latency = self.latency;
            }
            if self.retry_after.is_some() {
                faults.retry_after_ms = self.retry_after;
            }
            if !self.fault_script.is_empty() {
                faults.script = self.fault_script.clone();
            }
            if !self.fault_actions.is_empty() {
                faults.actions = self.fault_actions.clone();
            }
            if let Some(kind) = self.hostile {
                faults.hostile = Some(HostileSpec::new(kind));
            }
            if faults.seed.is_none() {
                faults.seed = Some(self.seed);
            }
            if self.synthesize {
                let failure_rate = fraction(self.failure_rate, "--failure-rate")?;
                let drift_rate = fraction(self.drift_rate, "--drift-rate")?;
                if !(1..=50).contains(&self.per_call) {
                    return Err(SimError::InvalidOption(format!(
                        "--per-call {} is outside 1 to 50 (SendFile's limit)",
                        self.per_call
                    )));
                }
                let region = config.default_region().to_owned();
                config = config.synthesize(SynthSpec {
                    seed: self.seed,
                    instances: self.instances,
                    files: self.files,
                    commands: self.commands,
                    per_call: self.per_call,
                    failure_rate,
                    drift_rate,
                    region,
                });
            }
            Ok(config)
        }
    }

    fn fraction(rate: f64, flag: &str) -> Result<f64, SimError> {
        if (0.0..=1.0).contains(&rate) {
            Ok(rate)
        } else {
            Err(SimError::InvalidOption(format!(
                "{flag} {rate} is not a fraction between 0 and 1"
            )))
        }
    }

    /// Serves until SIGINT/SIGTERM, then prints the request counts.
    pub fn run(args: &SimArgs, runtime: &Runtime) -> Result<Exit, Failure> {
        let config = args.config().map_err(|e| match e {
            SimError::Bind { .. } => Failure::unverified(e),
            _ => Failure::invalid(e),
        })?;
        if config.credential_count() == 0 {
            tracing::warn!(
                "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET or add `credentials:` to the state, or every request is refused"
            );
        }
        runtime.block_on(async {
            let server = crate::sim::start(config)
                .await
                .map_err(Failure::unverified)?;
            // The first line is the contract scripts wait for.
            terminal::stdout(&format!("listening on {}\n", server.url()))?;
            wait_for_signal().await;
            let stats = server.stats();
            server.shutdown().await;
            let stats = serde_json::to_string(&stats).expect("stats serialise");
            terminal::stdout(&format!("{stats}\n"))?;
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
}

#[cfg(not(feature = "sim"))]
mod without_sim {
    use std::ffi::OsString;

    use clap::Args;
    use tokio::runtime::Runtime;

    use crate::exit::{Exit, Failure};

    /// Whatever `shipcheck sim` would take; refused as a whole.
    #[derive(Debug, Clone, Args)]
    #[command(
        after_help = "This build of shipcheck leaves the simulator out: rebuild with --features sim."
    )]
    pub struct SimArgs {
        #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
        pub args: Vec<OsString>,
    }

    pub fn run(_args: &SimArgs, _runtime: &Runtime) -> Result<Exit, Failure> {
        Err(not_built("sim"))
    }

    /// The error for `what` in a build without the simulator (exit 2).
    pub fn not_built(what: &str) -> Failure {
        Failure::invalid(miette::miette!(
            help = "rebuild with the simulator: cargo build --release --features sim (a default build has it)",
            "`shipcheck {what}` needs the simulator, which this build of shipcheck leaves out"
        ))
    }
}
