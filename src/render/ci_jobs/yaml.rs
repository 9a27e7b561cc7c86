//! YAML text: every value that is not fixed text passes through here.

use crate::error::Error;

/// Refuses characters that YAML cannot carry literally, or that a YAML 1.1 reader (GitLab's)
/// takes as a line break, rather than let them change the script on the way.
pub(super) fn check_text(text: &str, what: &str) -> Result<(), Error> {
    let bad = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
    };
    match text.lines().enumerate().find(|(_, l)| l.contains(bad)) {
        None if !text.contains('\r') => Ok(()),
        found => {
            let (line, c) = found
                .and_then(|(i, l)| l.chars().find(|&c| bad(c)).map(|c| (i + 1, c)))
                .unwrap_or((0, '\r'));
            Err(Error::input(format!(
                "{what} holds the character U+{:04X} (line {line}), which a CI configuration cannot \
                 carry as written",
                c as u32
            ))
            .hint("remove it from the spec's values"))
        }
    }
}

/// As [`check_text`], for text that goes on one line: a comment, or a [`scalar`].
pub(super) fn check_line(text: &str, what: &str) -> Result<(), Error> {
    check_text(text, what)?;
    if text.contains('\n') {
        return Err(Error::input(format!(
            "{what} holds a line break, which a CI configuration cannot carry there"
        ))
        .hint("rename it"));
    }
    Ok(())
}

/// YAML 1.1 reads these plain words as booleans (GitLab's parser is YAML 1.1).
pub(super) const YAML11_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=",
];

/// One line of text as a YAML scalar: plain when that reads back as the same string, else
/// single-quoted. The text must have passed [`check_text`] and hold no line break.
pub fn scalar(text: &str) -> String {
    // Brackets and braces are indicators only in flow context, which this module never writes.
    let safe_char = |c: char| c.is_ascii_alphanumeric() || " ._/-:=@+,\"$'|>~()&;*{}[]".contains(c);
    let plain = !text.is_empty()
        && text.chars().all(safe_char)
        // Indicators cannot start a plain scalar, and YAML 1.1 reads `1:20` as a number.
        && !text.starts_with(|c: char| " -:,'\"|>@&*+.{}[]".contains(c) || c.is_ascii_digit())
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !YAML11_WORDS.contains(&text.to_ascii_lowercase().as_str())
        && matches!(
            serde_yaml::from_str::<serde_yaml::Value>(text),
            Ok(serde_yaml::Value::String(s)) if s == text
        );
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// Text as a YAML literal block scalar (`|`) whose lines are indented by `indent` spaces, for the
/// value of a `key: ` or `- ` that starts at column `indent - 2`. Every line is indented,
/// continuation lines of a quoted shell word included, so the block gives back exactly `text`.
pub fn literal_block(text: &str, indent: usize) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let chomping = if !text.ends_with('\n') {
        "-"
    } else if body.is_empty() || body.ends_with('\n') || last_line_blank(body) {
        // Trailing line breaks (or trailing blank lines) beyond the first are kept only with `+`.
        "+"
    } else {
        ""
    };
    // A block whose first line starts with white space (or is empty) states its indentation,
    // counted from the key's: 2, as the caller places it.
    let indicator = if body.starts_with([' ', '\t', '\n']) || body.is_empty() {
        "2".to_string()
    } else {
        String::new()
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{indicator}{chomping}\n");
    for line in body.split('\n') {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    // The caller's template ends the value with its own line break.
    out.pop();
    out
}

pub(super) fn last_line_blank(body: &str) -> bool {
    body.rsplit('\n')
        .next()
        .is_some_and(|l| l.trim_matches(' ').is_empty())
}

/// A heredoc delimiter that no line of `script` equals, so the heredoc ends where it should.
pub(super) fn heredoc_delimiter(script: &str) -> String {
    let mut delimiter = String::from("LAYERCACHE_SCRIPT");
    while script.lines().any(|l| l == delimiter) {
        delimiter.push('_');
    }
    delimiter
}
