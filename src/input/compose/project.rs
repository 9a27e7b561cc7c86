//! The pipeline, in compose's order: the environment (`.env` under the process environment),
//! the files (discovery), then per file: parse, substitute, normalise, `include`, `extends`;
//! the files merged in order; profiles; the project name; the typed [`Project`].
//!
//! Pure: files are read through a [`FileSystem`], the environment is the request's snapshot.

use super::discovery;
use super::dotenv;
use super::error::ComposeError;
use super::extract;
use super::fs::{clean, join_clean, FileSystem};
use super::interpolate::{interpolate_tree, key_text, Outcome};
use super::merge::{merge_mapping, strip_tags};
use super::model::{Project, SecretSource, UnsupportedKey};
use super::normalize::{self, FileCtx};
use super::position::{Positions, Seg};
use super::request::Request;
use super::yaml;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How deep `include` and `extends` may nest before the reader calls it a cycle.
const MAX_DEPTH: usize = 32;

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
    let pre_env = if request.files.is_empty() && !os.contains_key("COMPOSE_FILE") {
        let dot = start.join(".env");
        if fs.is_file(&dot) {
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
        found.files[0]
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let env = project_env(request, &project_dir, fs)?;

    let mut loader = Loader {
        fs,
        working_dir,
        sources: Vec::new(),
        unsupported: Vec::new(),
        warnings: found.warnings.clone(),
        outcome: Outcome::default(),
    };
    let model = loader.load_model(&found.files, &project_dir, &env, 0)?;

    let profiles: Vec<String> = if request.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        request.profiles.clone()
    };
    let name = project_name(request, &env, &model, &project_dir)?;
    let default_context = project_dir.display().to_string();

    let mut builds = Vec::new();
    let mut images = BTreeMap::new();
    let mut enabled = Vec::new();
    if let Some(Value::Mapping(services)) = model.get("services") {
        for (k, v) in services {
            let service = key_text(k);
            let Value::Mapping(svc) = v else { continue };
            if !is_enabled(svc, &profiles) {
                continue;
            }
            enabled.push(service.clone());
            match extract::service_build(&service, svc, &default_context) {
                Some(b) => builds.push(b),
                None => {
                    if let Some(image) = svc.get("image").and_then(normalize::scalar_text) {
                        images.insert(service, image);
                    }
                }
            }
        }
    }
    builds.sort_by(|a, b| a.service.cmp(&b.service));
    for b in &builds {
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
    if let Some(Value::Mapping(services)) = model.get("services") {
        check_depends_on(services, &enabled, &loader)?;
    }
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
        secrets: secrets(&model),
        unsupported,
        warnings,
    })
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
            Some(Value::Sequence(list)) => list.iter().filter_map(normalize::scalar_text).collect(),
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

/// `.env` (or the `--env-file`s) under the process environment, which wins.
fn project_env(
    request: &Request,
    project_dir: &Path,
    fs: &dyn FileSystem,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let files: Vec<PathBuf> = if request.env_files.is_empty() {
        let dot = project_dir.join(".env");
        if fs.is_file(&dot) {
            vec![dot]
        } else {
            Vec::new()
        }
    } else {
        request
            .env_files
            .iter()
            .map(|f| join_clean(&request.working_dir, &f.to_string_lossy()))
            .collect()
    };
    let mut dot = BTreeMap::new();
    for f in &files {
        dot.extend(read_env_file(
            f,
            &display(&request.working_dir, f),
            &request.env,
            fs,
        )?);
    }
    Ok(overlay(dot, &request.env))
}

fn read_env_file(
    path: &Path,
    shown: &str,
    env: &BTreeMap<String, String>,
    fs: &dyn FileSystem,
) -> Result<BTreeMap<String, String>, ComposeError> {
    match fs.read(path) {
        Ok(Some(text)) => dotenv::parse(&text, shown, env),
        Ok(None) => Err(ComposeError::new(shown, "no such env file")
            .hint("check the --env-file or env_file path")),
        Err(why) => Err(ComposeError::new(
            shown,
            format!("cannot read the env file: {why}"),
        )),
    }
}

/// `base` with every variable of `top` set over it.
fn overlay(
    mut base: BTreeMap<String, String>,
    top: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    base.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
    base
}

/// A path as the user would write it: relative to the working folder when under it.
fn display(working_dir: &Path, path: &Path) -> String {
    path.strip_prefix(working_dir)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn is_enabled(service: &Mapping, active: &[String]) -> bool {
    match service.get("profiles") {
        Some(Value::Sequence(p)) if !p.is_empty() => {
            active.iter().any(|a| a == "*")
                || p.iter()
                    .filter_map(normalize::scalar_text)
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
        .and_then(normalize::scalar_text)
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
                Value::Mapping(m) => m.get(key).and_then(normalize::scalar_text),
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

/// Reads files and applies `include` and `extends`, collecting what it learns on the way.
struct Loader<'a> {
    fs: &'a dyn FileSystem,
    working_dir: &'a Path,
    /// Each file read, with where its keys are, to place later errors.
    sources: Vec<(String, Positions)>,
    unsupported: Vec<UnsupportedKey>,
    warnings: Vec<String>,
    outcome: Outcome,
}

impl Loader<'_> {
    /// Reads, substitutes and normalises one file; `base_dir` is where its relative paths start.
    fn load_file(
        &mut self,
        path: &Path,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<(Vec<Mapping>, usize), ComposeError> {
        let shown = display(self.working_dir, path);
        let text = match self.fs.read(path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(ComposeError::new(shown, "no such compose file")
                    .hint("check the path (-f, COMPOSE_FILE, include or extends)"))
            }
            Err(why) => return Err(ComposeError::new(shown, format!("cannot read it: {why}"))),
        };
        let positions = Positions::index(&text);
        let mut docs = Vec::new();
        for doc in yaml::parse(&text, &shown)? {
            docs.push(self.document(doc, &shown, &positions, base_dir, env)?);
        }
        self.sources.push((shown, positions));
        Ok((docs, self.sources.len() - 1))
    }

    /// One YAML document of a file: substituted, its services normalised.
    fn document(
        &mut self,
        doc: Mapping,
        shown: &str,
        positions: &Positions,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Mapping, ComposeError> {
        let mut doc = Value::Mapping(doc);
        interpolate_tree(&mut doc, env, &mut self.outcome).map_err(|e| {
            let (message, hint, needle) = e.message();
            ComposeError::new(shown, message)
                .at(positions.in_value(&e.path, &needle))
                .hint(hint)
        })?;
        let Value::Mapping(mut doc) = doc else {
            return Err(ComposeError::new(
                shown,
                "internal: the file stopped being a mapping",
            ));
        };
        if doc.contains_key("version") {
            self.warnings.push(format!(
                "{shown}: the attribute `version` is obsolete, it will be ignored"
            ));
        }
        let ctx = FileCtx {
            display: shown,
            positions,
            base_dir,
            env,
        };
        if let Some(services) = doc.get_mut("services") {
            let given = std::mem::take(services);
            let Value::Mapping(given) = given else {
                return Err(ctx.error(
                    &[Seg::key("services")],
                    "services must be a mapping of service names",
                    "",
                ));
            };
            let mut out = Mapping::new();
            for (k, v) in given {
                let name = key_text(&k);
                out.insert(
                    k,
                    normalize::service(&name, v, &ctx, &mut self.unsupported)?,
                );
            }
            *services = Value::Mapping(out);
        }
        if let Some(secrets) = doc.get_mut("secrets") {
            *secrets = normalize::top_secrets(std::mem::take(secrets), &ctx);
        }
        Ok(doc)
    }

    /// Loads `files` as one model, merged in order.
    fn load_model(
        &mut self,
        files: &[PathBuf],
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<Mapping, ComposeError> {
        let mut model = Mapping::new();
        for file in files {
            let (docs, source) = self.load_file(file, base_dir, env)?;
            for doc in docs {
                self.add_document(&mut model, doc, source, base_dir, env, depth)?;
            }
        }
        Ok(match strip_tags(Value::Mapping(model)) {
            Value::Mapping(m) => m,
            _ => Mapping::new(),
        })
    }

    /// Applies a document's `include` and `extends`, then merges it into `model`.
    fn add_document(
        &mut self,
        model: &mut Mapping,
        mut doc: Mapping,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), ComposeError> {
        if let Some(include) = doc.remove("include") {
            self.include(&mut doc, include, source, base_dir, env, depth)?;
        }
        self.extends(&mut doc, source, base_dir, env, depth)?;
        merge_mapping(model, doc, &mut Vec::new()).map_err(|e| {
            let path: Vec<Seg> = e.path.split('.').map(Seg::key).collect();
            let (file, positions) = &self.sources[source];
            ComposeError::new(file.as_str(), e.message)
                .at(positions.nearest(&path))
                .hint("give it in one file only, or replace it with `ssh: !override [...]`")
        })
    }

    /// An error about the merged model at `path`, placed in the last file that writes it.
    fn merged_error(&self, path: &[Seg], message: String, hint: &str) -> ComposeError {
        let found = self
            .sources
            .iter()
            .rev()
            .find_map(|(file, positions)| positions.find(path).map(|at| (file, at)));
        match found {
            Some((file, at)) => ComposeError::new(file.as_str(), message).at(at),
            None => ComposeError::new(
                self.sources.first().map_or("", |(f, _)| f.as_str()),
                message,
            ),
        }
        .hint(hint)
    }

    /// `include:`: each entry loaded as a project of its own (its own folder for relative
    /// paths, its own `.env` or `env_file`), its services added to this file's.
    fn include(
        &mut self,
        doc: &mut Mapping,
        include: Value,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), ComposeError> {
        let here = |this: &Self, path: &[Seg], message: String| {
            let (file, positions) = &this.sources[source];
            ComposeError::new(file.as_str(), message).at(positions.nearest(path))
        };
        if depth >= MAX_DEPTH {
            return Err(here(
                self,
                &[Seg::key("include")],
                "include nests too deep (a cycle?)".into(),
            ));
        }
        let Value::Sequence(entries) = include else {
            return Err(here(
                self,
                &[Seg::key("include")],
                "include must be a list".into(),
            ));
        };
        for (i, entry) in entries.into_iter().enumerate() {
            let at = [Seg::key("include"), Seg::Index(i)];
            let (paths, project_directory, env_files) = match entry {
                Value::String(p) => (vec![p], None, Vec::new()),
                Value::Mapping(m) => {
                    let list = |v: Option<&Value>| -> Vec<String> {
                        match v {
                            Some(Value::Sequence(s)) => {
                                s.iter().filter_map(normalize::scalar_text).collect()
                            }
                            Some(v) => normalize::scalar_text(v).into_iter().collect(),
                            None => Vec::new(),
                        }
                    };
                    (
                        list(m.get("path")),
                        m.get("project_directory").and_then(normalize::scalar_text),
                        list(m.get("env_file")),
                    )
                }
                _ => {
                    return Err(here(
                        self,
                        &at,
                        "an include entry is a path or a mapping with `path:`".into(),
                    ))
                }
            };
            if paths.is_empty() {
                return Err(here(self, &at, "an include entry needs a path".into()));
            }
            let paths: Vec<PathBuf> = paths.iter().map(|p| join_clean(base_dir, p)).collect();
            let dir = match project_directory {
                Some(d) => join_clean(base_dir, &d),
                None => paths[0]
                    .parent()
                    .map_or_else(|| base_dir.to_path_buf(), Path::to_path_buf),
            };
            let env_files: Vec<PathBuf> = if env_files.is_empty() {
                Some(dir.join(".env"))
                    .filter(|d| self.fs.is_file(d))
                    .into_iter()
                    .collect()
            } else {
                env_files.iter().map(|f| join_clean(base_dir, f)).collect()
            };
            // The including project's environment wins over the included one's files.
            let mut included_env = BTreeMap::new();
            for f in &env_files {
                let shown = display(self.working_dir, f);
                included_env.extend(read_env_file(f, &shown, env, self.fs)?);
            }
            let included_env = overlay(included_env, env);
            let mut sub = self.load_model(&paths, &dir, &included_env, depth + 1)?;
            let default_context = dir.display().to_string();
            let services = match doc
                .entry("services".into())
                .or_insert_with(|| Value::Mapping(Mapping::new()))
            {
                Value::Mapping(m) => m,
                _ => continue,
            };
            if let Some(Value::Mapping(included)) = sub.remove("services") {
                for (k, mut v) in included {
                    if services.contains_key(&k) {
                        return Err(here(
                            self,
                            &[Seg::key("services"), Seg::Key(key_text(&k))],
                            format!(
                                "service {} is defined both here and in the included {}",
                                key_text(&k),
                                display(self.working_dir, &paths[0])
                            ),
                        ));
                    }
                    // The included project's defaults are its own folder's.
                    if let Some(Value::Mapping(build)) = v.get_mut("build") {
                        build
                            .entry("context".into())
                            .or_insert_with(|| Value::String(default_context.clone()));
                    }
                    services.insert(k, v);
                }
            }
            if let Some(Value::Mapping(secrets)) = sub.remove("secrets") {
                let target = doc
                    .entry("secrets".into())
                    .or_insert_with(|| Value::Mapping(Mapping::new()));
                if let Value::Mapping(target) = target {
                    for (k, v) in secrets {
                        target.entry(k).or_insert(v);
                    }
                }
            }
        }
        Ok(())
    }

    /// Resolves `extends:` in every service of `doc`.
    fn extends(
        &mut self,
        doc: &mut Mapping,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), ComposeError> {
        let Some(Value::Mapping(services)) = doc.get("services") else {
            return Ok(());
        };
        let services = services.clone();
        let mut resolved = Mapping::new();
        for k in services.keys() {
            let name = key_text(k);
            let mut chain = Vec::new();
            let v = self.extended(&services, &name, source, base_dir, env, depth, &mut chain)?;
            resolved.insert(k.clone(), v);
        }
        doc.insert("services".into(), Value::Mapping(resolved));
        Ok(())
    }

    /// Service `name` of `services` (read from `sources[source]`), with its `extends` applied.
    #[allow(clippy::too_many_arguments)]
    fn extended(
        &mut self,
        services: &Mapping,
        name: &str,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
        chain: &mut Vec<String>,
    ) -> Result<Value, ComposeError> {
        let place = |this: &Self, path: &[Seg], message: String, hint: &str| {
            let (file, positions) = &this.sources[source];
            ComposeError::new(file.as_str(), message)
                .at(positions.nearest(path))
                .hint(hint)
        };
        let at = [Seg::key("services"), Seg::key(name), Seg::key("extends")];
        let Some(Value::Mapping(service)) = services.get(name) else {
            return Ok(services.get(name).cloned().unwrap_or(Value::Null));
        };
        let mut service = service.clone();
        let Some(extends) = service.remove("extends") else {
            return Ok(Value::Mapping(service));
        };
        let link = format!("{}:{name}", self.sources[source].0);
        if chain.contains(&link) || depth + chain.len() >= MAX_DEPTH {
            chain.push(link);
            return Err(place(
                self,
                &at,
                format!("circular extends: {}", chain.join(" -> ")),
                "",
            ));
        }
        chain.push(link);
        let get = |k: &str| match &extends {
            Value::Mapping(m) => m.get(k).and_then(normalize::scalar_text),
            _ => None,
        };
        let Some(target) = get("service") else {
            return Err(place(
                self,
                &at,
                format!("services.{name}.extends names no service"),
                "write `extends: {service: other}`",
            ));
        };
        let base = match get("file") {
            Some(file) => {
                let path = join_clean(base_dir, &file);
                let dir = path
                    .parent()
                    .map_or_else(|| base_dir.to_path_buf(), Path::to_path_buf);
                let (docs, other_source) = self.load_file(&path, &dir, env)?;
                let mut other = Mapping::new();
                for doc in docs {
                    merge_mapping(&mut other, doc, &mut Vec::new())
                        .map_err(|e| place(self, &at, e.message, ""))?;
                }
                let Some(Value::Mapping(other_services)) = other.get("services") else {
                    return Err(place(
                        self,
                        &at,
                        format!("{file} has no services, so no `{target}` to extend"),
                        "",
                    ));
                };
                if !other_services.contains_key(target.as_str()) {
                    return Err(place(
                        self,
                        &at,
                        format!("cannot extend service {target}: {file} does not define it"),
                        "",
                    ));
                }
                let other_services = other_services.clone();
                self.extended(
                    &other_services,
                    &target,
                    other_source,
                    &dir,
                    env,
                    depth,
                    chain,
                )?
            }
            None => {
                if !services.contains_key(target.as_str()) {
                    return Err(place(
                        self,
                        &at,
                        format!("cannot extend service {target}: it is not defined in this file"),
                        "",
                    ));
                }
                self.extended(services, &target, source, base_dir, env, depth, chain)?
            }
        };
        let mut merged = match base {
            Value::Mapping(m) => m,
            _ => Mapping::new(),
        };
        let mut path = vec!["services".to_string(), name.to_string()];
        merge_mapping(&mut merged, service, &mut path)
            .map_err(|e| place(self, &at, e.message, ""))?;
        Ok(Value::Mapping(merged))
    }
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
