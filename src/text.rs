//! Text arithmetic every output shares: counting nouns, and turning byte
//! offsets into the lines and columns people see (and back). One place, so
//! the manifest diagnostics, the report formats and the command line never
//! disagree about "3 files" or about where line 12 starts.

/// `1 file`, `3 files`: a count and its noun. Every noun shipcheck counts
/// takes a plain `s`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
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
