//! Dockerfiles read into instructions grouped by stage, plus the stage graph (which stage needs
//! which), so the planner can build each stage with `--target` in an order that works.
//!
//! Lexing follows BuildKit's dockerfile frontend: parser directives (`# syntax=`, `# escape=`,
//! `# check=`) only at the very top; line continuations with the escape character, skipping
//! comment and blank lines inside them; CRLF and a UTF-8 BOM; instruction keywords in any case;
//! `--flag` options before the arguments; JSON (exec) form; heredocs (`<<EOF`, `<<-EOF`,
//! `<<"EOF"`) on `RUN`, `COPY` and `ADD`, whose bodies are not instructions.
//!
//! The graph is computed as BuildKit's dispatcher computes it (`dockerfile2llb`), for the build
//! args and target platforms in [`GraphInputs`]:
//! - the global scope: BuildKit's automatic platform ARGs (`TARGETPLATFORM`, `TARGETOS`,
//!   `TARGETARCH`, `TARGETVARIANT`, `BUILDPLATFORM`, ..., for each target platform, defaulting to
//!   linux/amd64), then the `ARG`s before the first `FROM`, a build arg replacing a default;
//! - `FROM <base>`: the base expanded in that scope with the full word grammar
//!   (`input::expand`); it names an earlier stage only when it equals that stage's name as
//!   BuildKit stores it, lower-cased: the lookup is case-sensitive, so `FROM Builder` is an
//!   image, not the stage `builder`. A base that expands to nothing is refused (docker would fail
//!   with "base name should not be blank");
//! - `COPY --from=<name or index>` and `RUN --mount=from=<name>`: names compared
//!   case-insensitively, the last stage of a name winning; `--mount` looks up names only (`from=0`
//!   is an image named `0`); variables are refused in both, as BuildKit refuses them;
//! - `ONBUILD COPY --from=` / `ONBUILD RUN --mount=from=` in a stage: a dependency of each stage
//!   built `FROM` it, where the trigger runs;
//! - a stage name used twice is a warning ([`Dockerfile::warnings`]), and the later stage wins
//!   every lookup after it, as in BuildKit.
//!
//! Each stage keeps its resolved base and why it depends on each other stage
//! ([`Stage::dependencies`]), so the plan can show the graph.
//!
//! Deliberately not done here: expanding variables in stage-level instructions, checking the flags
//! of instructions other than `FROM`, `COPY` and `ADD`, checking image references (that is
//! `reference`), and reading files (callers pass text or bytes and prefix the path to errors).
//! Errors carry a 1-based line and a column counted in characters.
//!
//! Nothing here panics on any input: text is sliced only at offsets found by walking it, and
//! every pass is linear in the size of the file, so huge or hostile files are refused or parsed
//! quickly rather than crashing the tool. What a file may ask for beyond its own size is capped:
//! a value with global `ARG`s substituted is at most [`MAX_SUBSTITUTED_VALUE`] bytes, substitution
//! copies at most [`MAX_SUBSTITUTED_TOTAL`] bytes per file, and a file has at most [`MAX_STAGES`]
//! stages (the plan grows with the square of a chain of stages). Each is refused with an error at
//! the line that passes it.

mod checks;
#[cfg(test)]
mod corpus;
mod decode;
mod directives;
mod instructions;
mod lines;
mod scope;
mod stages;
#[cfg(test)]
mod tests;
mod words;

use checks::*;
use decode::*;
use directives::*;
use instructions::*;
use lines::*;
use scope::*;
use stages::*;
use words::*;

use crate::input::expand;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based position in the Dockerfile.
    pub index: usize,
    /// The `AS name` as BuildKit keeps it: lower-cased (the canonical name for `--target`,
    /// reports and cache tags).
    pub name: Option<String>,
    /// The `AS name` as written, for messages that quote the file.
    pub written_name: Option<String>,
    /// The base image or stage, as written after `FROM` (flags removed, variables not expanded).
    pub from: String,
    /// The base with the global scope substituted (for the first target platform).
    pub base: String,
    /// The earlier stage `FROM` names, if it names one (for the first target platform).
    pub base_stage: Option<usize>,
    /// `--platform=` value of the `FROM`, if any (quotes removed, variables not expanded).
    pub platform: Option<String>,
    /// 1-based line of the `FROM`.
    pub line: usize,
    /// Stages this stage needs directly (base stage, `COPY --from`, `RUN --mount=from=`, `ONBUILD`
    /// triggers of its base), for any of the target platforms, sorted. Always earlier stages:
    /// later ones are refused while parsing.
    pub depends_on: Vec<usize>,
    /// Why this stage needs each stage of `depends_on`: one entry per instruction that makes it
    /// need one, in line order.
    pub dependencies: Vec<Dependency>,
    /// The instructions after the `FROM` (the `FROM` itself is described by the fields above).
    pub instructions: Vec<Instruction>,
}

/// The names a stage goes by: each place that shows a stage uses one of these.
impl Stage {
    /// What `--target` takes: the name, or for an unnamed stage its index.
    pub fn target(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.index.to_string())
    }

    /// How messages and the plan name it: the name, or `stage N`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("stage {}", self.index),
        }
    }

    /// How BuildKit's progress output names it: the name, or `stage-N` (but see
    /// [`Dockerfile::progress_name`] for a file of one stage).
    pub fn progress_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", self.index))
    }
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

/// One reason a stage needs another.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dependency {
    /// The stage needed.
    pub stage: usize,
    pub kind: DependencyKind,
    /// 1-based line of the instruction that makes the need (for `ONBUILD`, the trigger's line
    /// in the base stage).
    pub line: usize,
}

/// The instruction behind a [`Dependency`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyKind {
    /// `FROM <stage>`.
    From,
    /// `COPY --from=<stage>`.
    CopyFrom,
    /// `RUN --mount=...,from=<stage>`.
    Mount,
    /// An `ONBUILD COPY --from=` or `ONBUILD RUN --mount=from=` of the base stage.
    Onbuild,
}

/// Something BuildKit builds but warns about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What the graph depends on besides the file: the build args and the platforms, as BuildKit's
/// dispatcher gets them. `Default` is a plain `docker build` on linux/amd64 without build args.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GraphInputs {
    /// `--build-arg` values. A name-only build arg (docker reads the value from its
    /// environment) is resolved by the caller; one that is unset there is left out, as the docker
    /// CLI leaves it out.
    pub build_args: BTreeMap<String, String>,
    /// The platforms built (`--platform`); empty: the build platform. The graph is the union of
    /// each platform's.
    pub platforms: Vec<Platform>,
    /// The builder's own platform (`BUILDPLATFORM`); `None`: linux/amd64.
    pub build_platform: Option<Platform>,
    /// `--target`, for `TARGETSTAGE`; `None` gives BuildKit's `default`.
    pub target: Option<String>,
    /// Keep a `FROM` whose base expands to nothing (its `base` empty, no base stage) instead of
    /// refusing it: lint reads files whose base comes from a build arg it was not given.
    pub allow_blank_base: bool,
}

/// An OS/architecture/variant triple (`linux/arm64`, `linux/arm/v7`), normalised as BuildKit
/// normalises `--platform` values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// `ARG`s before the first `FROM`: name and value. The value is the effective one, as
    /// BuildKit evaluates it: the build arg of that name if one was given ([`GraphInputs`]), else
    /// the default with quotes removed and the platform ARGs and earlier global `ARG`s
    /// substituted (for the first target platform).
    pub global_args: Vec<(String, Option<String>)>,
    /// The same `ARG`s as written (default not expanded), for callers that evaluate the global
    /// scope with other inputs ([`Dockerfile::global_scope`]).
    pub global_args_written: Vec<(String, Option<String>)>,
    /// The escape character (`# escape=`).
    pub escape: char,
    pub stages: Vec<Stage>,
    /// What BuildKit would warn about (a stage name used twice).
    pub warnings: Vec<Warning>,
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

/// Parse Dockerfile text, the graph as a plain `docker build` on linux/amd64 sees it.
pub fn parse(text: &str) -> Result<Dockerfile, DockerfileError> {
    parse_with(text, &GraphInputs::default())
}

/// Parse Dockerfile text, the graph for these build args and platforms.
pub fn parse_with(text: &str, inputs: &GraphInputs) -> Result<Dockerfile, DockerfileError> {
    parse_without_bom(text.strip_prefix('\u{feff}').unwrap_or(text), inputs)
}

/// Parse raw file bytes: strip a UTF-8 BOM; refuse non-UTF-8 (say the byte offset/line) and binary
/// content (a NUL byte) and empty/whitespace-only/comment-only files with clear errors.
pub fn parse_bytes(bytes: &[u8]) -> Result<Dockerfile, DockerfileError> {
    parse_bytes_with(bytes, &GraphInputs::default())
}

/// [`parse_bytes`] with the graph for these build args and platforms.
pub fn parse_bytes_with(bytes: &[u8], inputs: &GraphInputs) -> Result<Dockerfile, DockerfileError> {
    // `decode` has already stripped the one BOM BuildKit strips; a second one is text, and makes
    // the first instruction unknown, as it does for `parse` and for docker.
    parse_without_bom(decode(bytes)?, inputs)
}

/// Parse text whose byte-order mark, if any, is already gone.
fn parse_without_bom(text: &str, inputs: &GraphInputs) -> Result<Dockerfile, DockerfileError> {
    let mut lexer = Lexer::new(text);
    let mut builder = Builder::new(inputs);
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
    builder.finish(lexer.directives.escape)
}

impl Dockerfile {
    /// How BuildKit's progress output names stage `i`: nothing at all in a Dockerfile of one
    /// stage (named or not: `#7 [4/6] RUN ...`, seen on the e2e engine), else
    /// [`Stage::progress_name`].
    pub fn progress_name(&self, i: usize) -> String {
        if self.stages.len() == 1 {
            String::new()
        } else {
            self.stages[i].progress_name()
        }
    }

    /// A stage by name (case-insensitive, as BuildKit compares `--target`; of two stages of
    /// one name, the later) or by numeric index.
    pub fn find_stage(&self, name_or_index: &str) -> Option<usize> {
        if is_index(name_or_index) {
            return name_or_index
                .parse::<usize>()
                .ok()
                .filter(|&index| index < self.stages.len());
        }
        self.stages.iter().rposition(|stage| {
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
