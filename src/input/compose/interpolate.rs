//! Compose's variable substitution, as compose-go does it: `$$`, `$NAME`, `${NAME}`,
//! `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`,
//! `${NAME:+alternative}`, `${NAME+alternative}`, defaults and alternatives themselves
//! substituted (nested `${...}`).
//!
//! The rules that are easy to get wrong, each checked against compose 2.26 and 2.40:
//! - a `$` not followed by `$`, a name or `{` is literal (`$(date)`, `$1`, `cost $`);
//! - `${` followed by anything but a name and `}` or an operator is an error ("invalid
//!   interpolation format"), as is an operator with no `}` after it on the same line;
//! - after an operator the braces are matched by counting `${` and `}`: `${U:-x}y}` is `xy}`;
//! - a default is substituted even when it is not used, so an error inside it still fails;
//! - an unset variable without default becomes empty (compose warns; so does [`Outcome`]).
//!
//! It does not know which values to substitute: [`interpolate_tree`] walks a YAML value and
//! substitutes every string in it (never keys), the way compose does for a whole file.

use super::position::{dotted, Seg};
use serde_yaml::Value;
use std::collections::BTreeMap;

/// Why a template could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// Not a valid template; `template` is the (innermost) text compose would print, `near`
    /// the text from the offending `${` on (to place the error).
    Invalid { template: String, near: String },
    /// `${NAME:?message}` or `${NAME?message}` with NAME missing.
    Required { name: String, message: String },
}

/// The variables a substitution read but found unset (compose warns about each).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub unset: Vec<String>,
}

/// Substitutes one string. `env` answers a variable's value, `None` when unset.
pub fn substitute(
    template: &str,
    env: &dyn Fn(&str) -> Option<String>,
    outcome: &mut Outcome,
) -> Result<String, TemplateError> {
    substitute_depth(template, env, outcome, 0)
}

/// Nesting beyond this is refused, so a hostile file cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

fn substitute_depth(
    template: &str,
    env: &dyn Fn(&str) -> Option<String>,
    outcome: &mut Outcome,
    depth: usize,
) -> Result<String, TemplateError> {
    if depth > MAX_DEPTH {
        return Err(TemplateError::Invalid {
            template: template.to_string(),
            near: String::new(),
        });
    }
    let invalid = |at: &str| TemplateError::Invalid {
        template: template.to_string(),
        near: at.chars().take(16).collect(),
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(d) = rest.find('$') {
        out.push_str(&rest[..d]);
        let after = &rest[d + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let name_len = name_length(after);
        if name_len > 0 {
            let name = &after[..name_len];
            out.push_str(&lookup(name, env, outcome));
            rest = &after[name_len..];
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let name_len = name_length(body);
        if name_len == 0 {
            return Err(invalid(&rest[d..]));
        }
        let name = &body[..name_len];
        let tail = &body[name_len..];
        if let Some(after_close) = tail.strip_prefix('}') {
            out.push_str(&lookup(name, env, outcome));
            rest = after_close;
            continue;
        }
        let Some(op) = operator(tail) else {
            return Err(invalid(&rest[d..]));
        };
        // compose-go's pattern takes `.*` greedily up to the last `}` of the line, then cuts
        // the match at the `}` that closes the first `${` (counting nested `${`).
        let line_end = tail.find('\n').unwrap_or(tail.len());
        let Some(last_close) = tail[..line_end].rfind('}') else {
            return Err(invalid(&rest[d..]));
        };
        let matched = &tail[..last_close]; // op + argument, up to the greedy `}`
        let whole = format!("${{{name}{matched}}}");
        let (argument, nested_rest) = match first_closing_brace(&whole) {
            Some(i) => {
                // `whole` = "${" + name + matched + "}"; cut it after the first closing brace.
                let cut = &whole[..=i];
                let inner = &cut[2 + name_len + op.len()..cut.len() - 1];
                (inner.to_string(), whole[i + 1..].to_string())
            }
            None => (matched[op.len()..].to_string(), String::new()),
        };
        let value = apply(name, op, &argument, env, outcome, depth)?;
        out.push_str(&value);
        out.push_str(&substitute_depth(&nested_rest, env, outcome, depth + 1)?);
        rest = &tail[last_close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(name: &str, env: &dyn Fn(&str) -> Option<String>, outcome: &mut Outcome) -> String {
    match env(name) {
        Some(v) => v,
        None => {
            if !outcome.unset.iter().any(|n| n == name) {
                outcome.unset.push(name.to_string());
            }
            String::new()
        }
    }
}

/// The length of the variable name at the start of `s`: `[_A-Za-z][_A-Za-z0-9]*`, or 0.
fn name_length(s: &str) -> usize {
    let b = s.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return 0;
    }
    b.iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

fn operator(s: &str) -> Option<&'static str> {
    [":-", ":+", ":?", "-", "+", "?"]
        .into_iter()
        .find(|op| s.starts_with(op))
}

/// The index of the `}` that closes the first `${` of `s` (compose-go counts only `${`).
fn first_closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open = open.saturating_sub(1);
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

fn apply(
    name: &str,
    op: &str,
    argument: &str,
    env: &dyn Fn(&str) -> Option<String>,
    outcome: &mut Outcome,
    depth: usize,
) -> Result<String, TemplateError> {
    let value = env(name);
    let set_and_not_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    match op {
        ":-" | "-" => {
            // Substituted first, used or not: compose fails on an error inside it either way.
            let default = substitute_depth(argument, env, outcome, depth + 1)?;
            let use_default = if op == ":-" {
                !set_and_not_empty
            } else {
                value.is_none()
            };
            Ok(if use_default {
                default
            } else {
                value.unwrap_or_default()
            })
        }
        ":+" | "+" => {
            let alternative = substitute_depth(argument, env, outcome, depth + 1)?;
            let use_alternative = if op == ":+" {
                set_and_not_empty
            } else {
                value.is_some()
            };
            Ok(if use_alternative {
                alternative
            } else {
                String::new()
            })
        }
        _ => {
            let missing = if op == ":?" {
                !set_and_not_empty
            } else {
                value.is_none()
            };
            if missing {
                // The message is substituted too (`${A:?${B:-x} is needed}`).
                let message = substitute_depth(argument, env, outcome, depth + 1)?;
                Err(TemplateError::Required {
                    name: name.to_string(),
                    message,
                })
            } else {
                Ok(value.unwrap_or_default())
            }
        }
    }
}

/// A substitution failure inside a tree, with the path of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeError {
    pub path: Vec<Seg>,
    pub error: TemplateError,
}

impl TreeError {
    /// The message compose would give, and the text to look for to place it.
    pub fn message(&self) -> (String, String, String) {
        let at = dotted(&self.path);
        match &self.error {
            TemplateError::Invalid { template, near } => (
                format!("invalid interpolation format for {at}: `{template}`"),
                "write $$ for a literal $; a variable is ${NAME}, ${NAME:-default}, ${NAME:?message}"
                    .to_string(),
                if near.is_empty() { template.clone() } else { near.clone() },
            ),
            TemplateError::Required { name, message } => {
                let mut text = format!("required variable {name} is missing a value");
                if !message.is_empty() {
                    text.push_str(": ");
                    text.push_str(message);
                }
                (
                    format!("{text} (in {at})"),
                    format!("set {name} in the environment or in the project's .env file"),
                    format!("${{{name}"),
                )
            }
        }
    }
}

/// Substitutes every string value of `value` in place (keys are left as written).
pub fn interpolate_tree(
    value: &mut Value,
    env: &BTreeMap<String, String>,
    outcome: &mut Outcome,
) -> Result<(), TreeError> {
    let lookup = |name: &str| env.get(name).cloned();
    let mut path = Vec::new();
    walk(value, &lookup, outcome, &mut path)
}

fn walk(
    value: &mut Value,
    env: &dyn Fn(&str) -> Option<String>,
    outcome: &mut Outcome,
    path: &mut Vec<Seg>,
) -> Result<(), TreeError> {
    match value {
        Value::String(s) => {
            if s.contains('$') {
                *s = substitute(s, env, outcome).map_err(|error| TreeError {
                    path: path.clone(),
                    error,
                })?;
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(Seg::Index(i));
                let r = walk(item, env, outcome, path);
                path.pop();
                r?;
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                path.push(Seg::Key(key_text(k)));
                let r = walk(v, env, outcome, path);
                path.pop();
                r?;
            }
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, env, outcome, path)?,
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// A mapping key as text (`1` for a number key, `true` for a boolean one).
pub fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".into(),
        _ => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [("SET", "value"), ("EMPTY", ""), ("INNER", "inner")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sub(t: &str) -> Result<String, TemplateError> {
        let env = env();
        substitute(t, &|n| env.get(n).cloned(), &mut Outcome::default())
    }

    fn ok(t: &str) -> String {
        sub(t).unwrap_or_else(|e| panic!("{t}: {e:?}"))
    }

    #[test]
    fn plain_forms() {
        assert_eq!(ok("${SET}"), "value");
        assert_eq!(ok("$SET"), "value");
        assert_eq!(ok("$SET-suffix"), "value-suffix");
        assert_eq!(ok("x$UNSET.y"), "x.y");
        assert_eq!(ok("${SET}1"), "value1");
        assert_eq!(ok("[${UNSET}]"), "[]");
        assert_eq!(ok("no dollar"), "no dollar");
    }

    #[test]
    fn defaults() {
        assert_eq!(ok("${SET:-d}"), "value");
        assert_eq!(ok("${EMPTY:-d}"), "d");
        assert_eq!(ok("${UNSET:-d}"), "d");
        assert_eq!(ok("${SET-d}"), "value");
        assert_eq!(ok("${EMPTY-d}"), "");
        assert_eq!(ok("${UNSET-d}"), "d");
        assert_eq!(ok("${UNSET:-a:b}"), "a:b");
        assert_eq!(ok("${UNSET:-}"), "");
    }

    #[test]
    fn alternatives() {
        assert_eq!(ok("${SET:+alt}"), "alt");
        assert_eq!(ok("${EMPTY:+alt}"), "");
        assert_eq!(ok("${UNSET:+alt}"), "");
        assert_eq!(ok("${SET+alt}"), "alt");
        assert_eq!(ok("${EMPTY+alt}"), "alt");
        assert_eq!(ok("${UNSET+alt}"), "");
        assert_eq!(ok("${SET:+<${INNER}>}"), "<inner>");
    }

    #[test]
    fn required() {
        assert_eq!(ok("${SET:?must}"), "value");
        assert_eq!(ok("${EMPTY?must}"), "");
        assert_eq!(
            sub("${EMPTY:?set it}"),
            Err(TemplateError::Required {
                name: "EMPTY".into(),
                message: "set it".into()
            })
        );
        assert_eq!(
            sub("${UNSET:?${NOPE:-nested} msg}"),
            Err(TemplateError::Required {
                name: "UNSET".into(),
                message: "nested msg".into()
            })
        );
        assert_eq!(
            sub("${UNSET?}"),
            Err(TemplateError::Required {
                name: "UNSET".into(),
                message: String::new()
            })
        );
    }

    #[test]
    fn escapes_and_literal_dollars() {
        assert_eq!(ok("$$SET and $${SET}"), "$SET and ${SET}");
        assert_eq!(ok("cost $"), "cost $");
        assert_eq!(ok("$(date) $1 $- $@ $."), "$(date) $1 $- $@ $.");
        assert_eq!(ok("$$$SET"), "$value");
    }

    #[test]
    fn nesting_and_braces() {
        assert_eq!(ok("${UNSET:-${INNER}}"), "inner");
        assert_eq!(ok("${UNSET:-${ALSO:-deep}}"), "deep");
        assert_eq!(ok("${UNSET:-pre-${INNER}-post}"), "pre-inner-post");
        assert_eq!(ok("${UNSET:-x}y}"), "xy}");
        assert_eq!(ok("${SET:-a}b}"), "valueb}");
        assert_eq!(ok("${UNSET:-$SET}"), "value");
        assert_eq!(ok("${UNSET:-$$}"), "$");
        assert_eq!(ok("${A:-x} and ${SET}"), "x and value");
    }

    #[test]
    fn invalid_templates() {
        for t in [
            "${}",
            "${1}",
            "${SET:x}",
            "${SET",
            "${SET:-x",
            "${ SET}",
            "a\n${SET:-x\n}",
        ] {
            assert!(
                matches!(sub(t), Err(TemplateError::Invalid { .. })),
                "{t} should be invalid"
            );
        }
        // The innermost failing template is the one named, as compose does.
        assert_eq!(
            sub("${UNSET:-${SET:-x}"),
            Err(TemplateError::Invalid {
                template: "${SET:-x".into(),
                near: "${SET:-x".into()
            })
        );
        // An error inside an unused default still fails.
        assert!(sub("${SET:-${X:?}}").is_err());
    }

    #[test]
    fn unset_variables_are_reported_once() {
        let env = env();
        let mut outcome = Outcome::default();
        substitute("$U ${U} ${V}", &|n| env.get(n).cloned(), &mut outcome).unwrap();
        assert_eq!(outcome.unset, vec!["U".to_string(), "V".to_string()]);
    }

    #[test]
    fn trees_substitute_values_not_keys() {
        let mut v: Value = serde_yaml::from_str("${SET}: ${SET}\nl: [$SET, 1, true]").unwrap();
        interpolate_tree(&mut v, &env(), &mut Outcome::default()).unwrap();
        let expected: Value = serde_yaml::from_str("${SET}: value\nl: [value, 1, true]").unwrap();
        assert_eq!(v, expected);
        let mut v: Value = serde_yaml::from_str("a:\n  b: [x, '${UNSET:?no}']").unwrap();
        let e = interpolate_tree(&mut v, &env(), &mut Outcome::default()).unwrap_err();
        assert_eq!(dotted(&e.path), "a.b[1]");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "${A:-".repeat(500) + &"}".repeat(500);
        let _ = sub(&deep);
    }
}
