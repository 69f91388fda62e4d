//! Content comparison: decode what the API echoed, compare bytes, and show
//! drift without ever printing what must stay private.
//!
//! The API echoes `Content` with its `ContentType`. `Base64` is decoded.
//! `PlainText` is ambiguous: one documented sample shows `PlainText` with
//! `ZWNobyBoZWxsbw==` (base64 of `echo hello`), and whether the server always
//! echoes base64 is unknown (PROTOCOL.md §5.5). So a `PlainText` echo is read
//! both ways: the content matches when either the literal text or — if the
//! text is well-formed, padded Base64 — its decoding equals the declaration.
//! A drift is shown on the decoded reading when that decoding is text (the
//! server evidently sent base64), on the literal text otherwise, and the
//! message says which reading was used.

use sha2::{Digest, Sha256};
use similar::TextDiff;

use crate::expect::ExpectedContent;
use crate::observe::{ContentDigest, ContentType, FileInvocation, decode_base64};
use crate::report::model::Detail;

/// Lines of context around each change in a content diff.
const CONTEXT_LINES: usize = 3;

/// A content drift, ready to report.
#[derive(Clone)]
pub(super) struct ContentDrift {
    /// Appended to the finding's message (which reading was compared).
    pub note: String,
    pub detail: Detail,
}

/// One way of reading the echoed content.
struct Reading {
    bytes: Vec<u8>,
    how: &'static str,
}

/// `None` when the content matches the expectation.
pub(super) fn compare(
    expected: &ExpectedContent,
    invocation: &FileInvocation,
    sensitive: bool,
) -> Option<ContentDrift> {
    if invocation.content_type == ContentType::Digests {
        return compare_digests(expected, invocation);
    }
    let readings = match readings(invocation) {
        Ok(readings) => readings,
        Err(()) => {
            // Never echo undecodable content: it may be the sensitive file.
            let observed = invocation.content.as_deref().unwrap_or_default().as_bytes();
            return Some(ContentDrift {
                note: format!(
                    "; the API returned {} content that does not decode",
                    invocation.content_type.as_str()
                ),
                detail: digest(expected, observed),
            });
        }
    };
    if readings.iter().any(|r| matches(expected, &r.bytes)) {
        return None;
    }
    let shown = pick_reading(&readings);
    let note = match shown.how {
        "" => String::new(),
        how => format!(" ({how})"),
    };
    let detail = match expected {
        ExpectedContent::Bytes(bytes) if !sensitive && is_text(bytes) && is_text(&shown.bytes) => {
            Detail::Diff(unified_diff(bytes, &shown.bytes))
        }
        _ => digest(expected, &shown.bytes),
    };
    Some(ContentDrift { note, detail })
}

/// A snapshot kept only digests: the content matches when one reading's
/// digest does, and a drift shows the digest a live check would have shown.
fn compare_digests(
    expected: &ExpectedContent,
    invocation: &FileInvocation,
) -> Option<ContentDrift> {
    let digests = invocation
        .content
        .as_deref()
        .and_then(ContentDigest::decode)
        .unwrap_or_default();
    let (expected_size, expected_sha256) = match expected {
        ExpectedContent::Bytes(bytes) => (Some(bytes.len()), sha256_hex(bytes)),
        ExpectedContent::Sha256(hash) => (None, hex::encode(hash)),
    };
    let matched = digests
        .iter()
        .any(|d| d.sha256 == expected_sha256 && expected_size.is_none_or(|size| size == d.size));
    if matched {
        return None;
    }
    let shown = digests.first();
    Some(ContentDrift {
        note: match shown {
            Some(d) if d.decoded => " (the PlainText echo read as Base64)".to_owned(),
            Some(_) => String::new(),
            None => "; the snapshot's content digests are unreadable".to_owned(),
        },
        detail: Detail::Digest {
            expected_size,
            expected_sha256,
            observed_size: shown.map_or(0, |d| d.size),
            observed_sha256: shown.map_or_else(String::new, |d| d.sha256.clone()),
        },
    })
}

/// The digests of every reading of `invocation`'s content, the one a
/// drift would show first: what a snapshot keeps instead of the bytes.
/// Content that does not decode is digested as the raw text.
pub(crate) fn reading_digests(invocation: &FileInvocation) -> Vec<ContentDigest> {
    let digest = |bytes: &[u8], decoded: bool| ContentDigest {
        size: bytes.len(),
        sha256: sha256_hex(bytes),
        decoded,
    };
    match readings(invocation) {
        Ok(readings) => {
            let shown = pick_reading(&readings);
            let shown_at = readings
                .iter()
                .position(|r| std::ptr::eq(r, shown))
                .unwrap_or_default();
            let mut digests = vec![digest(&shown.bytes, !shown.how.is_empty())];
            for (at, reading) in readings.iter().enumerate() {
                if at != shown_at {
                    digests.push(digest(&reading.bytes, !reading.how.is_empty()));
                }
            }
            digests
        }
        Err(()) => vec![digest(
            invocation.content.as_deref().unwrap_or_default().as_bytes(),
            false,
        )],
    }
}

fn readings(invocation: &FileInvocation) -> Result<Vec<Reading>, ()> {
    let raw = invocation.content.as_deref().unwrap_or_default();
    match invocation.content_type {
        ContentType::Base64 => Ok(vec![Reading {
            bytes: decode_base64(raw).ok_or(())?,
            how: "",
        }]),
        ContentType::PlainText | ContentType::Other(_) | ContentType::Digests => {
            let mut readings = vec![Reading {
                bytes: raw.as_bytes().to_vec(),
                how: "",
            }];
            if let Some(decoded) = strict_base64(raw) {
                readings.push(Reading {
                    bytes: decoded,
                    how: "the PlainText echo read as Base64",
                });
            }
            Ok(readings)
        }
    }
}

/// The decoding of text that is unmistakably padded standard Base64.
fn strict_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let shaped = !text.is_empty()
        && text.len().is_multiple_of(4)
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if shaped { decode_base64(text) } else { None }
}

/// The reading a person should see in the diff.
fn pick_reading(readings: &[Reading]) -> &Reading {
    match readings {
        [_, decoded] if is_text(&decoded.bytes) => decoded,
        [first, ..] => first,
        [] => unreachable!("there is always a literal reading"),
    }
}

fn matches(expected: &ExpectedContent, observed: &[u8]) -> bool {
    match expected {
        ExpectedContent::Bytes(bytes) => bytes == observed,
        ExpectedContent::Sha256(hash) => Sha256::digest(observed).as_slice() == hash,
    }
}

/// Text is valid UTF-8 without NUL bytes; anything else is shown as a digest.
pub(crate) fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn digest(expected: &ExpectedContent, observed: &[u8]) -> Detail {
    let (expected_size, expected_sha256) = match expected {
        ExpectedContent::Bytes(bytes) => (Some(bytes.len()), sha256_hex(bytes)),
        ExpectedContent::Sha256(hash) => (None, hex::encode(hash)),
    };
    Detail::Digest {
        expected_size,
        expected_sha256,
        observed_size: observed.len(),
        observed_sha256: sha256_hex(observed),
    }
}

/// A unified diff, declared (`-`) against delivered (`+`).
pub(crate) fn unified_diff(expected: &[u8], observed: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let observed = String::from_utf8_lossy(observed);
    TextDiff::from_lines(expected.as_ref(), observed.as_ref())
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header("declared", "delivered")
        .missing_newline_hint(true)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::testkit::invocation;

    fn echo(content: &str, content_type: ContentType) -> FileInvocation {
        let mut inv = invocation("f-1", "a.txt", "/etc");
        inv.content = Some(content.to_owned());
        inv.content_type = content_type;
        inv
    }

    #[test]
    fn base64_echo_is_decoded() {
        let inv = echo("ZWNobyBoZWxsbw==", ContentType::Base64);
        let expected = ExpectedContent::Bytes(b"echo hello".to_vec());
        assert!(compare(&expected, &inv, false).is_none());
    }

    #[test]
    fn plaintext_echo_matches_literally_or_as_base64() {
        let expected = ExpectedContent::Bytes(b"echo hello".to_vec());
        assert!(
            compare(
                &expected,
                &echo("echo hello", ContentType::PlainText),
                false
            )
            .is_none()
        );
        // The documented CN sample: PlainText, yet base64 on the wire.
        assert!(
            compare(
                &expected,
                &echo("ZWNobyBoZWxsbw==", ContentType::PlainText),
                false
            )
            .is_none()
        );
        // Text that merely looks like base64 still matches literally.
        let abcd = ExpectedContent::Bytes(b"abcd".to_vec());
        assert!(compare(&abcd, &echo("abcd", ContentType::PlainText), false).is_none());
    }

    #[test]
    fn plaintext_base64_echo_is_diffed_on_its_decoding() {
        let expected = ExpectedContent::Bytes(b"echo bye\n".to_vec());
        let drift = compare(
            &expected,
            &echo("ZWNobyBoZWxsbwo=", ContentType::PlainText),
            false,
        )
        .unwrap();
        assert!(drift.note.contains("read as Base64"), "{}", drift.note);
        let Detail::Diff(diff) = drift.detail else {
            panic!("expected a diff")
        };
        assert!(diff.contains("-echo bye"), "{diff}");
        assert!(diff.contains("+echo hello"), "{diff}");
    }

    #[test]
    fn sensitive_and_binary_content_show_only_digests() {
        let expected = ExpectedContent::Bytes(b"password=hunter2\n".to_vec());
        let drift = compare(
            &expected,
            &echo("password=letmein\n", ContentType::PlainText),
            true,
        )
        .unwrap();
        let Detail::Digest {
            expected_size,
            observed_size,
            ..
        } = &drift.detail
        else {
            panic!("expected a digest, got {:?}", drift.detail)
        };
        assert_eq!((*expected_size, *observed_size), (Some(17), 17));
        assert!(!format!("{:?}", drift.detail).contains("hunter2"));
        assert!(!format!("{:?}", drift.detail).contains("letmein"));

        let binary = ExpectedContent::Bytes(vec![0, 159, 146, 150]);
        let drift = compare(&binary, &echo("AAEC", ContentType::Base64), false).unwrap();
        assert!(matches!(drift.detail, Detail::Digest { .. }));
    }

    #[test]
    fn declared_hashes_compare_against_the_decoded_bytes() {
        let hash: [u8; 32] = Sha256::digest(b"echo hello").into();
        let expected = ExpectedContent::Sha256(hash);
        assert!(
            compare(
                &expected,
                &echo("ZWNobyBoZWxsbw==", ContentType::Base64),
                false
            )
            .is_none()
        );
        let drift = compare(&expected, &echo("echo bye", ContentType::PlainText), false).unwrap();
        let Detail::Digest {
            expected_size,
            expected_sha256,
            ..
        } = drift.detail
        else {
            panic!("a hash-only declaration has nothing to diff")
        };
        assert_eq!(expected_size, None);
        assert_eq!(expected_sha256, hex::encode(hash));
    }

    #[test]
    fn undecodable_base64_is_a_drift_without_echoing_it() {
        let expected = ExpectedContent::Bytes(b"x".to_vec());
        let drift = compare(&expected, &echo("not base64!", ContentType::Base64), false).unwrap();
        assert!(drift.note.contains("does not decode"));
        assert!(matches!(drift.detail, Detail::Digest { .. }));
    }
}
