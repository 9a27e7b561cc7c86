//! LC007: an untagged or :latest base image.

use super::*;

pub(super) fn unpinned_base(df: &Dockerfile, inputs: &Inputs, findings: &mut Vec<Finding>) {
    let lookup = |name: &str| -> Option<String> {
        if let Some(value) = inputs.build_args.get(name) {
            return value.clone();
        }
        // A later global ARG of the same name replaces an earlier one.
        df.global_args
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, d)| d.clone())
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
            expand(&stage.from, &lookup)
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

/// `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME-default}` replaced; `None` when a
/// variable has no value or the form is one this does not evaluate.
pub(super) fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}')?;
            let inner = &braced[..end];
            let name_len = identifier_len(inner);
            let (name, modifier) = inner.split_at(name_len);
            let value = lookup(name);
            let value = if let Some(default) = modifier.strip_prefix(":-") {
                value
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| default.to_string())
            } else if let Some(default) = modifier.strip_prefix('-') {
                value.unwrap_or_else(|| default.to_string())
            } else if modifier.is_empty() {
                value?
            } else {
                return None;
            };
            out.push_str(&value);
            rest = &braced[end + 1..];
        } else {
            let name_len = identifier_len(after);
            if name_len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(&lookup(&after[..name_len])?);
            rest = &after[name_len..];
        }
    }
    out.push_str(rest);
    Some(out)
}

pub(super) fn identifier_len(text: &str) -> usize {
    text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len())
}
