//! What the records of both kinds share: times as a state wrote them or
//! as the simulator made them, and per-target outcomes.
//!
//! Records (`delivery`, `invocation`) keep their *final* outcome and
//! creation time; what a reader sees at a given instant (Pending, Running,
//! final; which times are set) is derived by `lifecycle`, and retention is
//! applied when reading. Records never change once stored, so the tables
//! share them as `Arc`s.

use jiff::Timestamp;

use crate::protocol::Provider;
use crate::protocol::time::parse_response_time;

/// A time as the state wrote it (echoed verbatim) or as the simulator made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub at: Timestamp,
    pub text: Option<String>,
}

impl Stamp {
    pub fn made(at: Timestamp) -> Self {
        Self { at, text: None }
    }

    /// Parses an RFC 3339 time; surrounding whitespace is ignored for the
    /// instant but kept for the echo (the eflo sample has a trailing newline).
    pub fn written(text: &str) -> Result<Self, String> {
        let at = parse_time(text)?;
        Ok(Self {
            at,
            text: Some(text.to_owned()),
        })
    }

    pub fn show(&self, product: Provider) -> String {
        self.text
            .clone()
            .unwrap_or_else(|| product.format_time(self.at))
    }
}

/// Times as one product writes them, each instant formatted once: the
/// targets of a task share their start and finish times, and formatting
/// them is most of what rendering a large page costs.
#[derive(Debug)]
pub struct TimeTexts {
    product: Provider,
    seen: Vec<(Timestamp, String)>,
}

impl TimeTexts {
    pub fn new(product: Provider) -> Self {
        Self {
            product,
            seen: Vec::new(),
        }
    }

    pub fn format(&mut self, at: Timestamp) -> String {
        if let Some((_, text)) = self.seen.iter().find(|(seen, _)| *seen == at) {
            return text.clone();
        }
        let text = self.product.format_time(at);
        self.seen.push((at, text.clone()));
        text
    }

    /// A stamp as written, or formatted.
    pub fn show(&mut self, stamp: &Stamp) -> String {
        match &stamp.text {
            Some(text) => text.clone(),
            None => self.format(stamp.at),
        }
    }
}

pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    parse_response_time(text)
        .map_err(|e| format!("`{}` is not an RFC 3339 time ({e})", text.escape_debug()))
}

/// A per-target outcome: final status, error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: String,
    pub error_code: String,
    pub error_info: String,
}

impl Outcome {
    pub fn success() -> Self {
        Self {
            status: "Success".to_owned(),
            error_code: String::new(),
            error_info: String::new(),
        }
    }

    /// How a command that exited with `exit_code` ended.
    pub fn of_exit_code(exit_code: i64) -> Self {
        if exit_code == 0 {
            Self::success()
        } else {
            Self::failure(
                "Failed",
                "ExitCodeNonzero",
                "the command execution exit code is not zero.",
            )
        }
    }

    pub fn failure(status: &str, code: &str, info: &str) -> Self {
        Self {
            status: status.to_owned(),
            error_code: code.to_owned(),
            error_info: info.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_times_echo_verbatim_but_parse_trimmed() {
        let stamp = Stamp::written("2023-04-10T10:53:46.156+08:00\n").unwrap();
        assert_eq!(
            stamp.show(Provider::Eflo),
            "2023-04-10T10:53:46.156+08:00\n"
        );
        assert_eq!(stamp.at.to_string(), "2023-04-10T02:53:46.156Z");
        assert!(Stamp::written("yesterday").is_err());
    }
}
