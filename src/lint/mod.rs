//! Cache-hygiene checks on a parsed Dockerfile: the mistakes that make a registry-backed layer
//! cache miss (or leak), each reported with a stable rule id, a severity, the line, and a fix.
//!
//! Everything here is pure: the rules read a [`Dockerfile`] from `dockerfile` and an [`Inputs`]
//! value that the caller fills in (the top-level entries of the build context, whether a
//! Dockerfile-specific ignore file exists, the build args). Listing folders and reading files
//! happens in `targets.rs` alone, so every rule is tested with plain values.
//!
//! Deliberately not done here: parsing shell. `RUN` text is split into simple commands at `;`,
//! `&&`, `||`, `|` and newlines, with quotes respected, which is enough to recognise
//! `apt-get install` or `npm ci` and cheap to get right; anything cleverer (functions, `eval`,
//! scripts copied in and run) is out of reach and simply not reported. Style rules of the
//! hadolint kind are out of scope too: only what affects the cache (or leaks into it) is checked.

mod add_url;
mod apt_update;
mod broad_copy;
mod dockerignore;
mod output;
mod piped_script;
mod secrets;
mod shell;
mod targets;
#[cfg(test)]
mod tests;
mod unnamed_stage;
mod unpinned_base;
mod volatile_arg;

use add_url::*;
use apt_update::*;
use broad_copy::*;
use dockerignore::*;
pub use output::{gitlab, human, human_line, json, sarif, INFORMATION_URI};
use piped_script::*;
use secrets::*;
use shell::*;
pub use targets::{check_fail_level, for_build, reports, sarif_root, sources, Target};
use unnamed_stage::*;
use unpinned_base::*;
use volatile_arg::*;

use crate::input::dockerfile::{Dockerfile, Instruction, Stage};
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
    /// A base image (or a `COPY --from`/`--mount=from=` image) without a tag, or `:latest`.
    UnpinnedBase,
    /// A secret in an `ARG` or `ENV`.
    SecretInArgOrEnv,
    /// `RUN curl <url> | sh` of an unpinned script.
    PipedScript,
    /// An image on a moving tag (`edge`, `lts`, `stable`, `alpine`, `slim`, ...).
    MovingTag,
}

impl Rule {
    pub const ALL: [Rule; 10] = [
        Rule::BroadCopyBeforeInstall,
        Rule::NoDockerignore,
        Rule::AptUpdateApart,
        Rule::AddUrl,
        Rule::VolatileArg,
        Rule::UnnamedStage,
        Rule::UnpinnedBase,
        Rule::SecretInArgOrEnv,
        Rule::PipedScript,
        Rule::MovingTag,
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
            Rule::PipedScript => "LC009",
            Rule::MovingTag => "LC010",
        }
    }

    /// The rule's name and descriptions; each is kept beside the rule's check.
    pub fn info(self) -> &'static RuleInfo {
        match self {
            Rule::BroadCopyBeforeInstall => &BROAD_COPY_BEFORE_INSTALL,
            Rule::NoDockerignore => &NO_DOCKERIGNORE,
            Rule::AptUpdateApart => &APT_UPDATE_APART,
            Rule::AddUrl => &ADD_URL,
            Rule::VolatileArg => &VOLATILE_ARG,
            Rule::UnnamedStage => &UNNAMED_STAGE,
            Rule::UnpinnedBase => &UNPINNED_BASE,
            Rule::SecretInArgOrEnv => &SECRET_IN_ARG_OR_ENV,
            Rule::PipedScript => &PIPED_SCRIPT,
            Rule::MovingTag => &MOVING_TAG,
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

/// What a rule checks, in general: what reports that list their rules (SARIF) show beside the
/// findings, which say what was found where and what to do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// A short name in Pascal case (as SARIF viewers expect), as stable as the id.
    pub name: &'static str,
    /// One sentence: what is wrong.
    pub summary: &'static str,
    /// What is reported, and what it costs the cache (or what it leaks).
    pub description: &'static str,
    /// The fix in general; each finding has its own, for its line.
    pub help: &'static str,
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
    for stage in &df.stages {
        apt_update_apart(stage, &mut findings);
        add_url(stage, &mut findings);
        piped_script(stage, &mut findings);
        volatile_arg(stage, &df.global_args, &mut findings);
        secret_in_arg_or_env(stage, &mut findings);
    }
    unnamed_stage(df, &mut findings);
    unpinned_base(df, inputs, &mut findings);
    // By message too, so that equal findings (one install run twice on a line) are adjacent.
    findings.sort_by(|a, b| (a.line, a.rule, &a.message).cmp(&(b.line, b.rule, &b.message)));
    findings.dedup();
    findings
}
