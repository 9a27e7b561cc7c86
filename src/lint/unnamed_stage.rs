//! LC006: an unnamed intermediate stage.

use super::*;

/// LC006 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const UNNAMED_STAGE: RuleInfo = RuleInfo {
    name: "UnnamedStage",
    summary: "An intermediate stage has no name.",
    description: "An intermediate stage has no `AS name`, so layercache cannot build it with \
                  `--target` and keep its layers in a cache image of its own.",
    help: "Name the stage: `FROM <image> AS <name>`.",
};

pub(super) fn unnamed_stage(df: &Dockerfile, findings: &mut Vec<Finding>) {
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
