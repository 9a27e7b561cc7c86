//! One file's services brought to one shape before files are merged, as compose does: `build:
//! ./dir` becomes `{context: ./dir}`, list and mapping forms of `args`, `labels`,
//! `extra_hosts`, `ssh`, `secrets` and `additional_contexts` become one form, relative paths
//! are resolved against the file's base folder, `KEY` alone in `args` takes the environment's
//! value or is dropped, `shm_size` becomes bytes.
//!
//! Defaults (`context: .`, `dockerfile: Dockerfile`) are not filled in here: a later file may
//! still give them. Keys valid in Compose that the reader gives no meaning to are recorded as
//! [`UnsupportedKey`]s; keys Compose itself refuses are errors, as in compose.

use super::error::ComposeError;
use super::fs::join_clean;
use super::interpolate::key_text;
use super::keys::{nearest, BUILD_KEYS, SERVICE_KEYS, UNSUPPORTED_BUILD_KEYS};
use super::model::UnsupportedKey;
use super::position::{dotted, Positions, Seg};
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The file being normalised.
pub struct FileCtx<'a> {
    /// The file's name in messages.
    pub display: &'a str,
    pub positions: &'a Positions,
    /// Relative paths are taken from here (the project folder, or an extended or included
    /// file's own folder).
    pub base_dir: &'a Path,
    pub env: &'a BTreeMap<String, String>,
}

impl FileCtx<'_> {
    /// An error about the value at `path`, placed where it is written.
    pub fn error(&self, path: &[Seg], message: impl Into<String>, hint: &str) -> ComposeError {
        ComposeError::new(self.display, message)
            .at(self.positions.nearest(path))
            .hint(hint)
    }
}

/// Normalises one service (`services.NAME`).
pub fn service(
    name: &str,
    value: Value,
    ctx: &FileCtx,
    unsupported: &mut Vec<UnsupportedKey>,
) -> Result<Value, ComposeError> {
    let path = vec![Seg::key("services"), Seg::key(name)];
    let map = match value {
        Value::Mapping(m) => m,
        // `app:` with nothing: an empty service, as compose reads it.
        Value::Null => Mapping::new(),
        Value::Tagged(t) => return Ok(Value::Tagged(t)),
        _ => return Err(ctx.error(&path, format!("services.{name} must be a mapping"), "")),
    };
    let mut out = Mapping::new();
    for (k, v) in map {
        let key = key_text(&k);
        let mut at = path.clone();
        at.push(Seg::Key(key.clone()));
        let v =
            match key.as_str() {
                "build" => tagged(v, |v| build(name, v, ctx, &at, unsupported))?,
                "image" | "platform" => tagged(v, |v| scalar_value(v, ctx, &at))?,
                "profiles" => tagged(v, |v| strings(v, ctx, &at))?,
                _ if !key.starts_with("x-") && !SERVICE_KEYS.contains(&key.as_str()) => {
                    let hint = match nearest(&key, SERVICE_KEYS) {
                        Some(k) => format!("did you mean `{k}`?"),
                        None => "see the services reference of the Compose specification".into(),
                    };
                    return Err(ctx.error(
                        &at,
                        format!("services.{name} additional properties '{key}' not allowed"),
                        &hint,
                    ));
                }
                "extends" => match v {
                    Value::String(s) => {
                        let mut m = Mapping::new();
                        m.insert("service".into(), Value::String(s));
                        Value::Mapping(m)
                    }
                    Value::Mapping(m) => Value::Mapping(m),
                    _ => return Err(ctx.error(
                        &at,
                        format!("{} must be a service name or a mapping", dotted(&at)),
                        "write `extends: other` or `extends: {service: other, file: other.yaml}`",
                    )),
                },
                _ => v,
            };
        out.insert(k, v);
    }
    Ok(Value::Mapping(out))
}

/// Applies `f` to the value under a `!reset`/`!override` tag (kept for the merge).
fn tagged(
    v: Value,
    f: impl FnOnce(Value) -> Result<Value, ComposeError>,
) -> Result<Value, ComposeError> {
    match v {
        Value::Tagged(mut t) if t.tag == "override" => {
            t.value = f(t.value)?;
            Ok(Value::Tagged(t))
        }
        Value::Tagged(t) if t.tag == "reset" => Ok(Value::Tagged(t)),
        other => f(other),
    }
}

fn build(
    service: &str,
    v: Value,
    ctx: &FileCtx,
    path: &[Seg],
    unsupported: &mut Vec<UnsupportedKey>,
) -> Result<Value, ComposeError> {
    let map = match v {
        Value::String(context) => {
            let mut m = Mapping::new();
            m.insert(
                "context".into(),
                Value::String(resolve_context(ctx, &context)),
            );
            return Ok(Value::Mapping(m));
        }
        Value::Mapping(m) => m,
        _ => {
            return Err(ctx.error(
                path,
                format!("{} must be a string (a folder) or a mapping", dotted(path)),
                "write `build: ./dir` or `build: {context: ./dir, dockerfile: ...}`",
            ))
        }
    };
    let mut out = Mapping::new();
    for (k, v) in map {
        let key = key_text(&k);
        let mut at = path.to_vec();
        at.push(Seg::Key(key.clone()));
        if key.starts_with("x-") {
            // Extensions are for other tools; compose drops them from the build too.
            continue;
        }
        if UNSUPPORTED_BUILD_KEYS.contains(&key.as_str()) {
            let (line, column) = ctx.positions.nearest(&at);
            unsupported.push(UnsupportedKey {
                file: ctx.display.to_string(),
                line,
                column,
                service: service.to_string(),
                key: format!("build.{key}"),
            });
            out.insert(k, v);
            continue;
        }
        let v = match key.as_str() {
            "context" => tagged(v, |v| {
                let s = scalar(&v, ctx, &at)?;
                Ok(Value::String(resolve_context(ctx, &s)))
            })?,
            "dockerfile" | "dockerfile_inline" | "network" | "target" => {
                tagged(v, |v| scalar_value(v, ctx, &at))?
            }
            "args" => tagged(v, |v| args(v, ctx, &at))?,
            "labels" => tagged(v, |v| labels(v, ctx, &at))?,
            "cache_from" | "cache_to" | "tags" | "platforms" => {
                tagged(v, |v| strings(v, ctx, &at))?
            }
            "extra_hosts" => tagged(v, |v| extra_hosts(v, ctx, &at))?,
            "ssh" => tagged(v, |v| ssh(v, ctx, &at))?,
            "secrets" => tagged(v, |v| secrets(v, ctx, &at))?,
            "additional_contexts" => tagged(v, |v| additional_contexts(v, ctx, &at))?,
            "shm_size" => tagged(v, |v| shm_size(v, ctx, &at))?,
            "pull" | "no_cache" => tagged(v, |v| boolean(v, ctx, &at))?,
            _ => {
                let hint = match nearest(&key, BUILD_KEYS) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("build keys: {}", BUILD_KEYS.join(", ")),
                };
                return Err(ctx.error(
                    &at,
                    format!("{} additional properties '{key}' not allowed", dotted(path)),
                    &hint,
                ));
            }
        };
        out.insert(k, v);
    }
    Ok(Value::Mapping(out))
}

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

/// A scalar as text, the way compose turns YAML values into text (`1` -> "1", `True` ->
/// "true", `3.10` -> "3.1", `1e3` -> "1000"); `None` for null.
///
/// Known gap: Go's YAML reads plain `010` as 8 and `1_000` as 1000 (YAML 1.1), serde_yaml as
/// the text `010` and `1_000`; a quoted "010" cannot be told apart from a plain one once
/// parsed, so the reader keeps the text.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(i), _) => i.to_string(),
            (None, None, Some(f)) => go_float(f),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A float as Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes it, which is what compose
/// prints: the shortest digits, in exponent form (`1.5e-07`, `1.23456789e+08`) when the
/// exponent is below -4 or 6 and above, else plainly (`100`, `0.0001`, `-0`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest digits that read back as `f`: `1.23456789e8`.
    let e = format!("{f:e}");
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        // Display is the shortest round-trip text without an exponent: `100`, `0.0001`.
        format!("{f}")
    }
}

fn scalar(v: &Value, ctx: &FileCtx, path: &[Seg]) -> Result<String, ComposeError> {
    scalar_text(v).ok_or_else(|| {
        ctx.error(
            path,
            format!("{} must be a single value (text)", dotted(path)),
            "",
        )
    })
}

fn scalar_value(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    Ok(Value::String(scalar(&v, ctx, path)?))
}

fn strings(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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

fn args(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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
            None => ctx.env.get(&name).cloned(),
        };
        if let Some(value) = value {
            out.insert(Value::String(name), Value::String(value));
        }
    }
    Ok(Value::Mapping(out))
}

fn labels(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let mut out = Mapping::new();
    for (name, value, _) in pairs(v, ctx, path, &['='])? {
        out.insert(
            Value::String(name),
            Value::String(value.unwrap_or_default()),
        );
    }
    Ok(Value::Mapping(out))
}

fn extra_hosts(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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

fn ssh(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
    let mut out = Vec::new();
    for (id, key_path, _) in pairs(v, ctx, path, &['='])? {
        out.push(Value::String(match key_path {
            Some(p) => format!("{id}={p}"),
            None => id,
        }));
    }
    Ok(Value::Sequence(out))
}

fn secrets(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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

fn additional_contexts(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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

fn shm_size(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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

/// A size as docker reads it (`RAMInBytes`): a number with an optional `b`, `k`, `m`, `g`, `t`
/// or `p` unit (powers of 1024), an optional `i` and `b` after it.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let number: f64 = s[..digits].parse().ok()?;
    let unit = s[digits..].trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    let bytes = number * 1024f64.powi(power);
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

fn boolean(v: Value, ctx: &FileCtx, path: &[Seg]) -> Result<Value, ComposeError> {
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

/// Top-level `secrets:`: `file:` paths resolved against the base folder.
pub fn top_secrets(v: Value, ctx: &FileCtx) -> Value {
    let Value::Mapping(m) = v else { return v };
    Value::Mapping(
        m.into_iter()
            .map(|(k, v)| match v {
                Value::Mapping(mut def) => {
                    if let Some(Value::String(file)) = def.get("file").cloned() {
                        def.insert(
                            "file".into(),
                            Value::String(join_clean(ctx.base_dir, &file).display().to_string()),
                        );
                    }
                    (k, Value::Mapping(def))
                }
                other => (k, other),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normalises `body` as the service `app` of a file (`services:\n  app:\n` + body).
    fn norm(
        body: &str,
        env: &[(&str, &str)],
    ) -> Result<(Value, Vec<UnsupportedKey>), ComposeError> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let indented: String = body.lines().map(|l| format!("    {l}\n")).collect();
        let text = format!("services:\n  app:\n{indented}");
        let positions = Positions::index(&text);
        let ctx = FileCtx {
            display: "compose.yaml",
            positions: &positions,
            base_dir: Path::new("/p"),
            env: &env,
        };
        let mut unsupported = Vec::new();
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        let v = service(
            "app",
            doc["services"]["app"].clone(),
            &ctx,
            &mut unsupported,
        )?;
        Ok((v, unsupported))
    }

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn short_build_becomes_a_context() {
        let (v, _) = norm("build: ./app", &[]).unwrap();
        assert_eq!(v, yaml("build: {context: /p/app}"));
        let (v, _) = norm("build: https://github.com/a/b.git#main", &[]).unwrap();
        assert_eq!(
            v,
            yaml("build: {context: 'https://github.com/a/b.git#main'}")
        );
    }

    #[test]
    fn args_by_name_take_the_environment_or_are_dropped() {
        let (v, _) = norm(
            "build:\n  args: [A=1, B=x=y, C=, SET, EMPTY, UNSET]",
            &[("SET", "s"), ("EMPTY", "")],
        )
        .unwrap();
        assert_eq!(
            v,
            yaml("build: {args: {A: '1', B: 'x=y', C: '', SET: s, EMPTY: ''}}")
        );
        let (v, _) = norm(
            "build:\n  args: {N: 1, F: 3.10, T: true, SET: null, UNSET: ~}",
            &[("SET", "s")],
        )
        .unwrap();
        assert_eq!(
            v,
            yaml("build: {args: {N: '1', F: '3.1', T: 'true', SET: s}}")
        );
        let e = norm("build:\n  args:\n    - K = v", &[]).unwrap_err();
        assert!(e.message.contains("trailing space"), "{e}");
        assert_eq!((e.line, e.column), (5, 9));
    }

    #[test]
    fn labels_hosts_ssh_secrets_contexts() {
        let (v, _) = norm(
            "build:\n  labels: [a=1, b]\n  extra_hosts: ['db:10.0.0.1', 'v6=::1', 'db=10.0.0.2']\n  ssh: {deploy: /k}\n  secrets: [s, {source: t, target: u}]\n  additional_contexts: [a=./x, b=service:base, c=docker-image://alpine]\n  shm_size: 256m",
            &[],
        )
        .unwrap();
        assert_eq!(
            v,
            yaml("build: {labels: {a: '1', b: ''}, extra_hosts: {db: [10.0.0.1, 10.0.0.2], v6: ['::1']}, ssh: [deploy=/k], secrets: [{source: s}, {source: t, target: u}], additional_contexts: {a: /p/x, b: 'service:base', c: 'docker-image://alpine'}, shm_size: 268435456}")
        );
    }

    #[test]
    fn unknown_and_unsupported_keys() {
        let e = norm("build:\n  contxt: .", &[]).unwrap_err();
        assert_eq!((e.line, e.column), (4, 7));
        assert!(e.message.contains("contxt"));
        assert_eq!(e.hint, "did you mean `context`?");
        let (v, unsupported) =
            norm("build:\n  context: .\n  privileged: true\n  x-mine: 1", &[]).unwrap();
        assert_eq!(v, yaml("build: {context: /p, privileged: true}"));
        assert_eq!(unsupported.len(), 1);
        assert_eq!(
            unsupported[0].to_string(),
            "compose.yaml:5:7: services.app.build.privileged"
        );
    }

    #[test]
    fn misspelt_service_keys_are_refused() {
        let e = norm("biuld: .", &[]).unwrap_err();
        assert_eq!(
            e.message,
            "services.app additional properties 'biuld' not allowed"
        );
        assert_eq!(e.hint, "did you mean `build`?");
        assert_eq!((e.line, e.column), (3, 5));
        assert!(norm("x-anything: 1\nports: ['80:80']\nuse_api_socket: true", &[]).is_ok());
    }

    #[test]
    fn floats_read_as_compose_writes_them() {
        let cases = [
            (1.0, "1"),
            (1e3, "1000"),
            (0.5, "0.5"),
            (1.5e-7, "1.5e-07"),
            (123456789.0, "1.23456789e+08"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0"),
            (1234567.5, "1.2345675e+06"),
            (3.1, "3.1"),
            (-2.5e-300, "-2.5e-300"),
        ];
        for (f, text) in cases {
            assert_eq!(go_float(f), text, "{f}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("256m"), Some(268_435_456));
        assert_eq!(parse_bytes("2gb"), Some(2_147_483_648));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("1.5k"), Some(1536));
        assert_eq!(parse_bytes("1 MiB"), Some(1_048_576));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("9e99"), None);
    }
}
