//! The exit codes: a stable contract (README, DESIGN.md), whatever the format.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every expectation holds (warnings and waived findings allowed).
    Ok = 0,
    /// Drift: at least one expectation does not hold.
    Drift = 1,
    /// The manifest or the command line is invalid.
    Invalid = 2,
    /// Could not verify: API, credentials, network, or incomplete data.
    Unverified = 3,
    /// `--wait` deadline passed while deliveries were still pending.
    Pending = 4,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// An error that ends the run, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub report: miette::Report,
}

impl Failure {
    pub fn invalid(report: impl Into<miette::Report>) -> Self {
        Self {
            exit: Exit::Invalid,
            report: report.into(),
        }
    }

    pub fn unverified(report: impl Into<miette::Report>) -> Self {
        Self {
            exit: Exit::Unverified,
            report: report.into(),
        }
    }
}
