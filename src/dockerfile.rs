//! Dockerfiles read into instructions grouped by stage, plus the stage graph (which stage needs
//! which), so the planner can build each stage with `--target` in an order that works.
//!
//! Lexing follows BuildKit's dockerfile frontend: parser directives (`# syntax=`, `# escape=`,
//! `# check=`) only at the very top; line continuations with the escape character, skipping
//! comment and blank lines inside them; CRLF and a UTF-8 BOM; instruction keywords in any case;
//! `--flag` options before the arguments; JSON (exec) form; heredocs (`<<EOF`, `<<-EOF`,
//! `<<"EOF"`) on `RUN`, `COPY` and `ADD`, whose bodies are not instructions.
//!
//! The graph comes from `FROM <earlier stage>`, `COPY --from=<stage>` and
//! `RUN --mount=...,from=<stage>`. Names are compared case-insensitively, as BuildKit does, after
//! substituting `$VAR`/`${VAR}` from the global `ARG` defaults (BuildKit does that for `FROM`).
//!
//! Deliberately not done here: expanding variables anywhere else (stage-level `ARG`/`ENV`, build
//! args given on the command line), checking flags other than `FROM`'s, checking image references
//! (that is `reference`), and reading files (callers pass text or bytes and prefix the path to
//! errors). Errors carry a 1-based line and a column counted in characters.
//!
//! Nothing here panics on any input: text is sliced only at offsets found by walking it, and
//! every pass is linear in the size of the file, so huge or hostile files are refused or parsed
//! quickly rather than crashing the tool. What a file may ask for beyond its own size is capped:
//! a value with global `ARG`s substituted is at most [`MAX_SUBSTITUTED_VALUE`] bytes, substitution
//! copies at most [`MAX_SUBSTITUTED_TOTAL`] bytes per file, and a file has at most [`MAX_STAGES`]
//! stages (the plan grows with the square of a chain of stages). Each is refused with an error at
//! the line that passes it.

use std::collections::HashMap;
use std::fmt;

/// One build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based position in the Dockerfile.
    pub index: usize,
    /// The `AS name`, as written (compare case-insensitively).
    pub name: Option<String>,
    /// The base image or stage, as written after `FROM` (flags removed, variables not expanded).
    pub from: String,
    /// The earlier stage `FROM` names, if it names one.
    pub base_stage: Option<usize>,
    /// `--platform=` value of the `FROM`, if any (quotes removed, variables not expanded).
    pub platform: Option<String>,
    /// 1-based line of the `FROM`.
    pub line: usize,
    /// Stages this stage needs directly (base stage, `COPY --from`, `RUN --mount=from=`), sorted.
    /// Always earlier stages: later ones are refused while parsing.
    pub depends_on: Vec<usize>,
    /// The instructions after the `FROM` (the `FROM` itself is described by the fields above).
    pub instructions: Vec<Instruction>,
}

/// One instruction, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// Upper-cased keyword: `RUN`, `COPY`, ...
    pub keyword: String,
    /// Leading `--flag=value` options, as written (e.g. `--from=build`).
    pub flags: Vec<String>,
    /// The rest of the instruction, trimmed. Continuation lines are joined as BuildKit joins them:
    /// the escape character and the blanks after it are removed and the next line follows
    /// directly; comment and blank lines inside the continuation are dropped. JSON form is kept as
    /// written, and so are heredoc markers (`<<EOF`).
    pub args: String,
    /// Bodies of heredocs (`<<EOF ... EOF`) that belong to this instruction, in marker order, each
    /// line ending in `\n` (CRLF normalised), terminator line excluded.
    pub heredocs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// `ARG`s before the first `FROM`: name and default value. The default is the effective one:
    /// quotes removed and earlier global `ARG`s substituted, as BuildKit evaluates it.
    pub global_args: Vec<(String, Option<String>)>,
    pub stages: Vec<Stage>,
}

/// A parse error: where (1-based line and column) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

/// Instruction keywords BuildKit accepts, in the order the error hint lists them.
const KEYWORDS: [&str; 18] = [
    "FROM",
    "RUN",
    "COPY",
    "ADD",
    "ARG",
    "ENV",
    "WORKDIR",
    "USER",
    "EXPOSE",
    "VOLUME",
    "LABEL",
    "CMD",
    "ENTRYPOINT",
    "SHELL",
    "HEALTHCHECK",
    "ONBUILD",
    "STOPSIGNAL",
    "MAINTAINER",
];

/// Instructions whose arguments may be a JSON array (BuildKit's `parseMaybeJSON*`).
const JSON_CAPABLE: [&str; 7] = ["RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME"];

/// Instructions that may carry heredocs (BuildKit's `heredocDirectives`).
const HEREDOC_CAPABLE: [&str; 3] = ["RUN", "COPY", "ADD"];

/// Parser directives BuildKit knows; an unknown one ends the directive block like any comment.
const DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Nesting depth up to which `${A:-${B:-...}}` defaults are expanded; deeper text stays literal
/// so a hostile line cannot recurse without bound.
const MAX_EXPANSION_DEPTH: usize = 8;

/// Most bytes one value may hold once global `ARG`s are substituted into it (an `ARG` default, a
/// `FROM` image, a `--from`). Substitution multiplies text: eight `${A}` in each of twelve `ARG`s
/// ask for 8^12 bytes from a 600-byte file. Real values are image references and short strings.
pub const MAX_SUBSTITUTED_VALUE: usize = 64 * 1024;

/// Most bytes that substitution may copy out of variables over the whole file. The per-value cap
/// alone would still let 10,000 lines of `COPY --from=$A$A...` copy gigabytes.
pub const MAX_SUBSTITUTED_TOTAL: usize = 16 * 1024 * 1024;

/// Most stages a Dockerfile may have. Real ones have a handful; the planner lists every ancestor's
/// cache for each stage it builds, so a long chain of stages makes a plan that grows as n^2.
pub const MAX_STAGES: usize = 1_000;

/// Longest piece of user text quoted in an error message.
const QUOTE_MAX: usize = 40;

const FROM_HINT: &str = "write FROM [--platform=<platform>] <image> [AS <name>]";

// ---------------------------------------------------------------------------------------------
// Public entry points

/// Parse Dockerfile text.
pub fn parse(text: &str) -> Result<Dockerfile, DockerfileError> {
    parse_without_bom(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Parse raw file bytes: strip a UTF-8 BOM; refuse non-UTF-8 (say the byte offset/line) and binary
/// content (a NUL byte) and empty/whitespace-only/comment-only files with clear errors.
pub fn parse_bytes(bytes: &[u8]) -> Result<Dockerfile, DockerfileError> {
    // `decode` has already stripped the one BOM BuildKit strips; a second one is text, and makes
    // the first instruction unknown, as it does for `parse` and for docker.
    parse_without_bom(decode(bytes)?)
}

/// Parse text whose byte-order mark, if any, is already gone.
fn parse_without_bom(text: &str) -> Result<Dockerfile, DockerfileError> {
    let mut lexer = Lexer::new(text);
    let mut builder = Builder::default();
    let mut any_instruction = false;
    while let Some(lexed) = lexer.next_instruction()? {
        any_instruction = true;
        builder.add(lexed, lexer.directives.escape)?;
    }
    if !any_instruction {
        return Err(error(
            (1, 1),
            "the Dockerfile has no instructions (it is empty, or holds only blank lines and comments)",
            "a Dockerfile starts with FROM <image>",
        ));
    }
    builder.finish()
}

impl Dockerfile {
    /// A stage by name (case-insensitive, as BuildKit compares) or by numeric index.
    pub fn find_stage(&self, name_or_index: &str) -> Option<usize> {
        if is_index(name_or_index) {
            return name_or_index
                .parse::<usize>()
                .ok()
                .filter(|&index| index < self.stages.len());
        }
        self.stages.iter().position(|stage| {
            stage
                .name
                .as_deref()
                .is_some_and(|name| name.eq_ignore_ascii_case(name_or_index))
        })
    }

    /// The target and every stage it needs, transitively, in build order (dependencies first,
    /// target last; ascending index is a valid order since a stage may only depend on earlier
    /// stages). Empty if `target` is out of range.
    pub fn stages_for_target(&self, target: usize) -> Vec<usize> {
        if target >= self.stages.len() {
            return Vec::new();
        }
        let mut needed = vec![false; target + 1];
        needed[target] = true;
        // Dependencies always point backwards, so one sweep from the target down reaches every
        // ancestor; a forward edge (only possible in a hand-built value) is ignored, never followed.
        for index in (0..=target).rev() {
            if !needed[index] {
                continue;
            }
            for &dep in &self.stages[index].depends_on {
                if dep < index {
                    needed[dep] = true;
                }
            }
        }
        (0..=target).filter(|&index| needed[index]).collect()
    }

    /// Transitive dependencies of a stage (not including itself), ascending.
    pub fn ancestors(&self, stage: usize) -> Vec<usize> {
        let mut stages = self.stages_for_target(stage);
        stages.retain(|&index| index != stage);
        stages
    }
}

impl fmt::Display for DockerfileError {
    /// `line L, column C: message`, then the hint on its own line; the caller adds the path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, "\n{}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for DockerfileError {}

fn error(
    (line, column): (usize, usize),
    message: impl Into<String>,
    hint: impl Into<String>,
) -> DockerfileError {
    DockerfileError {
        line,
        column,
        message: message.into(),
        hint: hint.into(),
    }
}

/// User text for an error message, cut short so a megabyte of garbage stays one readable line.
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(QUOTE_MAX).collect();
    if chars.next().is_some() {
        format!("\"{head}...\"")
    } else {
        format!("\"{head}\"")
    }
}

fn is_index(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Bytes to text

/// The text of a file, or why it is not a Dockerfile we can read.
fn decode(bytes: &[u8]) -> Result<&str, DockerfileError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(error(
            (1, 1),
            "the file is UTF-16 encoded",
            "save the Dockerfile as UTF-8; docker reads nothing else",
        ));
    }
    let (body, skipped) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, UTF8_BOM.len()),
        None => (bytes, 0),
    };
    // NUL is checked before UTF-8 validity: a binary file usually fails both, and "binary" is the
    // message that tells the user they pointed at the wrong file.
    if let Some(at) = body.iter().position(|&b| b == 0) {
        return Err(error(
            byte_position(body, at),
            format!(
                "the file contains a NUL byte (at byte offset {}); it looks binary, not like a Dockerfile",
                at + skipped
            ),
            "check that the path points to the Dockerfile",
        ));
    }
    std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let byte = body.get(at).copied().unwrap_or_default();
        error(
            byte_position(body, at),
            format!(
                "the file is not valid UTF-8: byte 0x{byte:02X} at byte offset {}",
                at + skipped
            ),
            "save the Dockerfile as UTF-8",
        )
    })
}

/// Line and column (in characters) of byte offset `at`.
fn byte_position(bytes: &[u8], at: usize) -> (usize, usize) {
    let prefix = bytes.get(..at).unwrap_or(bytes);
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let before = prefix.get(line_start..).unwrap_or_default();
    (line, String::from_utf8_lossy(before).chars().count() + 1)
}

// ---------------------------------------------------------------------------------------------
// Physical and logical lines

/// The file's lines with their 1-based numbers, line endings (`\n`, `\r\n`) removed.
struct PhysicalLines<'a> {
    rest: std::str::Split<'a, char>,
    number: usize,
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
struct Segment {
    offset: usize,
    line: usize,
    column: usize,
}

/// An instruction's text with continuations joined.
struct LogicalLine {
    text: String,
    segments: Vec<Segment>,
}

impl LogicalLine {
    fn new(line: usize, column: usize, body: &str) -> Self {
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
    fn push(&mut self, line: usize, body: &str) {
        self.segments.push(Segment {
            offset: self.text.len(),
            line,
            column: 1,
        });
        self.text.push_str(body);
    }

    fn first_line(&self) -> usize {
        self.segments.first().map_or(1, |segment| segment.line)
    }

    /// Line and column of a byte offset into `text`.
    fn position(&self, offset: usize) -> (usize, usize) {
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
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    match body.strip_suffix(escape) {
        Some(before) if !before.ends_with(escape) => (before, true),
        _ => (line, false),
    }
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

// ---------------------------------------------------------------------------------------------
// Parser directives

/// Directive state: they are only read until the first line that is not one.
struct Directives {
    done: bool,
    seen: Vec<String>,
    escape: char,
}

impl Directives {
    fn observe(&mut self, number: usize, raw: &str) -> Result<(), DockerfileError> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = parse_directive(raw) else {
            self.done = true;
            return Ok(());
        };
        let key = key.to_ascii_lowercase();
        if !DIRECTIVES.contains(&key.as_str()) {
            // BuildKit treats an unknown directive as a comment, and nothing after it as a directive.
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(error(
                (number, 1),
                format!("only one {key} parser directive can be used"),
                "remove the repeated directive",
            ));
        }
        if key == "escape" {
            self.escape = escape_char(value).ok_or_else(|| {
                error(
                    (number, 1),
                    format!(
                        "invalid escape character {} in the escape directive",
                        quoted(value)
                    ),
                    "use # escape=\\ (the default) or # escape=`",
                )
            })?;
        }
        self.seen.push(key);
        Ok(())
    }
}

/// `# key = value` split into key and value, if the line has that shape.
fn parse_directive(raw: &str) -> Option<(&str, &str)> {
    let rest = raw.trim_start().strip_prefix('#')?.trim_start();
    let key_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let (key, rest) = rest.split_at_checked(key_len)?;
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest.trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then_some((key, value))
}

fn escape_char(value: &str) -> Option<char> {
    match value {
        "\\" => Some('\\'),
        "`" => Some('`'),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Lexing: logical lines into instructions

/// How an instruction's arguments are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Shell,
    /// A JSON array of strings, with that many elements.
    Json(usize),
    /// A JSON array holding something other than strings: BuildKit refuses it.
    MixedJson,
}

/// An instruction with what is needed to point at parts of it in errors.
struct Lexed {
    source: LogicalLine,
    keyword_offset: usize,
    keyword_len: usize,
    /// Byte offset of each flag, parallel to `instruction.flags`.
    flag_offsets: Vec<usize>,
    args_offset: usize,
    form: Form,
    instruction: Instruction,
}

impl Lexed {
    /// Keyword, flags and arguments of a logical line.
    fn split(source: LogicalLine) -> Lexed {
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

    fn at(&self, offset: usize) -> (usize, usize) {
        self.source.position(offset)
    }

    fn keyword_at(&self) -> (usize, usize) {
        self.at(self.keyword_offset)
    }

    fn written_keyword(&self) -> &str {
        let end = self.keyword_offset + self.keyword_len;
        self.source
            .text
            .get(self.keyword_offset..end)
            .unwrap_or_default()
    }

    /// The text from the arguments on, for scanning words with their offsets.
    fn args_text(&self) -> &str {
        self.source.text.get(self.args_offset..).unwrap_or_default()
    }

    fn argument_count(&self) -> usize {
        match self.form {
            Form::Json(count) => count,
            _ => blank_words(&self.instruction.args, 0).len(),
        }
    }

    fn flag_positions(&self) -> impl Iterator<Item = (usize, &str)> {
        self.flag_offsets
            .iter()
            .copied()
            .zip(self.instruction.flags.iter().map(String::as_str))
    }

    fn may_have_heredocs(&self) -> bool {
        let keyword = self.instruction.keyword.as_str();
        if HEREDOC_CAPABLE.contains(&keyword) {
            return self.form == Form::Shell;
        }
        keyword == "ONBUILD" && trigger_may_have_heredocs(&self.instruction.args)
    }
}

/// BuildKit's instruction/argument separator (`[\t\v\f\r ]`).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// Leading `--flag` words (offset and raw text) and the offset where the arguments start. A lone
/// `--` ends the flags, as in BuildKit.
fn extract_flags(text: &str, from: usize) -> (Vec<(usize, String)>, usize) {
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
fn flag_parts(raw: &str) -> (String, Option<String>) {
    let word = process_word(raw, '\\');
    let body = word.strip_prefix("--").unwrap_or(&word);
    match body.split_once('=') {
        Some((name, value)) => (name.to_string(), Some(value.to_string())),
        None => (body.to_string(), None),
    }
}

fn json_form(args: &str) -> Form {
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
fn trigger_may_have_heredocs(args: &str) -> bool {
    let trigger_len = args.find(is_blank).unwrap_or(args.len());
    let (trigger, rest) = args.split_at_checked(trigger_len).unwrap_or((args, ""));
    if !HEREDOC_CAPABLE.contains(&trigger.to_ascii_uppercase().as_str()) {
        return false;
    }
    let (_, args_start) = extract_flags(rest, 0);
    json_form(rest.get(args_start..).unwrap_or_default().trim()) == Form::Shell
}

struct Lexer<'a> {
    lines: PhysicalLines<'a>,
    directives: Directives,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
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
    fn next_instruction(&mut self) -> Result<Option<Lexed>, DockerfileError> {
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

    fn next_logical_line(&mut self) -> Result<Option<LogicalLine>, DockerfileError> {
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

    fn read_continuation(&mut self, logical: &mut LogicalLine) {
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

    fn read_heredocs(&mut self, lexed: &mut Lexed) -> Result<(), DockerfileError> {
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

    fn read_heredoc_body(&mut self, marker: &Heredoc) -> Option<String> {
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
struct Heredoc {
    name: String,
    chomp: bool,
}

/// Heredoc markers among the words of `text`, with their offsets (plus `base`).
fn heredoc_markers(text: &str, base: usize) -> Vec<(usize, Heredoc)> {
    // BuildKit splits with `\` as escape here whatever the escape directive says.
    shell_words(text, base, '\\')
        .into_iter()
        .filter_map(|(offset, word)| heredoc_marker(word).map(|marker| (offset, marker)))
        .collect()
}

/// BuildKit's `^(\d*)<<(-?)([^<]*)$` on one word; the name is the rest, unquoted.
fn heredoc_marker(word: &str) -> Option<Heredoc> {
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

// ---------------------------------------------------------------------------------------------
// Checks on one instruction

fn check_instruction(lexed: &Lexed) -> Result<(), DockerfileError> {
    let keyword = lexed.instruction.keyword.as_str();
    if !KEYWORDS.contains(&keyword) {
        return Err(unknown_instruction(
            lexed.written_keyword(),
            lexed.keyword_at(),
        ));
    }
    if lexed.form == Form::MixedJson {
        return Err(error(
            lexed.at(lexed.args_offset),
            format!("{keyword} uses the JSON array form, but not every element is a string"),
            "quote every element, e.g. [\"sh\", \"-c\", \"echo hi\"]",
        ));
    }
    check_argument_count(lexed)?;
    if keyword == "ONBUILD" {
        check_onbuild_trigger(lexed)?;
    }
    Ok(())
}

fn unknown_instruction(written: &str, at: (usize, usize)) -> DockerfileError {
    error(
        at,
        format!("unknown instruction {}", quoted(written)),
        format!("valid instructions: {}", KEYWORDS.join(", ")),
    )
}

fn check_argument_count(lexed: &Lexed) -> Result<(), DockerfileError> {
    let keyword = lexed.instruction.keyword.as_str();
    let (needed, message, hint) = match keyword {
        // BuildKit accepts these bare (an empty command).
        "RUN" | "CMD" | "ENTRYPOINT" => return Ok(()),
        "FROM" => (
            1,
            "FROM requires an image".to_string(),
            FROM_HINT.to_string(),
        ),
        "COPY" | "ADD" => (
            2,
            format!(
                "{keyword} requires at least two arguments: one or more sources and a destination"
            ),
            format!("write {keyword} <source>... <destination>"),
        ),
        _ => (
            1,
            format!("{keyword} requires at least one argument"),
            format!("add the arguments after {keyword}, or remove the line"),
        ),
    };
    if lexed.argument_count() >= needed {
        return Ok(());
    }
    Err(error(lexed.keyword_at(), message, hint))
}

fn check_onbuild_trigger(lexed: &Lexed) -> Result<(), DockerfileError> {
    let args = lexed.instruction.args.as_str();
    let trigger = args.split(is_blank).next().unwrap_or_default();
    let at = lexed.at(lexed.args_offset);
    let upper = trigger.to_ascii_uppercase();
    if !KEYWORDS.contains(&upper.as_str()) {
        return Err(unknown_instruction(trigger, at));
    }
    if matches!(upper.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
        return Err(error(
            at,
            format!("{upper} isn't allowed as an ONBUILD trigger"),
            "ONBUILD takes an instruction other than ONBUILD, FROM or MAINTAINER",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Words and variable substitution

/// Words split at BuildKit's blanks, with their byte offsets (plus `base`); no quote handling,
/// as BuildKit splits `FROM` arguments.
fn blank_words(text: &str, base: usize) -> Vec<(usize, &str)> {
    text.split(is_blank)
        .scan(0, |offset, word| {
            let start = *offset;
            *offset += word.len() + 1;
            Some((base + start, word))
        })
        .filter(|(_, word)| !word.is_empty())
        .collect()
}

/// Shell words with their byte offsets (plus `base`), quotes and escapes kept in the words.
fn shell_words(text: &str, base: usize, escape: char) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut pos = 0;
    while let Some(rest) = text.get(pos..) {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let start = pos + (rest.len() - trimmed.len());
        let len = word_len(trimmed, escape);
        words.push((base + start, trimmed.get(..len).unwrap_or(trimmed)));
        pos = start + len.max(1);
    }
    words
}

/// Byte length of the shell word at the start of `text`: up to the first unquoted whitespace.
fn word_len(text: &str, escape: char) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            // Nothing is special inside single quotes.
            Some('\'') => {}
            _ if c == escape => escaped = true,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() => return index,
            None => {}
        }
    }
    text.len()
}

type Env = HashMap<String, String>;

/// Shell-word processing without variables, as BuildKit applies it to flags and heredoc markers:
/// quotes removed, the escape character honoured, `$` kept literally.
fn process_word(word: &str, escape: char) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut processor = WordProcessor {
        escape,
        env: None,
        limit: usize::MAX,
        budget: usize::MAX,
        substituted: 0,
    };
    let mut out = String::with_capacity(word.len());
    // Without variables nothing is substituted, so no limit is reached; the text so far is the
    // whole word either way.
    match processor.process(&chars, 0, &mut out) {
        Ok(()) | Err(TooLong::Value | TooLong::Budget) => out,
    }
}

/// Which limit a substitution would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TooLong {
    /// The value would be longer than its limit.
    Value,
    /// The bytes copied out of variables would pass what is left of the file's budget.
    Budget,
}

/// A word with variables substituted, and how many of its bytes came out of variables.
struct Expanded {
    text: String,
    substituted: usize,
}

/// [`process_word`] plus `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}` and
/// `${VAR+word}` substituted from `env` (unset variables become empty, as in BuildKit), as BuildKit
/// processes `FROM` and `ARG` values. Refused as soon as the result would pass `limit` bytes, or
/// the bytes copied out of variables would pass `budget`, so a hostile file never makes it
/// allocate or copy more than that.
fn expand_word(
    word: &str,
    escape: char,
    env: &Env,
    limit: usize,
    budget: usize,
) -> Result<Expanded, TooLong> {
    let chars: Vec<char> = word.chars().collect();
    let mut processor = WordProcessor {
        escape,
        env: Some(env),
        limit,
        budget,
        substituted: 0,
    };
    let mut text = String::new();
    processor.process(&chars, 0, &mut text)?;
    if text.len() > limit {
        return Err(TooLong::Value);
    }
    Ok(Expanded {
        text,
        substituted: processor.substituted,
    })
}

struct WordProcessor<'a> {
    escape: char,
    env: Option<&'a Env>,
    /// Most bytes `out` may reach through substitution. Literal text never exceeds the word's own
    /// length, so only variable values are checked as they are copied.
    limit: usize,
    /// Most bytes that may be copied out of variables.
    budget: usize,
    /// Bytes copied out of variables so far.
    substituted: usize,
}

impl WordProcessor<'_> {
    /// Appends the processed `chars` to `out`. Nested defaults (`${A:-$B}`) append to the same
    /// `out`, so the limit bounds the whole value, not each piece.
    fn process(&mut self, chars: &[char], depth: usize, out: &mut String) -> Result<(), TooLong> {
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i = match c {
                _ if c == self.escape => {
                    out.extend(chars.get(i + 1));
                    i + 2
                }
                '\'' => single_quoted(chars, i + 1, out),
                '"' => self.double_quoted(chars, i + 1, depth, out)?,
                '$' => self.variable(chars, i, depth, out)?,
                _ => {
                    out.push(c);
                    i + 1
                }
            };
        }
        Ok(())
    }

    /// Inside double quotes the escape character only escapes `"`, `$` and itself, as in sh.
    fn double_quoted(
        &mut self,
        chars: &[char],
        start: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, TooLong> {
        let mut i = start;
        while let Some(&c) = chars.get(i) {
            match c {
                '"' => return Ok(i + 1),
                '$' => i = self.variable(chars, i, depth, out)?,
                _ if c == self.escape => match chars.get(i + 1) {
                    Some(&next) if next == '"' || next == '$' || next == self.escape => {
                        out.push(next);
                        i += 2;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                },
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(i)
    }

    /// Appends a variable's value, unless that would pass a limit.
    fn push_value(&mut self, value: &str, out: &mut String) -> Result<(), TooLong> {
        if out.len().saturating_add(value.len()) > self.limit {
            return Err(TooLong::Value);
        }
        if self.substituted.saturating_add(value.len()) > self.budget {
            return Err(TooLong::Budget);
        }
        out.push_str(value);
        self.substituted += value.len();
        Ok(())
    }

    /// Substitutes the variable whose `$` is at `dollar`; returns the index after it.
    fn variable(
        &mut self,
        chars: &[char],
        dollar: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, TooLong> {
        let Some(env) = self.env else {
            out.push('$');
            return Ok(dollar + 1);
        };
        match chars.get(dollar + 1) {
            Some('{') => self.braced(env, chars, dollar, depth, out),
            Some(&c) if c == '_' || c.is_ascii_alphabetic() => {
                let name = name_at(chars, dollar + 1);
                self.push_value(env.get(&name).map_or("", String::as_str), out)?;
                Ok(dollar + 1 + name.len())
            }
            _ => {
                out.push('$');
                Ok(dollar + 1)
            }
        }
    }

    fn braced(
        &mut self,
        env: &Env,
        chars: &[char],
        dollar: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, TooLong> {
        let start = dollar + 2;
        let Some(close) = matching_brace(chars, start) else {
            // BuildKit rejects a missing `}`; keeping the rest as text (instead of rescanning it
            // for every later `${`) keeps this linear.
            out.extend(chars.get(dollar..).unwrap_or_default());
            return Ok(chars.len());
        };
        let inner = chars.get(start..close).unwrap_or_default();
        let name = name_at(inner, 0);
        let modifier = inner.get(name.len()..).unwrap_or_default();
        match substitution(modifier, env.get(&name)) {
            Substitution::Value => {
                self.push_value(env.get(&name).map_or("", String::as_str), out)?;
            }
            Substitution::Word(word) if depth < MAX_EXPANSION_DEPTH => {
                self.process(word, depth + 1, out)?;
            }
            Substitution::Word(word) => out.extend(word),
            Substitution::Nothing => {}
        }
        Ok(close + 1)
    }
}

/// What `${NAME<modifier>}` yields.
enum Substitution<'w> {
    /// The variable's value (empty if unset).
    Value,
    /// The modifier's word, itself to be expanded.
    Word(&'w [char]),
    Nothing,
}

/// sh's `:-`, `-`, `:+` and `+`; anything else (`${VAR}`, and `:?`, `#`, `%`, which this module
/// does not evaluate) gives the value.
fn substitution<'w>(modifier: &'w [char], value: Option<&String>) -> Substitution<'w> {
    let set = value.is_some();
    let non_empty = value.is_some_and(|v| !v.is_empty());
    match modifier {
        [':', '-', word @ ..] if !non_empty => Substitution::Word(word),
        ['-', word @ ..] if !set => Substitution::Word(word),
        [':', '+', word @ ..] if non_empty => Substitution::Word(word),
        ['+', word @ ..] if set => Substitution::Word(word),
        [':', '+', ..] | ['+', ..] => Substitution::Nothing,
        _ => Substitution::Value,
    }
}

/// Appends the single-quoted text starting at `start`; returns the index after the closing quote.
fn single_quoted(chars: &[char], start: usize, out: &mut String) -> usize {
    let rest = chars.get(start..).unwrap_or_default();
    let len = rest.iter().position(|&c| c == '\'').unwrap_or(rest.len());
    out.extend(rest.get(..len).unwrap_or_default());
    start + len + 1
}

/// Index of the `}` closing a `${` whose body starts at `start`.
fn matching_brace(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 1usize;
    for (index, &c) in chars.iter().enumerate().skip(start) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The variable name (`[A-Za-z0-9_]*`) starting at `start`.
fn name_at(chars: &[char], start: usize) -> String {
    chars
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .collect()
}

/// BuildKit's rule for stage names: `[a-z][a-z0-9-_.]*`, compared case-insensitively.
fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

// ---------------------------------------------------------------------------------------------
// Stages and the graph

/// A stage reference from `COPY --from` or `RUN --mount=from=`, resolved once all stages are known
/// (a name may belong to a later stage, which is an error we want to explain).
struct StageReference {
    stage: usize,
    /// The value with global `ARG`s substituted.
    value: String,
    at: (usize, usize),
}

#[derive(Default)]
struct Builder {
    global_args: Vec<(String, Option<String>)>,
    /// Global `ARG` defaults, for substitution in `FROM` and `--from`.
    env: Env,
    stages: Vec<Stage>,
    /// Lower-cased stage name to index.
    names: HashMap<String, usize>,
    references: Vec<StageReference>,
    /// Bytes copied out of variables so far, against `MAX_SUBSTITUTED_TOTAL`.
    substituted: usize,
}

impl Builder {
    fn add(&mut self, lexed: Lexed, escape: char) -> Result<(), DockerfileError> {
        match lexed.instruction.keyword.as_str() {
            "FROM" => self.add_stage(&lexed, escape),
            "ARG" if self.stages.is_empty() => self.add_global_args(&lexed, escape),
            keyword if self.stages.is_empty() => Err(error(
                lexed.keyword_at(),
                format!("{keyword} comes before the first FROM"),
                "only ARG, comments and parser directives may come before the first FROM; \
                 add FROM <image> above this line",
            )),
            _ => {
                self.note_references(&lexed, escape)?;
                if let Some(stage) = self.stages.last_mut() {
                    stage.instructions.push(lexed.instruction);
                }
                Ok(())
            }
        }
    }

    fn add_global_args(&mut self, lexed: &Lexed, escape: char) -> Result<(), DockerfileError> {
        for (offset, word) in shell_words(lexed.args_text(), lexed.args_offset, escape) {
            let (name, default) = match word.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (word, None),
            };
            if name.is_empty() {
                return Err(error(
                    lexed.at(offset),
                    "ARG names can not be blank",
                    "write ARG <name>[=<default>]",
                ));
            }
            // Each default sees the global ARGs above it, as BuildKit evaluates them.
            let default = match default {
                Some(value) => {
                    let what = || format!("ARG {name}");
                    Some(self.expand(value, escape, lexed.at(offset), what)?)
                }
                None => None,
            };
            if let Some(value) = &default {
                self.env.insert(name.to_string(), value.clone());
            }
            self.global_args.push((name.to_string(), default));
        }
        Ok(())
    }

    /// `word` with the global `ARG`s substituted, or an error at `at` if that passes the limit on
    /// one value or the file's budget. `what` names the value for the message (`ARG A`).
    fn expand(
        &mut self,
        word: &str,
        escape: char,
        at: (usize, usize),
        what: impl FnOnce() -> String,
    ) -> Result<String, DockerfileError> {
        let budget = MAX_SUBSTITUTED_TOTAL.saturating_sub(self.substituted);
        match expand_word(word, escape, &self.env, MAX_SUBSTITUTED_VALUE, budget) {
            Ok(expanded) => {
                self.substituted += expanded.substituted;
                Ok(expanded.text)
            }
            Err(TooLong::Value) => Err(error(
                at,
                format!(
                    "{} expands to more than {} KiB once global ARGs are substituted; \
                     layercache refuses longer values",
                    what(),
                    MAX_SUBSTITUTED_VALUE / 1024
                ),
                "values built by repeating other ARGs grow fast; keep each value short \
                 (image references and stage names are a few dozen bytes)",
            )),
            Err(TooLong::Budget) => Err(error(
                at,
                format!(
                    "{}: substituting global ARGs copies more than {} MiB in this Dockerfile; \
                     layercache refuses that much",
                    what(),
                    MAX_SUBSTITUTED_TOTAL / (1024 * 1024)
                ),
                "use shorter ARG values, or refer to long ones less often",
            )),
        }
    }

    fn add_stage(&mut self, lexed: &Lexed, escape: char) -> Result<(), DockerfileError> {
        let index = self.stages.len();
        if index >= MAX_STAGES {
            // Refused before anything else of the stage is read, so a file of a million stages
            // costs no more than its first thousand.
            return Err(error(
                lexed.keyword_at(),
                format!("more than {MAX_STAGES} stages; layercache refuses Dockerfiles this long"),
                "real Dockerfiles have a handful of stages; merge stages, or split the file",
            ));
        }
        let platform = from_platform(lexed)?;
        let FromOperands { image: from, name } = from_operands(lexed)?;
        if let Some((offset, name)) = name {
            self.check_stage_name(lexed, offset, name)?;
        }
        // Only earlier stages are in `names` yet: BuildKit takes `FROM <this or a later stage>`
        // to mean an image of that name.
        let resolved = self
            .expand(from, escape, lexed.at(lexed.args_offset), || {
                "the FROM image".to_string()
            })?
            .to_ascii_lowercase();
        let base_stage = self.names.get(&resolved).copied();
        if let Some((_, name)) = name {
            self.names.insert(name.to_ascii_lowercase(), index);
        }
        self.stages.push(Stage {
            index,
            name: name.map(|(_, name)| name.to_string()),
            from: from.to_string(),
            base_stage,
            platform,
            line: lexed.instruction.line,
            depends_on: base_stage.into_iter().collect(),
            instructions: Vec::new(),
        });
        Ok(())
    }

    fn check_stage_name(
        &self,
        lexed: &Lexed,
        offset: usize,
        name: &str,
    ) -> Result<(), DockerfileError> {
        if !is_valid_stage_name(name) {
            return Err(error(
                lexed.at(offset),
                format!("invalid stage name {}", quoted(name)),
                "a stage name starts with a letter and holds only letters, digits, `-`, `_` and `.`",
            ));
        }
        if let Some(&first) = self.names.get(&name.to_ascii_lowercase()) {
            let first_line = self.stages.get(first).map_or(0, |stage| stage.line);
            return Err(error(
                lexed.at(offset),
                format!(
                    "duplicate stage name {}: already used at line {first_line}",
                    quoted(name)
                ),
                "give each stage its own name (names are compared case-insensitively)",
            ));
        }
        Ok(())
    }

    /// Records `COPY --from=` and `RUN --mount=...from=` values for resolution in `finish`.
    fn note_references(&mut self, lexed: &Lexed, escape: char) -> Result<(), DockerfileError> {
        let stage = self.stages.len().saturating_sub(1);
        let keyword = lexed.instruction.keyword.as_str();
        for (offset, raw) in lexed.flag_positions() {
            let value = match (keyword, flag_parts(raw)) {
                ("COPY", (name, Some(value))) if name == "from" => Some(value),
                ("RUN", (name, Some(value))) if name == "mount" => mount_from(&value),
                _ => None,
            };
            if let Some(value) = value {
                let at = lexed.at(offset);
                let what = || format!("the stage in {}", quoted(raw));
                let value = self.expand(&value, escape, at, what)?;
                self.references.push(StageReference { stage, value, at });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Dockerfile, DockerfileError> {
        if self.stages.is_empty() {
            return Err(error(
                (1, 1),
                "no FROM instruction; a Dockerfile starts with FROM <image>",
                "add FROM <image> (after any global ARG lines)",
            ));
        }
        for reference in std::mem::take(&mut self.references) {
            if let Some(dependency) = self.resolve(&reference)? {
                if let Some(stage) = self.stages.get_mut(reference.stage) {
                    stage.depends_on.push(dependency);
                }
            }
        }
        for stage in &mut self.stages {
            stage.depends_on.sort_unstable();
            stage.depends_on.dedup();
        }
        Ok(Dockerfile {
            global_args: self.global_args,
            stages: self.stages,
        })
    }

    /// The earlier stage a reference names, `None` for an external image, or an error for a
    /// stage that is not available yet.
    fn resolve(&self, reference: &StageReference) -> Result<Option<usize>, DockerfileError> {
        let value = reference.value.as_str();
        if value.is_empty() {
            return Ok(None);
        }
        if is_index(value) {
            return match value.parse::<usize>() {
                Ok(index) if index < reference.stage => Ok(Some(index)),
                _ => Err(error(
                    reference.at,
                    format!(
                        "stage {} is not defined before this instruction",
                        quoted(value)
                    ),
                    format!(
                        "stage indexes count FROM lines from 0; this is stage {}, so use an index \
                         below it or a stage name",
                        reference.stage
                    ),
                )),
            };
        }
        match self.names.get(&value.to_ascii_lowercase()).copied() {
            Some(index) if index < reference.stage => Ok(Some(index)),
            Some(index) if index == reference.stage => Err(error(
                reference.at,
                format!("stage {} refers to itself", quoted(value)),
                "a stage cannot copy or mount from itself; split it into two stages",
            )),
            Some(index) => {
                let line = self.stages.get(index).map_or(0, |stage| stage.line);
                Err(error(
                    reference.at,
                    format!(
                        "stage {} is defined later, at line {line}; move it above",
                        quoted(value)
                    ),
                    "a stage can only use stages defined before it",
                ))
            }
            // Not a stage: an image such as `nginx:1.25`, which is no dependency.
            None => Ok(None),
        }
    }
}

/// `--platform` of a `FROM`; any other flag is an error, as in BuildKit.
fn from_platform(lexed: &Lexed) -> Result<Option<String>, DockerfileError> {
    let mut platform = None;
    for (offset, raw) in lexed.flag_positions() {
        match flag_parts(raw) {
            (name, Some(value)) if name == "platform" => platform = Some(value),
            (name, None) if name == "platform" => {
                return Err(error(
                    lexed.at(offset),
                    "--platform needs a value",
                    "write --platform=<os>/<arch>, e.g. --platform=linux/amd64",
                ))
            }
            (name, _) => {
                return Err(error(
                    lexed.at(offset),
                    format!("unknown flag {} on FROM", quoted(&format!("--{name}"))),
                    "FROM only takes --platform=<platform>",
                ))
            }
        }
    }
    Ok(platform)
}

/// What follows `FROM` and its flags.
struct FromOperands<'a> {
    image: &'a str,
    /// The `AS` name and its byte offset.
    name: Option<(usize, &'a str)>,
}

/// The image and the optional `AS name` of a `FROM`.
fn from_operands(lexed: &Lexed) -> Result<FromOperands<'_>, DockerfileError> {
    let words = blank_words(lexed.args_text(), lexed.args_offset);
    match words.as_slice() {
        [(_, image)] => Ok(FromOperands { image, name: None }),
        [(_, image), (_, keyword), (offset, name)] if keyword.eq_ignore_ascii_case("as") => {
            Ok(FromOperands {
                image,
                name: Some((*offset, name)),
            })
        }
        [] => Err(error(
            lexed.keyword_at(),
            "FROM requires an image",
            FROM_HINT,
        )),
        [_, (offset, keyword)] if keyword.eq_ignore_ascii_case("as") => Err(error(
            lexed.at(*offset),
            "FROM ... AS needs a stage name after AS",
            FROM_HINT,
        )),
        [_, (offset, word)] | [_, (offset, word), _] => Err(error(
            lexed.at(*offset),
            format!("expected AS before a stage name, found {}", quoted(word)),
            FROM_HINT,
        )),
        [_, _, _, (offset, word), ..] => Err(error(
            lexed.at(*offset),
            format!("unexpected {} after the stage name", quoted(word)),
            FROM_HINT,
        )),
    }
}

/// The `from=` of a `--mount` value (`type=bind,from=build,source=/out`), whatever the type.
fn mount_from(value: &str) -> Option<String> {
    value.split(',').find_map(|field| {
        let (key, value) = field.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("from")
            .then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Dockerfile {
        match parse(text) {
            Ok(dockerfile) => dockerfile,
            Err(e) => panic!("expected {text:?} to parse, got: {e}"),
        }
    }

    fn err(text: &str) -> DockerfileError {
        match parse(text) {
            Ok(dockerfile) => panic!("expected {text:?} to fail, got {dockerfile:?}"),
            Err(e) => e,
        }
    }

    fn err_at(text: &str, line: usize, column: usize, needle: &str) -> DockerfileError {
        let e = err(text);
        assert_eq!((e.line, e.column), (line, column), "position of: {e}");
        assert!(e.message.contains(needle), "{needle:?} not in: {e}");
        e
    }

    fn instruction(dockerfile: &Dockerfile, stage: usize, index: usize) -> &Instruction {
        &dockerfile.stages[stage].instructions[index]
    }

    #[test]
    fn two_stage_example() {
        let d = ok("FROM python:3.9.7 AS base\n\
                    RUN pip install -r requirements.txt\n\
                    FROM base AS final\n\
                    COPY . .\n");
        assert_eq!(d.stages.len(), 2);
        let base = &d.stages[0];
        assert_eq!(base.name.as_deref(), Some("base"));
        assert_eq!(base.from, "python:3.9.7");
        assert_eq!(base.base_stage, None);
        assert_eq!(base.line, 1);
        assert!(base.depends_on.is_empty());
        assert_eq!(base.instructions.len(), 1);
        assert_eq!(base.instructions[0].keyword, "RUN");
        assert_eq!(base.instructions[0].args, "pip install -r requirements.txt");
        let last = &d.stages[1];
        assert_eq!(last.name.as_deref(), Some("final"));
        assert_eq!(last.from, "base");
        assert_eq!(last.base_stage, Some(0));
        assert_eq!(last.depends_on, vec![0]);
        assert_eq!(last.line, 3);
        assert_eq!(last.instructions[0].line, 4);
        assert_eq!(last.instructions[0].args, ". .");
        assert_eq!(d.stages_for_target(1), vec![0, 1]);
        assert_eq!(d.find_stage("final"), Some(1));
    }

    #[test]
    fn continuation_joins_lines_as_buildkit() {
        let d = ok("FROM a\nRUN apt-get update && \\\n    apt-get install -y curl\nUSER app\n");
        let run = instruction(&d, 0, 0);
        assert_eq!(run.line, 2);
        assert_eq!(run.args, "apt-get update &&     apt-get install -y curl");
        assert_eq!(instruction(&d, 0, 1).line, 4);
    }

    #[test]
    fn continuation_skips_comments_and_blank_lines() {
        let d = ok(
            "FROM a\nRUN apt-get install \\\n# curl \\\n\n    git \\\n  # more\n    vim\nUSER x",
        );
        let run = instruction(&d, 0, 0);
        assert_eq!(run.args, "apt-get install     git     vim");
        assert_eq!(instruction(&d, 0, 1).line, 8);
    }

    #[test]
    fn trailing_blanks_after_escape_and_doubled_escape() {
        let d = ok("FROM a\nRUN echo one \\  \n two\nRUN echo c:\\\\\nUSER x\n");
        assert_eq!(instruction(&d, 0, 0).args, "echo one  two");
        assert_eq!(instruction(&d, 0, 1).args, "echo c:\\\\");
        assert_eq!(instruction(&d, 0, 2).keyword, "USER");
    }

    #[test]
    fn escape_directive_backtick() {
        let d = ok("# escape=`\nFROM mcr.microsoft.com/windows AS win\nRUN dir c:\\ `\n    /s\nFROM win\nCOPY --from=win c:\\a c:\\b\n");
        let run = instruction(&d, 0, 0);
        assert_eq!(run.args, "dir c:\\     /s");
        assert_eq!(d.stages[1].line, 5);
        assert_eq!(d.stages[1].depends_on, vec![0]);
    }

    #[test]
    fn syntax_directive_ignored_and_escape_after_it() {
        let d = ok("# syntax=docker/dockerfile:1\n#escape = `\nFROM a\nRUN x `\n y\n");
        assert_eq!(instruction(&d, 0, 0).args, "x  y");
    }

    #[test]
    fn escape_directive_after_comment_is_a_comment() {
        let d = ok("# hello\n# escape=`\nFROM a\nRUN x `\nUSER y\n");
        // The backtick stays literal, so USER is its own instruction.
        assert_eq!(instruction(&d, 0, 0).args, "x `");
        assert_eq!(instruction(&d, 0, 1).keyword, "USER");
    }

    #[test]
    fn heredoc_body_is_not_instructions() {
        let text = "FROM a\nRUN <<EOF\nFROM x AS y\nset -e\nEOF\nUSER app\n";
        let d = ok(text);
        assert_eq!(d.stages.len(), 1);
        let run = instruction(&d, 0, 0);
        assert_eq!(run.args, "<<EOF");
        assert_eq!(run.heredocs, vec!["FROM x AS y\nset -e\n".to_string()]);
        let user = instruction(&d, 0, 1);
        assert_eq!((user.keyword.as_str(), user.line), ("USER", 6));
    }

    #[test]
    fn heredoc_variants() {
        let d = ok("FROM a\n\
                    RUN <<-EOT bash\n\techo hi\n\tEOT\n\
                    RUN python3 <<'PY'\nprint(1)\nPY\n\
                    COPY <<\"CONF\" /etc/app.conf\nFROM not-a-stage\nCONF\n\
                    COPY <<ONE <<TWO /dst/\none\nONE\ntwo\nTWO\n\
                    RUN cat <<EOF > /x\r\nline\r\nEOF\r\n\
                    USER done\n");
        let heredocs: Vec<&Vec<String>> = d.stages[0]
            .instructions
            .iter()
            .map(|i| &i.heredocs)
            .collect();
        assert_eq!(heredocs[0], &vec!["\techo hi\n".to_string()]);
        assert_eq!(heredocs[1], &vec!["print(1)\n".to_string()]);
        assert_eq!(heredocs[2], &vec!["FROM not-a-stage\n".to_string()]);
        assert_eq!(heredocs[3], &vec!["one\n".to_string(), "two\n".to_string()]);
        assert_eq!(heredocs[4], &vec!["line\n".to_string()]);
        assert_eq!(instruction(&d, 0, 5).keyword, "USER");
        assert_eq!(d.stages.len(), 1);
    }

    #[test]
    fn not_heredocs() {
        // Quoted markers, here-strings, JSON form and instructions without heredoc support.
        let d = ok("FROM a\nRUN echo \"<<EOF\"\nRUN cat <<<word\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nENV A=<<EOF\nUSER x\n");
        assert!(d.stages[0]
            .instructions
            .iter()
            .all(|i| i.heredocs.is_empty()));
        assert_eq!(d.stages[0].instructions.len(), 5);
    }

    #[test]
    fn onbuild_heredoc() {
        let d = ok("FROM a\nONBUILD RUN <<EOF\nFROM x\nEOF\nUSER y\n");
        assert_eq!(instruction(&d, 0, 0).heredocs, vec!["FROM x\n".to_string()]);
        assert_eq!(d.stages.len(), 1);
    }

    #[test]
    fn json_form_kept_as_written() {
        let d =
            ok("FROM a\nRUN [\"echo\", \"hi there\"]\nCOPY [\"a b\", \"/dst/\"]\nCMD [\"x\"]\n");
        assert_eq!(instruction(&d, 0, 0).args, "[\"echo\", \"hi there\"]");
        assert_eq!(instruction(&d, 0, 1).args, "[\"a b\", \"/dst/\"]");
        assert_eq!(instruction(&d, 0, 2).keyword, "CMD");
    }

    #[test]
    fn not_quite_json_is_shell_form() {
        let d = ok("FROM a\nRUN [ -f /x ] && echo yes\n");
        assert_eq!(instruction(&d, 0, 0).args, "[ -f /x ] && echo yes");
    }

    #[test]
    fn lowercase_and_mixed_case_keywords_and_indentation() {
        let d = ok("from alpine as Build\n  run echo hi\nfrom scratch\n\tCoPy --from=build a b\ncopy --FROM=x a b\n");
        assert_eq!(d.stages[0].name.as_deref(), Some("Build"));
        assert_eq!(instruction(&d, 0, 0).keyword, "RUN");
        assert_eq!(instruction(&d, 1, 0).keyword, "COPY");
        assert_eq!(d.find_stage("BUILD"), Some(0));
        // Flag names are case-sensitive in BuildKit: `--FROM` is no stage reference.
        assert_eq!(d.stages[1].depends_on, vec![0]);
    }

    #[test]
    fn crlf_line_endings() {
        let d = ok("FROM a AS b\r\nRUN one \\\r\n  two\r\nFROM b\r\n");
        assert_eq!(d.stages[0].name.as_deref(), Some("b"));
        assert_eq!(instruction(&d, 0, 0).args, "one   two");
        assert_eq!(d.stages[1].base_stage, Some(0));
        assert_eq!(d.stages[1].line, 4);
    }

    #[test]
    fn utf8_bom() {
        let text = "\u{feff}# escape=`\nFROM a\nRUN x `\n y\n";
        assert_eq!(instruction(&ok(text), 0, 0).args, "x  y");
        let d = parse_bytes(text.as_bytes()).expect("BOM file parses");
        assert_eq!(d.stages[0].line, 2);
    }

    #[test]
    fn platform_flag() {
        let d = ok("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=\"linux/arm64\" alpine\n");
        assert_eq!(d.stages[0].platform.as_deref(), Some("$BUILDPLATFORM"));
        assert_eq!(d.stages[0].from, "golang:1.22");
        assert_eq!(d.stages[1].platform.as_deref(), Some("linux/arm64"));
    }

    #[test]
    fn global_args() {
        let d = ok("# comment\nARG A=1 B\nARG C=\"x y\" D=${A}-z\nARG E\nFROM a\nARG LOCAL=2\n");
        assert_eq!(
            d.global_args,
            vec![
                ("A".to_string(), Some("1".to_string())),
                ("B".to_string(), None),
                ("C".to_string(), Some("x y".to_string())),
                ("D".to_string(), Some("1-z".to_string())),
                ("E".to_string(), None),
            ]
        );
        assert_eq!(instruction(&d, 0, 0).keyword, "ARG");
    }

    #[test]
    fn arg_substitution_in_from_resolves_a_stage() {
        let d = ok("ARG BASE=Builder\nARG TAG\nFROM golang AS builder\nFROM ${BASE}\nFROM $BASE\nFROM ${MISSING:-builder}\nFROM alpine:${TAG:-3.19}\n");
        assert_eq!(d.stages[1].base_stage, Some(0));
        assert_eq!(d.stages[1].from, "${BASE}");
        assert_eq!(d.stages[2].base_stage, Some(0));
        assert_eq!(d.stages[3].base_stage, Some(0));
        assert_eq!(d.stages[4].base_stage, None);
    }

    #[test]
    fn copy_from_name_index_and_external_image() {
        let d = ok("ARG SRC=deps\nFROM a AS deps\nFROM b AS build\nFROM c\n\
                    COPY --from=BUILD /out /out\n\
                    COPY --from=0 /x /x\n\
                    COPY --from=nginx:1.25 /etc/nginx /etc/nginx\n\
                    COPY --chown=app --from=$SRC /y /y\n");
        assert_eq!(d.stages[2].depends_on, vec![0, 1]);
        assert_eq!(d.stages[2].base_stage, None);
        assert_eq!(
            instruction(&d, 2, 0).flags,
            vec!["--from=BUILD".to_string()]
        );
        assert_eq!(
            instruction(&d, 2, 3).flags,
            vec!["--chown=app".to_string(), "--from=$SRC".to_string()]
        );
    }

    #[test]
    fn run_mount_from() {
        let d = ok("FROM a AS cache\nFROM b AS src\nFROM c AS tools\nFROM d\n\
                    RUN --mount=type=bind,from=src,source=/app,target=/app \\\n    --mount=type=cache,target=/root/.cache,FROM=cache \\\n    --mount=type=tmpfs,target=/tmp make\n\
                    RUN --mount=from=busybox,target=/bb true\n");
        assert_eq!(d.stages[3].depends_on, vec![0, 1]);
        assert_eq!(instruction(&d, 3, 0).flags.len(), 3);
        assert_eq!(instruction(&d, 3, 0).args, "make");
    }

    #[test]
    fn diamond_graph() {
        let d = ok("FROM alpine AS base\n\
                    FROM base AS left\n\
                    FROM base AS right\n\
                    FROM scratch AS unrelated\n\
                    FROM left AS final\n\
                    COPY --from=right /r /r\n");
        assert_eq!(d.find_stage("final"), Some(4));
        assert_eq!(d.stages_for_target(4), vec![0, 1, 2, 4]);
        assert_eq!(d.ancestors(4), vec![0, 1, 2]);
        assert_eq!(d.stages_for_target(3), vec![3]);
        assert!(d.ancestors(0).is_empty());
        assert!(d.stages_for_target(99).is_empty());
    }

    #[test]
    fn find_stage_by_name_or_index() {
        let d = ok("FROM a AS Build\nFROM b\n");
        assert_eq!(d.find_stage("build"), Some(0));
        assert_eq!(d.find_stage("BUILD"), Some(0));
        assert_eq!(d.find_stage("1"), Some(1));
        assert_eq!(d.find_stage("2"), None);
        assert_eq!(d.find_stage("99999999999999999999999"), None);
        assert_eq!(d.find_stage("nope"), None);
        assert_eq!(d.find_stage(""), None);
    }

    #[test]
    fn from_self_or_later_stage_is_an_image() {
        let d = ok("FROM later AS first\nFROM node AS node\nFROM alpine AS later\n");
        assert!(d
            .stages
            .iter()
            .all(|s| s.base_stage.is_none() && s.depends_on.is_empty()));
    }

    #[test]
    fn non_ascii_text_is_safe() {
        let d = ok("FROM a\nRUN echo 'héllo wörld ✓' \\\n  ünïcode\nLABEL name=\"日本\"\n");
        assert_eq!(instruction(&d, 0, 0).args, "echo 'héllo wörld ✓'   ünïcode");
        err_at("FROM a AS 名前\n", 1, 11, "invalid stage name");
        err_at(
            "FROM a AS one\nCOPY --chown=ü:ü --from=two a b\nFROM b AS two\n",
            2,
            18,
            "defined later",
        );
    }

    // ----- errors

    #[test]
    fn unknown_instruction_names_column_and_lists_valid_ones() {
        let e = err_at(
            "FROM a\n   RUNN echo\n",
            2,
            4,
            "unknown instruction \"RUNN\"",
        );
        assert!(
            e.hint.starts_with("valid instructions: FROM, RUN, COPY,"),
            "{}",
            e.hint
        );
        err_at("FROM a\nONBUILD FOO x\n", 2, 9, "unknown instruction");
        err_at(
            "FROM a\nONBUILD FROM x\n",
            2,
            9,
            "isn't allowed as an ONBUILD trigger",
        );
    }

    #[test]
    fn instruction_before_first_from() {
        err_at(
            "ARG A=1\n\nRUN echo\nFROM a\n",
            3,
            1,
            "RUN comes before the first FROM",
        );
    }

    #[test]
    fn no_from_at_all() {
        let e = err_at("ARG A=1\n", 1, 1, "no FROM instruction");
        assert_eq!(
            e.message,
            "no FROM instruction; a Dockerfile starts with FROM <image>"
        );
    }

    #[test]
    fn empty_whitespace_and_comment_only_files() {
        for text in [
            "",
            "   \n\t\n",
            "# just a comment\n# syntax=x\n",
            "\u{feff}",
        ] {
            err_at(text, 1, 1, "no instructions");
        }
        assert!(parse_bytes(b"\n\n  \n").is_err());
    }

    #[test]
    fn missing_arguments() {
        err_at("FROM\n", 1, 1, "FROM requires an image");
        err_at(
            "FROM a\n  WORKDIR\n",
            2,
            3,
            "WORKDIR requires at least one argument",
        );
        err_at(
            "FROM a\nCOPY --from=x /only\n",
            2,
            1,
            "COPY requires at least two arguments",
        );
        err_at(
            "FROM a\nCOPY []\n",
            2,
            1,
            "COPY requires at least two arguments",
        );
        // Bare RUN/CMD are accepted by BuildKit.
        ok("FROM a\nRUN\nCMD\n");
    }

    #[test]
    fn from_shape_errors() {
        err_at("FROM a b\n", 1, 8, "expected AS");
        err_at("FROM a AS\n", 1, 8, "needs a stage name");
        err_at("FROM a AS b c\n", 1, 13, "unexpected \"c\"");
        err_at("FROM --foo=1 a\n", 1, 6, "unknown flag \"--foo\"");
        err_at("FROM --platform a\n", 1, 6, "--platform needs a value");
    }

    #[test]
    fn invalid_stage_names() {
        err_at("FROM a AS 1st\n", 1, 11, "invalid stage name \"1st\"");
        err_at("FROM a AS my/stage\n", 1, 11, "invalid stage name");
        ok("FROM a AS My-Stage_1.0\n");
    }

    #[test]
    fn duplicate_stage_names() {
        let e = err_at(
            "FROM a AS build\nRUN x\nFROM b AS Build\n",
            3,
            11,
            "duplicate stage name",
        );
        assert!(e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn copy_from_index_not_before() {
        err_at(
            "FROM a\nFROM b\nCOPY --from=1 /a /b\n",
            3,
            6,
            "stage \"1\" is not defined before this instruction",
        );
        err_at("FROM a\nCOPY --from=7 /a /b\n", 2, 6, "not defined before");
    }

    #[test]
    fn copy_from_later_stage() {
        let e = err_at(
            "FROM a AS one\nCOPY --from=two /a /b\nFROM b AS two\n",
            2,
            6,
            "is defined later, at line 3",
        );
        assert!(e.message.contains("move it above"), "{e}");
        err_at(
            "FROM a\nRUN --mount=type=bind,from=later,target=/x true\nFROM b AS later\n",
            2,
            5,
            "defined later",
        );
        err_at(
            "FROM a AS me\nCOPY --from=me /a /b\n",
            2,
            6,
            "refers to itself",
        );
    }

    #[test]
    fn error_position_on_continuation_line() {
        err_at(
            "FROM a AS one\nCOPY \\\n  --from=two /a /b\nFROM b AS two\n",
            3,
            3,
            "defined later",
        );
    }

    #[test]
    fn unterminated_heredoc() {
        err_at(
            "FROM a\nRUN cat <<EOF\nnever ends\n",
            2,
            9,
            "heredoc \"<<EOF\" is not terminated",
        );
    }

    #[test]
    fn directive_errors() {
        err_at("# escape=x\nFROM a\n", 1, 1, "invalid escape character");
        err_at(
            "# escape=`\n# escape=\\\nFROM a\n",
            2,
            1,
            "only one escape parser directive",
        );
    }

    #[test]
    fn json_with_non_strings() {
        err_at(
            "FROM a\nCMD [\"a\", 1]\n",
            2,
            5,
            "not every element is a string",
        );
    }

    #[test]
    fn blank_arg_name() {
        err_at("ARG =x\nFROM a\n", 1, 5, "ARG names can not be blank");
    }

    #[test]
    fn bytes_errors() {
        let e = parse_bytes(b"FROM a\nRUN \xff\xfe\n").expect_err("invalid UTF-8");
        assert_eq!((e.line, e.column), (2, 5));
        assert!(e.message.contains("byte offset 11"), "{e}");
        let e = parse_bytes(b"\xEF\xBB\xBFFROM a\nRUN x\x00y\n").expect_err("NUL");
        assert_eq!((e.line, e.column), (2, 6));
        assert!(e.message.contains("NUL byte (at byte offset 15)"), "{e}");
        let e = parse_bytes(b"\xFF\xFEF\x00R\x00").expect_err("UTF-16");
        assert!(e.message.contains("UTF-16"), "{e}");
    }

    #[test]
    fn display_format() {
        let e = err("FROM a\nBOGUS x\n");
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "line 2, column 1: unknown instruction \"BOGUS\"\nvalid instructions: FROM"
            ),
            "{shown}"
        );
        let no_hint = DockerfileError {
            line: 1,
            column: 2,
            message: "m".into(),
            hint: String::new(),
        };
        assert_eq!(no_hint.to_string(), "line 1, column 2: m");
    }

    #[test]
    fn long_garbage_keyword_is_quoted_short() {
        let keyword = "X".repeat(10_000);
        let e = err(&format!("FROM a\n{keyword} y\n"));
        assert!(e.message.len() < 100, "{}", e.message);
    }

    #[test]
    fn hundred_thousand_lines_parse() {
        // As many stages as allowed, each a hundred lines long.
        let mut text = String::from("ARG BASE=alpine:3.19\n");
        for stage in 0..MAX_STAGES {
            text.push_str(&format!("FROM $BASE AS s{stage}\n"));
            if stage > 0 {
                text.push_str(&format!("COPY --from=s{} /out /in\n", stage - 1));
            } else {
                text.push_str("COPY . /in\n");
            }
            text.push_str("RUN set -e; \\\n    echo one \\\n    # note\n    && echo two\n");
            text.push_str("RUN <<EOF\nFROM not-a-stage\nEOF\n");
            text.push_str("WORKDIR /w\nENV A=1\n");
            for line in 0..89 {
                text.push_str(&format!("RUN echo {stage}.{line}\n"));
            }
        }
        assert!(text.lines().count() >= 100_000);
        let d = ok(&text);
        assert_eq!(d.stages.len(), MAX_STAGES);
        assert_eq!(d.stages_for_target(MAX_STAGES - 1).len(), MAX_STAGES);
        assert_eq!(d.stages[MAX_STAGES - 1].depends_on, vec![MAX_STAGES - 2]);
    }

    fn chained_stages(count: usize) -> String {
        let mut text = String::from("FROM busybox AS s0\n");
        for i in 1..count {
            text.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
        }
        text
    }

    #[test]
    fn stages_up_to_the_limit_parse_and_the_graph_stays_cheap() {
        let d = ok(&chained_stages(MAX_STAGES));
        assert_eq!(d.stages.len(), MAX_STAGES);
        // The planner asks for every stage's ancestors: n calls, each linear in the stages below.
        let start = std::time::Instant::now();
        let total: usize = (0..MAX_STAGES).map(|i| d.ancestors(i).len()).sum();
        assert_eq!(total, MAX_STAGES * (MAX_STAGES - 1) / 2);
        assert_eq!(
            d.stages_for_target(MAX_STAGES - 1),
            (0..MAX_STAGES).collect::<Vec<_>>()
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn too_many_stages_are_refused_at_the_first_one_over() {
        let e = err_at(
            &chained_stages(MAX_STAGES + 1),
            MAX_STAGES + 1,
            1,
            "more than 1000 stages",
        );
        assert!(e.hint.contains("merge stages"), "{e}");
        // Refused while reading, so the rest of a huge file costs nothing.
        let start = std::time::Instant::now();
        err_at(
            &chained_stages(100_000),
            MAX_STAGES + 1,
            1,
            "more than 1000 stages",
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn global_args_that_expand_exponentially_are_refused() {
        // Each ARG is eight copies of the one before: A5 would be 256 KiB, A11 8^12 bytes.
        let mut text = String::from("ARG A0=xxxxxxxx\n");
        for i in 1..12 {
            let copies = format!("${{A{}}}", i - 1).repeat(8);
            text.push_str(&format!("ARG A{i}={copies}\n"));
        }
        text.push_str("FROM busybox\n");
        let e = err_at(&text, 6, 5, "ARG A5 expands to more than 64 KiB");
        assert!(e.hint.contains("repeating other ARGs"), "{e}");
    }

    #[test]
    fn substituted_values_up_to_64_kib_are_kept() {
        let limit = "x".repeat(MAX_SUBSTITUTED_VALUE);
        let d = ok(&format!("ARG A={limit}\nARG B=$A\nFROM $B\n"));
        assert_eq!(
            d.global_args[1].1.as_deref().map(str::len),
            Some(MAX_SUBSTITUTED_VALUE)
        );
        err_at(
            &format!("ARG A={limit}\nARG B=${{A}}y\nFROM a\n"),
            2,
            5,
            "ARG B expands to more than 64 KiB",
        );
        err_at(
            &format!("ARG A={limit}x\nFROM a\n"),
            1,
            5,
            "ARG A expands to more than 64 KiB",
        );
        err_at(
            &format!("ARG A={limit}\nFROM $A$A\n"),
            2,
            6,
            "the FROM image expands to more than 64 KiB",
        );
        err_at(
            &format!("ARG A={limit}\nFROM a\nRUN --mount=from=${{X:-$A$A}} x\n"),
            3,
            5,
            "the stage in \"--mount=from=",
        );
    }

    #[test]
    fn substitution_has_a_budget_for_the_whole_file() {
        // 500 copies of a 1,000-byte ARG pass the per-value limit at once.
        let a = "a".repeat(1_000);
        let mut text = format!("ARG A={a}\nFROM busybox\n");
        let many = format!("COPY --from={} / /\n", "$A".repeat(500));
        text.push_str(&many.repeat(10_000));
        err_at(&text, 3, 6, "the stage in \"--from=$A$A");
        // 60 copies (60,000 bytes) each fit; the 280th line passes the file's 16 MiB.
        let mut text = format!("ARG A={a}\nFROM busybox\n");
        let under = format!("COPY --from={} / /\n", "$A".repeat(60));
        text.push_str(&under.repeat(10_000));
        let start = std::time::Instant::now();
        let e = err_at(&text, 282, 6, "copies more than 16 MiB in this Dockerfile");
        assert!(e.hint.contains("shorter ARG values"), "{e}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn parse_bytes_strips_one_bom_only() {
        let text = "\u{feff}\u{feff}FROM a\n";
        let e = parse_bytes(text.as_bytes()).expect_err("a second BOM is text");
        assert!(e.message.contains("unknown instruction"), "{e}");
        assert_eq!(Err(e), parse(text));
    }

    #[test]
    fn huge_single_lines_do_not_hang() {
        let nested = format!("ARG A=x\nFROM {}\n", "${A:-".repeat(50_000));
        let _ = parse(&nested);
        let unclosed = format!("ARG A=x\nFROM a{}\n", "${".repeat(100_000));
        let _ = parse(&unclosed);
        let long = format!("FROM a\nRUN {}\n", "x \\\n".repeat(50_000));
        assert!(parse(&long).is_ok());
    }

    /// A tiny deterministic generator: arbitrary bytes and Dockerfile-ish fragments must never
    /// panic, whatever the mix.
    #[test]
    fn arbitrary_input_never_panics() {
        const PIECES: [&str; 24] = [
            "FROM ",
            "AS ",
            "RUN ",
            "COPY ",
            "--from=",
            "--mount=type=bind,from=",
            "ARG ",
            "${",
            "}",
            "$",
            "\\",
            "`",
            "\n",
            "\r\n",
            "<<",
            "EOF",
            "\"",
            "'",
            "#",
            "# escape=`\n",
            "[\"a\"",
            "é",
            "0",
            " ",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let mut bytes = Vec::new();
            for _ in 0..(next() % 40) {
                if next() % 5 == 0 {
                    bytes.push((next() % 256) as u8);
                } else {
                    bytes.extend_from_slice(
                        PIECES[(next() % PIECES.len() as u64) as usize].as_bytes(),
                    );
                }
            }
            let _ = parse_bytes(&bytes);
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
