//! Scrubbing secrets out of text that came from elsewhere.
//!
//! Our own messages never format a secret (see [`crate::secret::Secret`]), but
//! text the server sends back can echo one: the V1 `SignatureDoesNotMatch`
//! message quotes the server's string-to-sign, which holds the STS token,
//! percent-encoded once or twice. Every such text passes through a
//! [`Redactor`] that knows the sensitive values of the request in all the
//! spellings they can take on the wire.

use crate::protocol::sign::pop_encode;

/// What replaces a sensitive value.
pub const REDACTED: &str = "<redacted>";

/// The sensitive strings of one request, in every spelling they may appear in.
#[derive(Default, Clone)]
pub struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value and its once- and twice-POP-encoded and form-encoded spellings.
    pub fn add(&mut self, value: &str) {
        // Very short values would blank out ordinary words; real secrets,
        // tokens and signatures are long.
        if value.len() < 6 {
            return;
        }
        let once = pop_encode(value);
        let twice = pop_encode(&once);
        let form = value.replace(' ', "+");
        for candidate in [value.to_owned(), once, twice, form] {
            if !self.needles.contains(&candidate) {
                self.needles.push(candidate);
            }
        }
        // Longest first, so a value is replaced before its own prefix.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub fn with(mut self, value: &str) -> Self {
        self.add(value);
        self
    }

    /// `text` with every sensitive spelling replaced by [`REDACTED`].
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        out
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} needles)", self.needles.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_spelling_is_scrubbed() {
        let token = "CAIS-token/with+chars=";
        let r = Redactor::new().with(token);
        let once = pop_encode(token);
        let twice = pop_encode(&once);
        let text = format!("a {token} b {once} c {twice} d");
        let scrubbed = r.apply(&text);
        assert_eq!(scrubbed, "a <redacted> b <redacted> c <redacted> d");
    }

    #[test]
    fn short_values_are_ignored() {
        assert_eq!(Redactor::new().with("abc").apply("abc"), "abc");
    }
}
