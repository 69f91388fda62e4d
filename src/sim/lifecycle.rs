//! How a task's status moves with time: Pending, then Running, then final.
//!
//! Nothing is scheduled: a record stores its final outcome and its creation
//! time, and the status shown is derived from the simulated clock when a
//! request reads it. So the same state answers the same way at the same
//! simulated instant, and tests move through the lifecycle with
//! `SimClock::advance` instead of sleeping.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// How long a task spends in each non-final phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub pending: Duration,
    pub running: Duration,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            pending: Duration::from_secs(1),
            running: Duration::from_secs(2),
        }
    }
}

/// Where a task is at a given instant, with the times of its transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running {
        started: Timestamp,
    },
    Final {
        started: Option<Timestamp>,
        finished: Timestamp,
    },
}

impl Lifecycle {
    /// The phase at `now` of a task created at `created` whose final status
    /// is `final_status`. Outcomes that never start on the machine (Aborted,
    /// Invalid) go straight from Pending to final.
    pub fn phase(&self, created: Timestamp, now: Timestamp, final_status: &str) -> Phase {
        let starts = !never_starts(final_status);
        let started = add(created, self.pending);
        let finished = if starts {
            add(started, self.running)
        } else {
            started
        };
        if now >= finished {
            Phase::Final {
                started: starts.then_some(started),
                finished,
            }
        } else if now >= started && starts {
            Phase::Running { started }
        } else {
            Phase::Pending
        }
    }

    /// The status shown at `now`: Pending, Running, or `final_status`.
    pub fn status_at<'a>(
        &self,
        created: Timestamp,
        now: Timestamp,
        final_status: &'a str,
    ) -> &'a str {
        match self.phase(created, now, final_status) {
            Phase::Pending => "Pending",
            Phase::Running { .. } => "Running",
            Phase::Final { .. } => final_status,
        }
    }
}

fn add(at: Timestamp, by: Duration) -> Timestamp {
    at.saturating_add(SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX))
        .expect("in range")
}

fn never_starts(status: &str) -> bool {
    matches!(status, "Aborted" | "Invalid" | "Cancelled")
}

/// Per-target statuses that count as a failure for the overall status.
pub fn is_failure(status: &str) -> bool {
    matches!(
        status,
        "Failed" | "Aborted" | "Invalid" | "Timeout" | "Error" | "Cancelled" | "Terminated"
    )
}

/// The overall status of a task from its targets' statuses (PROTOCOL.md
/// §5.1): Running or Pending while any target is, Success when all
/// succeeded, Failed when all failed, PartialFailed otherwise.
pub fn overall<'a>(statuses: impl IntoIterator<Item = &'a str>) -> &'static str {
    let (mut any, mut running, mut pending, mut success, mut failed) =
        (false, false, false, false, false);
    for status in statuses {
        any = true;
        match status {
            "Running" | "Stopping" => running = true,
            "Pending" | "Scheduled" => pending = true,
            "Success" => success = true,
            s if is_failure(s) => failed = true,
            _ => {}
        }
    }
    if running {
        "Running"
    } else if pending {
        "Pending"
    } else if !any || (failed && !success) {
        "Failed"
    } else if failed {
        "PartialFailed"
    } else {
        "Success"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_task_moves_through_its_phases() {
        let lifecycle = Lifecycle {
            pending: Duration::from_secs(10),
            running: Duration::from_secs(20),
        };
        let created = at("2024-01-01T00:00:00Z");
        assert_eq!(
            lifecycle.phase(created, at("2024-01-01T00:00:09Z"), "Success"),
            Phase::Pending
        );
        assert_eq!(
            lifecycle.phase(created, at("2024-01-01T00:00:10Z"), "Success"),
            Phase::Running {
                started: at("2024-01-01T00:00:10Z")
            }
        );
        assert_eq!(
            lifecycle.phase(created, at("2024-01-01T00:00:30Z"), "Success"),
            Phase::Final {
                started: Some(at("2024-01-01T00:00:10Z")),
                finished: at("2024-01-01T00:00:30Z")
            }
        );
        // An aborted delivery never runs.
        assert_eq!(
            lifecycle.phase(created, at("2024-01-01T00:00:10Z"), "Aborted"),
            Phase::Final {
                started: None,
                finished: at("2024-01-01T00:00:10Z")
            }
        );
    }

    #[test]
    fn overall_status_rules() {
        assert_eq!(overall(["Success", "Success"]), "Success");
        assert_eq!(overall(["Success", "Failed"]), "PartialFailed");
        assert_eq!(overall(["Aborted", "Failed"]), "Failed");
        assert_eq!(overall(["Success", "Running", "Pending"]), "Running");
        assert_eq!(overall(["Success", "Pending"]), "Pending");
    }
}
