//! Request counts, so benchmarks and tests can check how many API calls a
//! client made (served at `/_sim/stats` and printed on exit).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every API request received (not counting `/_sim/*`).
    pub total: u64,
    /// Requests per `product/Action` (e.g. `ecs/DescribeSendFileResults`),
    /// whatever their outcome.
    pub requests: BTreeMap<String, u64>,
    /// Error answers per code (faults included).
    pub errors: BTreeMap<String, u64>,
    /// Injected faults per kind.
    pub faults: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct Counters {
    stats: Mutex<Stats>,
}

impl Counters {
    pub fn request(&self, label: &str) {
        let mut stats = self.stats.lock().expect("stats lock");
        stats.total += 1;
        *stats.requests.entry(label.to_owned()).or_default() += 1;
    }

    pub fn error(&self, code: &str) {
        *self
            .stats
            .lock()
            .expect("stats lock")
            .errors
            .entry(code.to_owned())
            .or_default() += 1;
    }

    pub fn fault(&self, kind: &str) {
        *self
            .stats
            .lock()
            .expect("stats lock")
            .faults
            .entry(kind.to_owned())
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> Stats {
        self.stats.lock().expect("stats lock").clone()
    }
}
