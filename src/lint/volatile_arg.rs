//! LC005: an ARG whose value changes every build, declared before RUNs that do not need it.

use super::*;

pub(super) fn volatile_arg(
    stage: &Stage,
    global_defaults: &HashSet<&str>,
    findings: &mut Vec<Finding>,
) {
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
pub(super) fn is_volatile_name(name: &str, has_default: bool) -> bool {
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
