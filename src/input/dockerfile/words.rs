//! Words: splitting an instruction's text into words, and the engine's options for the
//! Dockerfile (variable expansion itself is `input::expand`).

use super::*;
use crate::input::expand;

/// Words split at BuildKit's blanks, with their byte offsets (plus `base`); no quote handling,
/// as BuildKit splits `FROM` arguments.
pub(super) fn blank_words(text: &str, base: usize) -> Vec<(usize, &str)> {
    text.split(is_blank)
        .scan(0, |offset, word| {
            let start = *offset;
            *offset += word.len() + 1;
            Some((base + start, word))
        })
        .filter(|(_, word)| !word.is_empty())
        .collect()
}

/// Shell words with their byte offsets (plus `base`), quotes and escapes kept in the words.
pub(super) fn shell_words(text: &str, base: usize, escape: char) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut pos = 0;
    while let Some(rest) = text.get(pos..) {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let start = pos + (rest.len() - trimmed.len());
        let len = word_len(trimmed, escape);
        words.push((base + start, trimmed.get(..len).unwrap_or(trimmed)));
        pos = start + len.max(1);
    }
    words
}

/// Byte length of the shell word at the start of `text`: up to the first unquoted whitespace.
pub(super) fn word_len(text: &str, escape: char) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            // Nothing is special inside single quotes.
            Some('\'') => {}
            _ if c == escape => escaped = true,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() => return index,
            None => {}
        }
    }
    text.len()
}

pub(super) type Env = HashMap<String, String>;

/// Shell-word processing without variables, as BuildKit applies it to flags and heredoc markers:
/// quotes removed, the escape character honoured, `$` kept literally.
pub(super) fn process_word(word: &str, escape: char) -> String {
    expand::unquote(word, escape)
}

/// The engine's options for a Dockerfile value: BuildKit's grammar with this file's escape
/// character, at most [`MAX_SUBSTITUTED_VALUE`] bytes, and what is left of the file's budget.
pub(super) fn dockerfile_options(escape: char, budget: usize) -> expand::Options {
    expand::Options {
        escape: Some(escape),
        max_value: MAX_SUBSTITUTED_VALUE,
        budget,
        max_depth: MAX_EXPANSION_DEPTH,
        ..expand::Options::BUILDKIT
    }
}

/// BuildKit's rule for stage names: `[a-z][a-z0-9-_.]*`, compared case-insensitively.
pub(super) fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
