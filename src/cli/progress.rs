//! What `check` shows on stderr while it runs: the fetch's progress
//! (queries done of total, records, retries, throttling) and `--wait`'s
//! polling.
//!
//! Progress goes to stderr only and only on a terminal: stdout carries the
//! one final report, and a CI log gets the `-v` log lines instead.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::terminal;
use crate::check::{FetchProgress, Progress};

/// Draws a check's progress; does nothing when stderr is not a terminal.
#[derive(Debug)]
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// A spinner that only draws if stderr is a terminal.
    pub fn new() -> Self {
        if !terminal::stderr_is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        bar.set_message("planning");
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(Some(bar))
    }

    /// Clears the spinner before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// `3/10 queries, 512 records, 2 retries, 1 throttled`: the parts that
/// are not zero, after the count of queries.
pub fn fetch_message(progress: &FetchProgress) -> String {
    let mut message = format!("{}/{} queries", progress.done, progress.total);
    for (n, what) in [
        (progress.records, "records"),
        (progress.retries, "retries"),
        (progress.throttled, "throttled"),
        (progress.failed as u64, "failed"),
    ] {
        if n > 0 {
            message.push_str(&format!(", {n} {what}"));
        }
    }
    message
}

impl Progress for Spinner {
    fn fetching(&mut self, progress: &FetchProgress) {
        if let Some(bar) = &self.0 {
            bar.set_message(fetch_message(progress));
        }
    }

    fn waiting(&mut self, pending: usize, left: Duration) {
        if let Some(bar) = &self.0 {
            bar.set_message(format!(
                "{pending} pending; waiting up to {} more",
                humantime::format_duration(Duration::from_secs(left.as_secs()))
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_what_was_seen() {
        let mut progress = FetchProgress {
            done: 3,
            total: 10,
            ..FetchProgress::default()
        };
        assert_eq!(fetch_message(&progress), "3/10 queries");
        progress.records = 512;
        progress.retries = 2;
        progress.throttled = 1;
        assert_eq!(
            fetch_message(&progress),
            "3/10 queries, 512 records, 2 retries, 1 throttled"
        );
    }
}
