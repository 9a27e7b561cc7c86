//! LC007: an untagged or :latest base image; LC010: an image on a moving tag.

use super::*;
use crate::input::expand;

/// LC010 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const MOVING_TAG: RuleInfo = RuleInfo {
    name: "MovingTag",
    summary: "An image on a moving tag such as `lts`, `stable` or `alpine`.",
    description: "An image (a base, `COPY --from=`, `--mount=from=`) is on a tag made only of \
                  moving words (`edge`, `lts`, `stable`, `current`, `alpine`, `slim`, `nightly`, \
                  `rolling`, ...), such as `node:lts-alpine` or `python:slim`. The tag is \
                  re-pointed at new releases, which invalidates every layer built on it. A tag \
                  with a version number or a distribution codename (`bookworm-slim`) is not \
                  reported.",
    help: "Pin a version tag, or a digest (`node:20.11-alpine` or `image@sha256:...`).",
};

/// LC007 described, for reports that list their rules (SARIF's `tool.driver.rules`).
pub(super) const UNPINNED_BASE: RuleInfo = RuleInfo {
    name: "UnpinnedImage",
    summary: "An image without a tag, or on `:latest`.",
    description: "A base image, or an image in `COPY --from=` or `RUN --mount=from=`, has no tag \
                  or the tag `latest` (a `${ARG}` base is judged by its build arg or default). \
                  The image moves under the cache: a new push invalidates every layer built on \
                  it, and two builds of one commit can differ.",
    help: "Pin a version tag, or a digest (`image:1.2.3` or `image@sha256:...`).",
};

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
        let shown = if image == stage.from {
            format!("`{image}`")
        } else {
            format!("`{}` (= `{image}`)", stage.from)
        };
        judge(&image, &shown, "base image", stage.line, "FROM ", findings);
    }
    // Images used straight from a registry by `COPY --from=` and `RUN --mount=from=`: a stage
    // name or (for COPY) an index is a stage, anything else an image. Variables are refused in
    // both by the parser, so the text is the image.
    for stage in &df.stages {
        for ins in &stage.instructions {
            for flag in &ins.flags {
                let flag = flag.trim_start_matches('-');
                let value = match ins.keyword.as_str() {
                    "COPY" => flag.strip_prefix("from=").map(str::to_string),
                    "RUN" => flag.strip_prefix("mount=").and_then(mount_from),
                    _ => None,
                };
                let Some(value) = value.map(|v| v.trim_matches('"').to_string()) else {
                    continue;
                };
                let is_stage = df.stages.iter().any(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&value))
                }) || (ins.keyword == "COPY"
                    && value.bytes().all(|b| b.is_ascii_digit()));
                if is_stage || value.is_empty() {
                    continue;
                }
                let (what, written_as) = if ins.keyword == "COPY" {
                    ("image in `COPY --from`", "COPY --from=")
                } else {
                    ("image in `RUN --mount=from=`", "RUN --mount=from=")
                };
                judge(
                    &value,
                    &format!("`{value}`"),
                    what,
                    ins.line,
                    written_as,
                    findings,
                );
            }
        }
    }
}

/// `from=` of a `--mount` value, the last one winning.
fn mount_from(value: &str) -> Option<String> {
    value.split(',').rev().find_map(|field| {
        let (key, value) = field.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("from")
            .then(|| value.trim().to_string())
    })
}

/// LC007 for an image without a tag or on `latest`, LC010 for one on a moving tag.
fn judge(
    image: &str,
    shown: &str,
    what: &str,
    line: usize,
    written_as: &str,
    findings: &mut Vec<Finding>,
) {
    // A reference docker would refuse is docker's to report, not a cache problem.
    let Ok(parsed) = reference::parse(image) else {
        return;
    };
    if parsed.digest.is_some() {
        return;
    }
    let repository = parsed.repository();
    let fix = format!(
        "pin a version: `{written_as}{repository}:<version>` (or `{repository}:<version>@sha256:<digest>`)"
    );
    let problem = match parsed.tag.as_deref() {
        None => format!("has no tag, so it means `{image}:latest`"),
        Some(tag) if tag.eq_ignore_ascii_case("latest") => "is `:latest`".to_string(),
        Some(tag) if is_moving_tag(tag) => {
            findings.push(Finding {
                rule: Rule::MovingTag,
                line,
                message: format!(
                    "{what} {shown} is on `{tag}`, a tag that moves to each new version: every \
                     cached layer on top of it misses when it does, and builds stop being \
                     repeatable"
                ),
                fix,
            });
            return;
        }
        Some(_) => return,
    };
    findings.push(Finding {
        rule: Rule::UnpinnedBase,
        line,
        message: format!(
            "{what} {shown} {problem}, which moves when a new image is published: every \
             cached layer on top of it then misses at once, and builds stop being repeatable"
        ),
        fix,
    });
}

/// Tags that follow a release line rather than name a version: made only of moving words
/// (`edge`, `lts`, `stable`, `alpine`, `slim`, ...: `lts-alpine`, `stable-slim`). A tag with a
/// digit names a version (`3.12-slim`, `22-alpine`); a distribution codename (`bookworm-slim`)
/// names a release.
pub(super) fn is_moving_tag(tag: &str) -> bool {
    const MOVING: [&str; 16] = [
        "edge", "lts", "stable", "current", "alpine", "slim", "nightly", "rolling", "mainline",
        "unstable", "testing", "main", "master", "dev", "develop", "beta",
    ];
    let lower = tag.to_ascii_lowercase();
    !lower.bytes().any(|b| b.is_ascii_digit())
        && lower
            .split(['-', '_', '.'])
            .all(|part| MOVING.contains(&part))
}
