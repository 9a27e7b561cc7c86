//! Physical and logical lines.

/// The file's lines with their 1-based numbers, line endings (`\n`, `\r\n`) removed.
pub(super) struct PhysicalLines<'a> {
    pub(super) rest: std::str::Split<'a, char>,
    pub(super) number: usize,
}

impl<'a> Iterator for PhysicalLines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.rest.next()?;
        self.number += 1;
        Some((self.number, raw.strip_suffix('\r').unwrap_or(raw)))
    }
}

/// Where a piece of a logical line came from, so offsets map back to line and column.
pub(super) struct Segment {
    pub(super) offset: usize,
    pub(super) line: usize,
    pub(super) column: usize,
}

/// An instruction's text with continuations joined.
pub(super) struct LogicalLine {
    pub(super) text: String,
    pub(super) segments: Vec<Segment>,
}

impl LogicalLine {
    pub(super) fn new(line: usize, column: usize, body: &str) -> Self {
        LogicalLine {
            text: body.to_string(),
            segments: vec![Segment {
                offset: 0,
                line,
                column,
            }],
        }
    }

    /// Appends a continuation line; BuildKit keeps its leading blanks.
    pub(super) fn push(&mut self, line: usize, body: &str) {
        self.segments.push(Segment {
            offset: self.text.len(),
            line,
            column: 1,
        });
        self.text.push_str(body);
    }

    pub(super) fn first_line(&self) -> usize {
        self.segments.first().map_or(1, |segment| segment.line)
    }

    /// Line and column of a byte offset into `text`.
    pub(super) fn position(&self, offset: usize) -> (usize, usize) {
        let index = self
            .segments
            .partition_point(|segment| segment.offset <= offset)
            .saturating_sub(1);
        let Some(segment) = self.segments.get(index) else {
            return (1, 1);
        };
        let before = self.text.get(segment.offset..offset).unwrap_or_default();
        (segment.line, segment.column + before.chars().count())
    }
}

/// The line without a trailing escape character (and the blanks after it), and whether it
/// continues on the next line. As in BuildKit, a doubled escape (`\\`) at the end is not a
/// continuation.
pub(super) fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    match body.strip_suffix(escape) {
        Some(before) if !before.ends_with(escape) => (before, true),
        _ => (line, false),
    }
}

pub(super) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}
