//! The one variable-expansion engine: `$NAME` and `${NAME...}` in a word, with quotes and an
//! escape character, evaluated the way BuildKit's Dockerfile shell lexer evaluates a word.
//!
//! The grammar (BuildKit's `shell/lex.go` is the reference; this is our own code):
//! - `$NAME`, `${NAME}`; a name is letters, digits and `_`, or all digits (`$1`), or one special
//!   parameter (`$@ $* $# $? $- $$ $! $0`), which a Dockerfile never sets;
//! - `${NAME:-word}` / `${NAME-word}`: the word when the variable is empty or unset / unset;
//! - `${NAME:+word}` / `${NAME+word}`: the word when it is non-empty / set, else nothing;
//! - `${NAME:?word}` / `${NAME?word}`: an error (the word, or a standard message) when it is
//!   empty or unset / unset;
//! - `${NAME#pattern}`, `${NAME##pattern}`, `${NAME%pattern}`, `${NAME%%pattern}`: the shortest or
//!   longest matching prefix or suffix removed; a pattern has `*`, `?` and `\`-escapes, no `[...]`;
//! - `${NAME/pattern/text}`, `${NAME//pattern/text}`: the first or every match replaced;
//! - single quotes keep everything; in double quotes only `$` is special and the escape character
//!   escapes `"`, `$` and itself; elsewhere the escape character escapes the next character.
//!
//! Not supported, as in BuildKit: `${#NAME}` (length), `${NAME:offset}`, `${NAME:#...}` and
//! `${NAME:%...}`, bracket expressions in patterns. These are errors ([`ExpandError::Syntax`]).
//!
//! Each caller keeps its own rules as [`Options`]: the Dockerfile caps what a value may grow to
//! and how much may be copied out of variables in one file (hostile files ask for exponential
//! growth), and lint gives up ([`ExpandError::Unknown`]) rather than guess when a value is not
//! known. The spec's `${VAR}` interpolation is the third ([`Options::SPEC`]): no quotes or escapes,
//! `$NAME` as text, `$$` for `$`, only the default forms, an unset variable an error, and a default
//! expanded only when it is used, as sh and Compose users expect of `${A:-${B}}`. Nothing here reads
//! the environment: callers pass the variables as a [`Vars`] (a map, or a closure in [`FnVars`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var<'a> {
    Set(Cow<'a, str>),
    Unset,
    /// Set, but to a value the caller does not know (a build arg docker takes from its
    /// environment). Any use of it makes the word [`ExpandError::Unknown`].
    Unknown,
}

/// The variables a word is expanded with.
pub trait Vars {
    fn get(&self, name: &str) -> Var<'_>;
}

impl Vars for HashMap<String, String> {
    fn get(&self, name: &str) -> Var<'_> {
        HashMap::get(self, name).map_or(Var::Unset, |v| Var::Set(Cow::Borrowed(v)))
    }
}

impl Vars for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Var<'_> {
        BTreeMap::get(self, name).map_or(Var::Unset, |v| Var::Set(Cow::Borrowed(v)))
    }
}

/// Values known or not: `None` is [`Var::Unknown`].
impl Vars for HashMap<String, Option<String>> {
    fn get(&self, name: &str) -> Var<'_> {
        match HashMap::get(self, name) {
            Some(Some(v)) => Var::Set(Cow::Borrowed(v)),
            Some(None) => Var::Unknown,
            None => Var::Unset,
        }
    }
}

/// Variables from a closure (an environment snapshot, a recording lookup).
pub struct FnVars<F>(pub F);

impl<F: Fn(&str) -> Option<String>> Vars for FnVars<F> {
    fn get(&self, name: &str) -> Var<'_> {
        (self.0)(name).map_or(Var::Unset, |v| Var::Set(Cow::Owned(v)))
    }
}

/// No variables at all.
pub struct NoVars;

impl Vars for NoVars {
    fn get(&self, _: &str) -> Var<'_> {
        Var::Unset
    }
}

/// What a plain read (`$A`, `${A}`, `${A#p}`, ...) of an unset variable gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unset {
    /// The empty string, as BuildKit and sh do.
    Empty,
    /// [`ExpandError::Unknown`]: the caller would rather say nothing than guess (lint).
    GiveUp,
    /// [`ExpandError::Unset`]: a value is required (the spec's `${VAR}`).
    Error,
}

/// Which `${...}` forms a caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forms {
    /// BuildKit's whole grammar.
    All,
    /// `${NAME}`, `${NAME:-word}` and `${NAME-word}` only (the spec's, as Compose has them);
    /// anything else is [`ExpandError::Syntax`].
    Defaults,
}

/// How one caller expands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The escape character (`\`, or `` ` `` with `# escape=`` ` ``), `None` for none.
    pub escape: Option<char>,
    /// Whether `'...'` and `"..."` are quotes (removed) rather than text.
    pub quotes: bool,
    /// Whether `$` starts a variable at all; off, only quotes and escapes are processed (BuildKit
    /// does that for flags and heredoc markers).
    pub variables: bool,
    /// Whether `$NAME` without braces is a variable (a Dockerfile) or text (the spec).
    pub bare_names: bool,
    /// Whether `$$` is a literal `$` (the spec, Compose) rather than the special parameter `$$`.
    pub dollar_escape: bool,
    pub forms: Forms,
    pub unset: Unset,
    /// Most bytes the result may hold.
    pub max_value: usize,
    /// Most bytes that may be copied out of variables (and out of pattern operations on them).
    pub budget: usize,
    /// Nesting depth of `${A:-${B:-...}}` beyond which a word is refused, so a hostile line cannot
    /// recurse without bound.
    pub max_depth: usize,
    /// Whether the word of `${NAME:-word}`, `${NAME:+word}` and `${NAME:?word}` (and their forms
    /// without `:`) is expanded only when it is used, as sh does (the spec): a word not used reads
    /// no variable and fails on none. Off, it is always expanded first, as BuildKit does.
    pub lazy: bool,
}

impl Options {
    /// BuildKit's rules, no limits beyond the nesting depth.
    pub const BUILDKIT: Options = Options {
        escape: Some('\\'),
        quotes: true,
        variables: true,
        bare_names: true,
        dollar_escape: false,
        forms: Forms::All,
        unset: Unset::Empty,
        max_value: usize::MAX,
        budget: usize::MAX,
        max_depth: 8,
        lazy: false,
    };

    /// The spec's `${VAR}` rules (the forms Compose has that a value needs): no quotes or escapes,
    /// `$NAME` as text, `$$` for `$`, `${NAME}`, `${NAME:-word}` and `${NAME-word}` only, an unset
    /// variable an error, a default expanded only when used.
    pub const SPEC: Options = Options {
        escape: None,
        quotes: false,
        variables: true,
        bare_names: false,
        dollar_escape: true,
        forms: Forms::Defaults,
        unset: Unset::Error,
        max_value: usize::MAX,
        budget: usize::MAX,
        max_depth: 8,
        lazy: true,
    };

    /// Quotes and escapes only, `$` kept as text.
    pub fn words_only(escape: char) -> Options {
        Options {
            escape: Some(escape),
            variables: false,
            ..Options::BUILDKIT
        }
    }
}

/// Why a word could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// The result would pass [`Options::max_value`].
    TooLong,
    /// The bytes copied out of variables would pass [`Options::budget`].
    OverBudget,
    /// Text BuildKit refuses to expand: the message says why (`bad substitution`, ...).
    Syntax(String),
    /// A `${` without its `}`.
    Unclosed,
    /// `${NAME:?message}` and its variable is unset (or empty).
    Required { name: String, message: String },
    /// The value depends on something unknown (see [`Var::Unknown`], [`Unset::GiveUp`]).
    Unknown,
    /// A variable read without a default is unset, under [`Unset::Error`].
    Unset(String),
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::TooLong => f.write_str("the value grows past its limit"),
            ExpandError::OverBudget => f.write_str("substitution copies more than its budget"),
            ExpandError::Syntax(message) => f.write_str(message),
            ExpandError::Unclosed => f.write_str("syntax error: missing '}'"),
            ExpandError::Required { name, message } => write!(f, "{name}: {message}"),
            ExpandError::Unknown => f.write_str("the value is not known here"),
            ExpandError::Unset(name) => write!(f, "{name} is not set"),
        }
    }
}

/// A word with its variables substituted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    pub text: String,
    /// Bytes copied out of variables, to charge against a budget shared by several words.
    pub substituted: usize,
    /// Variables read while unset, in order of first use (for hints: "BASE has no value").
    pub unset: Vec<String>,
}

/// Expands `word` with `vars` under `options`.
pub fn expand(word: &str, vars: &dyn Vars, options: &Options) -> Result<Expanded, ExpandError> {
    expand_placed(word, vars, options).map_err(|f| f.error)
}

/// An [`ExpandError`] with the place in the word it arose at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: ExpandError,
    /// The byte offset of the `$` of the innermost reference being read when it failed (`None`
    /// outside any: an unclosed quote), so a caller can point at it in its file.
    pub at: Option<usize>,
    /// The byte offset of the `$` of the outermost one (the innermost's, when not nested).
    pub outer: Option<usize>,
}

/// [`expand`], saying where the word failed.
pub fn expand_placed(word: &str, vars: &dyn Vars, options: &Options) -> Result<Expanded, Failure> {
    let chars: Vec<char> = word.chars().collect();
    let mut engine = Engine {
        chars: &chars,
        at: 0,
        vars,
        options,
        substituted: 0,
        unset: Vec::new(),
        open: Vec::new(),
        skipping: 0,
    };
    match engine.until(None, false, 0) {
        Ok(text) => Ok(Expanded {
            text,
            substituted: engine.substituted,
            unset: engine.unset,
        }),
        Err(error) => {
            let bytes = |&c: &usize| chars[..c].iter().map(|c| c.len_utf8()).sum();
            Err(Failure {
                error,
                at: engine.open.last().map(bytes),
                outer: engine.open.first().map(bytes),
            })
        }
    }
}

/// Quotes and escapes processed, variables left as text: what BuildKit does to flag values.
pub fn unquote(word: &str, escape: char) -> String {
    expand(word, &NoVars, &Options::words_only(escape))
        .map_or_else(|_| word.to_string(), |e| e.text)
}

/// Characters that are one-character special parameters after `$`.
fn is_special_parameter(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

struct Engine<'a> {
    chars: &'a [char],
    at: usize,
    vars: &'a dyn Vars,
    options: &'a Options,
    substituted: usize,
    unset: Vec<String>,
    /// Where each `$` being read starts (in chars), innermost last: on an error, its place.
    open: Vec<usize>,
    /// Above zero while a word that is not used is read (see [`Options::lazy`]): variables are
    /// neither looked up nor required.
    skipping: usize,
}

impl Engine<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.at += 1;
        }
        c
    }

    fn is_escape(&self, c: char) -> bool {
        self.options.escape == Some(c)
    }

    /// Processes up to `stop` (consumed) or the end. `raw_escapes` keeps escape characters in the
    /// result, as BuildKit does for patterns, whose own `\` escapes are read later.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
        depth: usize,
    ) -> Result<String, ExpandError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.at += 1;
                return Ok(out);
            }
            match c {
                '$' if self.options.variables => {
                    let value = self.dollar(depth, out.len())?;
                    out.push_str(&value);
                }
                '\'' if self.options.quotes => self.single_quoted(&mut out)?,
                '"' if self.options.quotes => self.double_quoted(&mut out, raw_escapes, depth)?,
                _ if self.is_escape(c) => {
                    self.at += 1;
                    if raw_escapes {
                        out.push(c);
                    }
                    // An escape at the very end escapes nothing and is dropped.
                    if let Some(next) = self.next() {
                        out.push(next);
                    }
                }
                _ => {
                    self.at += 1;
                    out.push(c);
                }
            }
            self.check_length(out.len())?;
        }
        match stop {
            Some(stop) => Err(ExpandError::Syntax(format!(
                "unexpected end of statement while looking for matching {stop}"
            ))),
            None => Ok(out),
        }
    }

    fn check_length(&self, len: usize) -> Result<(), ExpandError> {
        if len > self.options.max_value {
            return Err(ExpandError::TooLong);
        }
        Ok(())
    }

    fn single_quoted(&mut self, out: &mut String) -> Result<(), ExpandError> {
        self.at += 1;
        loop {
            match self.next() {
                None => {
                    return Err(ExpandError::Syntax(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    ))
                }
                Some('\'') => return Ok(()),
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quoted(
        &mut self,
        out: &mut String,
        raw_escapes: bool,
        depth: usize,
    ) -> Result<(), ExpandError> {
        self.at += 1;
        loop {
            match self.peek() {
                None => {
                    return Err(ExpandError::Syntax(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    ))
                }
                Some('"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some('$') if self.options.variables => {
                    let value = self.dollar(depth, out.len())?;
                    out.push_str(&value);
                }
                Some(c) => {
                    self.at += 1;
                    let mut c = c;
                    if self.is_escape(c) {
                        if raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || self.is_escape(next) => {
                                self.at += 1;
                                c = next;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
            self.check_length(out.len())?;
        }
    }

    /// A name after `$` or `${`: all digits, one special parameter, or letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut name = String::new();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                    name.push(c);
                    self.at += 1;
                }
            }
            Some(c) if is_special_parameter(c) => {
                name.push(c);
                self.at += 1;
            }
            _ => {
                while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
                    name.push(c);
                    self.at += 1;
                }
            }
        }
        name
    }

    fn lookup(&mut self, name: &str) -> Result<Option<Cow<'_, str>>, ExpandError> {
        if self.skipping > 0 {
            return Ok(None);
        }
        match self.vars.get(name) {
            Var::Set(value) => Ok(Some(value)),
            Var::Unknown => Err(ExpandError::Unknown),
            Var::Unset => {
                if !self.unset.iter().any(|n| n == name) {
                    self.unset.push(name.to_string());
                }
                Ok(None)
            }
        }
    }

    /// A plain read: the value, or what an unset variable gives under the options.
    fn read(&mut self, name: &str) -> Result<String, ExpandError> {
        let policy = self.options.unset;
        let skipping = self.skipping > 0;
        match self.lookup(name)? {
            Some(value) => Ok(value.into_owned()),
            None if skipping => Ok(String::new()),
            None if policy == Unset::GiveUp => Err(ExpandError::Unknown),
            None if policy == Unset::Error => Err(ExpandError::Unset(name.to_string())),
            None => Ok(String::new()),
        }
    }

    /// Charges `value` (text that came out of a variable) to the limits; `before` is the length
    /// of the text it is appended to.
    fn charge(&mut self, value: &str, before: usize) -> Result<(), ExpandError> {
        if before.saturating_add(value.len()) > self.options.max_value {
            return Err(ExpandError::TooLong);
        }
        if self.substituted.saturating_add(value.len()) > self.options.budget {
            return Err(ExpandError::OverBudget);
        }
        self.substituted += value.len();
        Ok(())
    }

    /// The `$...` at the cursor; `before` is the length of the text so far, for the limit.
    fn dollar(&mut self, depth: usize, before: usize) -> Result<String, ExpandError> {
        self.open.push(self.at);
        let value = self.reference(depth, before)?;
        self.open.pop();
        Ok(value)
    }

    fn reference(&mut self, depth: usize, before: usize) -> Result<String, ExpandError> {
        self.at += 1;
        if self.options.dollar_escape && self.peek() == Some('$') {
            self.at += 1;
            return Ok("$".into());
        }
        if self.peek() != Some('{') && !self.options.bare_names {
            return Ok("$".into());
        }
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            let value = self.read_charged(&name, before)?;
            return Ok(value);
        }
        self.at += 1;
        if depth >= self.options.max_depth {
            return Err(ExpandError::Syntax(format!(
                "variables nested more than {} deep",
                self.options.max_depth
            )));
        }
        match self.peek() {
            None => return Err(ExpandError::Unclosed),
            Some('{' | '}' | ':') => {
                return Err(ExpandError::Syntax("syntax error: bad substitution".into()))
            }
            _ => {}
        }
        let name = self.name();
        let Some(op) = self.next() else {
            return Err(ExpandError::Unclosed);
        };
        if self.options.forms == Forms::Defaults {
            let colon_dash = op == ':' && self.peek() == Some('-');
            let plain_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain_name || !(op == '}' || op == '-' || colon_dash) {
                return Err(ExpandError::Syntax(format!(
                    "`${{{name}{op}...` is not a valid variable reference: write ${{NAME}}, \
                     ${{NAME:-default}} or ${{NAME-default}}"
                )));
            }
        }
        match op {
            '}' => self.read_charged(&name, before),
            ':' => {
                let Some(op) = self.next() else {
                    return Err(ExpandError::Unclosed);
                };
                self.modifier(&name, op, true, depth, before)
            }
            '+' | '-' | '?' | '#' | '%' => self.modifier(&name, op, false, depth, before),
            '/' => self.replace(&name, depth, before),
            other => Err(unsupported(&other.to_string())),
        }
    }

    fn read_charged(&mut self, name: &str, before: usize) -> Result<String, ExpandError> {
        let value = self.read(name)?;
        self.charge(&value, before)?;
        Ok(value)
    }

    /// `${NAME<op>word}` with `op` one of `- + ? # %` (after `:` when `colon`).
    fn modifier(
        &mut self,
        name: &str,
        op: char,
        colon: bool,
        depth: usize,
        before: usize,
    ) -> Result<String, ExpandError> {
        let pattern = op == '#' || op == '%';
        let written = if colon {
            format!(":{op}")
        } else {
            op.to_string()
        };
        if colon && pattern {
            return Err(unsupported(&written));
        }
        let is_absent =
            |value: &Option<String>| value.as_deref().is_none_or(|v| colon && v.is_empty());
        // Lazy: the variable first, to know whether the word is used at all.
        let early = if self.options.lazy && matches!(op, '-' | '+' | '?') {
            Some(self.lookup(name)?.map(Cow::into_owned))
        } else {
            None
        };
        let unused = early
            .as_ref()
            .is_some_and(|value| (op == '+') == is_absent(value));
        self.skipping += usize::from(unused);
        let word = self.until(Some('}'), pattern, depth + 1);
        self.skipping -= usize::from(unused);
        let word = word.map_err(|e| match e {
            ExpandError::Syntax(_) if self.peek().is_none() => ExpandError::Unclosed,
            e => e,
        })?;
        if self.skipping > 0 {
            return Ok(String::new());
        }
        let value = match early {
            Some(value) => value,
            None => self.lookup(name)?.map(Cow::into_owned),
        };
        let set = value.is_some();
        let absent = is_absent(&value);
        // The word's own text is of this line, its variables already charged; a value copied
        // out of the variable is charged here.
        let from_value = match op {
            '-' if absent => return Ok(word),
            '+' if absent => return Ok(String::new()),
            '+' => return Ok(word),
            '?' if absent => {
                let standard = if set {
                    "is not allowed to be empty"
                } else {
                    "is not allowed to be unset"
                };
                let message = if word.is_empty() {
                    standard.to_string()
                } else {
                    word
                };
                return Err(ExpandError::Required {
                    name: name.to_string(),
                    message,
                });
            }
            '-' | '?' => value.unwrap_or_default(),
            '#' | '%' => {
                let value = match value {
                    Some(value) => value,
                    None if self.options.unset == Unset::GiveUp => {
                        return Err(ExpandError::Unknown)
                    }
                    None => String::new(),
                };
                let (longest, pattern) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest),
                    None => (false, word.as_str()),
                };
                let pattern = Pattern::parse(pattern)?;
                let mut work = MAX_MATCH_WORK;
                if op == '#' {
                    pattern.trim_prefix(&value, longest, &mut work)?
                } else {
                    pattern.trim_suffix(&value, longest, &mut work)?
                }
            }
            _ => return Err(unsupported(&written)),
        };
        self.charge(&from_value, before)?;
        Ok(from_value)
    }

    /// `${NAME/pattern/text}` and `${NAME//pattern/text}`.
    fn replace(&mut self, name: &str, depth: usize, before: usize) -> Result<String, ExpandError> {
        let all = self.peek() == Some('/');
        if all {
            self.at += 1;
        }
        let pattern = self
            .until(Some('/'), true, depth + 1)
            .map_err(|e| match e {
                ExpandError::Syntax(_) if self.peek().is_none() => {
                    ExpandError::Syntax("syntax error: missing '/' in ${}".into())
                }
                e => e,
            })?;
        let replacement = self
            .until(Some('}'), true, depth + 1)
            .map_err(|e| match e {
                ExpandError::Syntax(_) if self.peek().is_none() => ExpandError::Unclosed,
                e => e,
            })?;
        if self.skipping > 0 {
            return Ok(String::new());
        }
        let value = self.read(name)?;
        let pattern = Pattern::parse(&pattern)?;
        let limit = self.options.max_value.saturating_sub(before);
        let mut work = MAX_MATCH_WORK;
        let replaced = pattern.replace(&value, &replacement, all, limit, &mut work)?;
        self.charge(&replaced, before)?;
        Ok(replaced)
    }
}

fn unsupported(modifier: &str) -> ExpandError {
    ExpandError::Syntax(format!("unsupported modifier ({modifier}) in substitution"))
}

/// One piece of a shell pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
    Literal(char),
}

/// Most pattern-times-value steps one match may take: a 64 KiB value against a long pattern of
/// stars must not take minutes.
const MAX_MATCH_WORK: usize = 64 * 1024 * 1024;

/// A shell pattern (`*`, `?`, `\` escapes; no bracket expressions, as in BuildKit).
struct Pattern(Vec<Token>);

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, ExpandError> {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Any,
                '?' => Token::One,
                '\\' => match chars.next() {
                    // `\}` and `\/` are how `}` and `/` are written inside `${...}`.
                    Some(next @ ('*' | '?' | '\\' | '}' | '/')) => Token::Literal(next),
                    Some(next) => {
                        return Err(ExpandError::Syntax(format!(
                            "invalid pattern ({text}) in substitution: invalid escape '\\{next}'"
                        )))
                    }
                    None => Token::Literal('\\'),
                },
                c => Token::Literal(c),
            });
        }
        Ok(Pattern(tokens))
    }

    fn reversed(&self) -> Pattern {
        Pattern(self.0.iter().rev().copied().collect())
    }

    /// Lengths (in chars) of the prefixes of `value` from `start` that the pattern matches
    /// whole, as a bitmap indexed by length: one pass of a set of pattern positions over the
    /// text, O(pattern x text).
    fn matching_prefixes(
        &self,
        value: &[char],
        start: usize,
        work: &mut usize,
    ) -> Result<Vec<bool>, ExpandError> {
        let rest = value.get(start..).unwrap_or_default();
        let n = self.0.len();
        // states[i]: the first i tokens match the text read so far.
        let mut states = vec![false; n + 1];
        states[0] = true;
        self.close(&mut states);
        let mut matched = vec![false; rest.len() + 1];
        matched[0] = states[n];
        for (read, &c) in rest.iter().enumerate() {
            *work = work
                .checked_sub(n + 1)
                .ok_or_else(|| ExpandError::Syntax("pattern and value too long to match".into()))?;
            let mut next = vec![false; n + 1];
            for i in 0..n {
                if !states[i] {
                    continue;
                }
                match self.0[i] {
                    Token::Any => next[i] = true,
                    Token::One => next[i + 1] = true,
                    Token::Literal(l) if l == c => next[i + 1] = true,
                    Token::Literal(_) => {}
                }
            }
            self.close(&mut next);
            matched[read + 1] = next[n];
            if !next.iter().any(|&s| s) {
                break;
            }
            states = next;
        }
        Ok(matched)
    }

    /// A `*` matches nothing too: a state before one reaches the state after it.
    fn close(&self, states: &mut [bool]) {
        for i in 0..self.0.len() {
            if states[i] && self.0[i] == Token::Any {
                states[i + 1] = true;
            }
        }
    }

    fn trim_prefix(
        &self,
        value: &str,
        longest: bool,
        work: &mut usize,
    ) -> Result<String, ExpandError> {
        let chars: Vec<char> = value.chars().collect();
        let matched = self.matching_prefixes(&chars, 0, work)?;
        let mut lengths = matched
            .iter()
            .enumerate()
            .filter(|(_, &m)| m)
            .map(|(l, _)| l);
        let cut = if longest {
            lengths.next_back()
        } else {
            lengths.next()
        };
        Ok(match cut {
            Some(cut) => chars[cut..].iter().collect(),
            None => value.to_string(),
        })
    }

    fn trim_suffix(
        &self,
        value: &str,
        longest: bool,
        work: &mut usize,
    ) -> Result<String, ExpandError> {
        let reversed: String = value.chars().rev().collect();
        let trimmed = self.reversed().trim_prefix(&reversed, longest, work)?;
        Ok(trimmed.chars().rev().collect())
    }

    /// The leftmost match (longest at that place) replaced, or every non-overlapping one.
    fn replace(
        &self,
        value: &str,
        replacement: &str,
        all: bool,
        limit: usize,
        work: &mut usize,
    ) -> Result<String, ExpandError> {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut at = 0;
        let mut done = false;
        while at <= chars.len() {
            let found = if done {
                None
            } else {
                self.matching_prefixes(&chars, at, work)?
                    .iter()
                    .rposition(|&m| m)
            };
            match found {
                Some(len) => {
                    out.push_str(replacement);
                    done = !all;
                    if len == 0 {
                        out.extend(chars.get(at));
                        at += 1;
                    } else {
                        at += len;
                    }
                }
                None if done => {
                    out.extend(chars.get(at..).unwrap_or_default());
                    break;
                }
                None => {
                    out.extend(chars.get(at));
                    at += 1;
                }
            }
            if out.len() > limit {
                return Err(ExpandError::TooLong);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ex(word: &str, pairs: &[(&str, &str)]) -> String {
        match expand(word, &vars(pairs), &Options::BUILDKIT) {
            Ok(e) => e.text,
            Err(e) => panic!("{word:?}: {e}"),
        }
    }

    fn fails(word: &str, pairs: &[(&str, &str)]) -> ExpandError {
        expand(word, &vars(pairs), &Options::BUILDKIT).expect_err(word)
    }

    #[test]
    fn plain_and_braced() {
        let v = [("A", "x"), ("E", "")];
        assert_eq!(ex("$A-${A}-$B-${B}.", &v), "x-x--.");
        assert_eq!(ex("$", &v), "$");
        assert_eq!(ex("a$", &v), "a$");
        assert_eq!(ex("$/x", &v), "$/x");
        assert_eq!(ex("$$", &v), "");
        assert_eq!(ex("$1a", &v), "a");
    }

    #[test]
    fn defaults_and_alternatives() {
        let v = [("A", "x"), ("E", "")];
        assert_eq!(ex("${A:-d}|${E:-d}|${U:-d}", &v), "x|d|d");
        assert_eq!(ex("${A-d}|${E-d}|${U-d}", &v), "x||d");
        assert_eq!(ex("${A:+a}|${E:+a}|${U:+a}", &v), "a||");
        assert_eq!(ex("${A+a}|${E+a}|${U+a}", &v), "a|a|");
        assert_eq!(ex("${U:-${A}-$A}", &v), "x-x");
        assert_eq!(ex("${U:-'a b'}", &v), "a b");
    }

    #[test]
    fn required() {
        let v = [("A", "x"), ("E", "")];
        assert_eq!(ex("${A:?m}${A?m}${E?m}", &v), "xx");
        assert_eq!(
            fails("${E:?set E}", &v),
            ExpandError::Required {
                name: "E".into(),
                message: "set E".into()
            }
        );
        assert_eq!(
            fails("${U?}", &v).to_string(),
            "U: is not allowed to be unset"
        );
        assert_eq!(
            fails("${E:?}", &v).to_string(),
            "E: is not allowed to be empty"
        );
    }

    #[test]
    fn prefix_and_suffix_removal() {
        let v = [("P", "linux/arm64/v8"), ("F", "file.tar.gz")];
        assert_eq!(ex("${P#linux/}", &v), "arm64/v8");
        assert_eq!(ex("${P#*/}", &v), "arm64/v8");
        assert_eq!(ex("${P##*/}", &v), "v8");
        assert_eq!(ex("${P%/*}", &v), "linux/arm64");
        assert_eq!(ex("${P%%/*}", &v), "linux");
        assert_eq!(
            ex("${F%.*}|${F%%.*}|${F#?}", &v),
            "file.tar|file|ile.tar.gz"
        );
        assert_eq!(ex("${P#nomatch}", &v), "linux/arm64/v8");
        assert_eq!(ex("${U#x}", &v), "");
        assert_eq!(ex("${F#\\*}", &[("F", "*a")]), "a");
    }

    #[test]
    fn replacement() {
        let v = [("V", "1.2.3"), ("P", "linux/amd64")];
        assert_eq!(ex("${V/./-}", &v), "1-2.3");
        assert_eq!(ex("${V//./-}", &v), "1-2-3");
        assert_eq!(ex("${P/\\//-}", &v), "linux-amd64");
        assert_eq!(ex("${P/linux*/x}", &v), "x");
        assert_eq!(ex("${V//[/-}", &v), "1.2.3");
        assert_eq!(ex("${V/2/$P}", &v), "1.linux/amd64.3");
    }

    #[test]
    fn quotes_and_escapes() {
        let v = [("A", "x")];
        assert_eq!(ex("'$A' \"$A\" \\$A", &v), "$A x $A");
        assert_eq!(ex("\"a\\\"b\\c\"", &v), "a\"b\\c");
        assert_eq!(ex("a\\", &v), "a");
        let backtick = Options {
            escape: Some('`'),
            ..Options::BUILDKIT
        };
        let e = expand("c:\\dir `$A $A", &vars(&v), &backtick).unwrap();
        assert_eq!(e.text, "c:\\dir $A x");
        assert_eq!(unquote("\"$A\"'b'", '\\'), "$Ab");
    }

    #[test]
    fn errors_as_buildkit() {
        for (word, needle) in [
            ("${A", "missing '}'"),
            ("${", "missing '}'"),
            ("${}", "bad substitution"),
            ("${:-x}", "bad substitution"),
            ("${A:#x}", "unsupported modifier (:#)"),
            ("${A:1}", "unsupported modifier"),
            ("${#A}", "unsupported modifier"),
            ("${A/x}", "missing '/'"),
            ("'abc", "single-quote"),
            ("\"abc", "double-quote"),
            ("${A#\\x}", "invalid escape"),
        ] {
            let e = fails(word, &[("A", "v")]);
            assert!(e.to_string().contains(needle), "{word}: {e}");
        }
    }

    #[test]
    fn giving_up_on_unknown_values() {
        let known: HashMap<String, Option<String>> =
            HashMap::from([("K".into(), Some("v".into())), ("U".into(), None)]);
        let lint = Options {
            unset: Unset::GiveUp,
            ..Options::BUILDKIT
        };
        assert_eq!(expand("$K", &known, &lint).unwrap().text, "v");
        assert_eq!(expand("$U", &known, &lint), Err(ExpandError::Unknown));
        assert_eq!(expand("${U:-d}", &known, &lint), Err(ExpandError::Unknown));
        assert_eq!(expand("$MISSING", &known, &lint), Err(ExpandError::Unknown));
        assert_eq!(expand("${MISSING:-d}", &known, &lint).unwrap().text, "d");
        let e = expand("${MISSING}${M2:-x}", &known, &Options::BUILDKIT).unwrap();
        assert_eq!(e.unset, vec!["MISSING".to_string(), "M2".to_string()]);
    }

    /// The spec's rules ([`Options::SPEC`], what `spec::interpolate` runs on).
    #[test]
    fn spec_rules_as_options() {
        let spec = Options::SPEC;
        let env = FnVars(|name: &str| (name == "TAG").then(|| "v1".to_string()));
        let ex = |word: &str| expand(word, &env, &spec).map(|e| e.text);
        assert_eq!(
            ex("app:${TAG}-$TAG-$$x-'q'"),
            Ok("app:v1-$TAG-$x-'q'".to_string())
        );
        assert_eq!(ex("${MISSING:-dev} ${MISSING-d}"), Ok("dev d".to_string()));
        assert_eq!(ex("${MISSING}"), Err(ExpandError::Unset("MISSING".into())));
        assert!(matches!(ex("${TAG:+x}"), Err(ExpandError::Syntax(_))));
        assert!(matches!(ex("${TAG#v}"), Err(ExpandError::Syntax(_))));
        assert!(matches!(ex("${1}"), Err(ExpandError::Syntax(_))));
        assert!(matches!(ex("${É}"), Err(ExpandError::Syntax(_))));
        assert_eq!(ex("${TAG"), Err(ExpandError::Unclosed));
    }

    /// Lazy defaults: a default is expanded only when it is used, so a variable in a default that
    /// is not used is neither required nor read.
    #[test]
    fn lazy_defaults_read_only_what_they_use() {
        let read = std::cell::RefCell::new(Vec::new());
        let env = FnVars(|name: &str| {
            read.borrow_mut().push(name.to_string());
            match name {
                "A" => Some("a".to_string()),
                "E" => Some(String::new()),
                _ => None,
            }
        });
        let ex = |word: &str| expand(word, &env, &Options::SPEC).map(|e| e.text);
        assert_eq!(ex("${A:-${U}}"), Ok("a".to_string()));
        assert_eq!(*read.borrow(), ["A"]);
        assert_eq!(
            ex("${U:-${A}}|${E:-${U2:-d}}|${E-${U}}"),
            Ok("a|d|".to_string())
        );
        assert_eq!(ex("${U:-${U2}}"), Err(ExpandError::Unset("U2".into())));
        // BuildKit's order is kept where laziness is off: the word first, then the variable.
        read.borrow_mut().clear();
        let buildkit = Options {
            unset: Unset::Error,
            ..Options::BUILDKIT
        };
        assert_eq!(
            expand("${A:-${U}}", &env, &buildkit),
            Err(ExpandError::Unset("U".into()))
        );
        assert_eq!(*read.borrow(), ["U"]);
    }

    #[test]
    fn failures_name_the_innermost_reference() {
        let env = FnVars(|name: &str| (name == "A").then(|| "a".to_string()));
        let at = |word: &str| {
            let f = expand_placed(word, &env, &Options::SPEC).unwrap_err();
            (f.outer, f.at)
        };
        assert_eq!(at("x ${U}"), (Some(2), Some(2)));
        assert_eq!(at("é ${A:-${U}} ${U2}"), (Some(14), Some(14)));
        assert_eq!(at("x${U:-${U2}}"), (Some(1), Some(6)));
        assert_eq!(at("${A:-${A}"), (Some(0), Some(0)));
        assert_eq!(at("ok ${A"), (Some(3), Some(3)));
        let f = expand_placed("'a", &NoVars, &Options::BUILDKIT).unwrap_err();
        assert_eq!((f.outer, f.at), (None, None));
    }

    #[test]
    fn limits() {
        let big = "x".repeat(100);
        let v = vars(&[("A", big.as_str())]);
        let capped = Options {
            max_value: 150,
            ..Options::BUILDKIT
        };
        assert_eq!(expand("$A$A", &v, &capped), Err(ExpandError::TooLong));
        assert_eq!(expand("${A//x/yy}", &v, &capped), Err(ExpandError::TooLong));
        let budget = Options {
            budget: 150,
            ..Options::BUILDKIT
        };
        assert_eq!(expand("$A-$A", &v, &budget), Err(ExpandError::OverBudget));
        assert_eq!(expand("$A", &v, &budget).unwrap().substituted, 100);
        let deep = "${A:-".repeat(20) + &"}".repeat(20);
        assert!(matches!(
            expand(&deep, &v, &Options::BUILDKIT),
            Err(ExpandError::Syntax(_))
        ));
    }
}
