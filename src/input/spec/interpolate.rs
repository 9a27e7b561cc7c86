//! `${VAR}` and `${VAR:-default}` in spec values, from the environment the caller passes.

/// An interpolation failure, with the text to look for in the file to place it.
#[derive(Debug, PartialEq, Eq)]
pub struct InterpolationError {
    pub needle: String,
    pub message: String,
    pub hint: String,
}

/// The variable names a value refers to with `${NAME...}`.
pub(super) fn references(s: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        // `$${` is an escaped literal, not a reference.
        let escaped = rest[..i].ends_with('$');
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if !escaped {
            names.push(rest[..end].to_string());
        }
    }
    names
}

/// Replaces `${VAR}`, `${VAR:-default}` (default when unset or empty) and `${VAR-default}`
/// (default when unset); `$$` is a literal `$`. Any other `$` is left alone, so shell-looking
/// text such as `$(cmd)` stays literal.
pub fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_start) = after.strip_prefix('{') {
            let Some(end) = body_start.find('}') else {
                return Err(InterpolationError {
                    needle: format!("${{{body_start}"),
                    message: "`${` is not closed by `}`".into(),
                    hint: "write ${NAME} or ${NAME:-default}; write $$ for a literal $".into(),
                });
            };
            out.push_str(&expand(&body_start[..end], env)?);
            rest = &body_start[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn expand(
    body: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    let (name, default, empty_is_unset) = if let Some((n, d)) = body.split_once(":-") {
        (n, Some(d), true)
    } else if let Some((n, d)) = body.split_once('-') {
        (n, Some(d), false)
    } else {
        (body, None, false)
    };
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(InterpolationError {
            needle: format!("${{{body}}}"),
            message: format!("`${{{body}}}` is not a valid variable reference"),
            hint: "variable names are letters, digits and _, e.g. ${CI_COMMIT_SHA}".into(),
        });
    }
    match (env(name), default) {
        (Some(v), Some(d)) if v.is_empty() && empty_is_unset => Ok(d.to_string()),
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => Err(InterpolationError {
            needle: format!("${{{name}"),
            message: format!("environment variable `{name}` is not set"),
            hint: format!("set {name}, or give a default: ${{{name}:-value}}"),
        }),
    }
}
