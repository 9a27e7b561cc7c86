//! LC001: a broad COPY before a dependency install.

use super::*;

/// LC001 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const BROAD_COPY_BEFORE_INSTALL: RuleInfo = RuleInfo {
    name: "BroadCopyBeforeInstall",
    summary: "The whole build context is copied before a dependency install.",
    description: "A `COPY`/`ADD` of the whole build context (`COPY . .`, `COPY ./ /app`, `ADD . \
                  /src`) comes before a dependency install (`npm ci`, `pip install`, `cargo \
                  build`, `go mod download`, `apt-get install`, ...) in the same stage or in a \
                  stage built `FROM` it. Every change to any source file then invalidates the \
                  install layer, so the install runs again on every build instead of coming from \
                  the cache.",
    help: "Copy only the manifests first (`package.json` and the lock file, `requirements.txt`, \
           `Cargo.toml` and `Cargo.lock`, `go.mod` and `go.sum`, ...), run the install, then \
           `COPY . .`; install system packages before the copy.",
};

/// A package-manager command and what to copy before it instead of the whole context.
pub(super) struct Install {
    /// The command as shown, e.g. `npm ci`.
    pub(super) command: &'static str,
    /// The files it reads; `None` for system packages, which need no project file at all.
    pub(super) manifests: Option<&'static str>,
}

/// A `COPY`/`ADD` of the whole context that an earlier stage or this one made.
pub(super) struct BroadCopy {
    pub(super) line: usize,
    pub(super) text: String,
    /// The stage it is in, when it is an ancestor of the stage being checked.
    pub(super) inherited_from: Option<String>,
}

pub(super) fn broad_copy_before_install(df: &Dockerfile, findings: &mut Vec<Finding>) {
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

pub(super) fn install_finding(line: usize, copy: &BroadCopy, install: &Install) -> Finding {
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
pub(super) fn is_broad_copy(ins: &Instruction) -> bool {
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
pub(super) fn installs(script: &str) -> Vec<Install> {
    simple_commands(script)
        .iter()
        .filter_map(|words| install_of(command_words(words)))
        .collect()
}

pub(super) fn install_of(words: &[String]) -> Option<Install> {
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
pub(super) fn is_versioned(program: &str, name: &str) -> bool {
    program
        .strip_prefix(name)
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The first word that is not an option: the subcommand of `npm ci`, `pip --quiet install`.
pub(super) fn first_operand(words: &[String]) -> Option<&str> {
    words
        .iter()
        .map(String::as_str)
        .find(|w| !w.starts_with('-') && !w.starts_with('+'))
}
