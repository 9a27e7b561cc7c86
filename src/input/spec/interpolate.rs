//! `${VAR}` and `${VAR:-default}` in spec values, from the environment the caller passes: the
//! shared engine (`input::expand`) under the spec's rules ([`Options::SPEC`]), its errors put in
//! the spec's words with the text to look for in the file to place them.

use crate::input::expand::{self, ExpandError, FnVars, NoVars, Options, Unset};

/// An interpolation failure, with the text to look for in the file to place it.
#[derive(Debug, PartialEq, Eq)]
pub struct InterpolationError {
    pub needle: String,
    pub message: String,
    pub hint: String,
}

/// The variable names a value refers to with `${NAME...}`, defaults included whether they are
/// used or not, each once (read by the engine, so `$${A}` is text and `$$${A}` a reference).
pub(super) fn references(s: &str) -> Vec<String> {
    let every_name = Options {
        unset: Unset::Empty,
        lazy: false,
        ..Options::SPEC
    };
    // A value the engine refuses names nothing here: `interpolate` reports it.
    expand::expand(s, &NoVars, &every_name)
        .map(|e| e.unset)
        .unwrap_or_default()
}

/// Replaces `${VAR}`, `${VAR:-default}` (default when unset or empty) and `${VAR-default}`
/// (default when unset); a default may hold references itself, read only when it is used; `$$`
/// is a literal `$`. Any other `$` is left alone, so shell-looking text such as `$(cmd)` stays
/// literal.
pub fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    match expand::expand_placed(s, &FnVars(env), &Options::SPEC) {
        Ok(expanded) => Ok(expanded.text),
        Err(failure) => Err(spec_error(s, failure)),
    }
}

/// The engine's failure in the spec's words: what is wrong with which `${...}`.
fn spec_error(s: &str, failure: expand::Failure) -> InterpolationError {
    // From the `$` of the reference that failed: to the end when it is not closed, else to its
    // first `}`.
    let from = &s[failure.at.unwrap_or(0)..];
    let written = from.find('}').map_or(from, |end| &from[..=end]);
    match failure.error {
        // From the outermost reference, so that `${A:-${B}}` is not placed at another `${B}`.
        ExpandError::Unset(name) => InterpolationError {
            needle: format!(
                "{}${{{name}",
                &s[failure.outer.unwrap_or(0)..failure.at.unwrap_or(0)]
            ),
            message: format!("environment variable `{name}` is not set"),
            hint: format!("set {name}, or give a default: ${{{name}:-value}}"),
        },
        ExpandError::Unclosed => InterpolationError {
            needle: from.to_string(),
            message: "`${` is not closed by `}`".into(),
            hint: "write ${NAME} or ${NAME:-default}; write $$ for a literal $".into(),
        },
        // The spec's options set no limits, and have no `?` forms and no unknown values: the
        // rest are references the spec's forms do not have.
        _ => InterpolationError {
            needle: written.to_string(),
            message: format!("`{written}` is not a valid variable reference"),
            hint:
                "write ${NAME}, ${NAME:-default} or ${NAME-default}; variable names are letters, \
                   digits and _, e.g. ${CI_COMMIT_SHA}; write $$ for a literal $"
                    .into(),
        },
    }
}
