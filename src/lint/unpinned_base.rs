//! LC007: an untagged or :latest base image.

use super::*;
use crate::input::expand;

pub(super) fn unpinned_base(df: &Dockerfile, inputs: &Inputs, findings: &mut Vec<Finding>) {
    // The scope docker expands a FROM in: platform ARGs, global ARGs, build args. A value that
    // is unknown here (a build arg docker reads from its environment, an ARG without a value)
    // makes the engine give up: nothing to judge.
    let scope = df.global_scope(&inputs.build_args, None);
    let options = expand::Options {
        escape: Some(df.escape),
        unset: expand::Unset::GiveUp,
        ..expand::Options::BUILDKIT
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
            expand::expand(&stage.from, &scope, &options)
                .ok()
                .map(|e| e.text)
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
