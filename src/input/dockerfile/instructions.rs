//! Lexing: logical lines into instructions.

use super::*;

/// How an instruction's arguments are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    Shell,
    /// A JSON array of strings, with that many elements.
    Json(usize),
    /// A JSON array holding something other than strings: BuildKit refuses it.
    MixedJson,
}

/// An instruction with what is needed to point at parts of it in errors.
pub(super) struct Lexed {
    pub(super) source: LogicalLine,
    pub(super) keyword_offset: usize,
    pub(super) keyword_len: usize,
    /// Byte offset of each flag, parallel to `instruction.flags`.
    pub(super) flag_offsets: Vec<usize>,
    pub(super) args_offset: usize,
    pub(super) form: Form,
    pub(super) instruction: Instruction,
}

impl Lexed {
    /// Keyword, flags and arguments of a logical line.
    pub(super) fn split(source: LogicalLine) -> Lexed {
        let text = source.text.as_str();
        let keyword_offset = text.len() - text.trim_start().len();
        let from_keyword = text.get(keyword_offset..).unwrap_or_default();
        let keyword_len = from_keyword.find(is_blank).unwrap_or(from_keyword.len());
        let keyword = from_keyword.get(..keyword_len).unwrap_or_default();
        let (flags, rest_offset) = extract_flags(text, keyword_offset + keyword_len);
        let rest = text.get(rest_offset..).unwrap_or_default();
        let args_offset = rest_offset + (rest.len() - rest.trim_start().len());
        let keyword = keyword.to_ascii_uppercase();
        let args = rest.trim().to_string();
        let form = if JSON_CAPABLE.contains(&keyword.as_str()) {
            json_form(&args)
        } else {
            Form::Shell
        };
        let (flag_offsets, flags) = flags.into_iter().unzip();
        let instruction = Instruction {
            line: source.first_line(),
            keyword,
            flags,
            args,
            heredocs: Vec::new(),
        };
        Lexed {
            source,
            keyword_offset,
            keyword_len,
            flag_offsets,
            args_offset,
            form,
            instruction,
        }
    }

    pub(super) fn at(&self, offset: usize) -> (usize, usize) {
        self.source.position(offset)
    }

    pub(super) fn keyword_at(&self) -> (usize, usize) {
        self.at(self.keyword_offset)
    }

    pub(super) fn written_keyword(&self) -> &str {
        let end = self.keyword_offset + self.keyword_len;
        self.source
            .text
            .get(self.keyword_offset..end)
            .unwrap_or_default()
    }

    /// The text from the arguments on, for scanning words with their offsets.
    pub(super) fn args_text(&self) -> &str {
        self.source.text.get(self.args_offset..).unwrap_or_default()
    }

    pub(super) fn argument_count(&self) -> usize {
        match self.form {
            Form::Json(count) => count,
            _ => blank_words(&self.instruction.args, 0).len(),
        }
    }

    pub(super) fn flag_positions(&self) -> impl Iterator<Item = (usize, &str)> {
        self.flag_offsets
            .iter()
            .copied()
            .zip(self.instruction.flags.iter().map(String::as_str))
    }

    pub(super) fn may_have_heredocs(&self) -> bool {
        let keyword = self.instruction.keyword.as_str();
        if HEREDOC_CAPABLE.contains(&keyword) {
            return self.form == Form::Shell;
        }
        keyword == "ONBUILD" && trigger_may_have_heredocs(&self.instruction.args)
    }
}

/// BuildKit's instruction/argument separator (`[\t\v\f\r ]`).
pub(super) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// Leading `--flag` words (offset and raw text) and the offset where the arguments start. A lone
/// `--` ends the flags, as in BuildKit.
pub(super) fn extract_flags(text: &str, from: usize) -> (Vec<(usize, String)>, usize) {
    let mut flags = Vec::new();
    let mut pos = from;
    while let Some(rest) = text.get(pos..) {
        let trimmed = rest.trim_start();
        let start = pos + (rest.len() - trimmed.len());
        if !trimmed.starts_with("--") {
            return (flags, start);
        }
        // BuildKit reads flags with `\` as escape whatever the escape directive says.
        let len = word_len(trimmed, '\\');
        pos = start + len;
        let token = trimmed.get(..len).unwrap_or(trimmed);
        if token == "--" {
            break;
        }
        flags.push((start, token.to_string()));
    }
    (flags, pos)
}

/// A flag's name (without `--`) and value, quotes removed.
pub(super) fn flag_parts(raw: &str) -> (String, Option<String>) {
    let word = process_word(raw, '\\');
    let body = word.strip_prefix("--").unwrap_or(&word);
    match body.split_once('=') {
        Some((name, value)) => (name.to_string(), Some(value.to_string())),
        None => (body.to_string(), None),
    }
}

pub(super) fn json_form(args: &str) -> Form {
    if !args.starts_with('[') {
        return Form::Shell;
    }
    // Like BuildKit: text that is not a JSON array at all is shell form, but an array of
    // non-strings is an error rather than a command.
    match serde_json::from_str::<serde_json::Value>(args) {
        Ok(serde_json::Value::Array(items)) if items.iter().all(serde_json::Value::is_string) => {
            Form::Json(items.len())
        }
        Ok(serde_json::Value::Array(_)) => Form::MixedJson,
        _ => Form::Shell,
    }
}

/// Whether `ONBUILD <trigger>` has a trigger that may carry heredocs.
pub(super) fn trigger_may_have_heredocs(args: &str) -> bool {
    let trigger_len = args.find(is_blank).unwrap_or(args.len());
    let (trigger, rest) = args.split_at_checked(trigger_len).unwrap_or((args, ""));
    if !HEREDOC_CAPABLE.contains(&trigger.to_ascii_uppercase().as_str()) {
        return false;
    }
    let (_, args_start) = extract_flags(rest, 0);
    json_form(rest.get(args_start..).unwrap_or_default().trim()) == Form::Shell
}

pub(super) struct Lexer<'a> {
    pub(super) lines: PhysicalLines<'a>,
    pub(super) directives: Directives,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lexer {
            lines: PhysicalLines {
                rest: text.split('\n'),
                number: 0,
            },
            directives: Directives {
                done: false,
                seen: Vec::new(),
                escape: '\\',
            },
        }
    }

    /// The next instruction, checked on its own, with its heredoc bodies read.
    pub(super) fn next_instruction(&mut self) -> Result<Option<Lexed>, DockerfileError> {
        let Some(source) = self.next_logical_line()? else {
            return Ok(None);
        };
        let mut lexed = Lexed::split(source);
        check_instruction(&lexed)?;
        if lexed.may_have_heredocs() && lexed.instruction.args.contains("<<") {
            self.read_heredocs(&mut lexed)?;
        }
        Ok(Some(lexed))
    }

    pub(super) fn next_logical_line(&mut self) -> Result<Option<LogicalLine>, DockerfileError> {
        while let Some((number, raw)) = self.lines.next() {
            self.directives.observe(number, raw)?;
            let trimmed = raw.trim_start();
            if trimmed.starts_with('#') {
                continue;
            }
            let (body, continues) = strip_continuation(trimmed, self.directives.escape);
            if body.is_empty() && !continues {
                continue;
            }
            let indent = raw.get(..raw.len() - trimmed.len()).unwrap_or_default();
            let mut logical = LogicalLine::new(number, indent.chars().count() + 1, body);
            if continues {
                self.read_continuation(&mut logical);
            }
            if !logical.text.trim().is_empty() {
                return Ok(Some(logical));
            }
        }
        Ok(None)
    }

    pub(super) fn read_continuation(&mut self, logical: &mut LogicalLine) {
        let escape = self.directives.escape;
        for (number, raw) in self.lines.by_ref() {
            // BuildKit skips these, so a commented-out package in a long `apt-get install \` list
            // does not end the instruction.
            if raw.trim_start().is_empty() || is_comment(raw) {
                continue;
            }
            let (body, continues) = strip_continuation(raw, escape);
            logical.push(number, body);
            if !continues {
                return;
            }
        }
    }

    pub(super) fn read_heredocs(&mut self, lexed: &mut Lexed) -> Result<(), DockerfileError> {
        for (offset, marker) in heredoc_markers(lexed.args_text(), lexed.args_offset) {
            let body = self.read_heredoc_body(&marker).ok_or_else(|| {
                error(
                    lexed.at(offset),
                    format!(
                        "heredoc {} is not terminated: the file ends first",
                        quoted(&format!("<<{}", marker.name))
                    ),
                    format!(
                        "end the heredoc with a line that is exactly {}",
                        quoted(&marker.name)
                    ),
                )
            })?;
            lexed.instruction.heredocs.push(body);
        }
        Ok(())
    }

    pub(super) fn read_heredoc_body(&mut self, marker: &Heredoc) -> Option<String> {
        let mut body = String::new();
        for (_, line) in self.lines.by_ref() {
            let candidate = if marker.chomp {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == marker.name {
                return Some(body);
            }
            body.push_str(line);
            body.push('\n');
        }
        None
    }
}

/// A `<<NAME` marker: the terminator and whether leading tabs are ignored (`<<-`).
pub(super) struct Heredoc {
    pub(super) name: String,
    pub(super) chomp: bool,
}

/// Heredoc markers among the words of `text`, with their offsets (plus `base`).
pub(super) fn heredoc_markers(text: &str, base: usize) -> Vec<(usize, Heredoc)> {
    // BuildKit splits with `\` as escape here whatever the escape directive says.
    shell_words(text, base, '\\')
        .into_iter()
        .filter_map(|(offset, word)| heredoc_marker(word).map(|marker| (offset, marker)))
        .collect()
}

/// BuildKit's `^(\d*)<<(-?)([^<]*)$` on one word; the name is the rest, unquoted.
pub(super) fn heredoc_marker(word: &str) -> Option<Heredoc> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = process_word(rest, '\\');
    (!name.is_empty()).then_some(Heredoc { name, chomp })
}
