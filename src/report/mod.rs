//! The report model and one renderer per output format.
//!
//! `evaluate` builds a [`Report`]; each submodule turns it into one format.
//! Renderers only format: they never decide the verdict or the exit code,
//! so `--format` can never change the outcome of a check.

pub mod model;

pub use model::{Outcome, Report, Summary, Verdict};
