//! Parser directives.

use super::*;

/// Directive state: they are only read until the first line that is not one.
pub(super) struct Directives {
    pub(super) done: bool,
    pub(super) seen: Vec<String>,
    pub(super) escape: char,
}

impl Directives {
    pub(super) fn observe(&mut self, number: usize, raw: &str) -> Result<(), DockerfileError> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = parse_directive(raw) else {
            self.done = true;
            return Ok(());
        };
        let key = key.to_ascii_lowercase();
        if !DIRECTIVES.contains(&key.as_str()) {
            // BuildKit treats an unknown directive as a comment, and nothing after it as a directive.
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(error(
                (number, 1),
                format!("only one {key} parser directive can be used"),
                "remove the repeated directive",
            ));
        }
        if key == "escape" {
            self.escape = escape_char(value).ok_or_else(|| {
                error(
                    (number, 1),
                    format!(
                        "invalid escape character {} in the escape directive",
                        quoted(value)
                    ),
                    "use # escape=\\ (the default) or # escape=`",
                )
            })?;
        }
        self.seen.push(key);
        Ok(())
    }
}

/// `# key = value` split into key and value, if the line has that shape.
pub(super) fn parse_directive(raw: &str) -> Option<(&str, &str)> {
    let rest = raw.trim_start().strip_prefix('#')?.trim_start();
    let key_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let (key, rest) = rest.split_at_checked(key_len)?;
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest.trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then_some((key, value))
}

pub(super) fn escape_char(value: &str) -> Option<char> {
    match value {
        "\\" => Some('\\'),
        "`" => Some('`'),
        _ => None,
    }
}
