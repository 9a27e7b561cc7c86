//! LC002: no .dockerignore while the context holds bulky or volatile folders.

use super::*;

/// LC002 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const NO_DOCKERIGNORE: RuleInfo = RuleInfo {
    name: "NoDockerignore",
    summary: "The build context holds bulky or volatile folders and there is no .dockerignore.",
    description: "There is no `.dockerignore` (nor a Dockerfile-specific \
                  `<Dockerfile>.dockerignore`) while the build context holds folders such as \
                  `.git`, `node_modules`, `target`, `__pycache__` or `.venv`. They are sent with \
                  every build, and a broad `COPY` takes them in, so their changes invalidate the \
                  cache.",
    help: "Add a `.dockerignore` that lists them.",
};

/// Top-level entries that change on every commit or install, or are big, and that no image
/// needs. `target` is Cargo's and Maven's build folder.
pub(super) const IGNORABLE: [&str; 14] = [
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

pub(super) fn no_dockerignore(df: &Dockerfile, inputs: &Inputs, findings: &mut Vec<Finding>) {
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
