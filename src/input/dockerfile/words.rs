//! Words and variable substitution.

use super::*;

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
    let chars: Vec<char> = word.chars().collect();
    let mut processor = WordProcessor {
        escape,
        env: None,
        limit: usize::MAX,
        budget: usize::MAX,
        substituted: 0,
    };
    let mut out = String::with_capacity(word.len());
    // Without variables nothing is substituted, so no limit is reached; the text so far is the
    // whole word either way.
    match processor.process(&chars, 0, &mut out) {
        Ok(()) | Err(TooLong::Value | TooLong::Budget) => out,
    }
}

/// Which limit a substitution would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TooLong {
    /// The value would be longer than its limit.
    Value,
    /// The bytes copied out of variables would pass what is left of the file's budget.
    Budget,
}

/// A word with variables substituted, and how many of its bytes came out of variables.
pub(super) struct Expanded {
    pub(super) text: String,
    pub(super) substituted: usize,
}

/// [`process_word`] plus `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}` and
/// `${VAR+word}` substituted from `env` (unset variables become empty, as in BuildKit), as BuildKit
/// processes `FROM` and `ARG` values. Refused as soon as the result would pass `limit` bytes, or
/// the bytes copied out of variables would pass `budget`, so a hostile file never makes it
/// allocate or copy more than that.
pub(super) fn expand_word(
    word: &str,
    escape: char,
    env: &Env,
    limit: usize,
    budget: usize,
) -> Result<Expanded, TooLong> {
    let chars: Vec<char> = word.chars().collect();
    let mut processor = WordProcessor {
        escape,
        env: Some(env),
        limit,
        budget,
        substituted: 0,
    };
    let mut text = String::new();
    processor.process(&chars, 0, &mut text)?;
    if text.len() > limit {
        return Err(TooLong::Value);
    }
    Ok(Expanded {
        text,
        substituted: processor.substituted,
    })
}

pub(super) struct WordProcessor<'a> {
    pub(super) escape: char,
    pub(super) env: Option<&'a Env>,
    /// Most bytes `out` may reach through substitution. Literal text never exceeds the word's own
    /// length, so only variable values are checked as they are copied.
    pub(super) limit: usize,
    /// Most bytes that may be copied out of variables.
    pub(super) budget: usize,
    /// Bytes copied out of variables so far.
    pub(super) substituted: usize,
}

impl WordProcessor<'_> {
    /// Appends the processed `chars` to `out`. Nested defaults (`${A:-$B}`) append to the same
    /// `out`, so the limit bounds the whole value, not each piece.
    pub(super) fn process(
        &mut self,
        chars: &[char],
        depth: usize,
        out: &mut String,
    ) -> Result<(), TooLong> {
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i = match c {
                _ if c == self.escape => {
                    out.extend(chars.get(i + 1));
                    i + 2
                }
                '\'' => single_quoted(chars, i + 1, out),
                '"' => self.double_quoted(chars, i + 1, depth, out)?,
                '$' => self.variable(chars, i, depth, out)?,
                _ => {
                    out.push(c);
                    i + 1
                }
            };
        }
        Ok(())
    }

    /// Inside double quotes the escape character only escapes `"`, `$` and itself, as in sh.
    pub(super) fn double_quoted(
        &mut self,
        chars: &[char],
        start: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, TooLong> {
        let mut i = start;
        while let Some(&c) = chars.get(i) {
            match c {
                '"' => return Ok(i + 1),
                '$' => i = self.variable(chars, i, depth, out)?,
                _ if c == self.escape => match chars.get(i + 1) {
                    Some(&next) if next == '"' || next == '$' || next == self.escape => {
                        out.push(next);
                        i += 2;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                },
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(i)
    }

    /// Appends a variable's value, unless that would pass a limit.
    pub(super) fn push_value(&mut self, value: &str, out: &mut String) -> Result<(), TooLong> {
        if out.len().saturating_add(value.len()) > self.limit {
            return Err(TooLong::Value);
        }
        if self.substituted.saturating_add(value.len()) > self.budget {
            return Err(TooLong::Budget);
        }
        out.push_str(value);
        self.substituted += value.len();
        Ok(())
    }

    /// Substitutes the variable whose `$` is at `dollar`; returns the index after it.
    pub(super) fn variable(
        &mut self,
        chars: &[char],
        dollar: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, TooLong> {
        let Some(env) = self.env else {
            out.push('$');
            return Ok(dollar + 1);
        };
        match chars.get(dollar + 1) {
            Some('{') => self.braced(env, chars, dollar, depth, out),
            Some(&c) if c == '_' || c.is_ascii_alphabetic() => {
                let name = name_at(chars, dollar + 1);
                self.push_value(env.get(&name).map_or("", String::as_str), out)?;
                Ok(dollar + 1 + name.len())
            }
            _ => {
                out.push('$');
                Ok(dollar + 1)
            }
        }
    }

    pub(super) fn braced(
        &mut self,
        env: &Env,
        chars: &[char],
        dollar: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, TooLong> {
        let start = dollar + 2;
        let Some(close) = matching_brace(chars, start) else {
            // BuildKit rejects a missing `}`; keeping the rest as text (instead of rescanning it
            // for every later `${`) keeps this linear.
            out.extend(chars.get(dollar..).unwrap_or_default());
            return Ok(chars.len());
        };
        let inner = chars.get(start..close).unwrap_or_default();
        let name = name_at(inner, 0);
        let modifier = inner.get(name.len()..).unwrap_or_default();
        match substitution(modifier, env.get(&name)) {
            Substitution::Value => {
                self.push_value(env.get(&name).map_or("", String::as_str), out)?;
            }
            Substitution::Word(word) if depth < MAX_EXPANSION_DEPTH => {
                self.process(word, depth + 1, out)?;
            }
            Substitution::Word(word) => out.extend(word),
            Substitution::Nothing => {}
        }
        Ok(close + 1)
    }
}

/// What `${NAME<modifier>}` yields.
pub(super) enum Substitution<'w> {
    /// The variable's value (empty if unset).
    Value,
    /// The modifier's word, itself to be expanded.
    Word(&'w [char]),
    Nothing,
}

/// sh's `:-`, `-`, `:+` and `+`; anything else (`${VAR}`, and `:?`, `#`, `%`, which this module
/// does not evaluate) gives the value.
pub(super) fn substitution<'w>(modifier: &'w [char], value: Option<&String>) -> Substitution<'w> {
    let set = value.is_some();
    let non_empty = value.is_some_and(|v| !v.is_empty());
    match modifier {
        [':', '-', word @ ..] if !non_empty => Substitution::Word(word),
        ['-', word @ ..] if !set => Substitution::Word(word),
        [':', '+', word @ ..] if non_empty => Substitution::Word(word),
        ['+', word @ ..] if set => Substitution::Word(word),
        [':', '+', ..] | ['+', ..] => Substitution::Nothing,
        _ => Substitution::Value,
    }
}

/// Appends the single-quoted text starting at `start`; returns the index after the closing quote.
pub(super) fn single_quoted(chars: &[char], start: usize, out: &mut String) -> usize {
    let rest = chars.get(start..).unwrap_or_default();
    let len = rest.iter().position(|&c| c == '\'').unwrap_or(rest.len());
    out.extend(rest.get(..len).unwrap_or_default());
    start + len + 1
}

/// Index of the `}` closing a `${` whose body starts at `start`.
pub(super) fn matching_brace(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 1usize;
    for (index, &c) in chars.iter().enumerate().skip(start) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The variable name (`[A-Za-z0-9_]*`) starting at `start`.
pub(super) fn name_at(chars: &[char], start: usize) -> String {
    chars
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .collect()
}

/// BuildKit's rule for stage names: `[a-z][a-z0-9-_.]*`, compared case-insensitively.
pub(super) fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
