//! One file's services brought to one shape before files are merged, as compose does: `build:
//! ./dir` becomes `{context: ./dir}`, list and mapping forms of `args`, `labels`,
//! `extra_hosts`, `ssh`, `secrets` and `additional_contexts` become one form, relative paths
//! are resolved against the file's base folder, `KEY` alone in `args` takes the environment's
//! value or is dropped, `shm_size` becomes bytes.
//!
//! Defaults (`context: .`, `dockerfile: Dockerfile`) are not filled in here: a later file may
//! still give them. Keys valid in Compose that the reader gives no meaning to are recorded as
//! [`UnsupportedKey`]s; keys Compose itself refuses are errors, as in compose.

use super::build_values::{
    additional_contexts, args, boolean, extra_hosts, labels, resolve_context, scalar, scalar_value,
    secrets, shm_size, ssh, strings,
};
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
    /// `(service, arg)` of each build arg written as `KEY` alone whose value came from the
    /// environment: a builder can pass those by name, keeping the value out of argv.
    pub args_by_name: &'a std::cell::RefCell<std::collections::BTreeSet<(String, String)>>,
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
            args_by_name: &Default::default(),
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
}
