//! Cache-hygiene checks on a parsed Dockerfile: the mistakes that make a registry-backed layer
//! cache miss (or leak), each reported with a stable rule id, a severity, the line, and a fix.
//!
//! Everything here is pure: the rules read a [`Dockerfile`] from `dockerfile` and an [`Inputs`]
//! value that the caller fills in (the top-level entries of the build context, whether a
//! Dockerfile-specific ignore file exists, the build args). Listing folders and reading files
//! happens in `commands`, so every rule is tested with plain values.
//!
//! Deliberately not done here: parsing shell. `RUN` text is split into simple commands at `;`,
//! `&&`, `||`, `|` and newlines, with quotes respected, which is enough to recognise
//! `apt-get install` or `npm ci` and cheap to get right; anything cleverer (functions, `eval`,
//! scripts copied in and run) is out of reach and simply not reported. Style rules of the
//! hadolint kind are out of scope too: only what affects the cache (or leaks into it) is checked.

use crate::dockerfile::{Dockerfile, Instruction, Stage};
use crate::input::reference;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// GitLab Code Quality's scale, mapped as hadolint maps its own severities, so a project
    /// that used hadolint sees the same weights.
    fn gitlab(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "major",
            Severity::Error => "blocker",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rules. Ids are stable: they are documented in the README and users suppress or grep by
/// them, so a rule that goes away leaves its id unused rather than renumbering the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// `COPY . .` before a dependency install.
    BroadCopyBeforeInstall,
    /// No `.dockerignore` while the context holds `.git`, `node_modules`, ...
    NoDockerignore,
    /// `apt-get update` and `apt-get install` in different `RUN`s.
    AptUpdateApart,
    /// `ADD <url>` without `--checksum`.
    AddUrl,
    /// An `ARG` that changes every build, declared before `RUN`s that do not need it.
    VolatileArg,
    /// An intermediate stage without `AS name`.
    UnnamedStage,
    /// A base image without a tag, or `:latest`.
    UnpinnedBase,
    /// A secret in an `ARG` or `ENV`.
    SecretInArgOrEnv,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::BroadCopyBeforeInstall,
        Rule::NoDockerignore,
        Rule::AptUpdateApart,
        Rule::AddUrl,
        Rule::VolatileArg,
        Rule::UnnamedStage,
        Rule::UnpinnedBase,
        Rule::SecretInArgOrEnv,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::BroadCopyBeforeInstall => "LC001",
            Rule::NoDockerignore => "LC002",
            Rule::AptUpdateApart => "LC003",
            Rule::AddUrl => "LC004",
            Rule::VolatileArg => "LC005",
            Rule::UnnamedStage => "LC006",
            Rule::UnpinnedBase => "LC007",
            Rule::SecretInArgOrEnv => "LC008",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            // Secrets are the one finding that is a leak, not just a slow build.
            Rule::SecretInArgOrEnv => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

/// One problem found: where, what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    /// 1-based line in the Dockerfile.
    pub line: usize,
    pub message: String,
    pub fix: String,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
}

/// What the rules need besides the Dockerfile, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Names of the top-level entries of the build context (files and folders), or `None` when
    /// the context could not be listed; then the `.dockerignore` rule is skipped.
    pub context_entries: Option<Vec<String>>,
    /// A Dockerfile-specific ignore file (`<Dockerfile>.dockerignore`, beside the Dockerfile)
    /// exists; BuildKit reads it instead of the context's `.dockerignore`.
    pub dockerfile_ignore: bool,
    /// Build args passed to the build; they override global `ARG` defaults in `FROM`. `None`:
    /// set, but docker reads the value from the environment, so it is unknown here.
    pub build_args: BTreeMap<String, Option<String>>,
}

/// The findings of one Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The Dockerfile's path as shown to the user.
    pub file: String,
    pub findings: Vec<Finding>,
}

/// Every rule on one Dockerfile, findings ordered by line, then rule id.
pub fn lint(df: &Dockerfile, inputs: &Inputs) -> Vec<Finding> {
    let mut findings = Vec::new();
    broad_copy_before_install(df, &mut findings);
    no_dockerignore(df, inputs, &mut findings);
    let global_defaults: HashSet<&str> = df
        .global_args
        .iter()
        .filter(|(_, default)| default.is_some())
        .map(|(name, _)| name.as_str())
        .collect();
    for stage in &df.stages {
        apt_update_apart(stage, &mut findings);
        add_url(stage, &mut findings);
        volatile_arg(stage, &global_defaults, &mut findings);
        secret_in_arg_or_env(stage, &mut findings);
    }
    unnamed_stage(df, &mut findings);
    unpinned_base(df, inputs, &mut findings);
    // By message too, so that equal findings (one install run twice on a line) are adjacent.
    findings.sort_by(|a, b| (a.line, a.rule, &a.message).cmp(&(b.line, b.rule, &b.message)));
    findings.dedup();
    findings
}

// ---------------------------------------------------------------------------------------------
// LC001: a broad COPY before a dependency install

/// A package-manager command and what to copy before it instead of the whole context.
struct Install {
    /// The command as shown, e.g. `npm ci`.
    command: &'static str,
    /// The files it reads; `None` for system packages, which need no project file at all.
    manifests: Option<&'static str>,
}

/// A `COPY`/`ADD` of the whole context that an earlier stage or this one made.
struct BroadCopy {
    line: usize,
    text: String,
    /// The stage it is in, when it is an ancestor of the stage being checked.
    inherited_from: Option<String>,
}

fn broad_copy_before_install(df: &Dockerfile, findings: &mut Vec<Finding>) {
    // The first broad copy each stage ends with, its own or its base stage's: a stage built
    // `FROM` a stage that copied the context starts with every source file in its layers.
    let mut ends_with: Vec<Option<(usize, String, String)>> = Vec::with_capacity(df.stages.len());
    for stage in &df.stages {
        let inherited = stage
            .base_stage
            .and_then(|base| ends_with.get(base).cloned().flatten());
        let mut copied = inherited.as_ref().map(|(line, text, from)| BroadCopy {
            line: *line,
            text: text.clone(),
            inherited_from: Some(from.clone()),
        });
        for ins in &stage.instructions {
            if copied.is_none() && is_broad_copy(ins) {
                copied = Some(BroadCopy {
                    line: ins.line,
                    text: format!("{} {}", ins.keyword, ins.args),
                    inherited_from: None,
                });
                continue;
            }
            let Some(copy) = &copied else { continue };
            if ins.keyword != "RUN" {
                continue;
            }
            for install in installs(&run_script(ins)) {
                findings.push(install_finding(ins.line, copy, &install));
            }
        }
        ends_with.push(copied.map(|c| {
            let from = c.inherited_from.unwrap_or_else(|| stage_label(stage));
            (c.line, c.text, from)
        }));
    }
}

fn install_finding(line: usize, copy: &BroadCopy, install: &Install) -> Finding {
    let place = match &copy.inherited_from {
        Some(stage) => format!("line {}, in stage {stage}", copy.line),
        None => format!("line {}", copy.line),
    };
    let fix = match install.manifests {
        Some(manifests) => format!(
            "copy only {manifests} first, run `{}`, and `COPY` the rest of the sources after it",
            install.command
        ),
        None => format!(
            "run `{}` before `{}`: system packages do not need the sources",
            install.command, copy.text
        ),
    };
    Finding {
        rule: Rule::BroadCopyBeforeInstall,
        line,
        message: format!(
            "`{}` runs after `{}` ({place}) copied the whole build context, so every source \
             change re-runs it",
            install.command, copy.text
        ),
        fix,
    }
}

/// `COPY`/`ADD` of the whole context: a source of `.`, `./`, `*` or `./*`, not `--from` a stage.
fn is_broad_copy(ins: &Instruction) -> bool {
    if !matches!(ins.keyword.as_str(), "COPY" | "ADD") || has_flag(ins, "from") {
        return false;
    }
    let operands = copy_operands(ins);
    let Some((_, sources)) = operands.split_last() else {
        return false;
    };
    sources
        .iter()
        .any(|s| matches!(s.as_str(), "." | "./" | "./." | "*" | "./*"))
}

/// The dependency installs among a script's simple commands.
fn installs(script: &str) -> Vec<Install> {
    simple_commands(script)
        .iter()
        .filter_map(|words| install_of(command_words(words)))
        .collect()
}

fn install_of(words: &[String]) -> Option<Install> {
    let (program, rest) = words.split_first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    if is_versioned(program, "python") {
        // `python -m pip install ...`
        let at = rest.iter().position(|w| w == "-m")?;
        return install_of(rest.get(at + 1..)?);
    }
    let sub = first_operand(rest);
    let has = |word: &str| rest.iter().any(|w| w == word);
    let found = |command, manifests| Some(Install { command, manifests });
    let python = Some("requirements.txt (or pyproject.toml and its lock file)");
    match (program, sub) {
        (p, Some("install")) if is_versioned(p, "pip") => found("pip install", python),
        ("uv", Some("sync")) => found("uv sync", Some("pyproject.toml and uv.lock")),
        ("uv", Some("pip")) if has("install") => found("uv pip install", python),
        ("pipenv", Some("install" | "sync")) => {
            found("pipenv install", Some("Pipfile and Pipfile.lock"))
        }
        ("poetry", Some("install")) => {
            found("poetry install", Some("pyproject.toml and poetry.lock"))
        }
        ("npm", Some("ci")) => found("npm ci", Some("package.json and package-lock.json")),
        ("npm", Some("install" | "i")) => {
            found("npm install", Some("package.json and package-lock.json"))
        }
        // Bare `yarn` (with or without flags) installs.
        ("yarn", None | Some("install")) => {
            found("yarn install", Some("package.json and yarn.lock"))
        }
        ("pnpm", Some("install" | "i" | "fetch")) => {
            found("pnpm install", Some("package.json and pnpm-lock.yaml"))
        }
        ("cargo", Some("build")) => found(
            "cargo build",
            Some("Cargo.toml and Cargo.lock (with a stub src/main.rs, or use cargo-chef)"),
        ),
        ("cargo", Some("fetch")) => found("cargo fetch", Some("Cargo.toml and Cargo.lock")),
        ("go", Some("mod")) if has("download") => {
            found("go mod download", Some("go.mod and go.sum"))
        }
        ("bundle", Some("install")) => found("bundle install", Some("Gemfile and Gemfile.lock")),
        ("composer", Some("install")) => {
            found("composer install", Some("composer.json and composer.lock"))
        }
        ("mvn" | "mvnw", _) if rest.iter().any(|w| w.starts_with("dependency:")) => {
            found("mvn dependency:...", Some("pom.xml"))
        }
        ("dotnet", Some("restore")) => found("dotnet restore", Some("the *.csproj / *.sln files")),
        ("mix", Some("deps.get")) => found("mix deps.get", Some("mix.exs and mix.lock")),
        ("apt-get" | "apt", _) if has("install") => found("apt-get install", None),
        ("apk", _) if has("add") => found("apk add", None),
        ("yum" | "dnf" | "microdnf", _) if has("install") => found("dnf install", None),
        _ => None,
    }
}

/// `pip`, `pip3`, `pip3.12`: the name, optionally followed by a version.
fn is_versioned(program: &str, name: &str) -> bool {
    program
        .strip_prefix(name)
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The first word that is not an option: the subcommand of `npm ci`, `pip --quiet install`.
fn first_operand(words: &[String]) -> Option<&str> {
    words
        .iter()
        .map(String::as_str)
        .find(|w| !w.starts_with('-') && !w.starts_with('+'))
}

// ---------------------------------------------------------------------------------------------
// LC002: no .dockerignore while the context holds bulky or volatile folders

/// Top-level entries that change on every commit or install, or are big, and that no image
/// needs. `target` is Cargo's and Maven's build folder.
const IGNORABLE: [&str; 14] = [
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".pytest_cache",
    ".mypy_cache",
    ".gradle",
    ".next",
    ".terraform",
];

fn no_dockerignore(df: &Dockerfile, inputs: &Inputs, findings: &mut Vec<Finding>) {
    let Some(entries) = &inputs.context_entries else {
        return;
    };
    if inputs.dockerfile_ignore || entries.iter().any(|e| e == ".dockerignore") {
        return;
    }
    let found: Vec<&str> = IGNORABLE
        .iter()
        .copied()
        .filter(|name| entries.iter().any(|e| e == name))
        .collect();
    if found.is_empty() {
        return;
    }
    let copy = df
        .stages
        .iter()
        .flat_map(|s| &s.instructions)
        .find(|ins| is_broad_copy(ins));
    let (line, consequence) = match copy {
        Some(ins) => (
            ins.line,
            format!(
                "`{} {}` copies them into the image, so a change in any of them (every commit \
                 changes .git) misses the cache for that layer and everything after it",
                ins.keyword, ins.args
            ),
        ),
        None => (
            df.stages.first().map_or(1, |s| s.line),
            "they are sent to the builder with every build, and any later `COPY . .` would \
             copy them into the image and miss the cache whenever they change"
                .to_string(),
        ),
    };
    let list = found.join(", ");
    findings.push(Finding {
        rule: Rule::NoDockerignore,
        line,
        message: format!(
            "there is no .dockerignore and the build context holds {list}: {consequence}"
        ),
        fix: format!(
            "add a .dockerignore at the root of the build context listing {}",
            found.join(" ")
        ),
    });
}

// ---------------------------------------------------------------------------------------------
// LC003: apt-get update in another RUN than its install

fn apt_update_apart(stage: &Stage, findings: &mut Vec<Finding>) {
    let mut pending_update: Option<usize> = None;
    for ins in stage.instructions.iter().filter(|i| i.keyword == "RUN") {
        let commands = simple_commands(&run_script(ins));
        let apt = |sub: &str| {
            commands.iter().any(|words| {
                let words = command_words(words);
                words.first().is_some_and(|p| {
                    matches!(p.rsplit('/').next(), Some("apt-get" | "apt"))
                        && words.iter().skip(1).any(|w| w == sub)
                })
            })
        };
        let (update, install) = (apt("update"), apt("install"));
        match (update, install) {
            (true, false) => pending_update = Some(ins.line),
            (false, true) => {
                if let Some(update_line) = pending_update.take() {
                    findings.push(Finding {
                        rule: Rule::AptUpdateApart,
                        line: update_line,
                        message: format!(
                            "`apt-get update` runs in its own RUN, apart from the `apt-get \
                             install` at line {}: its cached layer keeps a stale package index, \
                             so a changed install list can fetch versions that no longer exist",
                            ins.line
                        ),
                        fix: "run both in one RUN: `apt-get update && apt-get install -y ... \
                              && rm -rf /var/lib/apt/lists/*`"
                            .to_string(),
                    });
                }
            }
            (true, true) => pending_update = None,
            (false, false) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// LC004: ADD of a URL

fn add_url(stage: &Stage, findings: &mut Vec<Finding>) {
    for ins in stage.instructions.iter().filter(|i| i.keyword == "ADD") {
        if has_flag(ins, "checksum") {
            continue;
        }
        let operands = copy_operands(ins);
        let Some((_, sources)) = operands.split_last() else {
            continue;
        };
        for url in sources.iter().filter(|s| is_url(s)) {
            findings.push(Finding {
                rule: Rule::AddUrl,
                line: ins.line,
                message: format!(
                    "`ADD {url}` is fetched again on every build and nothing pins what it \
                     returns, so the layers after it depend on the server rather than on the \
                     Dockerfile"
                ),
                fix: format!(
                    "pin its content: `ADD --checksum=sha256:<digest> {url} <dest>`, or \
                     `RUN curl -fsSLo <file> {url} && echo \"<sha256>  <file>\" | sha256sum -c -`"
                ),
            });
        }
    }
}

fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("git@")
}

// ---------------------------------------------------------------------------------------------
// LC005: an ARG whose value changes every build, declared before RUNs that do not need it

fn volatile_arg(stage: &Stage, global_defaults: &HashSet<&str>, findings: &mut Vec<Finding>) {
    // The first RUN after each instruction, found in one backward pass (a scan forward from
    // every ARG would be quadratic on a file of many ARGs).
    let mut next_run: Vec<Option<&Instruction>> = vec![None; stage.instructions.len()];
    let mut later_run = None;
    for (at, ins) in stage.instructions.iter().enumerate().rev() {
        next_run[at] = later_run;
        if ins.keyword == "RUN" {
            later_run = Some(ins);
        }
    }
    for (ins, next_run) in stage.instructions.iter().zip(next_run) {
        if ins.keyword != "ARG" {
            continue;
        }
        for (name, default) in arg_declarations(&ins.args) {
            let has_default = default.is_some() || global_defaults.contains(name.as_str());
            if !is_volatile_name(&name, has_default) {
                continue;
            }
            // Every RUN after an ARG gets it in its environment, so its cache key changes with
            // the value, whether the command reads it or not. The first RUN after the ARG is
            // where the cache stops; fine when that RUN is the one that needs the value.
            let Some(run) = next_run else { continue };
            if mentions(&run_script(run), &name) || run.flags.iter().any(|f| mentions(f, &name)) {
                continue;
            }
            findings.push(Finding {
                rule: Rule::VolatileArg,
                line: ins.line,
                message: format!(
                    "ARG {name} likely changes every build, and every RUN after it misses the \
                     cache, starting with line {} which does not use it",
                    run.line
                ),
                fix: format!(
                    "declare `ARG {name}` right before its first use, after the dependency \
                     installs"
                ),
            });
        }
    }
}

/// Names of build args that CI fills with something new each build. Matched by `_`-separated
/// word rather than substring, so `SHARED_LIBS` is not a SHA. A `*VERSION*` with a default is
/// taken as a pinned toolchain version (`PYTHON_VERSION=3.12`), not a per-build one.
fn is_volatile_name(name: &str, has_default: bool) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    let any = |f: &dyn Fn(&str) -> bool| words.iter().any(|w| f(w));
    any(&|w| w.contains("TIMESTAMP") || w.contains("COMMIT"))
        || any(&|w| w.ends_with("DATE") && w != "UPDATE")
        || any(&|w| w.ends_with("SHA"))
        || upper.contains("BUILD_ID")
        || upper.contains("BUILDID")
        || (!has_default && any(&|w| w.contains("VERSION")))
}

/// `ARG A B=1` -> `[("A", None), ("B", Some("1"))]`.
fn arg_declarations(args: &str) -> Vec<(String, Option<String>)> {
    words(args)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (w, None),
        })
        .collect()
}

/// Whether shell text reads `$NAME` or `${NAME...}`.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices('$').any(|(i, _)| {
        let rest = &text[i + 1..];
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        rest.strip_prefix(name).is_some_and(|after| {
            !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

// ---------------------------------------------------------------------------------------------
// LC006: an unnamed intermediate stage

fn unnamed_stage(df: &Dockerfile, findings: &mut Vec<Finding>) {
    let last = df.stages.len().saturating_sub(1);
    for stage in df
        .stages
        .iter()
        .filter(|s| s.name.is_none() && s.index < last)
    {
        findings.push(Finding {
            rule: Rule::UnnamedStage,
            line: stage.line,
            message: format!(
                "stage {} (FROM {}) has no name, so layercache cannot build it with --target \
                 and keep its layers in a cache image of its own",
                stage.index, stage.from
            ),
            fix: format!("name it: `FROM {} AS <name>`", stage.from),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// LC007: an untagged or :latest base image

fn unpinned_base(df: &Dockerfile, inputs: &Inputs, findings: &mut Vec<Finding>) {
    let lookup = |name: &str| -> Option<String> {
        if let Some(value) = inputs.build_args.get(name) {
            return value.clone();
        }
        // A later global ARG of the same name replaces an earlier one.
        df.global_args
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, d)| d.clone())
    };
    // Lower-cased names of the stages before the one being checked.
    let mut earlier_stages: HashSet<String> = HashSet::new();
    for stage in &df.stages {
        let is_base_stage = stage.base_stage.is_some();
        // Known only after this stage is checked: `FROM x AS x` names an image, not itself.
        let name = stage.name.as_deref().map(str::to_ascii_lowercase);
        let image = if is_base_stage {
            None
        } else {
            // An ARG without a value here is set on the command line: nothing to judge.
            expand(&stage.from, &lookup)
        };
        let checked = image.filter(|image| {
            !image.eq_ignore_ascii_case("scratch")
                && !earlier_stages.contains(&image.to_ascii_lowercase())
        });
        earlier_stages.extend(name);
        let Some(image) = checked else {
            continue;
        };
        // A reference docker would refuse is docker's to report, not a cache problem.
        let Ok(parsed) = reference::parse(&image) else {
            continue;
        };
        if parsed.digest.is_some() {
            continue;
        }
        let what = match parsed.tag.as_deref() {
            None => format!("has no tag, so it means `{image}:latest`"),
            Some(tag) if tag.eq_ignore_ascii_case("latest") => "is `:latest`".to_string(),
            Some(_) => continue,
        };
        let shown = if image == stage.from {
            format!("`{image}`")
        } else {
            format!("`{}` (= `{image}`)", stage.from)
        };
        let repository = parsed.repository();
        findings.push(Finding {
            rule: Rule::UnpinnedBase,
            line: stage.line,
            message: format!(
                "base image {shown} {what}, which moves when a new image is published: every \
                 cached layer on top of it then misses at once, and builds stop being repeatable"
            ),
            fix: format!(
                "pin a version: `FROM {repository}:<version>` (or `{repository}:<version>@sha256:<digest>`)"
            ),
        });
    }
}

/// `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME-default}` replaced; `None` when a
/// variable has no value or the form is one this does not evaluate.
fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}')?;
            let inner = &braced[..end];
            let name_len = identifier_len(inner);
            let (name, modifier) = inner.split_at(name_len);
            let value = lookup(name);
            let value = if let Some(default) = modifier.strip_prefix(":-") {
                value
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| default.to_string())
            } else if let Some(default) = modifier.strip_prefix('-') {
                value.unwrap_or_else(|| default.to_string())
            } else if modifier.is_empty() {
                value?
            } else {
                return None;
            };
            out.push_str(&value);
            rest = &braced[end + 1..];
        } else {
            let name_len = identifier_len(after);
            if name_len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(&lookup(&after[..name_len])?);
            rest = &after[name_len..];
        }
    }
    out.push_str(rest);
    Some(out)
}

fn identifier_len(text: &str) -> usize {
    text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len())
}

// ---------------------------------------------------------------------------------------------
// LC008: secrets in ARG or ENV

fn secret_in_arg_or_env(stage: &Stage, findings: &mut Vec<Finding>) {
    for ins in &stage.instructions {
        let names: Vec<String> = match ins.keyword.as_str() {
            "ARG" => arg_declarations(&ins.args)
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            "ENV" => env_names(&ins.args),
            _ => continue,
        };
        for name in names.iter().filter(|n| is_secret_name(n)) {
            let id = name.to_ascii_lowercase();
            findings.push(Finding {
                rule: Rule::SecretInArgOrEnv,
                line: ins.line,
                message: format!(
                    "{} {name} looks like a secret: ARG and ENV values are kept in the image \
                     history (`docker history`) and in the build cache keys",
                    ins.keyword
                ),
                fix: format!(
                    "use a BuildKit secret instead: `RUN --mount=type=secret,id={id} ...` reads it \
                     from /run/secrets/{id}; pass it with `docker build --secret id={id},env={name}`"
                ),
            });
        }
    }
}

/// `ENV A=1 B=2` or the old `ENV A 1`.
fn env_names(args: &str) -> Vec<String> {
    let words = words(args);
    match words.first() {
        Some(first) if !first.contains('=') => vec![first.clone()],
        _ => words
            .iter()
            .filter_map(|w| w.split_once('=').map(|(n, _)| n.to_string()))
            .collect(),
    }
}

/// Names that hold credentials, matched by `_`-separated word so `TOKENIZERS_PARALLELISM` is not
/// a token. `GPG_KEY`-style and `*PUBLIC*` names are left alone: official images set `GPG_KEY`
/// to a public key fingerprint.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    if words
        .iter()
        .any(|w| *w == "PUBLIC" || w.starts_with("GPG") || w.starts_with("PGP"))
    {
        return false;
    }
    words.iter().enumerate().any(|(i, w)| {
        w.contains("PASSWORD")
            || w.contains("PASSWD")
            || w.contains("SECRET")
            || w.ends_with("TOKEN")
            || *w == "TOKENS"
            || w.ends_with("APIKEY")
            || (i > 0 && (*w == "KEY" || *w == "KEYS"))
    })
}

// ---------------------------------------------------------------------------------------------
// Reading instructions

fn has_flag(ins: &Instruction, name: &str) -> bool {
    ins.flags.iter().any(|f| {
        let f = f.trim_start_matches('-');
        f == name || f.strip_prefix(name).is_some_and(|r| r.starts_with('='))
    })
}

/// A stage as messages name it: `` `builder` ``, or its index when it has no name.
fn stage_label(stage: &Stage) -> String {
    match &stage.name {
        Some(name) => format!("`{name}`"),
        None => format!("{}", stage.index),
    }
}

/// JSON (exec) form, `["a", "b"]`, as its words.
fn exec_form(args: &str) -> Option<Vec<String>> {
    if !args.starts_with('[') {
        return None;
    }
    serde_json::from_str(args).ok()
}

/// The shell text a `RUN` executes: its command (for exec form, the `sh -c` script, or the
/// words) and its heredoc bodies.
fn run_script(ins: &Instruction) -> String {
    let mut text = match exec_form(&ins.args) {
        Some(argv) => match argv.iter().position(|a| a == "-c") {
            Some(at) => argv.get(at + 1).cloned().unwrap_or_default(),
            None => argv.join(" "),
        },
        None => ins.args.clone(),
    };
    for body in &ins.heredocs {
        text.push('\n');
        text.push_str(body);
    }
    text
}

/// Sources and destination of a `COPY`/`ADD`, in either form.
fn copy_operands(ins: &Instruction) -> Vec<String> {
    exec_form(&ins.args).unwrap_or_else(|| words(&ins.args))
}

/// The words of a simple command after assignments (`DEBIAN_FRONTEND=noninteractive`),
/// wrappers (`sudo`, `env`) and shell keywords (`then`, `do`) in front of the program.
fn command_words(words: &[String]) -> &[String] {
    let skip = words
        .iter()
        .take_while(|w| {
            let assignment = w
                .split_once('=')
                .is_some_and(|(n, _)| !n.is_empty() && identifier_len(n) == n.len());
            assignment
                || matches!(
                    w.as_str(),
                    "sudo"
                        | "env"
                        | "time"
                        | "nice"
                        | "exec"
                        | "command"
                        | "then"
                        | "do"
                        | "else"
                        | "if"
                        | "while"
                        | "until"
                        | "!"
                        | "{"
                )
        })
        .count();
    &words[skip..]
}

/// Blank-separated words, quotes removed.
fn words(text: &str) -> Vec<String> {
    tokenize(text, false).concat()
}

/// The simple commands of a shell script, each as its words with quotes removed.
fn simple_commands(script: &str) -> Vec<Vec<String>> {
    tokenize(script, true)
}

/// Splits text into words (blanks outside quotes) and, when `commands` is set, into simple
/// commands at `;`, `&`, `|`, newlines, parentheses and backticks outside quotes, dropping
/// `#` comments. Not a shell: no expansion, no here-documents; enough to find a program and its
/// subcommand.
fn tokenize(text: &str, commands: bool) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    let end_word = |word: &mut String, in_word: &mut bool, current: &mut Vec<String>| {
        if *in_word {
            current.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            Some(_) => word.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => match chars.next() {
                    Some('\n') | None => {}
                    Some(next) => {
                        word.push(next);
                        in_word = true;
                    }
                },
                '#' if commands && !in_word => {
                    for skipped in chars.by_ref() {
                        if skipped == '\n' {
                            break;
                        }
                    }
                    end_word(&mut word, &mut in_word, &mut current);
                    out.push(std::mem::take(&mut current));
                }
                ';' | '&' | '|' | '\n' | '(' | ')' | '`' if commands => {
                    end_word(&mut word, &mut in_word, &mut current);
                    out.push(std::mem::take(&mut current));
                }
                c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut current),
                _ => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    end_word(&mut word, &mut in_word, &mut current);
    out.push(current);
    out.retain(|command| !command.is_empty());
    out
}

// ---------------------------------------------------------------------------------------------
// Output

/// `Dockerfile:12 warning LC001 message` and an indented `fix:` line, per finding.
pub fn human(reports: &[Report]) -> String {
    let mut out = String::new();
    for report in reports {
        for f in &report.findings {
            out.push_str(&human_line(&report.file, f));
            out.push('\n');
            out.push_str(&format!("  fix: {}\n", f.fix));
        }
    }
    out
}

/// One finding on one line, without its fix.
pub fn human_line(file: &str, f: &Finding) -> String {
    format!(
        "{file}:{} {} {} {}",
        f.line,
        f.severity(),
        f.rule.id(),
        f.message
    )
}

/// A JSON list of findings with `file`, `rule`, `severity`, `line`, `message` and `fix`.
pub fn json(reports: &[Report]) -> Value {
    let list: Vec<Value> = each(reports)
        .map(|(file, f)| {
            json!({
                "file": file,
                "rule": f.rule.id(),
                "severity": f.severity(),
                "line": f.line,
                "message": f.message,
                "fix": f.fix,
            })
        })
        .collect();
    Value::Array(list)
}

/// A GitLab Code Quality report (the Code Climate issue subset GitLab reads).
pub fn gitlab(reports: &[Report]) -> Value {
    let list: Vec<Value> = each(reports)
        .map(|(file, f)| {
            json!({
                "description": format!("{} {}; fix: {}", f.rule.id(), f.message, f.fix),
                "check_name": f.rule.id(),
                "fingerprint": fingerprint(file, f),
                "severity": f.severity().gitlab(),
                "location": {"path": file, "lines": {"begin": f.line}},
            })
        })
        .collect();
    Value::Array(list)
}

fn each(reports: &[Report]) -> impl Iterator<Item = (&str, &Finding)> {
    reports
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r.file.as_str(), f)))
}

/// GitLab matches findings across pipelines by fingerprint, so it must not change between
/// runs or toolchains: std's `DefaultHasher` makes no such promise, FNV-1a is fixed.
fn fingerprint(file: &str, f: &Finding) -> String {
    let text = format!("{file}\0{}\0{}\0{}", f.rule.id(), f.line, f.message);
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile;

    fn check(text: &str) -> Vec<Finding> {
        check_with(text, &Inputs::default())
    }

    fn check_with(text: &str, inputs: &Inputs) -> Vec<Finding> {
        let df = dockerfile::parse(text).expect("test Dockerfile parses");
        lint(&df, inputs)
    }

    /// The (rule id, line) of each finding.
    fn hits(findings: &[Finding]) -> Vec<(&'static str, usize)> {
        findings.iter().map(|f| (f.rule.id(), f.line)).collect()
    }

    fn entries(names: &[&str]) -> Inputs {
        Inputs {
            context_entries: Some(names.iter().map(|s| s.to_string()).collect()),
            ..Inputs::default()
        }
    }

    /// Cache-friendly: manifests first, then install, then sources; named stages; pinned bases;
    /// one RUN for apt; the per-build ARG after the installs; a .dockerignore.
    const CLEAN: &str = r#"# syntax=docker/dockerfile:1
ARG NODE_IMAGE=node:20.11-bookworm
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
RUN npm run build

FROM deps AS test
RUN npm test

FROM python:3.12-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS tools
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM gcr.io/distroless/nodejs20-debian12:nonroot AS final
COPY --from=deps /app/dist /app
ARG GIT_SHA
LABEL org.opencontainers.image.revision=$GIT_SHA
ENV NODE_ENV=production GPG_KEY=ABCDEF TOKENIZERS_PARALLELISM=false
CMD ["/app/server.js"]
"#;

    #[test]
    fn a_cache_friendly_dockerfile_has_no_finding() {
        let inputs = entries(&[
            ".dockerignore",
            ".git",
            "node_modules",
            "src",
            "package.json",
        ]);
        let findings = check_with(CLEAN, &inputs);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn broad_copy_before_install() {
        let f =
            check("FROM node:20 AS app\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n");
        assert_eq!(hits(&f), [("LC001", 4)]);
        assert_eq!(f[0].severity(), Severity::Warning);
        assert!(f[0].message.contains("`npm ci`"), "{}", f[0].message);
        assert!(
            f[0].message.contains("`COPY . .` (line 3)"),
            "{}",
            f[0].message
        );
        assert!(f[0].fix.contains("package.json"), "{}", f[0].fix);
    }

    #[test]
    fn broad_copy_forms_and_installers() {
        for (copy, run) in [
            ("COPY ./ /app", "pip install -r requirements.txt"),
            ("ADD . /src", "python3 -m pip install ."),
            (
                "COPY --chown=app . .",
                "DEBIAN_FRONTEND=noninteractive apt-get install -y curl",
            ),
            ("COPY [\".\", \"/app\"]", "yarn --frozen-lockfile"),
            ("COPY . .", "cargo build --release"),
            ("COPY . .", "go mod download"),
            ("COPY . .", "bundle install"),
            ("COPY . .", "composer install --no-dev"),
            ("COPY . .", "apk add --no-cache git"),
            ("COPY . .", "poetry install --no-root"),
            ("COPY . .", "mvn -B dependency:go-offline"),
            ("COPY . .", "pnpm install --frozen-lockfile"),
            ("COPY . .", "cd /app && sudo npm install"),
        ] {
            let text = format!("FROM a:1 AS x\n{copy}\nRUN {run}\n");
            assert_eq!(hits(&check(&text)), [("LC001", 3)], "{copy} / {run}");
        }
    }

    #[test]
    fn narrow_copies_and_copies_from_stages_are_fine() {
        for copy in [
            "COPY src/ src/",
            "COPY --from=build . /app",
            "COPY requirements.txt .",
        ] {
            let text = format!("FROM a:1 AS build\nFROM a:1 AS x\n{copy}\nRUN pip install x\n");
            assert!(check(&text).is_empty(), "{copy}");
        }
    }

    #[test]
    fn broad_copy_in_a_base_stage_counts_for_its_children() {
        let f = check("FROM a:1 AS src\nCOPY . /app\nFROM src AS deps\nRUN npm ci\n");
        assert_eq!(hits(&f), [("LC001", 4)]);
        assert!(f[0].message.contains("in stage `src`"), "{}", f[0].message);
    }

    #[test]
    fn one_finding_per_install_and_line() {
        let f = check("FROM a:1 AS x\nCOPY . .\nRUN npm ci && pip install x && npm ci\n");
        assert_eq!(hits(&f), [("LC001", 3), ("LC001", 3)]);
    }

    #[test]
    fn heredoc_and_exec_form_runs_are_read() {
        let f = check("FROM a:1 AS x\nCOPY . .\nRUN <<EOF\nset -e\nnpm ci\nEOF\n");
        assert_eq!(hits(&f), [("LC001", 3)]);
        let f = check("FROM a:1 AS x\nCOPY . .\nRUN [\"sh\", \"-c\", \"npm ci\"]\n");
        assert_eq!(hits(&f), [("LC001", 3)]);
    }

    #[test]
    fn no_dockerignore_with_bulky_context() {
        let f = check_with(
            "FROM a:1\nCOPY . .\n",
            &entries(&[".git", "src", "node_modules"]),
        );
        assert_eq!(hits(&f), [("LC002", 2)]);
        assert!(
            f[0].message.contains(".git, node_modules"),
            "{}",
            f[0].message
        );
        assert!(f[0].fix.contains(".dockerignore"));
        // Without a broad copy, the finding points at the first FROM.
        let f = check_with("# hi\nFROM a:1\nCOPY x .\n", &entries(&["target"]));
        assert_eq!(hits(&f), [("LC002", 2)]);
    }

    #[test]
    fn a_dockerignore_or_a_lean_context_is_fine() {
        assert!(
            check_with("FROM a:1\nCOPY . .\n", &entries(&[".git", ".dockerignore"])).is_empty()
        );
        assert!(check_with("FROM a:1\nCOPY . .\n", &entries(&["src", "README.md"])).is_empty());
        let specific = Inputs {
            dockerfile_ignore: true,
            ..entries(&[".git"])
        };
        assert!(check_with("FROM a:1\nCOPY . .\n", &specific).is_empty());
        // Unknown context: no opinion.
        assert!(check("FROM a:1\nCOPY . .\n").is_empty());
    }

    #[test]
    fn apt_update_in_its_own_run() {
        let f = check("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n");
        assert_eq!(hits(&f), [("LC003", 2)]);
        assert!(f[0].message.contains("line 3"), "{}", f[0].message);
        assert!(
            check("FROM debian:12\nRUN apt-get update && \\\n  apt-get install -y curl\n")
                .is_empty()
        );
        assert!(check("FROM debian:12\nRUN apt update; apt install -y curl\n").is_empty());
    }

    #[test]
    fn add_of_a_url() {
        let f = check("FROM a:1\nWORKDIR /x\nADD https://example.com/tool.tgz /tmp/\n");
        assert_eq!(hits(&f), [("LC004", 3)]);
        assert!(f[0].fix.contains("--checksum"));
        assert!(
            check("FROM a:1\nADD --checksum=sha256:abc https://example.com/t.tgz /tmp/\n")
                .is_empty()
        );
        assert!(check("FROM a:1\nADD vendor.tgz /tmp/\n").is_empty());
    }

    #[test]
    fn volatile_arg_before_expensive_steps() {
        let f = check("FROM a:1\nARG GIT_COMMIT\nRUN make deps\nRUN echo $GIT_COMMIT\n");
        assert_eq!(hits(&f), [("LC005", 2)]);
        assert!(f[0].message.contains("line 3"), "{}", f[0].message);
        for name in [
            "BUILD_DATE",
            "CI_COMMIT_SHA",
            "APP_VERSION",
            "BUILD_ID",
            "build_timestamp",
        ] {
            let text = format!("FROM a:1\nARG {name}\nRUN make\n");
            assert_eq!(hits(&check(&text)), [("LC005", 2)], "{name}");
        }
    }

    #[test]
    fn volatile_arg_where_it_belongs_is_fine() {
        // Right before the RUN that needs it.
        assert!(
            check("FROM a:1\nRUN make deps\nARG GIT_SHA\nRUN echo ${GIT_SHA} > /v\n").is_empty()
        );
        // No RUN after it.
        assert!(check("FROM a:1\nRUN make\nARG GIT_SHA\nLABEL rev=$GIT_SHA\n").is_empty());
        // A pinned toolchain version, and look-alike names.
        assert!(check("FROM a:1\nARG NODE_VERSION=20\nRUN make\n").is_empty());
        assert!(check("ARG NODE_VERSION=20\nFROM a:1\nARG NODE_VERSION\nRUN make\n").is_empty());
        assert!(check("FROM a:1\nARG SHARED_LIBS\nARG APT_UPDATE\nRUN make\n").is_empty());
    }

    #[test]
    fn unnamed_intermediate_stage() {
        let f = check(
            "FROM golang:1.22\nRUN go build\nFROM alpine:3.19 AS final\nCOPY --from=0 /x /x\n",
        );
        assert_eq!(hits(&f), [("LC006", 1)]);
        assert!(
            f[0].fix.contains("FROM golang:1.22 AS <name>"),
            "{}",
            f[0].fix
        );
        // The last stage needs no name.
        assert!(check("FROM a:1 AS b\nFROM a:1\n").is_empty());
    }

    #[test]
    fn unpinned_base_images() {
        assert_eq!(hits(&check("FROM ubuntu\n")), [("LC007", 1)]);
        assert_eq!(hits(&check("FROM node:latest AS app\n")), [("LC007", 1)]);
        assert_eq!(
            hits(&check("FROM ghcr.io/org/img AS app\n")),
            [("LC007", 1)]
        );
        let f = check("ARG BASE=python\nFROM ${BASE} AS app\n");
        assert_eq!(hits(&f), [("LC007", 2)]);
        assert!(
            f[0].message.contains("`${BASE}` (= `python`)"),
            "{}",
            f[0].message
        );
        assert!(f[0].fix.contains("FROM python:<version>"), "{}", f[0].fix);
    }

    #[test]
    fn pinned_scratch_stage_and_unknown_bases_are_fine() {
        for text in [
            "FROM ubuntu:24.04\n",
            "FROM ubuntu@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
            "FROM scratch\n",
            "FROM localhost:5000/app:1 AS a\nFROM a\n",
            "ARG BASE\nFROM $BASE\n",
            "ARG BASE=a:1\nFROM ${BASE}\n",
            "ARG BASE=b\nFROM a:1 AS b\nFROM ${BASE}\n",
        ] {
            assert!(check(text).is_empty(), "{text}");
        }
        // Build args win over the ARG default.
        let inputs = Inputs {
            build_args: BTreeMap::from([
                ("BASE".to_string(), Some("alpine".to_string())),
                ("FROM_ENV".to_string(), None),
            ]),
            ..Inputs::default()
        };
        assert_eq!(
            hits(&check_with("ARG BASE=a:1\nFROM ${BASE}\n", &inputs)),
            [("LC007", 2)]
        );
        // A value docker takes from the environment is unknown here: no opinion.
        assert!(check_with("ARG FROM_ENV=ubuntu\nFROM ${FROM_ENV}\n", &inputs).is_empty());
    }

    #[test]
    fn secrets_in_arg_and_env() {
        let f = check(
            "FROM a:1\nARG NPM_TOKEN\nENV DB_PASSWORD=x OTHER=y\nENV AWS_SECRET_ACCESS_KEY abc\nARG API_KEY=1\n",
        );
        assert_eq!(
            hits(&f),
            [("LC008", 2), ("LC008", 3), ("LC008", 4), ("LC008", 5)]
        );
        assert!(f.iter().all(|f| f.severity() == Severity::Error));
        assert!(
            f[0].fix.contains("--mount=type=secret,id=npm_token"),
            "{}",
            f[0].fix
        );
        assert!(
            check("FROM a:1\nENV GPG_KEY=abc KEYBOARD=us TOKENIZERS_PARALLELISM=1\n").is_empty()
        );
    }

    #[test]
    fn shell_splitting() {
        assert_eq!(
            simple_commands("a 'b c' && d \"e\\\"f\"; g | h # x && y\ni"),
            vec![
                vec!["a".to_string(), "b c".to_string()],
                vec!["d".to_string(), "e\"f".to_string()],
                vec!["g".to_string()],
                vec!["h".to_string()],
                vec!["i".to_string()],
            ]
        );
    }

    #[test]
    fn outputs() {
        let reports = vec![Report {
            file: "Dockerfile".into(),
            findings: check("FROM ubuntu\n"),
        }];
        let text = human(&reports);
        assert!(
            text.starts_with("Dockerfile:1 warning LC007 base image `ubuntu` has no tag"),
            "{text}"
        );
        assert!(text.contains("\n  fix: pin a version"), "{text}");

        let list = json(&reports);
        let keys: Vec<&String> = list[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["file", "fix", "line", "message", "rule", "severity"]);
        assert_eq!(list[0]["severity"], "warning");

        let gl = gitlab(&reports);
        assert_eq!(gl[0]["check_name"], "LC007");
        assert_eq!(gl[0]["severity"], "major");
        assert_eq!(gl[0]["location"]["path"], "Dockerfile");
        assert_eq!(gl[0]["location"]["lines"]["begin"], 1);
        assert_eq!(gl, gitlab(&reports), "fingerprints are stable");
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_readme_documents_every_rule() {
        let readme = include_str!("../README.md");
        for rule in Rule::ALL {
            let row = format!("| {} | {} |", rule.id(), rule.severity());
            assert!(
                readme.contains(&row),
                "README lacks the row for {}",
                rule.id()
            );
        }
    }
}
