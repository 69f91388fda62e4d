//! A running simulator: `start` binds and serves in a task; the handle
//! tells the URL, reads the counters, moves the clock and stops it.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::auth::{Credential, Keyring, NonceCache};
use super::clock::SimClock;
use super::config::{ClockSetting, SimConfig, SimError};
use super::context::Sim;
use super::faults::FaultPlan;
use super::paging::TokenTable;
use super::regions;
use super::server;
use super::stats::{Counters, Stats};
use super::synth;
use crate::secret::Secret;

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
        self.sim
            .keyring
            .insert(access_key_id.into(), Credential::long_term(secret));
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
    let regions = regions::accepted(world.regions());
    let keyring = Keyring::default();
    for (id, credential) in config.credentials {
        keyring.insert(id, credential);
    }
    let sim = Arc::new(Sim {
        world: RwLock::new(world),
        clock,
        lifecycle: config.lifecycle,
        retention: config.retention,
        tokens: Mutex::new(TokenTable::new(config.next_tokens)),
        styles: config.styles,
        fixed_request_id: config.request_id,
        keyring,
        nonces: NonceCache::default(),
        tolerance: config.timestamp_tolerance,
        faults: FaultPlan::new(config.faults, config.seed),
        fault_sequence: AtomicU64::new(0),
        hostile: Default::default(),
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
