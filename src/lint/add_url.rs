//! LC004: ADD of a URL.

use super::*;

/// LC004 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const ADD_URL: RuleInfo = RuleInfo {
    name: "AddUrlWithoutChecksum",
    summary: "`ADD` of an http(s) URL without `--checksum`.",
    description: "`ADD <url>` without `--checksum` fetches the file again on every build and \
                  nothing pins what the server returns, so the layers after it depend on the \
                  server rather than on the Dockerfile. Git sources (`https://host/repo.git#ref`) \
                  are not reported: their cache key is the commit the ref resolves to.",
    help: "Pin the content: `ADD --checksum=sha256:<digest> <url> <dest>`, or download it in a \
           `RUN` and check it with `sha256sum -c`.",
};

pub(super) fn add_url(stage: &Stage, findings: &mut Vec<Finding>) {
    for (at, ins) in stage.instructions.iter().enumerate() {
        if ins.keyword != "ADD" || has_flag(ins, "checksum") {
            continue;
        }
        // Checked by the next RUN (`sha256sum -c`, PowerShell's `Get-FileHash`): pinned, if
        // less cheaply than by `--checksum`.
        let next_run = stage.instructions[at + 1..]
            .iter()
            .find(|i| i.keyword == "RUN");
        if next_run.is_some_and(|run| verifies_checksum(&run_script(run))) {
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

/// An http(s) download. Git sources (`https://host/repo.git#ref`, `git@host:repo`) are not:
/// their cache key is the commit the ref resolves to, which a sha256 `--checksum` cannot pin.
pub(super) fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")) && !is_git_source(&lower)
}

/// BuildKit's reading of a git URL: a path ending in `.git` (before `#ref` or `?ref=`), or a
/// git/ssh scheme.
pub(super) fn is_git_source(lower: &str) -> bool {
    if lower.starts_with("git@") || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return true;
    }
    let path = lower.split(['#', '?']).next().unwrap_or(lower);
    path.trim_end_matches('/').ends_with(".git")
}

/// Whether a script checks a file's digest.
fn verifies_checksum(script: &str) -> bool {
    let lower = script.to_ascii_lowercase();
    [
        "sha256sum",
        "sha512sum",
        "shasum",
        "get-filehash",
        "sha1sum",
        "gpg --verify",
    ]
    .iter()
    .any(|tool| lower.contains(tool))
}
