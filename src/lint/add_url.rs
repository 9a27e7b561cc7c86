//! LC004: ADD of a URL.

use super::*;

pub(super) fn add_url(stage: &Stage, findings: &mut Vec<Finding>) {
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

pub(super) fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("git@")
}
