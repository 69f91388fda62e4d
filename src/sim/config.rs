//! What a simulator run is made of, and where it comes from: a state file
//! (checked against its schema, every problem reported at once), then the
//! builders tests and `shipcheck sim` add keys and settings with.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::auth::Credential;
use super::context::Styles;
use super::faults::FaultSpec;
use super::lifecycle::Lifecycle;
use super::records::parse_time;
use super::regions::DEFAULT_REGION;
use super::state::{StateFile, schema_problems};
use super::store::World;
use super::synth::SynthSpec;
use crate::secret::Secret;

/// How far a request's timestamp may be from the host clock (the sources
/// say 15 minutes or an hour; the stricter one is used).
pub const DEFAULT_TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(15 * 60);
/// How long records stay visible (the current DescribeSendFileResults
/// document says two weeks; other versions say 30 days or six weeks).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

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

/// Everything `start` needs. Build it from a state file or from nothing, then
/// add credentials and settings with the `with_*` methods.
#[derive(Debug)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub(super) world: World,
    pub(super) credentials: Vec<(String, Credential)>,
    pub clock: ClockSetting,
    pub lifecycle: Lifecycle,
    pub retention: Duration,
    pub timestamp_tolerance: Duration,
    pub faults: FaultSpec,
    pub seed: u64,
    pub(super) request_id: Option<String>,
    pub(super) next_tokens: Vec<String>,
    pub(super) styles: Styles,
    pub(super) synth: Option<SynthSpec>,
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
            world: World::new(DEFAULT_REGION),
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
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadState {
            path: path.to_owned(),
            source,
        })?;
        Self::from_state_str(&text, path)
    }

    /// From YAML text; `origin` names it in errors.
    pub fn from_state_str(yaml: &str, origin: &Path) -> Result<Self, SimError> {
        let state = read_state(yaml, origin)?;
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
            let expiration = match c.expiration.as_deref().map(parse_time).transpose() {
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
            match parse_time(&clock.now) {
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

    /// Accepts a long-term access key.
    pub fn with_key(mut self, access_key_id: impl Into<String>, secret: Secret) -> Self {
        self.credentials
            .push((access_key_id.into(), Credential::long_term(secret)));
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

    /// The region of requests and records that name none.
    pub fn default_region(&self) -> &str {
        &self.world.default_region
    }

    /// How many credentials will be accepted (secrets are not shown).
    pub fn credential_count(&self) -> usize {
        self.credentials.len()
    }
}

/// Reads a state: YAML syntax, then the schema (every problem at once, each
/// with its path), then the typed model.
fn read_state(text: &str, origin: &Path) -> Result<StateFile, SimError> {
    // A snippet quotes the lines around an error; never let it quote a
    // secret.
    let has_secrets = text.contains("access_key_secret") || text.contains("security_token");
    let invalid = |error: serde_saphyr::Error| SimError::InvalidState {
        path: origin.to_owned(),
        problems: vec![if has_secrets {
            error.without_snippet().to_string()
        } else {
            error.to_string()
        }],
    };
    let value: serde_json::Value = serde_saphyr::from_str(text).map_err(invalid)?;
    let problems = schema_problems(&value);
    if !problems.is_empty() {
        return Err(SimError::InvalidState {
            path: origin.to_owned(),
            problems,
        });
    }
    serde_saphyr::from_str(text).map_err(invalid)
}
