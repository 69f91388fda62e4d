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
use std::io::{self, Write};
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
        mask_each(text, &self.needles)
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

/// What masks the remembered values, as of now.
#[derive(Clone)]
enum Masker {
    /// Nothing is remembered.
    Nothing,
    /// Leftmost-longest: a value is masked whole, never just its prefix.
    Matcher {
        matcher: AhoCorasick,
        longest: usize,
    },
    /// The matcher could not be built (unreachable in practice: the
    /// patterns are plain strings): the slow path, rather than let a value
    /// through.
    Needles(Vec<String>),
}

fn masker() -> Masker {
    let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    if registry.needles.is_empty() {
        return Masker::Nothing;
    }
    if registry.matcher.is_none() {
        registry.matcher = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&registry.needles)
            .ok();
    }
    match &registry.matcher {
        Some(matcher) => Masker::Matcher {
            matcher: matcher.clone(),
            longest: registry.needles.iter().map(String::len).max().unwrap_or(1),
        },
        None => Masker::Needles(registry.needles.clone()),
    }
}

/// `text` with every remembered sensitive value masked.
pub fn scrub(text: &str) -> Cow<'_, str> {
    match masker() {
        Masker::Matcher { matcher, .. } if matcher.is_match(text) => {
            Cow::Owned(matcher.replace_all(text, &vec![REDACTED; matcher.patterns_len()]))
        }
        Masker::Nothing | Masker::Matcher { .. } => Cow::Borrowed(text),
        Masker::Needles(needles) => Cow::Owned(mask_each(text, &needles)),
    }
}

/// `text` with each of `needles` masked, one after the other.
fn mask_each(text: &str, needles: &[String]) -> String {
    let mut out = text.to_owned();
    for needle in needles {
        out = out.replace(needle.as_str(), REDACTED);
    }
    out
}

/// A writer that masks every remembered sensitive value on its way to
/// `out`, for text too large to hold and [`scrub`] whole (a fleet's JSON
/// report). It holds back the last bytes it was given, as many as a value
/// could have begun in, until more text or [`Scrubbing::finish`] shows
/// whether one did; the values are those remembered when it was made.
pub struct Scrubbing<W: Write> {
    out: W,
    masker: Masker,
    held: Vec<u8>,
}

/// How much text is gathered before it is scanned and passed on.
const SCRUB_CHUNK: usize = 64 * 1024;

impl<W: Write> Scrubbing<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            masker: masker(),
            held: Vec::new(),
        }
    }

    /// Passes on everything held back and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.pass_on(true)?;
        Ok(self.out)
    }

    /// Writes out, masked, what is held that no value can still begin in
    /// (with `all`, everything). A value found starting before that point
    /// ends within what is held: values are at most `longest` bytes.
    fn pass_on(&mut self, all: bool) -> io::Result<()> {
        let (matcher, longest) = match &self.masker {
            Masker::Matcher { matcher, longest } => (matcher, *longest),
            Masker::Nothing => {
                self.out.write_all(&self.held)?;
                self.held.clear();
                return Ok(());
            }
            // The slow path scrubs the whole text at the end.
            Masker::Needles(_) if !all => return Ok(()),
            Masker::Needles(needles) => {
                let text = mask_each(&String::from_utf8_lossy(&self.held), needles);
                self.out.write_all(text.as_bytes())?;
                self.held.clear();
                return Ok(());
            }
        };
        let safe = if all {
            self.held.len()
        } else {
            self.held.len().saturating_sub(longest - 1)
        };
        let mut written = 0;
        for found in matcher.find_iter(&self.held) {
            if found.start() >= safe {
                break;
            }
            self.out.write_all(&self.held[written..found.start()])?;
            self.out.write_all(REDACTED.as_bytes())?;
            written = found.end();
        }
        let upto = safe.max(written);
        self.out.write_all(&self.held[written..upto])?;
        self.held.drain(..upto);
        Ok(())
    }
}

impl<W: Write> Write for Scrubbing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.held.extend_from_slice(buf);
        if self.held.len() >= SCRUB_CHUNK {
            self.pass_on(false)?;
        }
        Ok(buf.len())
    }

    /// Flushes what is passed on; what may be the start of a value stays
    /// held until [`Scrubbing::finish`].
    fn flush(&mut self) -> io::Result<()> {
        self.pass_on(false)?;
        self.out.flush()
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

    /// What [`Scrubbing`] writes of `text` given in pieces of `piece` bytes.
    fn scrubbed_in_pieces(text: &str, piece: usize) -> String {
        let mut scrubbing = Scrubbing::new(Vec::new());
        for chunk in text.as_bytes().chunks(piece) {
            scrubbing.write_all(chunk).unwrap();
            scrubbing.flush().unwrap();
        }
        String::from_utf8(scrubbing.finish().unwrap()).unwrap()
    }

    #[test]
    fn a_stream_is_scrubbed_like_the_whole_text_wherever_it_is_cut() {
        // One value the prefix of another: the longer one is masked whole.
        let short = "streamed-secret-42";
        let long = "streamed-secret-42/and-its-token";
        remember(&Redactor::new().with(short).with(long));
        let text = format!("é {long}… {short} x{short}{long} {}", pop_encode(long));
        let whole = scrub(&text).into_owned();
        assert!(!whole.contains("streamed-secret"), "{whole}");
        for piece in [1, 2, 5, 17, 64, text.len()] {
            assert_eq!(scrubbed_in_pieces(&text, piece), whole, "pieces of {piece}");
        }
        // Across the point where a large text is first passed on.
        for offset in [SCRUB_CHUNK - long.len(), SCRUB_CHUNK - 3, SCRUB_CHUNK] {
            let text = format!("{}{long} {short}", "x".repeat(offset));
            let expected = format!("{}{REDACTED} {REDACTED}", "x".repeat(offset));
            for piece in [1000, 4096, text.len()] {
                assert_eq!(scrubbed_in_pieces(&text, piece), expected);
            }
        }
    }

    #[test]
    fn short_values_are_ignored() {
        assert_eq!(Redactor::new().with("abc").apply("abc"), "abc");
    }
}
