//! The simulated clock: what "now" is for task lifecycles and retention.
//!
//! Tests and state files pin it (so a 2020 sample is not aged out, and a
//! task's move from Pending to Running is driven by `advance`, never by
//! sleeping). Signature timestamps are *not* checked against this clock but
//! against the host's, because clients sign with the host's clock.

use std::sync::Mutex;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

#[derive(Debug)]
pub struct SimClock {
    mode: Mutex<Mode>,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// The host clock, shifted by `advance` calls.
    Host { offset: SignedDuration },
    /// A fixed instant that moves only with `advance`.
    Frozen { at: Timestamp },
    /// Starts at a chosen instant and then runs in real time.
    Running { start: Timestamp, since: Instant },
}

impl SimClock {
    pub fn host() -> Self {
        Self::with(Mode::Host {
            offset: SignedDuration::ZERO,
        })
    }

    pub fn frozen(at: Timestamp) -> Self {
        Self::with(Mode::Frozen { at })
    }

    pub fn starting_at(start: Timestamp) -> Self {
        Self::with(Mode::Running {
            start,
            since: Instant::now(),
        })
    }

    fn with(mode: Mode) -> Self {
        Self {
            mode: Mutex::new(mode),
        }
    }

    pub fn now(&self) -> Timestamp {
        match *self.mode.lock().expect("clock lock") {
            Mode::Host { offset } => Timestamp::now().saturating_add(offset).expect("in range"),
            Mode::Frozen { at } => at,
            Mode::Running { start, since } => start
                .saturating_add(SignedDuration::try_from(since.elapsed()).unwrap_or_default())
                .expect("in range"),
        }
    }

    /// Moves simulated time forward (or back, with a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let mut mode = self.mode.lock().expect("clock lock");
        *mode = match *mode {
            Mode::Host { offset } => Mode::Host {
                offset: offset.saturating_add(by),
            },
            Mode::Frozen { at } => Mode::Frozen {
                at: at.saturating_add(by).expect("in range"),
            },
            Mode::Running { start, since } => Mode::Running {
                start: start.saturating_add(by).expect("in range"),
                since,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let at: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let clock = SimClock::frozen(at);
        assert_eq!(clock.now(), at);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now().to_string(), "2024-01-01T00:01:30Z");
    }
}
