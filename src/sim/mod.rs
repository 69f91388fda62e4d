//! The local Cloud Assistant API simulator (`shipcheck sim`).
//!
//! Nothing in the tests can reach Alibaba Cloud, so the project carries a
//! stand-in that speaks the real protocol: signed V1/V3 RPC calls, the
//! documented error envelope, both paging styles, the response quirks of the
//! API documents, task lifecycles, retention and injected faults. The
//! official Python SDK talks to it (tests/data/sdk/), and so does our client.
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
mod errors;
mod faults;
mod lifecycle;
mod listing;
mod paging;
mod server;
mod state;
mod stats;
mod store;
mod synth;
mod tables;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use self::auth::{Credential, Keyring, NonceCache};
use self::clock::SimClock;
use self::faults::FaultPlan;
pub use self::faults::{Fault, FaultSpec};
pub use self::lifecycle::Lifecycle;
use self::paging::TokenTable;
use self::server::{Sim, Styles};
pub use self::state::STATE_SCHEMA;
use self::state::StateFile;
use self::stats::Counters;
pub use self::stats::Stats;
use self::store::World;
pub use self::synth::SynthSpec;
use crate::cli::parse_duration;
use crate::exit::{Exit, Failure};
use crate::secret::Secret;

/// The two APIs the simulator answers, told apart by `Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    /// ECS, version 2014-05-26.
    Ecs,
    /// eflo-controller (Lingjun nodes), version 2022-12-15.
    Eflo,
}

impl Product {
    pub fn from_version(version: &str) -> Option<Self> {
        match version {
            "2014-05-26" => Some(Self::Ecs),
            "2022-12-15" => Some(Self::Eflo),
            _ => None,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Self::Ecs => "2014-05-26",
            Self::Eflo => "2022-12-15",
        }
    }

    /// The prefix of request-count keys (`ecs/SendFile`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Ecs => "ecs",
            Self::Eflo => "eflo-controller",
        }
    }

    fn troubleshoot_name(self) -> &'static str {
        match self {
            Self::Ecs => "Ecs",
            Self::Eflo => "eflo-controller",
        }
    }

    /// ECS answers `...Z` seconds; eflo milliseconds at +08:00.
    fn format_time(self, at: Timestamp) -> String {
        match self {
            Self::Ecs => clock::format_ecs(at),
            Self::Eflo => clock::format_eflo(at),
        }
    }

    /// SendFile invoke ids: `f-` on ECS, `t-` on eflo (its documents' samples).
    fn file_invoke_prefix(self) -> &'static str {
        match self {
            Self::Ecs => "f",
            Self::Eflo => "t",
        }
    }
}

/// Region ids the simulator accepts as `RegionId` (besides those a state
/// uses): Alibaba Cloud's public regions.
const KNOWN_REGIONS: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "na-south-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
];

/// How far a request's timestamp may be from the host clock (the sources
/// say 15 minutes or an hour; the stricter one is used).
pub const DEFAULT_TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(15 * 60);
/// How long records stay visible (the current DescribeSendFileResults
/// document says two weeks; other versions say 30 days or six weeks).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

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

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[allow(unused_assignments)]
pub enum SimError {
    #[error("could not read the simulator state {}", path.display())]
    #[diagnostic(code(shipcheck::sim::read_state))]
    ReadState {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{} is not a valid simulator state:\n{}", path.display(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    #[diagnostic(
        code(shipcheck::sim::invalid_state),
        help(
            "the format is schemas/sim-state.v1.schema.json (`shipcheck schema sim-state`), described in docs/simulator.md"
        )
    )]
    InvalidState {
        path: PathBuf,
        problems: Vec<String>,
    },

    #[error("invalid simulator option: {0}")]
    #[diagnostic(code(shipcheck::sim::invalid_option))]
    InvalidOption(String),

    #[error("could not listen on {addr}")]
    #[diagnostic(
        code(shipcheck::sim::bind),
        help("choose another address with --listen (127.0.0.1:0 picks a free port)")
    )]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// How the simulated clock behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockSetting {
    /// The host clock.
    #[default]
    Host,
    /// Stands still at this instant until advanced.
    Frozen(Timestamp),
    /// Starts at this instant and runs.
    StartingAt(Timestamp),
}

/// Everything `start` needs. Build it from a state file or `SimArgs`, then
/// add credentials and settings with the `with_*` methods.
#[derive(Debug)]
pub struct SimConfig {
    pub listen: SocketAddr,
    world: World,
    credentials: Vec<(String, Credential)>,
    pub clock: ClockSetting,
    pub lifecycle: Lifecycle,
    pub retention: Duration,
    pub timestamp_tolerance: Duration,
    pub faults: FaultSpec,
    pub seed: u64,
    request_id: Option<String>,
    next_tokens: Vec<String>,
    styles: Styles,
    synth: Option<SynthSpec>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SimConfig {
    /// An empty world on 127.0.0.1:0, no credentials, the host clock.
    pub fn new() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            world: World::new(store::DEFAULT_REGION),
            credentials: Vec::new(),
            clock: ClockSetting::Host,
            lifecycle: Lifecycle::default(),
            retention: DEFAULT_RETENTION,
            timestamp_tolerance: DEFAULT_TIMESTAMP_TOLERANCE,
            faults: FaultSpec::default(),
            seed: 0,
            request_id: None,
            next_tokens: Vec::new(),
            styles: Styles::default(),
            synth: None,
        }
    }

    pub fn from_state_file(path: &Path) -> Result<Self, SimError> {
        let state = StateFile::load(path)?;
        Self::from_state(&state, path)
    }

    /// From YAML text; `origin` names it in errors.
    pub fn from_state_str(yaml: &str, origin: &Path) -> Result<Self, SimError> {
        let state = StateFile::parse(yaml, origin)?;
        Self::from_state(&state, origin)
    }

    fn from_state(state: &StateFile, origin: &Path) -> Result<Self, SimError> {
        let invalid = |problems: Vec<String>| SimError::InvalidState {
            path: origin.to_owned(),
            problems,
        };
        if state.version != 1 {
            return Err(invalid(vec![format!(
                "/version: version {} is not supported (this shipcheck reads version 1)",
                state.version
            )]));
        }
        let mut config = Self::new();
        config.world = World::from_state(state).map_err(invalid)?;
        let mut problems = Vec::new();
        for (i, c) in state.credentials.iter().enumerate() {
            let expiration = match c.expiration.as_deref().map(store::parse_time).transpose() {
                Ok(at) => at,
                Err(e) => {
                    problems.push(format!("/credentials/{i}/expiration: {e}"));
                    None
                }
            };
            config.credentials.push((
                c.access_key_id.clone(),
                Credential {
                    secret: c.access_key_secret.clone(),
                    security_token: c.security_token.clone(),
                    expiration,
                },
            ));
        }
        if let Some(clock) = &state.clock {
            match store::parse_time(&clock.now) {
                Ok(at) if clock.frozen => config.clock = ClockSetting::Frozen(at),
                Ok(at) => config.clock = ClockSetting::StartingAt(at),
                Err(e) => problems.push(format!("/clock/now: {e}")),
            }
        }
        if let Some(lifecycle) = &state.lifecycle {
            config.lifecycle = Lifecycle {
                pending: lifecycle.pending.unwrap_or(config.lifecycle.pending),
                running: lifecycle.running.unwrap_or(config.lifecycle.running),
            };
        }
        if let Some(retention) = state.retention {
            config.retention = retention;
        }
        if let Some(faults) = &state.faults {
            config.faults = faults.clone();
        }
        config.request_id = state.responses.request_id.clone();
        config.next_tokens = state.responses.next_tokens.clone();
        config.styles = Styles {
            file_mode: state.responses.file_mode,
            overwrite: state.responses.overwrite,
            eflo_total_count: state.responses.eflo_total_count,
        };
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(invalid(problems))
        }
    }

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
            let at = store::parse_time(now)
                .map_err(|e| SimError::InvalidOption(format!("--now: {e}")))?;
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
            let region = config.world.default_region.clone();
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

    /// Accepts a long-term access key.
    pub fn with_key(mut self, access_key_id: impl Into<String>, secret: Secret) -> Self {
        self.credentials.push((
            access_key_id.into(),
            Credential {
                secret,
                security_token: None,
                expiration: None,
            },
        ));
        self
    }

    /// Accepts an STS triple: requests must carry `security_token`.
    pub fn with_sts(
        mut self,
        access_key_id: impl Into<String>,
        secret: Secret,
        security_token: Secret,
    ) -> Self {
        self.credentials.push((
            access_key_id.into(),
            Credential {
                secret,
                security_token: Some(security_token),
                expiration: None,
            },
        ));
        self
    }

    /// Accepts the pair in ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET when both are set.
    pub fn with_env_credentials(self) -> Self {
        let id = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .ok()
            .filter(|v| !v.is_empty());
        let secret = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .ok()
            .filter(|v| !v.is_empty());
        match (id, secret) {
            (Some(id), Some(secret)) => self.with_key(id, Secret::new(secret)),
            _ => self,
        }
    }

    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    pub fn with_clock(mut self, clock: ClockSetting) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    pub fn with_faults(mut self, faults: FaultSpec) -> Self {
        self.faults = faults;
        self
    }

    /// Adds a generated fleet when the server starts (its times are relative
    /// to the simulated clock's "now" then).
    pub fn synthesize(mut self, spec: SynthSpec) -> Self {
        self.synth = Some(spec);
        self
    }

    /// How many credentials will be accepted (secrets are not shown).
    pub fn credential_count(&self) -> usize {
        self.credentials.len()
    }
}

/// A running simulator. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    sim: Arc<Sim>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// `http://127.0.0.1:PORT`, the endpoint to give a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Request counts so far.
    pub fn stats(&self) -> Stats {
        self.sim.stats()
    }

    /// The simulated "now".
    pub fn now(&self) -> Timestamp {
        self.sim.now()
    }

    /// Moves the simulated clock (lifecycles and retention follow).
    pub fn advance_clock(&self, by: Duration) {
        self.sim
            .clock
            .advance(SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX));
    }

    /// Accepts another long-term key from now on.
    pub fn add_key(&self, access_key_id: impl Into<String>, secret: Secret) {
        self.sim.keyring.insert(
            access_key_id.into(),
            Credential {
                secret,
                security_token: None,
                expiration: None,
            },
        );
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Binds the listen address and serves in a spawned task.
pub async fn start(config: SimConfig) -> Result<SimServer, SimError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen.to_string(),
        source,
    })?;
    let clock = match config.clock {
        ClockSetting::Host => SimClock::host(),
        ClockSetting::Frozen(at) => SimClock::frozen(at),
        ClockSetting::StartingAt(at) => SimClock::starting_at(at),
    };
    let mut world = config.world;
    if let Some(spec) = &config.synth {
        synth::populate(&mut world, spec, clock.now());
    }
    let mut regions: BTreeSet<String> = KNOWN_REGIONS.iter().map(|r| (*r).to_owned()).collect();
    regions.insert(world.default_region.clone());
    regions.extend(world.machines.values().map(|m| m.region.clone()));
    regions.extend(world.deliveries.iter().map(|d| d.region.clone()));
    regions.extend(world.invocations.iter().map(|i| i.region.clone()));
    let keyring = Keyring::default();
    for (id, credential) in config.credentials {
        keyring.insert(id, credential);
    }
    let sim = Arc::new(Sim {
        world: std::sync::RwLock::new(world),
        clock,
        lifecycle: config.lifecycle,
        retention: config.retention,
        tokens: std::sync::Mutex::new(TokenTable::new(config.next_tokens)),
        styles: config.styles,
        fixed_request_id: config.request_id,
        keyring,
        nonces: NonceCache::default(),
        tolerance: config.timestamp_tolerance,
        faults: FaultPlan::new(config.faults, config.seed),
        fault_sequence: AtomicU64::new(0),
        counters: Counters::default(),
        regions,
    });
    let (shutdown, receiver) = watch::channel(false);
    let router = server::router(sim.clone());
    let task = tokio::spawn(server::serve(listener, router, receiver));
    Ok(SimServer {
        addr,
        sim,
        shutdown,
        task: Some(task),
    })
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
