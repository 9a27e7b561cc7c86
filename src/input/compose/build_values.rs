//! The value of each `build:` key brought to one shape: lists and mappings of `NAME=value`
//! to mappings, `KEY` alone to the environment's value (or dropped), folders resolved against
//! the file's base folder, sizes to bytes, booleans to booleans. Each function names the place
//! of a value of the wrong shape.

use super::error::ComposeError;
use super::fs::join_clean;
use super::interpolate::key_text;
use super::normalize::FileCtx;
use super::position::{dotted, Seg};
use super::scalars::{parse_bytes, scalar_text};
use serde_yaml::{Mapping, Value};

/// A remote context (URL, `git@...`) as written; a folder resolved against the base folder.
pub fn resolve_context(ctx: &FileCtx, context: &str) -> String {
    if is_remote(context) {
        context.to_string()
    } else {
        join_clean(ctx.base_dir, context).display().to_string()
    }
}

fn is_remote(s: &str) -> bool {
    s.contains("://") || s.starts_with("git@") || s.starts_with("github.com/")
}

pub(super) fn scalar(v: &Value, ctx: &FileCtx, path: &[Seg]) -> Result<String, ComposeError> {
    scalar_text(v).ok_or_else(|| {
        ctx.error(
            path,
            format!("{} must be a single value (text)", dotted(path)),
            "",
        )
    })
}

pub(super) fn scalar_value(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    Ok(Value::String(scalar(&v, ctx, path)?))
}

pub(super) fn strings(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let Value::Sequence(items) = v else {
        return Err(ctx.error(
            path,
            format!("{} must be a list", dotted(path)),
            "write one item per line, each after `- `",
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut at = path.to_vec();
        at.push(Seg::Index(i));
        out.push(Value::String(scalar(item, ctx, &at)?));
    }
    Ok(Value::Sequence(out))
}

/// One `NAME=value` (or `NAME` alone: no value) and where it is written.
type Pair = (String, Option<String>, Vec<Seg>);

/// `[NAME=value, ...]` or `{NAME: value}` -> the pairs, in order.
fn pairs(
    v: Value,
    ctx: &FileCtx,
    path: &[Seg],
    separators: &[char],
) -> Result<Vec<Pair>, ComposeError> {
    let mut out = Vec::new();
    match v {
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut at = path.to_vec();
                at.push(Seg::Index(i));
                let text = scalar(item, ctx, &at)?;
                match text.find(separators) {
                    Some(i) => {
                        out.push((text[..i].to_string(), Some(text[i + 1..].to_string()), at))
                    }
                    None => out.push((text, None, at)),
                }
            }
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                let key = key_text(&k);
                let mut at = path.to_vec();
                at.push(Seg::Key(key.clone()));
                let value = match &v {
                    Value::Null => None,
                    other => Some(scalar(other, ctx, &at)?),
                };
                out.push((key, value, at));
            }
        }
        Value::Null => {}
        _ => {
            return Err(ctx.error(
                path,
                format!("{} must be a list of NAME=value or a mapping", dotted(path)),
                "",
            ))
        }
    }
    Ok(out)
}

pub(super) fn args(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let mut out = Mapping::new();
    for (name, value, at) in pairs(v, ctx, path, &['='])? {
        // compose 2.40 refuses `KEY = value` in the list form (2.26 kept the key `KEY `).
        if name.ends_with(' ') {
            return Err(ctx.error(
                &at,
                format!(
                    "'{}' environment variable {name} is declared with a trailing space",
                    dotted(path)
                ),
                "write NAME=value without spaces around =",
            ));
        }
        // `KEY` alone (or `KEY:` with no value): the environment's value, dropped when unset.
        let value = match value {
            Some(v) => Some(v),
            None => {
                if let (Some(Seg::Key(service)), true) = (path.get(1), ctx.env.contains_key(&name))
                {
                    ctx.args_by_name
                        .borrow_mut()
                        .insert((service.clone(), name.clone()));
                }
                ctx.env.get(&name).cloned()
            }
        };
        if let Some(value) = value {
            out.insert(Value::String(name), Value::String(value));
        }
    }
    Ok(Value::Mapping(out))
}

pub(super) fn labels(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let mut out = Mapping::new();
    for (name, value, _) in pairs(v, ctx, path, &['='])? {
        out.insert(
            Value::String(name),
            Value::String(value.unwrap_or_default()),
        );
    }
    Ok(Value::Mapping(out))
}

pub(super) fn extra_hosts(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let mut out = Mapping::new();
    let mut add = |host: String, ip: String| {
        let entry = out
            .entry(Value::String(host))
            .or_insert_with(|| Value::Sequence(Vec::new()));
        if let Value::Sequence(ips) = entry {
            ips.push(Value::String(ip));
        }
    };
    match v {
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut at = path.to_vec();
                at.push(Seg::Index(i));
                let text = scalar(item, ctx, &at)?;
                // `host=ip`, or `host:ip` (an IPv6 address keeps its own colons).
                let split = text.split_once('=').or_else(|| text.split_once(':'));
                let Some((host, ip)) = split else {
                    return Err(ctx.error(
                        &at,
                        format!("{} `{text}` is not host:address", dotted(path)),
                        "write `host=10.0.0.1` or `host:10.0.0.1`",
                    ));
                };
                add(host.to_string(), ip.to_string());
            }
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                let host = key_text(&k);
                let mut at = path.to_vec();
                at.push(Seg::Key(host.clone()));
                match v {
                    Value::Sequence(ips) => {
                        for ip in ips {
                            add(host.clone(), scalar(&ip, ctx, &at)?);
                        }
                    }
                    other => add(host, scalar(&other, ctx, &at)?),
                }
            }
        }
        _ => {
            return Err(ctx.error(
                path,
                format!("{} must be a list or a mapping", dotted(path)),
                "",
            ))
        }
    }
    Ok(Value::Mapping(out))
}

pub(super) fn ssh(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let mut out = Vec::new();
    for (id, key_path, _) in pairs(v, ctx, path, &['='])? {
        out.push(Value::String(match key_path {
            Some(p) => format!("{id}={p}"),
            None => id,
        }));
    }
    Ok(Value::Sequence(out))
}

pub(super) fn secrets(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let Value::Sequence(items) = v else {
        return Err(ctx.error(path, format!("{} must be a list", dotted(path)), ""));
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let mut at = path.to_vec();
        at.push(Seg::Index(i));
        let mut m = Mapping::new();
        match item {
            Value::Mapping(given) => {
                for (k, v) in given {
                    let key = key_text(&k);
                    let mut at = at.clone();
                    at.push(Seg::Key(key.clone()));
                    if !["source", "target", "uid", "gid", "mode"].contains(&key.as_str()) {
                        return Err(ctx.error(
                            &at,
                            format!("{} additional properties '{key}' not allowed", dotted(path)),
                            "a build secret has source, target, uid, gid and mode",
                        ));
                    }
                    m.insert(Value::String(key), Value::String(scalar(&v, ctx, &at)?));
                }
                if !m.contains_key("source") {
                    return Err(ctx.error(&at, format!("{} has no source", dotted(&at)), ""));
                }
            }
            other => {
                m.insert("source".into(), Value::String(scalar(&other, ctx, &at)?));
            }
        }
        out.push(Value::Mapping(m));
    }
    Ok(Value::Sequence(out))
}

pub(super) fn additional_contexts(
    v: Value,
    ctx: &FileCtx,
    path: &[Seg],
) -> Result<Value, ComposeError> {
    let mut out = Mapping::new();
    for (name, value, at) in pairs(v, ctx, path, &['='])? {
        let Some(value) = value else {
            return Err(ctx.error(
                &at,
                format!("{} `{name}` has no value", dotted(path)),
                "write `name: ./folder`, `name: docker-image://image` or `name: service:other`",
            ));
        };
        let resolved = if is_remote(&value) || value.starts_with("service:") {
            value
        } else {
            join_clean(ctx.base_dir, &value).display().to_string()
        };
        out.insert(Value::String(name), Value::String(resolved));
    }
    Ok(Value::Mapping(out))
}

pub(super) fn shm_size(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let bytes = match &v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_bytes(s),
        _ => None,
    };
    match bytes {
        Some(b) => Ok(Value::Number(b.into())),
        None => Err(ctx.error(
            path,
            format!("{} is not a size", dotted(path)),
            "write bytes (`268435456`) or a size with a unit (`256m`, `2gb`)",
        )),
    }
}

pub(super) fn boolean(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let b = match &v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    };
    b.map(Value::Bool)
        .ok_or_else(|| ctx.error(path, format!("{} must be true or false", dotted(path)), ""))
}
