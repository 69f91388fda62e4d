//! The two APIs the simulator serves from one endpoint, and what differs
//! between them in requests and answers.

use jiff::Timestamp;

use super::clock;

/// The two APIs the simulator answers, told apart by `Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    /// ECS, version 2014-05-26.
    Ecs,
    /// eflo-controller (Lingjun nodes), version 2022-12-15.
    Eflo,
}

impl Product {
    pub fn from_version(version: &str) -> Option<Self> {
        match version {
            "2014-05-26" => Some(Self::Ecs),
            "2022-12-15" => Some(Self::Eflo),
            _ => None,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Self::Ecs => "2014-05-26",
            Self::Eflo => "2022-12-15",
        }
    }

    /// The prefix of request-count keys (`ecs/SendFile`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Ecs => "ecs",
            Self::Eflo => "eflo-controller",
        }
    }

    pub fn troubleshoot_name(self) -> &'static str {
        match self {
            Self::Ecs => "Ecs",
            Self::Eflo => "eflo-controller",
        }
    }

    /// ECS answers `...Z` seconds; eflo milliseconds at +08:00.
    pub fn format_time(self, at: Timestamp) -> String {
        match self {
            Self::Ecs => clock::format_ecs(at),
            Self::Eflo => clock::format_eflo(at),
        }
    }

    /// SendFile invoke ids: `f-` on ECS, `t-` on eflo (its documents' samples).
    pub fn file_invoke_prefix(self) -> &'static str {
        match self {
            Self::Ecs => "f",
            Self::Eflo => "t",
        }
    }
}
