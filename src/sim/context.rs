//! What every request handler shares: the world behind its lock, the
//! clock, the accepted keys, the issued NextTokens, the fault plan and the
//! counters. The server builds one per run; the actions read it.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use jiff::Timestamp;

use super::auth::{Keyring, NonceCache};
use super::clock::SimClock;
use super::faults::FaultPlan;
use super::hostile::HostileState;
use super::lifecycle::Lifecycle;
use super::paging::TokenTable;
use super::state::{FileModeStyle, OverwriteStyle, TotalCountStyle};
use super::stats::{Counters, Stats};
use super::store::{World, retention_cutoff};

/// How responses spell the fields whose type varies between documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Styles {
    pub file_mode: FileModeStyle,
    pub overwrite: OverwriteStyle,
    pub eflo_total_count: TotalCountStyle,
}

/// Everything a request handler reads or changes.
#[derive(Debug)]
pub struct Sim {
    /// Readers share it; SendFile and RunCommand take it alone, briefly.
    pub(super) world: RwLock<World>,
    pub(super) clock: SimClock,
    pub(super) lifecycle: Lifecycle,
    pub(super) retention: Duration,
    pub(super) tokens: Mutex<TokenTable>,
    pub(super) styles: Styles,
    pub(super) fixed_request_id: Option<String>,
    pub(super) keyring: Keyring,
    pub(super) nonces: NonceCache,
    pub(super) tolerance: Duration,
    pub(super) faults: FaultPlan,
    pub(super) fault_sequence: AtomicU64,
    pub(super) hostile: HostileState,
    pub(super) counters: Counters,
    pub(super) regions: BTreeSet<String>,
}

impl Sim {
    /// Hold it only to pick records: they are `Arc`s, render them after.
    pub fn world(&self) -> RwLockReadGuard<'_, World> {
        self.world.read().expect("world lock")
    }

    pub fn world_mut(&self) -> RwLockWriteGuard<'_, World> {
        self.world.write().expect("world lock")
    }

    pub fn tokens(&self) -> MutexGuard<'_, TokenTable> {
        self.tokens.lock().expect("token lock")
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    pub fn presentation(&self) -> Styles {
        self.styles
    }

    pub fn retention_cutoff(&self, now: Timestamp) -> Timestamp {
        retention_cutoff(now, self.retention)
    }

    pub fn knows_region(&self, region: &str) -> bool {
        self.regions.contains(region)
    }

    pub fn default_region(&self) -> String {
        self.world().default_region.clone()
    }

    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    pub fn request_id(&self) -> String {
        self.fixed_request_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string().to_uppercase())
    }
}
