//! The spec's Compose form: `compose:` names the Compose file(s) whose services with a
//! `build:` are the images, and the other keys add layercache's own settings to every one of
//! them (cache repository, strategy, registry login, extra tags, ...).
//!
//! ```yaml
//! compose: docker-compose.multi.yml        # or a list, or {files: [...], profiles: [...], project_name: x}
//! registry: registry.example.com/team      # services without `image:` become <registry>/<project>-<service>
//!                                          # (and <project>-<service> locally, for compose)
//! cache_repository: registry.example.com/team/cache   # caches of service S go to <this>/S
//! strategy: registry
//! ```
//!
//! The keys that say *what* to build (`image`, `dockerfile`, `context`, `target`,
//! `cache_stages`) belong to the Compose file and are refused here, so there is one place to
//! keep in step with the Dockerfile, not two. Nothing here reads the Compose file itself.

use super::raw::{yaml_error, RawImage, Scalar};
use super::{image_spans, parse_jobs, resolve, root_key, Ctx, ImageConfig, Overrides, Source};
use crate::error::{self, Error};
use crate::input::reference::Reference;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Keys of the image form that the Compose file gives instead.
const GIVEN_BY_COMPOSE: &[(&str, &str)] = &[
    ("image", "the service's `image:`"),
    ("dockerfile", "the service's `build.dockerfile`"),
    ("context", "the service's `build.context`"),
    ("target", "the service's `build.target`"),
    (
        "cache_stages",
        "the Dockerfile (every named stage the target needs is cached)",
    ),
];

/// The keys the Compose form takes, for messages.
pub const COMPOSE_FORM_KEYS: &[&str] = &[
    "compose",
    "registry",
    "tags",
    "build_args",
    "cache_repository",
    "pull",
    "push",
    "secrets",
    "registry_user",
    "registry_password_var",
    "strategy",
    "cache_dir",
    "cache_export",
    "jobs",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComposeSpec {
    compose: serde_yaml::Value,
    registry: Option<Scalar>,
    tags: Option<Vec<Scalar>>,
    build_args: Option<std::collections::BTreeMap<String, Scalar>>,
    cache_repository: Option<Scalar>,
    pull: Option<Scalar>,
    push: Option<Scalar>,
    secrets: Option<Vec<Scalar>>,
    registry_user: Option<Scalar>,
    registry_password_var: Option<Scalar>,
    strategy: Option<Scalar>,
    cache_dir: Option<Scalar>,
    cache_export: Option<Vec<Scalar>>,
    jobs: Option<Scalar>,
}

/// A spec in the Compose form, resolved: which Compose files, and what layercache adds.
#[derive(Debug, Clone)]
pub struct ComposeSpec {
    /// The spec's path, for messages.
    pub origin: String,
    /// The Compose files, relative to the spec's folder joined; empty: Compose's discovery
    /// from the spec's folder.
    pub files: Vec<PathBuf>,
    /// Where Compose runs: the spec's folder.
    pub working_dir: PathBuf,
    pub profiles: Vec<String>,
    pub project_name: Option<String>,
    /// `registry:`, else the CI's registry image (unless on Docker Hub): the repository
    /// prefix of services without `image:`.
    pub registry: Option<Reference>,
    /// `cache_repository:` (or `--cache-repository`): the prefix of each service's cache
    /// repository; `None`: each image's own repository.
    pub cache_repository: Option<Reference>,
    /// `tags:` and `--tag`, else the CI's default tags (commit, branch): published besides
    /// the tag of the service's `image:`.
    pub extra_tags: Vec<String>,
    /// `jobs:`, when the spec sets it: docker commands at once, for the whole project.
    pub jobs: Option<usize>,
    /// Every other setting, for every service; its `image`, `tags`, `cache_repository`,
    /// `dockerfile`, `context` and `target` are placeholders the conversion replaces.
    pub defaults: ImageConfig,
}

/// The settings when there is no spec, only Compose files: the flags alone.
pub fn compose_settings_from_flags(overrides: &Overrides) -> Result<ComposeSpec, Error> {
    parse_compose_spec(
        "compose: []\n",
        "command line",
        Path::new(""),
        &|_| None,
        overrides,
    )
}

/// Whether the spec text is in the Compose form (a top-level `compose:` key).
pub(super) fn is_compose_form(value: &serde_yaml::Value) -> bool {
    matches!(value, serde_yaml::Value::Mapping(m) if m.contains_key("compose"))
}

pub(super) fn parse_compose_spec(
    text: &str,
    file: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<ComposeSpec, Error> {
    let lines: Vec<&str> = text.lines().collect();
    for (key, instead) in GIVEN_BY_COMPOSE {
        if let Some((line, column)) = root_key(&lines, key) {
            return Err(error::at(
                file,
                line,
                column,
                &format!("`{key}:` cannot be used with `compose:`: the Compose file says it"),
                &format!("remove it and set {instead}"),
            ));
        }
    }
    if root_key(&lines, "images").is_some() {
        let (line, column) = root_key(&lines, "images").unwrap_or((1, 1));
        return Err(error::at(
            file,
            line,
            column,
            "a spec has either `compose:` or `images:`, not both",
            "list the images as services of the Compose file, or write two specs",
        ));
    }
    let raw: RawComposeSpec = serde_yaml::from_str(text).map_err(|e| {
        let e = yaml_error(text, file, &e);
        if e.to_string().contains("unknown field") {
            e.map_text(|t| {
                t.split("\n  hint:").next().unwrap_or(t).to_string()
                    + &format!(
                        "\n  hint: with `compose:`, the keys are {}",
                        COMPOSE_FORM_KEYS.join(", ")
                    )
            })
        } else {
            e
        }
    })?;
    let ctx = Ctx {
        text,
        file,
        lines: image_spans(&lines, 1).remove(0),
        env,
        secrets: raw.secrets.iter().flatten().map(|s| s.0.clone()).collect(),
    };
    let (files, profiles, project_name) = compose_value(&ctx, &raw.compose, base)?;
    let jobs = match &raw.jobs {
        Some(value) => Some(parse_jobs(text, file, env, value)?),
        None => None,
    };
    // As a spec's `image:`: the CI's registry image when the spec names none. Not on Docker
    // Hub (CircleCI's default), whose repositories are `namespace/name`, with nothing below.
    let registry = match (&raw.registry, &overrides.fallback_image) {
        (Some(r), _) => Some(ctx.repository(r, Source::Spec(&["registry"]))?),
        (None, Some(ci)) => {
            let r = ctx.repository(&Scalar(ci.clone()), Source::Flag("the CI's registry image"))?;
            (!matches!(r.registry(), "docker.io" | "index.docker.io")).then_some(r)
        }
        (None, None) => None,
    };
    let cache_repository = match (&overrides.cache_repository, &raw.cache_repository) {
        (Some(flag), _) => {
            Some(ctx.repository(&Scalar(flag.clone()), Source::Flag("--cache-repository"))?)
        }
        (None, Some(r)) => Some(ctx.repository(r, Source::Spec(&["cache_repository"]))?),
        (None, None) => None,
    };
    let mut extra_tags = Vec::new();
    for t in raw.tags.iter().flatten() {
        extra_tags.push(ctx.tag(t, Source::Spec(&["tags"]))?);
    }
    for t in &overrides.tags {
        extra_tags.push(ctx.tag(&Scalar(t.clone()), Source::Flag("--tag"))?);
    }
    // As for a spec's image: the CI's commit and branch when neither the spec nor a flag
    // names tags. They come besides each service's `image:` tag, which compose looks for.
    if raw.tags.is_none() && overrides.tags.is_empty() {
        for t in &overrides.fallback_tags {
            extra_tags.push(ctx.tag(&Scalar(t.clone()), Source::Flag("the CI's default tags"))?);
        }
    }
    // Keys added to the image form later stay unset here until the Compose form takes them.
    let image = RawImage {
        image: Some(Scalar("layercache-compose-placeholder".into())),
        build_args: raw.build_args,
        pull: raw.pull,
        push: raw.push,
        secrets: raw.secrets,
        registry_user: raw.registry_user,
        registry_password_var: raw.registry_password_var,
        strategy: raw.strategy,
        cache_dir: raw.cache_dir,
        cache_export: raw.cache_export,
        ..RawImage::default()
    };
    // The per-image flags are the conversion's to apply (or refuse); the others apply here.
    let settings = Overrides {
        image: None,
        dockerfile: None,
        context: None,
        tags: Vec::new(),
        target: None,
        cache_repository: None,
        fallback_image: None,
        fallback_tags: Vec::new(),
        ..overrides.clone()
    };
    let defaults = resolve(&ctx, image, base, &settings)?;
    Ok(ComposeSpec {
        origin: file.to_string(),
        files,
        working_dir: base.to_path_buf(),
        profiles,
        project_name,
        registry,
        cache_repository,
        extra_tags,
        jobs,
        defaults,
    })
}

/// Files, profiles and project name.
type ComposeValue = (Vec<PathBuf>, Vec<String>, Option<String>);

/// `compose: FILE`, `compose: [FILE, ...]` or `compose: {files, profiles, project_name}`.
fn compose_value(ctx: &Ctx, value: &serde_yaml::Value, base: &Path) -> Result<ComposeValue, Error> {
    use serde_yaml::Value;
    let from = Source::Spec(&["compose"]);
    let bad = |message: &str| {
        ctx.invalid_key(
            "compose",
            message,
            "write `compose: compose.yaml`, a list of files, or \
             `compose: {files: [...], profiles: [...], project_name: NAME}`",
        )
    };
    let scalar = |v: &Value| -> Result<String, Error> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(bad("expected a file name")),
        };
        ctx.value(&Scalar(text), from)
    };
    let list = |v: &Value| -> Result<Vec<String>, Error> {
        match v {
            Value::Sequence(items) => items.iter().map(scalar).collect(),
            other => Ok(vec![scalar(other)?]),
        }
    };
    let files = |v: &Value| -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        for f in list(v)? {
            if f.is_empty() {
                return Err(bad("a file name is empty"));
            }
            files.push(if base.as_os_str().is_empty() {
                PathBuf::from(f)
            } else {
                base.join(f)
            });
        }
        Ok(files)
    };
    match value {
        Value::Mapping(m) => {
            let mut found_files = Vec::new();
            let mut profiles = Vec::new();
            let mut project_name = None;
            for (k, v) in m {
                match k.as_str() {
                    Some("files") => found_files = files(v)?,
                    Some("profiles") => profiles = list(v)?,
                    Some("project_name") => project_name = Some(scalar(v)?),
                    _ => {
                        return Err(bad(&format!(
                            "`compose:` takes `files`, `profiles` and `project_name`, not `{}`",
                            k.as_str().unwrap_or("?")
                        )))
                    }
                }
            }
            Ok((found_files, profiles, project_name))
        }
        Value::Null => Err(bad("`compose:` names no file")),
        other => Ok((files(other)?, Vec::new(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ComposeSpec, Error> {
        parse_compose_spec(
            text,
            "layercache.yml",
            Path::new("ex"),
            &|_| None,
            &Overrides::default(),
        )
    }

    #[test]
    fn the_compose_form_takes_files_and_settings() {
        let s = parse(
            "compose: [a.yml, b.yml]\nregistry: reg.example/team\ncache_repository: reg.example/cache\n\
             tags: [v1]\nstrategy: inline\nregistry_user: u\nregistry_password_var: P\n",
        )
        .unwrap();
        assert_eq!(
            s.files,
            [PathBuf::from("ex/a.yml"), PathBuf::from("ex/b.yml")]
        );
        assert_eq!(s.registry.unwrap().to_string(), "reg.example/team");
        assert_eq!(s.cache_repository.unwrap().to_string(), "reg.example/cache");
        assert_eq!(s.extra_tags, ["v1"]);
        assert_eq!(
            s.defaults.registry_login,
            Some(("u".to_string(), "P".to_string()))
        );
        let s = parse("compose: {files: c.yml, profiles: [dev], project_name: shop}\n").unwrap();
        assert_eq!(s.files, [PathBuf::from("ex/c.yml")]);
        assert_eq!(s.profiles, ["dev"]);
        assert_eq!(s.project_name.as_deref(), Some("shop"));
    }

    #[test]
    fn what_the_compose_file_says_is_refused_here() {
        let e = parse("compose: c.yml\ndockerfile: D\n").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("layercache.yml:2:1: `dockerfile:` cannot be used with `compose:`"),
            "{e}"
        );
        let e = parse("compose: c.yml\nbuild_arg: {A: 1}\n").unwrap_err();
        assert!(
            e.to_string().contains("with `compose:`, the keys are"),
            "{e}"
        );
    }
}
