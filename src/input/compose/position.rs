//! Where things are written: line and column of a key path (`services.app.build.args.TOKEN`) in
//! a Compose file's text, for error messages and the unsupported-key list.
//!
//! serde_yaml keeps no positions in the values it returns, so the text is indexed again here:
//! block mappings and block sequences as people write Compose files (indentation, `- ` items,
//! quoted keys, block scalars skipped). Values inside flow collections (`{a: 1}`, `[a, b]`) are
//! not indexed: a lookup then falls back to the nearest enclosing key that is. In a file of
//! several YAML documents a path is found in the first document that writes it. This never
//! fails: an odd file only gives coarser places.

/// One step of a path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    pub fn key(k: &str) -> Seg {
        Seg::Key(k.to_string())
    }
}

/// A path written the way compose writes it in messages: `services.app.build.args.TOKEN`,
/// with `[2]` for indices.
pub fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The places of a file's keys and sequence items.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    entries: Vec<(Vec<Seg>, usize, usize)>,
    lines: Vec<String>,
}

struct Frame {
    indent: usize,
    seg: Seg,
    is_item: bool,
    /// Sequence items seen under this frame.
    items: usize,
}

impl Positions {
    /// Indexes `text`. Linear in its length.
    pub fn index(text: &str) -> Positions {
        let mut entries = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root_items = 0;
        // Lines more indented than this belong to a block scalar (`|`, `>`) and are skipped.
        let mut scalar_above: Option<usize> = None;
        for (n, line) in text.lines().enumerate() {
            let content = line.trim_start_matches(' ');
            let indent = line.len() - content.len();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if let Some(limit) = scalar_above {
                if indent > limit {
                    continue;
                }
                scalar_above = None;
            }
            if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
                stack.clear();
                continue;
            }
            let mut col = indent;
            let mut rest = content;
            // `- ` items, possibly several on one line (`- - a`).
            while let Some(after) = rest.strip_prefix('-') {
                if !(after.is_empty() || after.starts_with(' ')) {
                    break;
                }
                while stack
                    .last()
                    .is_some_and(|f| f.indent > col || (f.indent == col && f.is_item))
                {
                    stack.pop();
                }
                let counter = match stack.last_mut() {
                    Some(f) => &mut f.items,
                    None => &mut root_items,
                };
                let i = *counter;
                *counter += 1;
                stack.push(Frame {
                    indent: col,
                    seg: Seg::Index(i),
                    is_item: true,
                    items: 0,
                });
                entries.push((path_of(&stack), n + 1, col + 1));
                let trimmed = after.trim_start_matches(' ');
                col += 1 + (after.len() - trimmed.len());
                rest = trimmed;
                if starts_block_scalar(rest) {
                    scalar_above = Some(indent);
                }
            }
            if let Some((key, value)) = split_key(rest) {
                while stack.last().is_some_and(|f| f.indent >= col) {
                    stack.pop();
                }
                stack.push(Frame {
                    indent: col,
                    seg: Seg::Key(key),
                    is_item: false,
                    items: 0,
                });
                entries.push((path_of(&stack), n + 1, col + 1));
                if starts_block_scalar(value) {
                    scalar_above = Some(col);
                }
            }
        }
        Positions {
            entries,
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    /// Where `path` itself is written, if it is indexed.
    pub fn find(&self, path: &[Seg]) -> Option<(usize, usize)> {
        self.entries
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, l, c)| (*l, *c))
    }

    /// Where `path` is, or else the nearest enclosing path that is indexed; `(0, 0)` when
    /// nothing is.
    pub fn nearest(&self, path: &[Seg]) -> (usize, usize) {
        (0..=path.len())
            .rev()
            .find_map(|n| self.find(&path[..n]))
            .unwrap_or((0, 0))
    }

    /// Where `needle` is written in the value at `path`: searched from the path's line on
    /// (a block scalar spans lines), at most 200 lines; the path's own place otherwise.
    pub fn in_value(&self, path: &[Seg], needle: &str) -> (usize, usize) {
        let (line, column) = self.nearest(path);
        if line == 0 || needle.is_empty() {
            return (line, column);
        }
        for (i, text) in self.lines.iter().enumerate().skip(line - 1).take(200) {
            let from = if i + 1 == line {
                column.saturating_sub(1)
            } else {
                0
            };
            if let Some(found) = text.get(from..).and_then(|t| t.find(needle)) {
                let at = from + found;
                return (i + 1, text[..at].chars().count() + 1);
            }
        }
        (line, column)
    }
}

fn path_of(stack: &[Frame]) -> Vec<Seg> {
    stack.iter().map(|f| f.seg.clone()).collect()
}

fn starts_block_scalar(value: &str) -> bool {
    value.starts_with('|') || value.starts_with('>')
}

/// `key: value` or `key:` -> the key (unquoted) and the value text; `None` for anything else.
fn split_key(content: &str) -> Option<(String, &str)> {
    if let Some(q) = content.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = content[1..].find(q)? + 1;
        let after = content[end + 1..].trim_start_matches(' ');
        let value = after.strip_prefix(':')?;
        if !(value.is_empty() || value.starts_with(' ')) {
            return None;
        }
        return Some((content[1..end].to_string(), value.trim_start_matches(' ')));
    }
    if content.starts_with(['{', '[', '&', '*', '!', '|', '>', '?', '%', '@', '`']) {
        return None;
    }
    let mut from = 0;
    while let Some(i) = content[from..].find(':') {
        let at = from + i;
        let after = &content[at + 1..];
        if after.is_empty() || after.starts_with(' ') {
            let key = content[..at].trim_end_matches(' ');
            if key.contains(" #") {
                return None;
            }
            return Some((key.to_string(), after.trim_start_matches(' ')));
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> Vec<Seg> {
        path.split('.')
            .map(|s| match s.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::key(s),
            })
            .collect()
    }

    const TEXT: &str = "\
services:
  app:
    build:
      context: .
      # a comment
      args:
        - A=1
        - B
      dockerfile_inline: |
        FROM x
        not: a key
      \"quoted key\": 1
    image: x
  other:
    build: {context: .}
    cache_from:
    - a
    -   b: 1
        c: 2
";

    #[test]
    fn keys_and_items_are_placed() {
        let pos = Positions::index(TEXT);
        assert_eq!(pos.find(&p("services")), Some((1, 1)));
        assert_eq!(pos.find(&p("services.app.build.context")), Some((4, 7)));
        assert_eq!(pos.find(&p("services.app.build.args.1")), Some((8, 9)));
        assert_eq!(pos.find(&p("services.app.build.quoted key")), Some((12, 7)));
        assert_eq!(pos.find(&p("services.app.image")), Some((13, 5)));
        assert_eq!(
            pos.find(&p("services.app.build.dockerfile_inline.not")),
            None
        );
        assert_eq!(pos.find(&p("services.other.cache_from.1.c")), Some((19, 9)));
        assert_eq!(pos.find(&p("services.other.cache_from.1")), Some((18, 5)));
    }

    #[test]
    fn flow_values_fall_back_to_their_key() {
        let pos = Positions::index(TEXT);
        assert_eq!(pos.nearest(&p("services.other.build.context")), (15, 5));
        assert_eq!(pos.nearest(&p("nothing.here")), (0, 0));
        assert_eq!(pos.in_value(&p("services.app.build.args.1"), "B"), (8, 11));
    }

    #[test]
    fn odd_text_does_not_panic() {
        for text in [
            "- - -",
            "a:\n- b\n -c: d\n",
            ":",
            "\"unclosed: 1",
            "é: ü\n  ö: 1",
            "---\n...\n",
        ] {
            let pos = Positions::index(text);
            let _ = pos.in_value(&p("a.0"), "é");
        }
    }

    #[test]
    fn dotted_paths_read_like_compose_messages() {
        assert_eq!(
            dotted(&p("services.app.build.args")),
            "services.app.build.args"
        );
        assert_eq!(dotted(&[Seg::key("a"), Seg::Index(2)]), "a[2]");
    }
}
