//! LC005: an ARG whose value changes every build, declared before RUNs that do not need it.

use super::*;

/// LC005 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const VOLATILE_ARG: RuleInfo = RuleInfo {
    name: "VolatileArgTooEarly",
    summary: "An ARG that changes every build is declared before RUNs that do not use it.",
    description: "An `ARG` whose value changes on every build (a name with `DATE`, `TIMESTAMP` or \
                  `BUILD_ID`, or `COMMIT`, `SHA` or `VERSION` without a real default) is declared \
                  in a stage before a `RUN` that does not use it. Every `RUN` after an `ARG` \
                  misses the cache when its value changes, so the steps after it are rebuilt \
                  every time.",
    help: "Declare the `ARG` right before its first use, after the installs, and put the `RUN`s \
           that use it last.",
};

pub(super) fn volatile_arg(
    stage: &Stage,
    global_args: &[(String, Option<String>)],
    findings: &mut Vec<Finding>,
) {
    let runs: Vec<(usize, &Instruction)> = stage
        .instructions
        .iter()
        .enumerate()
        .filter(|(_, i)| i.keyword == "RUN")
        .collect();
    for (at, ins) in stage.instructions.iter().enumerate() {
        if ins.keyword != "ARG" {
            continue;
        }
        for (name, default) in arg_declarations(&ins.args) {
            // `ARG NAME` in a stage takes the global default of the same name.
            let default = default.or_else(|| {
                global_args
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, d)| d.clone())
            });
            if !is_volatile(&name, default.as_deref()) {
                continue;
            }
            let later = &stage.instructions[at + 1..];
            // Consumed through an ENV: the author keeps the value in the environment on purpose
            // (`ENV COMMIT_SHA=${COMMIT_SHA}`); moving the ARG alone would change nothing.
            if later
                .iter()
                .any(|i| i.keyword == "ENV" && mentions(&i.args, &name))
            {
                continue;
            }
            // Every RUN after an ARG gets it in its environment, so its cache key changes with
            // the value, whether the command reads it or not. The first RUN that neither reads
            // it nor may read it from its environment (a script of the build context does) is
            // where the cache stops needlessly, even when an earlier RUN used the value.
            let Some(run) = runs
                .iter()
                .filter(|(i, _)| *i > at)
                .map(|(_, run)| *run)
                .find(|run| !uses(run, &name))
            else {
                continue;
            };
            findings.push(Finding {
                rule: Rule::VolatileArg,
                line: ins.line,
                message: format!(
                    "ARG {name} likely changes every build, and every RUN after it misses the \
                     cache, including line {} which does not use it",
                    run.line
                ),
                fix: format!(
                    "declare `ARG {name}` right before its first use, after the dependency \
                     installs, and put the RUNs that use it last"
                ),
            });
        }
    }
}

/// Whether a RUN reads the variable, or may: it names it (`$NAME`, in its script or flags), or
/// it runs a script of the build context (`./scripts/build`, `hack/make.sh`), which reads its
/// environment where the Dockerfile cannot show it. `make` and compilers are not counted: a
/// Makefile that needs the value should be passed it (`make VERSION=$VERSION`), which names it.
fn uses(run: &Instruction, name: &str) -> bool {
    let script = run_script(run);
    if mentions(&script, name) || run.flags.iter().any(|f| mentions(f, name)) {
        return true;
    }
    simple_commands(&script).iter().any(|words| {
        command_words(words).first().is_some_and(|program| {
            let local = program.starts_with("./")
                || (program.contains('/') && !program.starts_with('/'))
                || program.ends_with(".sh");
            let interpreted = matches!(program.as_str(), "sh" | "bash")
                && words.iter().skip(1).any(|w| w.ends_with(".sh"));
            local || interpreted
        })
    })
}

/// Build args that CI fills with something new each build. Names are matched by `_`-separated
/// word rather than substring, so `SHARED_LIBS` is not a SHA. Dates, timestamps and build ids
/// always change; a commit, SHA or version is taken as pinned when it has a real default
/// (`PYTHON_VERSION=3.12`, `ALPINE_SHA=5c2...`), as per-build when it has none or a placeholder
/// (`GIT_COMMIT=unknown`, `DOCKER_GITCOMMIT=HEAD`).
pub(super) fn is_volatile(name: &str, default: Option<&str>) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    let any = |f: &dyn Fn(&str) -> bool| words.iter().any(|w| f(w));
    if any(&|w| w.contains("TIMESTAMP") || (w.ends_with("DATE") && w != "UPDATE"))
        || upper.contains("BUILD_ID")
        || upper.contains("BUILDID")
    {
        return true;
    }
    let pinned = default.is_some_and(|d| !is_placeholder(d));
    !pinned && any(&|w| w.contains("COMMIT") || w.ends_with("SHA") || w.contains("VERSION"))
}

/// Defaults that stand in for a value CI passes: empty, `unknown`, `dev`, `HEAD`, ...
fn is_placeholder(value: &str) -> bool {
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    matches!(
        value.to_ascii_lowercase().as_str(),
        "" | "unknown"
            | "dev"
            | "devel"
            | "development"
            | "head"
            | "local"
            | "none"
            | "unset"
            | "latest"
            | "snapshot"
            | "0"
            | "0.0.0"
            | "undefined"
            | "n/a"
            | "na"
            | "master"
            | "main"
    )
}

/// `ARG A B=1` -> `[("A", None), ("B", Some("1"))]`.
pub(super) fn arg_declarations(args: &str) -> Vec<(String, Option<String>)> {
    words(args)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (w, None),
        })
        .collect()
}

/// Whether shell text reads `$NAME` or `${NAME...}`.
pub(super) fn mentions(text: &str, name: &str) -> bool {
    text.match_indices('$').any(|(i, _)| {
        let rest = &text[i + 1..];
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        rest.strip_prefix(name).is_some_and(|after| {
            !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}
