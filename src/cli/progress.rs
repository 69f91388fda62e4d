//! The spinner `check --wait` shows on stderr while deliveries settle.
//!
//! Progress goes to stderr only and only on a terminal: stdout carries the
//! one final report, and a CI log gets the `-v` log lines instead.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::terminal;
use crate::check::Progress;

/// Draws `--wait`'s polling; does nothing when there is no terminal.
#[derive(Debug)]
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// A spinner that only draws if `waiting` and stderr is a terminal.
    pub fn new(waiting: bool) -> Self {
        if !waiting || !terminal::stderr_is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
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

impl Progress for Spinner {
    fn waiting(&mut self, pending: usize, left: Duration) {
        if let Some(bar) = &self.0 {
            bar.set_message(format!(
                "{pending} pending; waiting up to {} more",
                humantime::format_duration(Duration::from_secs(left.as_secs()))
            ));
        }
    }
}
