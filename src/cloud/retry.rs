//! When to try again, and how long to wait first.
//!
//! Throttling is normal on this API, so patience is the default: codes in the
//! throttling family, `ServiceUnavailable`, `InternalError*`, `UnknownError`,
//! any 5xx, and connect/read timeouts and resets are retried (every action
//! this client calls is a read, so a retry is always safe). Waits use
//! full-jitter exponential backoff (AWS architecture blog, "Exponential
//! Backoff and Jitter"), never shorter than the server's `x-acs-retry-after`.
//! Anything else fails at once.
//!
//! Throttling and failure are counted apart. A throttled answer says the
//! API is healthy but busy: it gets its own, larger bound
//! ([`RetryPolicy::max_throttled`]) and does not spend the small attempt
//! budget kept for errors (5xx, broken connections, malformed bodies), so a
//! request that meets a throttle and then an error is not one step closer to
//! giving up than one that met the error alone. Both are bounded in total
//! time by [`RetryPolicy::budget`], and the transport slows the whole client
//! down while throttling lasts (see [`crate::cloud::transport`]).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::cloud::error::{CloudError, GiveUpReason};

/// The retry rules for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most attempts per request that may fail with an error (5xx, a
    /// transport failure, a malformed body), the first one included (at
    /// least 1). Throttled answers do not count here.
    pub max_attempts: u32,
    /// The most throttled answers one request may meet before giving up.
    pub max_throttled: u32,
    /// The most time one request may take, waits included.
    pub budget: Duration,
    /// The first retry waits up to this long...
    pub base_delay: Duration,
    /// ...doubling per retry, up to this.
    pub max_delay: Duration,
    /// `x-acs-retry-after` is honoured up to this long (the CLI caps it at 60 s).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_throttled: 20,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The backoff ceiling before retry number `retry` (0 for the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The wait before retry number `retry`: uniform in `[0, ceiling]`, but at
    /// least the server's `retry_after` (itself capped).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(retry);
        let jitter = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(rand::random_range(0..=ceiling.as_nanos() as u64))
        };
        match retry_after {
            Some(after) => jitter.max(after.min(self.max_retry_after)),
            None => jitter,
        }
    }
}

/// Codes and statuses worth another attempt (PROTOCOL.md §3.3).
pub fn is_retryable(code: &str, status: u16) -> bool {
    status >= 500
        || status == 429
        || code.contains("Throttling")
        || code == "ServiceUnavailable"
        || code.starts_with("InternalError")
        || code == "UnknownError"
}

/// A failed attempt, with whether it is worth repeating.
#[derive(Debug)]
pub(crate) struct AttemptError {
    pub error: CloudError,
    pub retryable: bool,
    /// `x-acs-retry-after`, when the server sent one.
    pub retry_after: Option<Duration>,
    /// A throttled answer (the API is busy, not failing).
    pub throttled: bool,
}

impl AttemptError {
    pub fn fatal(error: CloudError) -> Self {
        Self {
            error,
            retryable: false,
            retry_after: None,
            throttled: false,
        }
    }

    pub fn transient(error: CloudError, retry_after: Option<Duration>) -> Self {
        Self {
            error,
            retryable: true,
            retry_after,
            throttled: false,
        }
    }
}

/// Counters shared by the requests of one fetch.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub slept_micros: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the policy runs out.
///
/// `attempt` gets the attempt number (from 1) and the time left in the
/// budget, which it should use as its own timeout.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    action: &str,
    stats: &Stats,
    mut attempt: F,
) -> Result<T, CloudError>
where
    F: FnMut(u32, Duration) -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let started = Instant::now();
    let max_attempts = policy.max_attempts.max(1);
    let (mut number, mut failed, mut throttled) = (1, 0, 0);
    loop {
        let remaining = policy.budget.saturating_sub(started.elapsed());
        let failure = match attempt(number, remaining).await {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        if !failure.retryable {
            return Err(failure.error);
        }
        let give_up = |reason, last| CloudError::GaveUp {
            action: action.to_owned(),
            attempts: number,
            elapsed: started.elapsed(),
            reason,
            last: Box::new(last),
        };
        // The wait grows with every retry, whatever its cause.
        let delay = policy.delay(number - 1, failure.retry_after);
        if failure.throttled {
            throttled += 1;
            if throttled >= policy.max_throttled.max(1) {
                return Err(give_up(GiveUpReason::Throttled, failure.error));
            }
        } else {
            failed += 1;
            if failed >= max_attempts {
                return Err(give_up(GiveUpReason::Attempts, failure.error));
            }
        }
        if started.elapsed() + delay >= policy.budget {
            return Err(give_up(GiveUpReason::Budget, failure.error));
        }
        Stats::add(&stats.retries, 1);
        Stats::add(&stats.slept_micros, delay.as_micros() as u64);
        tracing::info!(
            action = %action,
            attempt = number,
            delay_ms = delay.as_millis() as u64,
            retry_after_ms = failure.retry_after.map(|d| d.as_millis() as u64),
            throttled = failure.throttled,
            reason = %failure.error,
            "retrying"
        );
        tokio::time::sleep(delay).await;
        number += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::from_millis(500));
        assert_eq!(p.ceiling(1), Duration::from_secs(1));
        assert_eq!(p.ceiling(3), Duration::from_secs(4));
        assert_eq!(p.ceiling(10), Duration::from_secs(20));
        assert_eq!(p.ceiling(200), Duration::from_secs(20));
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling_and_spreads() {
        let p = RetryPolicy::default();
        let delays: Vec<Duration> = (0..200).map(|_| p.delay(2, None)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(2)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 150,
            "jitter should spread waits: {}",
            distinct.len()
        );
    }

    #[test]
    fn retry_after_is_a_floor_and_is_capped() {
        let p = RetryPolicy::default();
        for _ in 0..50 {
            assert!(p.delay(0, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(60)
        );
    }

    /// Runs `run` over scripted failures (`t` throttled, `e` an error),
    /// then success; returns the attempts made or the give-up reason.
    async fn scripted(policy: &RetryPolicy, script: &str) -> Result<u32, GiveUpReason> {
        let script: Vec<char> = script.chars().collect();
        let made = std::sync::atomic::AtomicU32::new(0);
        let result = run(policy, "Test", &Stats::default(), |number, _| {
            made.fetch_add(1, Ordering::Relaxed);
            let step = script.get(number as usize - 1).copied();
            async move {
                let error = || CloudError::Config {
                    detail: "scripted".into(),
                    help: String::new(),
                };
                match step {
                    Some('t') => Err(AttemptError {
                        throttled: true,
                        ..AttemptError::transient(error(), None)
                    }),
                    Some(_) => Err(AttemptError::transient(error(), None)),
                    None => Ok(()),
                }
            }
        })
        .await;
        match result {
            Ok(()) => Ok(made.load(Ordering::Relaxed)),
            Err(CloudError::GaveUp { reason, .. }) => Err(reason),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn throttles_do_not_spend_the_error_budget() {
        let policy = RetryPolicy {
            max_attempts: 3,
            max_throttled: 4,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            ..RetryPolicy::default()
        };
        // Two errors and three throttles: within both bounds.
        assert_eq!(scripted(&policy, "tetet").await, Ok(6));
        assert_eq!(scripted(&policy, "teee").await, Err(GiveUpReason::Attempts));
        assert_eq!(
            scripted(&policy, "ttett").await,
            Err(GiveUpReason::Throttled)
        );
    }

    #[test]
    fn retryable_codes() {
        for code in [
            "Throttling",
            "Throttling.User",
            "Throttling.Api",
            "Rejected.Throttling",
            "ServiceUnavailable",
            "InternalError",
            "InternalError.Dispatch",
            "UnknownError",
        ] {
            assert!(is_retryable(code, 400), "{code}");
        }
        assert!(is_retryable("Anything", 502));
        for code in [
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId.NotFound",
            "Forbidden.RAM",
            "InvalidParam.PageSize",
        ] {
            assert!(!is_retryable(code, 400), "{code}");
        }
    }
}
