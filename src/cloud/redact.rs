//! Scrubbing secrets out of text that came from elsewhere.
//!
//! Our own messages never format a secret (see [`crate::secret::Secret`]), but
//! text the server sends back can echo one: the V1 `SignatureDoesNotMatch`
//! message quotes the server's string-to-sign, which holds the STS token,
//! percent-encoded once or twice. Every such text passes through a
//! [`Redactor`] that knows the sensitive values of the request in all the
//! spellings they can take on the wire.
//!
//! That covers the paths we know about. As the last line of defence, every
//! sink (stdout, stderr, logs, `--report` files) also passes its text
//! through [`scrub`], which masks every sensitive value this process has
//! seen: the credentials' secrets and tokens and every request signature
//! ([`remember`]), plus the secrets and tokens of the environment's
//! credential variables ([`remember_environment`]). A leak through a path
//! nobody thought of (a request id, a manifest value, a diff) still prints
//! `<redacted>`.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use aho_corasick::AhoCorasick;

use crate::cloud::credentials::secret_env_vars;
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

/// Every sensitive spelling this process has seen, and a matcher for them
/// built on first use after a change.
struct Registry {
    needles: Vec<String>,
    matcher: Option<AhoCorasick>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    needles: Vec::new(),
    matcher: None,
});

/// Remembers every value of `redactor` for [`scrub`].
pub fn remember(redactor: &Redactor) {
    let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    let before = registry.needles.len();
    for needle in &redactor.needles {
        if !registry.needles.contains(needle) {
            registry.needles.push(needle.clone());
        }
    }
    if registry.needles.len() != before {
        registry.matcher = None;
    }
}

/// Remembers the values of the secret and token variables `env` has
/// (every spelling the credential chain reads), so that even `validate`,
/// which never resolves credentials, masks them.
pub fn remember_environment(env: &dyn Fn(&str) -> Option<String>) {
    let mut redactor = Redactor::new();
    for name in secret_env_vars() {
        if let Some(value) = env(name) {
            redactor.add(value.trim());
        }
    }
    remember(&redactor);
}

/// `text` with every remembered sensitive value masked.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    if registry.needles.is_empty() {
        return Cow::Borrowed(text);
    }
    if registry.matcher.is_none() {
        // Leftmost-longest: a value is masked whole, never just its prefix.
        registry.matcher = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&registry.needles)
            .ok();
    }
    match &registry.matcher {
        Some(matcher) if matcher.is_match(text) => {
            Cow::Owned(matcher.replace_all(text, &vec![REDACTED; registry.needles.len()]))
        }
        Some(_) => Cow::Borrowed(text),
        // Unreachable in practice (the patterns are plain strings); fall
        // back to the slow path rather than let a value through.
        None => {
            let mut out = text.to_owned();
            for needle in &registry.needles {
                out = out.replace(needle.as_str(), REDACTED);
            }
            Cow::Owned(out)
        }
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
    fn remembered_values_are_scrubbed_everywhere() {
        let token = "remembered-token-XYZ/+=";
        remember(&Redactor::new().with(token).with("sig-abcdef=="));
        let text = format!("id {token} sig-abcdef== {}", pop_encode(token));
        assert_eq!(scrub(&text), "id <redacted> <redacted> <redacted>");
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_ignored() {
        assert_eq!(Redactor::new().with("abc").apply("abc"), "abc");
    }
}
