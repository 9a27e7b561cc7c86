//! `.env` files (the project's `.env`, `--env-file`, an include's `env_file`) as compose reads
//! them: `NAME=value` (or `NAME: value`) lines, `export ` allowed, `#` comments, single quotes
//! literal, double quotes with `\n`-style escapes (`\$` a literal `$`) and substitution,
//! unquoted values trimmed and cut at ` #` (but `a#b` is kept whole).
//! Values may refer to the environment (first) and to names set earlier in the file.
//!
//! It only parses text; which files are read, and that the environment wins over them, is
//! decided by the caller ([`super::project`]).

use super::error::ComposeError;
use super::interpolate::{substitute, Outcome, TemplateError};
use std::collections::BTreeMap;

/// Parses `.env` text. `env` is the process environment, consulted first by substitutions.
pub fn parse(
    text: &str,
    file: &str,
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    // An editor's byte-order mark is not part of the first name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        // The name ends at the first `=` or `:` (`NAME: value` is read too).
        let Some(eq) = line.find(['=', ':']) else {
            // `NAME` alone: the environment's value, when there is one.
            let name = line.trim();
            if valid_name(name) {
                if let Some(v) = env.get(name) {
                    vars.insert(name.to_string(), v.clone());
                }
                continue;
            }
            return Err(invalid(file, number, line));
        };
        let name = line[..eq].trim();
        if !valid_name(name) {
            return Err(invalid(file, number, line));
        }
        let raw = line[eq + 1..].trim_start();
        let value = if let Some(body) = raw.strip_prefix('\'') {
            let (text, consumed) = quoted(body, '\'', &lines, &mut i);
            if !consumed {
                return Err(unclosed(file, number, '\''));
            }
            text
        } else if let Some(body) = raw.strip_prefix('"') {
            let (text, consumed) = quoted(body, '"', &lines, &mut i);
            if !consumed {
                return Err(unclosed(file, number, '"'));
            }
            expand(&unescape(&text), file, number, env, &vars)?
        } else {
            let value = match raw.find(" #") {
                Some(c) => &raw[..c],
                None => raw,
            };
            expand(value.trim_end(), file, number, env, &vars)?
        };
        vars.insert(name.to_string(), value);
    }
    Ok(vars)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

fn invalid(file: &str, line: usize, text: &str) -> ComposeError {
    ComposeError::new(file, format!("`{text}` is not a NAME=value line"))
        .at((line, 1))
        .hint("write NAME=value; start comments with #")
}

fn unclosed(file: &str, line: usize, quote: char) -> ComposeError {
    ComposeError::new(file, format!("the value's {quote} is not closed"))
        .at((line, 1))
        .hint(format!("close the value with {quote}"))
}

/// The text up to the closing `quote`, over several lines if need be; `i` moves past the lines
/// consumed. The second value is false when no closing quote was found.
fn quoted(first: &str, quote: char, lines: &[&str], i: &mut usize) -> (String, bool) {
    let mut text = String::new();
    let mut current = first.to_string();
    loop {
        let mut escaped = false;
        for (at, c) in current.char_indices() {
            if c == quote && !escaped {
                text.push_str(&current[..at]);
                return (text, true);
            }
            escaped = quote == '"' && c == '\\' && !escaped;
        }
        text.push_str(&current);
        text.push('\n');
        match lines.get(*i) {
            Some(next) => {
                current = next.to_string();
                *i += 1;
            }
            None => return (text, false),
        }
    }
}

/// Double-quote escapes, before substitution: `\$` becomes `$$`, which substitution then
/// turns into a literal `$`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('$') => out.push_str("$$"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn expand(
    value: &str,
    file: &str,
    line: usize,
    env: &BTreeMap<String, String>,
    vars: &BTreeMap<String, String>,
) -> Result<String, ComposeError> {
    let lookup = |name: &str| env.get(name).or_else(|| vars.get(name)).cloned();
    substitute(value, &lookup, &mut Outcome::default()).map_err(|e| {
        let message = match e {
            TemplateError::Invalid { template, .. } => {
                format!("invalid interpolation format: `{template}`")
            }
            TemplateError::Required { name, message } => {
                format!("required variable {name} is missing a value: {message}")
            }
        };
        ComposeError::new(file, message).at((line, 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str, env: &[(&str, &str)]) -> BTreeMap<String, String> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(text, ".env", &env).unwrap()
    }

    #[test]
    fn the_forms_compose_reads() {
        let vars = parse_ok(
            "# comment\nA=1\n  B = two  \nexport C=yes\nQ=\"a b # not a comment\"\nS='${A} stays'\nE=${A}-x\nEMPTY=\nI=v # comment\nM=\"l1\nl2\"\nN=\"x\\ny\"\n",
            &[],
        );
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two");
        assert_eq!(vars["C"], "yes");
        assert_eq!(vars["Q"], "a b # not a comment");
        assert_eq!(vars["S"], "${A} stays");
        assert_eq!(vars["E"], "1-x");
        assert_eq!(vars["EMPTY"], "");
        assert_eq!(vars["I"], "v");
        assert_eq!(vars["M"], "l1\nl2");
        assert_eq!(vars["N"], "x\ny");
    }

    #[test]
    fn colons_escapes_and_hashes() {
        let vars = parse_ok(
            "COLON: y\nESC=\"a\\tb\\\\c\\\"d\\$e\"\nH=a#b\nSQ='a\\tb'\n",
            &[],
        );
        assert_eq!(vars["COLON"], "y");
        assert_eq!(vars["ESC"], "a\tb\\c\"d$e");
        assert_eq!(vars["H"], "a#b");
        assert_eq!(vars["SQ"], "a\\tb");
    }

    #[test]
    fn byte_order_marks_and_crlf_line_ends() {
        let vars = parse_ok("\u{feff}A=1\r\nB=\"two\"\r\n", &[]);
        assert_eq!((vars["A"].as_str(), vars["B"].as_str()), ("1", "two"));
    }

    #[test]
    fn the_environment_answers_substitutions_first() {
        let vars = parse_ok("A=file\nB=${A}\nONLY\n", &[("A", "env"), ("ONLY", "o")]);
        assert_eq!(vars["B"], "env");
        assert_eq!(vars["ONLY"], "o");
    }

    #[test]
    fn bad_lines_are_placed() {
        let e = parse("A=1\n!!!\n", "x.env", &BTreeMap::new()).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("x.env", 2));
        let e = parse("A=\"open\n", "x.env", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(parse("A=${B:?need B}\n", "x.env", &BTreeMap::new())
            .unwrap_err()
            .message
            .contains("need B"));
    }
}
