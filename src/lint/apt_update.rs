//! LC003: apt-get update in another RUN than its install.

use super::*;

/// LC003 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const APT_UPDATE_APART: RuleInfo = RuleInfo {
    name: "AptUpdateApart",
    summary: "`apt-get update` runs in a different RUN from its `apt-get install`.",
    description: "`apt-get update` runs in a `RUN` of its own, before the `RUN` with the `apt-get \
                  install`. Its layer is cached with a package index that grows stale, so a \
                  changed install list can ask for versions the mirrors no longer have.",
    help: "Run both in one `RUN`: `apt-get update && apt-get install -y ... && rm -rf \
           /var/lib/apt/lists/*`.",
};

pub(super) fn apt_update_apart(stage: &Stage, findings: &mut Vec<Finding>) {
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
