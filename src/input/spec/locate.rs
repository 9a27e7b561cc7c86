//! Where a value was written in the spec's text, for error messages. serde_yaml keeps no
//! positions in what it returns, so values are found again in the text: a key at the start of
//! a line (after its indentation and any `- `), then the value's text after it. This reads block
//! YAML as people write specs; for anything else (flow mappings, anchors) the search comes back
//! empty and messages name the file alone.

/// Some lines of the spec, and the 1-based number of the first.
#[derive(Clone, Copy)]
pub(super) struct Lines<'a> {
    pub(super) first: usize,
    pub(super) lines: &'a [&'a str],
}

impl<'a> Lines<'a> {
    /// Each line with its number, its indentation and what follows (see `content`).
    fn iter(self) -> impl Iterator<Item = (usize, &'a str, usize, bool, &'a str)> {
        self.lines.iter().enumerate().map(move |(i, line)| {
            let (indent, dashed, content) = content(line);
            (self.first + i, *line, indent, dashed, content)
        })
    }
}

/// A line's indentation, whether it starts a block sequence item (`- `), and its content after
/// both: in `  - image: a` that is `image: a`.
pub(super) fn content(line: &str) -> (usize, bool, &str) {
    let rest = line.trim_start_matches(' ');
    let indent = line.len() - rest.len();
    let mut rest = rest;
    let mut dashed = false;
    while let Some(after) = rest.strip_prefix('-') {
        if !(after.is_empty() || after.starts_with(' ')) {
            break;
        }
        dashed = true;
        rest = after.trim_start_matches(' ');
    }
    (indent, dashed, rest)
}

pub(super) fn is_blank(content: &str) -> bool {
    content.is_empty() || content.starts_with('#')
}

/// What follows `key:` when `content` starts with that key (bare or quoted); `None` otherwise.
pub(super) fn after_key<'c>(content: &'c str, key: &str) -> Option<&'c str> {
    let rest = ["", "\"", "'"].iter().find_map(|quote| {
        content
            .strip_prefix(quote)?
            .strip_prefix(key)?
            .strip_prefix(quote)
    })?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

/// 1-based column, in characters, of `part` (a slice of `line`).
pub(super) fn column_of(line: &str, part: &str) -> usize {
    let at = line.len() - part.len();
    line.get(..at).map_or(0, |before| before.chars().count()) + 1
}

/// A key found in the text.
pub(super) struct KeyAt {
    pub(super) line: usize,
    pub(super) column: usize,
    /// Where the value starts on the key's line, if it starts there.
    pub(super) value_column: Option<usize>,
    /// Index of the key's line in the `Lines` searched.
    pub(super) index: usize,
}

/// Whether a line belongs to the value of a key written at `key_column`: it is indented further,
/// or is an item of a list indented as much as the key (`tags:` then `- v1`).
pub(super) fn in_value(key_column: usize, indent: usize, dashed: bool) -> bool {
    indent + 1 > key_column || (indent + 1 == key_column && dashed)
}

/// The first `path[0]:` among `lines`, then `path[1]:` inside its value, and so on.
pub(super) fn find_key(lines: Lines, path: &[&str]) -> Option<KeyAt> {
    let mut found: Option<KeyAt> = None;
    for key in path {
        let from = found.as_ref().map_or(0, |k| k.index + 1);
        let parent = found.as_ref().map(|k| k.column);
        let mut next = None;
        for (index, (number, line, indent, dashed, content)) in lines.iter().enumerate().skip(from)
        {
            if is_blank(content) && !dashed {
                continue;
            }
            if parent.is_some_and(|column| !in_value(column, indent, dashed)) {
                break;
            }
            if let Some(rest) = after_key(content, key) {
                let value = rest.trim_start_matches([' ', '\t']);
                next = Some(KeyAt {
                    line: number,
                    column: column_of(line, content),
                    value_column: (!is_blank(value)).then(|| column_of(line, value)),
                    index,
                });
                break;
            }
        }
        found = Some(next?);
    }
    found
}

/// Where `needle` is written in the value of `key`: on the key's line or the lines of its value.
/// Falls back to the start of the value, then to the key.
pub(super) fn find_in_value(lines: Lines, key: &KeyAt, needle: &str) -> (usize, usize) {
    let fallback = (key.line, key.value_column.unwrap_or(key.column));
    if needle.is_empty() {
        return fallback;
    }
    for (number, line, indent, dashed, content) in lines.iter().skip(key.index) {
        let searched = if number == key.line {
            match key.value_column {
                Some(column) => line
                    .char_indices()
                    .nth(column - 1)
                    .map_or("", |(at, _)| &line[at..]),
                None => continue,
            }
        } else if is_blank(content) && !dashed {
            continue;
        } else if !in_value(key.column, indent, dashed) {
            break;
        } else {
            line
        };
        let code = searched.split(" #").next().unwrap_or(searched);
        if let Some(at) = code.find(needle) {
            return (number, column_of(line, &searched[at..]));
        }
    }
    fallback
}

/// A key of the top-level mapping: at the indentation of the first line with content.
pub(super) fn root_key(lines: &[&str], key: &str) -> Option<(usize, usize)> {
    let all = Lines { first: 1, lines };
    let mut root = None;
    for (number, line, indent, dashed, content) in all.iter() {
        if is_blank(content) || content.starts_with("---") || content.starts_with('%') {
            continue;
        }
        let root = *root.get_or_insert(indent);
        if indent == root && !dashed && after_key(content, key).is_some() {
            return Some((number, column_of(line, content)));
        }
    }
    None
}

/// The lines of each image: each item of a block list under `images:`, or the whole text for
/// a single image or a list written some other way (`images: [{image: a}]`).
pub(super) fn image_spans<'a>(lines: &'a [&'a str], count: usize) -> Vec<Lines<'a>> {
    let whole = Lines { first: 1, lines };
    let mut starts = Vec::new();
    if count > 1 {
        if let Some((line, column)) = root_key(lines, "images") {
            let mut item_indent = None;
            for (number, _, indent, dashed, content) in whole.iter().skip(line) {
                if is_blank(content) && !dashed {
                    continue;
                }
                if !in_value(column, indent, dashed) {
                    break;
                }
                let items = *item_indent.get_or_insert(indent);
                if indent < items {
                    break;
                }
                if indent == items && dashed {
                    starts.push(number);
                }
            }
        }
    }
    if starts.len() != count {
        return vec![whole; count];
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).map_or(lines.len(), |&next| next - 1);
            Lines {
                first: start,
                lines: lines.get(start - 1..end).unwrap_or(&[]),
            }
        })
        .collect()
}

/// 1-based line and column of the first occurrence of `needle` outside a comment; (0, 0) if none.
pub(super) fn locate(text: &str, needle: &str) -> (usize, usize) {
    if needle.is_empty() {
        return (0, 0);
    }
    for (n, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or(line);
        if code.trim_start().starts_with('#') {
            continue;
        }
        if let Some(i) = code.find(needle) {
            return (n + 1, line[..i].chars().count() + 1);
        }
    }
    (0, 0)
}

pub(super) fn line_of_offset(valid_prefix: &[u8]) -> usize {
    valid_prefix.iter().filter(|b| **b == b'\n').count() + 1
}
