//! Faults on request: throttling, 5xx, latency, dropped connections and
//! truncated bodies, so clients' retry and error paths meet the failures
//! they will meet in the cloud (PROTOCOL.md §3.3).
//!
//! Each API request gets a sequence number; its fault is drawn from a
//! generator seeded with (seed, sequence number), so the i-th request meets
//! the same fault on every run, whatever the concurrency. A `script` lists
//! exact faults for the first requests, for tests that must not depend on
//! probabilities at all.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde::Deserialize;

use super::hostile::HostileSpec;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Served normally.
    None,
    /// HTTP 400 `Throttling.User` with `x-acs-retry-after`.
    Throttle,
    /// HTTP 500 `InternalError.Dispatch`.
    InternalError,
    /// HTTP 503 `ServiceUnavailable`.
    Unavailable,
    /// The connection is closed without a response.
    Drop,
    /// The action runs, then the response body is cut short.
    Truncate,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Throttle => "throttle",
            Self::InternalError => "internal-error",
            Self::Unavailable => "unavailable",
            Self::Drop => "drop",
            Self::Truncate => "truncate",
        }
    }
}

/// Fault settings, from a state file's `faults:` or the command line.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub seed: Option<u64>,
    /// Fractions of requests, 0 to 1.
    #[serde(default)]
    pub throttle: f64,
    #[serde(default)]
    pub internal_error: f64,
    #[serde(default)]
    pub unavailable: f64,
    #[serde(default)]
    pub drop: f64,
    #[serde(default)]
    pub truncate: f64,
    /// Added to every API request.
    #[serde(default, with = "humantime_opt")]
    pub latency: Option<Duration>,
    /// The `x-acs-retry-after` value of throttling answers, in ms.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// Exact faults for the first requests, before the rates apply.
    #[serde(default)]
    pub script: Vec<Fault>,
    /// Only these actions meet faults (default: all).
    #[serde(default)]
    pub actions: Vec<String>,
    /// A listing that breaks its own contract (see `sim/hostile.rs`).
    #[serde(default)]
    pub hostile: Option<HostileSpec>,
}

mod humantime_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| humantime::parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

pub const DEFAULT_RETRY_AFTER_MS: u64 = 1000;

/// The decided plan: which fault the n-th request meets.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    spec: FaultSpec,
    seed: u64,
}

impl FaultPlan {
    pub fn new(spec: FaultSpec, default_seed: u64) -> Self {
        let seed = spec.seed.unwrap_or(default_seed);
        Self { spec, seed }
    }

    pub fn latency(&self) -> Option<Duration> {
        self.spec.latency
    }

    pub fn retry_after_ms(&self) -> u64 {
        self.spec.retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS)
    }

    /// The hostile listing kind switched on, if any.
    pub fn hostile(&self) -> Option<&HostileSpec> {
        self.spec.hostile.as_ref()
    }

    pub fn applies_to(&self, action: &str) -> bool {
        self.spec.actions.is_empty() || self.spec.actions.iter().any(|a| a == action)
    }

    /// The fault for the request with this sequence number (0-based, counting
    /// only the requests the faults apply to).
    pub fn fault_for(&self, sequence: u64) -> Fault {
        if let Some(fault) = usize::try_from(sequence)
            .ok()
            .and_then(|i| self.spec.script.get(i))
        {
            return *fault;
        }
        let spec = &self.spec;
        let rates = [
            (Fault::Throttle, spec.throttle),
            (Fault::InternalError, spec.internal_error),
            (Fault::Unavailable, spec.unavailable),
            (Fault::Drop, spec.drop),
            (Fault::Truncate, spec.truncate),
        ];
        if rates.iter().all(|(_, rate)| *rate <= 0.0) {
            return Fault::None;
        }
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let draw: f64 = rng.random();
        let mut edge = 0.0;
        for (fault, rate) in rates {
            edge += rate.max(0.0);
            if draw < edge {
                return fault;
            }
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults() {
        let spec = FaultSpec {
            throttle: 0.2,
            drop: 0.1,
            ..FaultSpec::default()
        };
        let a = FaultPlan::new(spec.clone(), 7);
        let b = FaultPlan::new(spec.clone(), 7);
        let c = FaultPlan::new(spec, 8);
        let run = |p: &FaultPlan| (0..500).map(|i| p.fault_for(i)).collect::<Vec<_>>();
        assert_eq!(run(&a), run(&b));
        assert_ne!(run(&a), run(&c));
        let throttled = run(&a).iter().filter(|f| **f == Fault::Throttle).count();
        assert!(
            (60..=140).contains(&throttled),
            "{throttled} of 500 throttled at 20%"
        );
    }

    #[test]
    fn script_comes_first() {
        let plan = FaultPlan::new(
            FaultSpec {
                script: vec![Fault::Throttle, Fault::None, Fault::Drop],
                ..FaultSpec::default()
            },
            0,
        );
        let faults: Vec<_> = (0..4).map(|i| plan.fault_for(i)).collect();
        assert_eq!(
            faults,
            [Fault::Throttle, Fault::None, Fault::Drop, Fault::None]
        );
    }
}
