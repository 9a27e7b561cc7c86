//! The pipeline, in compose's order: the environment (`.env` under the process environment),
//! the files (discovery), then per file: parse, substitute, normalise, `include`, `extends`;
//! the files merged in order; profiles; the project name; the typed [`Project`].
//!
//! Pure: files are read through a [`FileSystem`], the environment is the request's snapshot.

use super::discovery;
use super::environment::{display, go_bool, overlay, project_env, read_env_file};
use super::error::ComposeError;
use super::extract;
use super::fs::{clean, join_clean, FileSystem};
use super::interpolate::{key_text, Outcome};
use super::loader::Loader;
use super::model::{Project, SecretSource, ServiceBuild};
use super::position::Seg;
use super::request::Request;
use super::scalars;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Resolves a Compose project.
pub fn resolve(request: &Request, fs: &dyn FileSystem) -> Result<Project, ComposeError> {
    let working_dir = &clean(&request.working_dir);
    let os = &request.env;
    let explicit_dir = request
        .project_dir
        .as_ref()
        .map(|d| join_clean(working_dir, &d.to_string_lossy()));
    let start = explicit_dir.clone().unwrap_or_else(|| working_dir.clone());
    // COMPOSE_FILE (and its separator) may come from the .env of where compose starts.
    let pre_env = if request.files.is_empty() {
        let dot = start.join(".env");
        let disabled = os
            .get("COMPOSE_DISABLE_ENV_FILE")
            .is_some_and(|v| go_bool(v) == Some(true));
        if fs.is_file(&dot) && !disabled {
            overlay(
                read_env_file(&dot, &display(working_dir, &dot), os, fs)?,
                os,
            )
        } else {
            os.clone()
        }
    } else {
        os.clone()
    };
    let found = discovery::discover(working_dir, &request.files, &pre_env, &start, fs)?;
    let project_dir = explicit_dir.unwrap_or_else(|| {
        found
            .files
            .first()
            .and_then(|f| f.parent())
            .map_or_else(|| working_dir.clone(), Path::to_path_buf)
    });
    let env = project_env(request, &project_dir, fs)?;

    let mut loader = Loader {
        fs,
        working_dir,
        sources: Vec::new(),
        unsupported: Vec::new(),
        warnings: found.warnings.clone(),
        outcome: Outcome::default(),
        including: Vec::new(),
        args_by_name: Default::default(),
    };
    let model = loader.load_model(&found.files, &project_dir, &env, 0)?;

    let profiles = active_profiles(request, &env);
    let name = project_name(request, &env, &model, &project_dir)?;
    let default_context = project_dir.display().to_string();

    let (mut builds, images, enabled) = enabled_services(&model, &profiles, &default_context);
    let by_name = loader.args_by_name.take();
    for b in &mut builds {
        b.args_by_name = b
            .args
            .keys()
            .filter(|k| by_name.contains(&(b.service.clone(), k.to_string())))
            .cloned()
            .collect();
    }
    check_dockerfiles(&builds, &loader)?;
    if let Some(Value::Mapping(services)) = model.get("services") {
        check_depends_on(services, &enabled, &loader)?;
    }
    let secrets = secrets(&model);
    check_build_references(&builds, &enabled, &secrets, &loader)?;
    let mut unsupported = loader.unsupported;
    unsupported.retain(|u| enabled.contains(&u.service));
    let mut warnings = loader.warnings;
    for name in &loader.outcome.unset {
        warnings.push(format!(
            "the \"{name}\" variable is not set; it is replaced by an empty string"
        ));
    }
    Ok(Project {
        name,
        project_dir,
        files: found.files,
        builds,
        images,
        secrets,
        unsupported,
        warnings,
    })
}

/// `--profile`, else `COMPOSE_PROFILES` (comma-separated, from the environment or `.env`).
fn active_profiles(request: &Request, env: &BTreeMap<String, String>) -> Vec<String> {
    if !request.profiles.is_empty() {
        return request.profiles.clone();
    }
    env.get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The services the active profiles enable: their builds (sorted by service), the images of
/// those without a build, and all their names.
fn enabled_services(
    model: &Mapping,
    profiles: &[String],
    default_context: &str,
) -> (Vec<ServiceBuild>, BTreeMap<String, String>, Vec<String>) {
    let mut builds = Vec::new();
    let mut images = BTreeMap::new();
    let mut enabled = Vec::new();
    if let Some(Value::Mapping(services)) = model.get("services") {
        for (k, v) in services {
            let service = key_text(k);
            let Value::Mapping(svc) = v else { continue };
            if !is_enabled(svc, profiles) {
                continue;
            }
            enabled.push(service.clone());
            match extract::service_build(&service, svc, default_context) {
                Some(b) => builds.push(b),
                None => {
                    if let Some(image) = svc.get("image").and_then(scalars::scalar_text) {
                        images.insert(service, image);
                    }
                }
            }
        }
    }
    builds.sort_by(|a, b| a.service.cmp(&b.service));
    (builds, images, enabled)
}

/// `dockerfile` and `dockerfile_inline` exclude each other, also when given by different files.
fn check_dockerfiles(builds: &[ServiceBuild], loader: &Loader) -> Result<(), ComposeError> {
    for b in builds {
        if b.dockerfile.is_some() && b.dockerfile_inline.is_some() {
            let at = [
                Seg::key("services"),
                Seg::key(&b.service),
                Seg::key("build"),
                Seg::key("dockerfile_inline"),
            ];
            return Err(loader.merged_error(
                &at,
                format!(
                    "service \"{}\" declares both dockerfile and dockerfile_inline, which exclude each other",
                    b.service
                ),
                "keep one of them (a later file can drop the other with `dockerfile: !reset null`)",
            ));
        }
    }
    Ok(())
}

/// What builds refer to exists: each build secret is defined at the top level, each
/// `service:` context is an enabled service.
fn check_build_references(
    builds: &[ServiceBuild],
    enabled: &[String],
    secrets: &BTreeMap<String, SecretSource>,
    loader: &Loader,
) -> Result<(), ComposeError> {
    for b in builds {
        let at = |key: &str| {
            [
                Seg::key("services"),
                Seg::key(&b.service),
                Seg::key("build"),
                Seg::key(key),
            ]
        };
        if let Some(s) = b.secrets.iter().find(|s| !secrets.contains_key(&s.source)) {
            return Err(loader.merged_error(
                &at("secrets"),
                format!(
                    "service \"{}\" refers to undefined build secret {}",
                    b.service, s.source
                ),
                &format!(
                    "define it under the top-level `secrets:` (`{}: {{environment: NAME}}` or `{{file: ./path}}`)",
                    s.source
                ),
            ));
        }
        for (name, value) in &b.additional_contexts {
            if let Some(other) = value.strip_prefix("service:") {
                if !enabled.iter().any(|e| e == other) {
                    return Err(loader.merged_error(
                        &at("additional_contexts"),
                        format!(
                            "service \"{}\" declares unknown service \"{other}\" as additional contexts {name}",
                            b.service
                        ),
                        "name a service of this project (and enable its profile)",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every `depends_on` of an enabled service names an enabled service (compose does not enable a
/// service of an inactive profile for it: it refuses), unless marked `required: false`.
fn check_depends_on(
    services: &Mapping,
    enabled: &[String],
    loader: &Loader,
) -> Result<(), ComposeError> {
    for name in enabled {
        let Some(Value::Mapping(service)) = services.get(name.as_str()) else {
            continue;
        };
        let needed: Vec<String> = match service.get("depends_on") {
            Some(Value::Sequence(list)) => list.iter().filter_map(scalars::scalar_text).collect(),
            Some(Value::Mapping(map)) => map
                .iter()
                .filter(|(_, v)| v.get("required") != Some(&Value::Bool(false)))
                .map(|(k, _)| key_text(k))
                .collect(),
            _ => Vec::new(),
        };
        if let Some(missing) = needed.iter().find(|d| !enabled.contains(d)) {
            let at = [Seg::key("services"), Seg::key(name), Seg::key("depends_on")];
            return Err(loader.merged_error(
                &at,
                format!("service \"{name}\" depends on undefined service \"{missing}\""),
                "define that service, or enable its profile (--profile or COMPOSE_PROFILES)",
            ));
        }
    }
    Ok(())
}

fn is_enabled(service: &Mapping, active: &[String]) -> bool {
    match service.get("profiles") {
        Some(Value::Sequence(p)) if !p.is_empty() => {
            active.iter().any(|a| a == "*")
                || p.iter()
                    .filter_map(scalars::scalar_text)
                    .any(|p| active.contains(&p))
        }
        _ => true,
    }
}

/// `-p`, else `COMPOSE_PROJECT_NAME`, else `name:`, else the project folder's name. The first
/// two must already be valid (`[a-z0-9][a-z0-9_-]*`: compose refuses others); the last two are
/// normalised as compose does: lower case, only `[a-z0-9_-]` kept, no leading `_` or `-`.
fn project_name(
    request: &Request,
    env: &BTreeMap<String, String>,
    model: &Mapping,
    project_dir: &Path,
) -> Result<String, ComposeError> {
    let given = request
        .project_name
        .clone()
        .filter(|n| !n.is_empty())
        .map(|n| (n, "-p"))
        .or_else(|| {
            env.get("COMPOSE_PROJECT_NAME")
                .filter(|n| !n.is_empty())
                .map(|n| (n.clone(), "COMPOSE_PROJECT_NAME"))
        });
    if let Some((name, from)) = given {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            return Err(ComposeError::new(
                "",
                format!(
                    "invalid project name \"{name}\" (from {from}): it must consist only of \
                     lower-case letters, digits, - and _, and start with a letter or digit"
                ),
            )
            .hint(format!(
                "set {from} to a valid name, e.g. `{}`",
                normalise_name(&name)
            )));
        }
        return Ok(name);
    }
    let raw = model
        .get("name")
        .and_then(scalars::scalar_text)
        .or_else(|| {
            project_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let name = normalise_name(&raw);
    if name.is_empty() {
        return Err(ComposeError::new(
            "",
            format!("`{raw}` gives no valid project name"),
        )
        .hint("set `name:` in the compose file, or COMPOSE_PROJECT_NAME, to lower-case letters, digits, - and _"));
    }
    Ok(name)
}

/// Lower case, only `[a-z0-9_-]` kept, no leading `_` or `-`.
fn normalise_name(raw: &str) -> String {
    let name: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    name.trim_start_matches(['_', '-']).to_string()
}

fn secrets(model: &Mapping) -> BTreeMap<String, SecretSource> {
    let Some(Value::Mapping(defs)) = model.get("secrets") else {
        return BTreeMap::new();
    };
    defs.iter()
        .map(|(k, v)| {
            let get = |key: &str| match v {
                Value::Mapping(m) => m.get(key).and_then(scalars::scalar_text),
                _ => None,
            };
            let source = match (get("file"), get("environment")) {
                (Some(f), _) => SecretSource::File(PathBuf::from(f)),
                (None, Some(e)) => SecretSource::Environment(e),
                _ => SecretSource::Other,
            };
            (key_text(k), source)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::compose::fs::MemoryFs;
    use crate::input::compose::model::group_builds;

    fn request(env: &[(&str, &str)]) -> Request {
        Request {
            working_dir: PathBuf::from("/p"),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Request::default()
        }
    }

    fn fs(files: &[(&str, &str)]) -> MemoryFs {
        MemoryFs::new(files.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())))
    }

    #[test]
    fn an_unset_required_variable_is_named_with_its_line() {
        let files = fs(&[(
            "/p/compose.yaml",
            "services:\n  app:\n    build:\n      context: .\n      args:\n        TOKEN: ${TOKEN:?set the token}\n",
        )]);
        let e = resolve(&request(&[]), &files).unwrap_err();
        assert_eq!(
            e.to_string(),
            "compose.yaml:6:16: required variable TOKEN is missing a value: set the token \
             (in services.app.build.args.TOKEN)\n  hint: set TOKEN in the environment or in \
             the project's .env file"
        );
    }

    #[test]
    fn the_environment_wins_over_dotenv() {
        let files = fs(&[
            ("/p/.env", "A=dotenv\nB=dotenv\n"),
            (
                "/p/compose.yaml",
                "services:\n  app:\n    build:\n      args: {A: $A, B: $B, C: '${C:-d}'}\n",
            ),
        ]);
        let p = resolve(&request(&[("B", "env")]), &files).unwrap();
        let args = &p.builds[0].args;
        assert_eq!(
            (args["A"].as_str(), args["B"].as_str(), args["C"].as_str()),
            ("dotenv", "env", "d")
        );
        assert_eq!(p.builds[0].context, "/p");
        assert_eq!(p.name, "p");
    }

    #[test]
    fn profiles_come_from_the_flag_or_the_environment() {
        let text = "services:\n  a: {build: .}\n  b: {build: ., profiles: [x]}\n  c: {image: i, profiles: [y]}\n";
        let files = fs(&[("/p/compose.yaml", text)]);
        let names = |p: &Project| -> Vec<String> {
            p.builds
                .iter()
                .map(|b| b.service.clone())
                .chain(p.images.keys().cloned())
                .collect()
        };
        let p = resolve(&request(&[]), &files).unwrap();
        assert_eq!(names(&p), ["a"]);
        let p = resolve(&request(&[("COMPOSE_PROFILES", "x, y")]), &files).unwrap();
        assert_eq!(names(&p), ["a", "b", "c"]);
        let mut r = request(&[("COMPOSE_PROFILES", "x")]);
        r.profiles = vec!["y".into()];
        assert_eq!(names(&resolve(&r, &files).unwrap()), ["a", "c"]);
    }

    #[test]
    fn extends_cycles_and_include_conflicts_are_errors() {
        let files = fs(&[(
            "/p/compose.yaml",
            "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
        )]);
        let e = resolve(&request(&[]), &files).unwrap_err();
        assert!(e.message.contains("circular extends"), "{e}");
        assert_eq!(e.line, 3);
        let files = fs(&[
            (
                "/p/compose.yaml",
                "include: [lib/compose.yaml]\nservices:\n  a: {build: .}\n",
            ),
            ("/p/lib/compose.yaml", "services:\n  a: {build: .}\n"),
        ]);
        let e = resolve(&request(&[]), &files).unwrap_err();
        assert!(
            e.message.contains("defined both here and in the included"),
            "{e}"
        );
        let files = fs(&[("/p/compose.yaml", "include: [missing.yaml]\n")]);
        let e = resolve(&request(&[]), &files).unwrap_err();
        assert_eq!(e.file, "missing.yaml");
    }

    #[test]
    fn unsupported_keys_are_listed_for_enabled_services_only() {
        let files = fs(&[(
            "/p/compose.yaml",
            "services:\n  a:\n    build:\n      privileged: true\n  b:\n    profiles: [off]\n    build:\n      isolation: default\n",
        )]);
        let p = resolve(&request(&[]), &files).unwrap();
        let listed: Vec<String> = p.unsupported.iter().map(|u| u.to_string()).collect();
        assert_eq!(listed, ["compose.yaml:4:7: services.a.build.privileged"]);
    }

    #[test]
    fn services_sharing_a_build_are_grouped() {
        let files = fs(&[(
            "/p/compose.yaml",
            "services:\n  web: {build: {context: ., target: final}}\n  worker: {build: {context: ., target: final}}\n  base: {build: {context: ., target: base}}\n",
        )]);
        let p = resolve(&request(&[]), &files).unwrap();
        let groups: Vec<Vec<String>> = group_builds(&p.builds)
            .into_iter()
            .map(|g| g.services)
            .collect();
        assert_eq!(
            groups,
            [
                vec!["base".to_string()],
                vec!["web".into(), "worker".into()]
            ]
        );
    }

    #[test]
    fn include_cycles_end_quickly() {
        let files = fs(&[(
            "/p/compose.yaml",
            "include: [compose.yaml, compose.yaml]\nservices: {}\n",
        )]);
        let start = std::time::Instant::now();
        let e = resolve(&request(&[]), &files).unwrap_err();
        assert_eq!(e.message, "include cycle: compose.yaml -> compose.yaml");
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("x-0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "x-{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        text.push_str("services: {}\n");
        let files = fs(&[("/p/compose.yaml", text.as_str())]);
        let start = std::time::Instant::now();
        let _ = resolve(&request(&[]), &files);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn project_names() {
        let files = fs(&[("/p/My.App/compose.yaml", "services: {}\n")]);
        let mut r = request(&[]);
        r.working_dir = PathBuf::from("/p/My.App");
        assert_eq!(resolve(&r, &files).unwrap().name, "myapp");
        r.project_name = Some("Bad Name".into());
        let e = resolve(&r, &files).unwrap_err();
        assert!(e.message.contains("invalid project name"), "{e}");
        assert!(e.hint.contains("badname"), "{}", e.hint);
    }

    #[test]
    fn several_files_merge_with_paths_from_the_project_folder() {
        let files = fs(&[
            ("/p/compose.yaml", "services:\n  a:\n    build: ./a\n"),
            (
                "/p/ci/extra.yaml",
                "services:\n  a:\n    build:\n      dockerfile: D\n      additional_contexts: [x=./x]\n",
            ),
        ]);
        let mut r = request(&[]);
        r.files = vec!["compose.yaml".into(), "ci/extra.yaml".into()];
        let p = resolve(&r, &files).unwrap();
        let b = &p.builds[0];
        assert_eq!(b.context, "/p/a");
        assert_eq!(b.dockerfile.as_deref(), Some("D"));
        assert_eq!(b.additional_contexts["x"], "/p/x");
        assert_eq!(
            p.files,
            [PathBuf::from("/p/compose.yaml"), "/p/ci/extra.yaml".into()]
        );
    }
}
