//! Text arithmetic every output shares: counting nouns, and turning byte
//! offsets into the lines and columns people see (and back). One place, so
//! the manifest diagnostics, the report formats and the command line never
//! disagree about "3 files" or about where line 12 starts.
//!
//! Also: making text from outside (API fields, manifest values, file
//! contents) inert before it reaches a terminal ([`inert`]), and cutting
//! absurdly long text down to a readable excerpt ([`excerpt`]).

/// `1 file`, `3 files`: a count and its noun. Every noun shipcheck counts
/// takes a plain `s`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Characters that reorder or hide text on screen: bidirectional overrides
/// and isolates, and the invisible marks that steer them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` would act on a terminal (or reorder what it shows) rather
/// than be shown: C0 controls other than newline and tab, DEL, C1 controls
/// (U+0080–U+009F: single-character CSI and OSC), bidi controls, and the
/// Unicode line and paragraph separators.
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || is_bidi_control(c)
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every character that could act on a terminal escaped as
/// visible text (`\x1b`, `\r`, `\u{202e}`): an ESC from an API field or a
/// manifest cannot start a CSI or OSC sequence, ring the bell, retitle the
/// window, move the cursor or reorder the line. Newlines and tabs stay.
pub fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    inert_with(text, false)
}

/// Like [`inert`], except that well-formed SGR colour sequences
/// (`ESC [ digits;… m`) pass: for output shipcheck itself coloured.
pub fn inert_keep_colour(text: &str) -> std::borrow::Cow<'_, str> {
    inert_with(text, true)
}

/// Renders output that shows untrusted text (manifest values, API fields),
/// coloured only when that text carries nothing unsafe: `render(false)` has
/// no escape sequence of ours, so anything unsafe in it came from outside,
/// and an injected colour code must not pass as one of ours. Then the plain
/// rendering is shown, made inert.
pub fn inert_render(color: bool, render: impl Fn(bool) -> String) -> String {
    let plain = render(false);
    if !plain.chars().any(is_unsafe_char) {
        return if color { render(true) } else { plain };
    }
    inert(&plain).into_owned()
}

fn inert_with(text: &str, keep_sgr: bool) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if keep_sgr && c == '\x1b' {
            let sgr_len = rest[1..].strip_prefix('[').and_then(|body| {
                let params = body
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b';')
                    .count();
                (body.as_bytes().get(params) == Some(&b'm')).then_some(params + 3)
            });
            if let Some(len) = sgr_len {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if is_unsafe_char(c) {
            match c {
                '\r' => out.push_str("\\r"),
                '\0'..='\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// At most `max` characters of `text`: the start, `…`, and how much was
/// left out, so a 5 MB value yields a line, not megabytes.
pub fn excerpt(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!(
            "{}… ({} more bytes)",
            &text[..cut],
            text.len() - cut
        )),
    }
}

/// Where each line of a text starts, so that many offsets can be placed on
/// their lines without rescanning the text for each.
///
/// Lines and columns are 1-based, and columns count characters, the way
/// editors and CI annotations count them.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// The line and column of a byte offset. An offset past the end is the
    /// end; one inside a character is that character.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|start| *start <= offset);
        let column = self.text[self.starts[line - 1]..offset].chars().count() + 1;
        (line, column)
    }

    /// The byte offset of a line and column. A column past the end of its
    /// line is the line's end; a line past the last is the end of the text.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&line_start) = self.starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[line_start..];
        let within = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
        line_start + within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_when_the_untrusted_text_is_clean() {
        let render = |text: &'static str| {
            move |color: bool| {
                if color {
                    format!("\x1b[1m{text}\x1b[0m")
                } else {
                    text.to_owned()
                }
            }
        };
        assert_eq!(inert_render(true, render("ok")), "\x1b[1mok\x1b[0m");
        assert_eq!(inert_render(false, render("ok")), "ok");
        let hostile = inert_render(true, render("\x1b[31mred"));
        assert_eq!(hostile, "\\x1b[31mred");
    }

    #[test]
    fn untrusted_text_is_made_inert() {
        let hostile = "ok\x1b]0;pwned\x07 \x1b[2J\r\u{9b}31m \u{202e}txt.exe\tend\n";
        let shown = inert(hostile);
        assert!(!shown.chars().any(is_unsafe_char), "{shown}");
        assert_eq!(
            shown,
            "ok\\x1b]0;pwned\\x07 \\x1b[2J\\r\\u{9b}31m \\u{202e}txt.exe\tend\n"
        );
        assert_eq!(
            inert_keep_colour("\x1b[1;31mred\x1b[0m"),
            "\x1b[1;31mred\x1b[0m"
        );
        assert_eq!(inert_keep_colour("\x1b[2J\x1b]8;;x"), "\\x1b[2J\\x1b]8;;x");
        assert!(matches!(inert("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn excerpts_cut_long_text() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt(&"x".repeat(100), 4), "xxxx… (96 more bytes)");
    }

    #[test]
    fn counts_take_a_plural_s_except_for_one() {
        assert_eq!(count(0, "file"), "0 files");
        assert_eq!(count(1, "file"), "1 file");
        assert_eq!(count(12, "check"), "12 checks");
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let index = LineIndex::new("a: 1\nné: x\n");
        assert_eq!(index.line_col(0), (1, 1));
        assert_eq!(index.line_col(5), (2, 1));
        // byte 10 is after "né: " (n=1, é=2 bytes, ':'=1, ' '=1)
        assert_eq!(index.line_col(10), (2, 5));
        // inside `é`: the character itself
        assert_eq!(index.line_col(7), (2, 2));
        assert_eq!(index.line_col(1000), (3, 1));
    }

    #[test]
    fn offsets_of_lines_and_columns() {
        let text = "ab\ncdé\nf";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(1, 1), 0);
        assert_eq!(index.offset(2, 3), 5);
        assert_eq!(index.offset(3, 1), 8);
        assert_eq!(index.offset(9, 9), text.len());
        // a column past the end of its line is the line's end
        assert_eq!(index.offset(1, 9), 2);
    }

    #[test]
    fn offsets_and_positions_round_trip() {
        let text = "a: 1\nné: x\n\n  - b: é\nlast";
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            let (line, column) = index.line_col(offset);
            assert_eq!(index.offset(line, column), offset, "offset {offset}");
        }
    }
}
