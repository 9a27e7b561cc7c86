//! The build spec (`layercache.yml`): its schema, defaults, `${VAR}` interpolation, command-line
//! overrides and validation. Every error names the file, the line and what to do.
//!
//! It knows nothing of docker commands; it hands the planner a list of [`ImageConfig`].

use crate::error::{self, Error};
use crate::input::reference::{self, Reference};
use crate::plan::StrategyChoice;
use crate::secrets;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod compose_key;
mod interpolate;
mod locate;
mod raw;

pub use compose_key::{compose_settings_from_flags, ComposeSpec, COMPOSE_FORM_KEYS};

use interpolate::*;
pub use interpolate::{interpolate, InterpolationError};
use locate::*;
pub use raw::nearest;
use raw::*;

/// When cache images are pulled before building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Only when the builder needs it (legacy builder): the legacy builder reads
    /// `--cache-from` from local images, BuildKit fetches cache manifests itself
    Auto,
    /// Always pull cache images first, tolerating misses
    Always,
    /// Never pull
    Never,
}

impl std::str::FromStr for PullPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(PullPolicy::Auto),
            "always" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            other => Err(format!(
                "`{other}` is not a pull policy; use auto, always or never"
            )),
        }
    }
}

/// One image to build, with every default filled in and every value validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The image repository, without tag.
    pub image: Reference,
    pub dockerfile: PathBuf,
    pub context: PathBuf,
    /// Tags to publish the shipped stage under.
    pub tags: Vec<String>,
    /// Passed identically to every stage build. `None`: passed by name, docker reads the
    /// value from the environment (how secrets and `--build-arg KEY` travel, never in argv).
    pub build_args: BTreeMap<String, Option<String>>,
    /// The stage to ship; `None` means the last stage.
    pub target: Option<String>,
    /// Where `target` was given, for the planner's messages: the spec's line or `--target`.
    pub target_place: Place,
    /// Stages to build and cache on their own; `None` means every named stage the target needs.
    pub cache_stages: Option<Vec<String>>,
    /// Where each of `cache_stages` is written, in the same order.
    pub cache_stage_places: Vec<Place>,
    /// Where cache images live: a tag per stage in this repository.
    pub cache_repository: Reference,
    pub pull: PullPolicy,
    pub push: bool,
    /// Names of environment variables whose values are secret, besides the built-in ones.
    pub secrets: Vec<String>,
    /// The cache strategy asked for (`auto`: the engine decides).
    pub strategy: StrategyChoice,
    /// The local cache folder (strategy `local`).
    pub cache_dir: PathBuf,
    /// Options added to the exported cache's `--cache-to`, e.g. (`compression`, `zstd`).
    pub cache_export: Vec<(String, String)>,
    /// The platforms to build for (`linux/amd64`), as docker spells them; empty: the engine's own.
    pub platforms: Vec<String>,
    /// Images of the same run this one is built after, besides those its Dockerfile names
    /// (`FROM`, `COPY --from=`): for Compose's `additional_contexts: {x: service:NAME}`. A spec
    /// leaves it empty.
    pub builds_on: Vec<Reference>,
    /// `registry_user` and `registry_password_var`: log in to the image's registry as this
    /// user, with the password in this environment variable (sent to docker on stdin).
    pub registry_login: Option<(String, String)>,
    /// Where this image was described, for messages: the spec path, or `command line`.
    pub origin: String,
    /// What a Compose `build:` adds to the build command (empty for a spec's image).
    pub extras: BuildExtras,
}

pub use crate::error::Place;

/// Build options a Compose service can ask for, beyond what a spec image has. Each becomes
/// the same flags in every build of the image (per-stage builds included), so the stages'
/// caches match; the planner refuses those the chosen builder cannot do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildExtras {
    /// Refs to read besides layercache's own cache refs (Compose `cache_from`), read last.
    pub cache_from: Vec<String>,
    /// Full references the shipped image is also tagged and pushed as (Compose `build.tags`).
    pub extra_refs: Vec<String>,
    /// Names the shipped image is also given in the local engine, never pushed: Compose's
    /// `<project>-<service>` for a service without `image:` that is published under the
    /// spec's `registry:`, which `docker compose up --no-build` looks for.
    pub local_tags: Vec<String>,
    /// `--label KEY=VALUE`.
    pub labels: BTreeMap<String, String>,
    /// `--secret id=ID,src=PATH` or `--secret id=ID,env=VAR` (BuildKit only).
    pub secrets: Vec<String>,
    /// `--ssh default` or `--ssh ID=PATH` (BuildKit only).
    pub ssh: Vec<String>,
    /// `--network`.
    pub network: Option<String>,
    /// `--add-host HOST:ADDRESS`, each.
    pub add_hosts: Vec<String>,
    /// `--shm-size`, in bytes.
    pub shm_size: Option<u64>,
    /// `--build-context NAME=VALUE` (BuildKit only).
    pub build_contexts: BTreeMap<String, String>,
    /// `--pull`: always look for a newer base image (Compose `pull: true`).
    pub pull_base: bool,
    /// Where a key that the legacy builder cannot do was written, to refuse it there.
    pub buildkit_only: Vec<(String, Place)>,
    /// Per-stage caches shared with an earlier image built from the same Dockerfile, context
    /// and args (Compose services that target different stages): a stage's cache is the same
    /// whichever target needs it. Not for an exported cache (one ref per build, `mode=max`
    /// of the target's stages), where the last build would overwrite the others'.
    pub shared_stage_cache: Option<Reference>,
}

impl ImageConfig {
    /// The repository of the per-stage cache refs.
    pub fn stage_cache_repository(&self) -> &Reference {
        self.extras
            .shared_stage_cache
            .as_ref()
            .unwrap_or(&self.cache_repository)
    }
}

impl BuildExtras {
    /// The flags, in a fixed order, for `docker build` and `docker buildx build` alike.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: String| args.extend([name.to_string(), value]);
        for (k, v) in &self.labels {
            flag("--label", format!("{k}={v}"));
        }
        for s in &self.secrets {
            flag("--secret", s.clone());
        }
        for s in &self.ssh {
            flag("--ssh", s.clone());
        }
        if let Some(n) = &self.network {
            flag("--network", n.clone());
        }
        for h in &self.add_hosts {
            flag("--add-host", h.clone());
        }
        if let Some(size) = self.shm_size {
            flag("--shm-size", size.to_string());
        }
        for (k, v) in &self.build_contexts {
            flag("--build-context", format!("{k}={v}"));
        }
        if self.pull_base {
            args.push("--pull".to_string());
        }
        args
    }
}

/// Values from the command line; each one set replaces the spec's value for every image.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub image: Option<String>,
    pub dockerfile: Option<PathBuf>,
    pub context: Option<PathBuf>,
    pub tags: Vec<String>,
    pub build_args: Vec<(String, Option<String>)>,
    pub target: Option<String>,
    pub cache_repository: Option<String>,
    pub pull: Option<PullPolicy>,
    pub push: Option<bool>,
    pub strategy: Option<StrategyChoice>,
    pub cache_dir: Option<PathBuf>,
    /// `--platform`: replaces every image's `platforms:` when not empty.
    pub platforms: Vec<String>,
    /// Used when neither the spec nor a flag names an image: the CI's registry image.
    pub fallback_image: Option<String>,
    /// Used when neither the spec nor a flag names tags: the CI's commit and branch or tag.
    pub fallback_tags: Vec<String>,
}

/// Where the spec's JSON Schema (schemas/layercache.schema.json, this version's) is published:
/// its `$id`, and what `layercache init` names in the `# yaml-language-server: $schema=` line.
pub const SCHEMA_URL: &str = concat!(
    "https://raw.githubusercontent.com/layercache/layercache/v",
    env!("CARGO_PKG_VERSION"),
    "/schemas/layercache.schema.json"
);

/// The spec keys, for error messages and suggestions. Keep in step with `RawImage` (and with
/// schemas/layercache.schema.json: tests/schema.rs checks both ways).
pub const KEYS: &[&str] = &[
    "image",
    "dockerfile",
    "context",
    "tags",
    "build_args",
    "target",
    "cache_stages",
    "cache_repository",
    "pull",
    "push",
    "secrets",
    "registry_user",
    "registry_password_var",
    "strategy",
    "cache_dir",
    "cache_export",
    "platforms",
    "jobs",
];

/// The keys of [`KEYS`] that hold for the whole spec, not for an image: beside `images:`, or
/// among the keys of a one-image spec, never inside an image of `images:`. `jobs`: how many
/// docker commands run at once.
pub const TOP_KEYS: &[&str] = &["jobs"];

/// A spec file: its images, and the spec-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub images: Vec<ImageConfig>,
    /// `jobs:`, when the spec sets it.
    pub jobs: Option<usize>,
}

/// The options `cache_export` may set, with the values each takes (BuildKit's cache exporter
/// attributes; `compression-level` any number).
pub const CACHE_EXPORT_OPTIONS: &[(&str, &[&str])] = &[
    ("image-manifest", &["true", "false"]),
    ("oci-mediatypes", &["true", "false"]),
    ("compression", &["gzip", "zstd", "estargz", "uncompressed"]),
    ("compression-level", &[]),
    ("force-compression", &["true", "false"]),
    ("ignore-error", &["true", "false"]),
];

/// Specs above this size are refused: a spec is a few lines, and this bounds memory.
const MAX_SPEC_BYTES: usize = 16 * 1024 * 1024;

/// What a spec file describes: images, or a Compose project with layercache's settings.
#[derive(Debug, Clone)]
pub enum SpecFile {
    Images(Spec),
    Compose(Box<ComposeSpec>),
}

/// Reads a spec file in either form (see [`SpecFile`]).
pub fn load_file(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<SpecFile, Error> {
    let text = read_text(path)?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_file_text(&text, &path.display().to_string(), base, env, overrides)
}

/// [`load_file`] of a spec's text: `file` names it in messages, `base` is its folder.
pub fn parse_file_text(
    text: &str,
    file: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<SpecFile, Error> {
    let compose = serde_yaml::from_str::<serde_yaml::Value>(text)
        .is_ok_and(|v| compose_key::is_compose_form(&v));
    if compose {
        return compose_key::parse_compose_spec(text, file, base, env, overrides)
            .map(|c| SpecFile::Compose(Box::new(c)));
    }
    parse_spec(text, file, base, env, overrides).map(SpecFile::Images)
}

/// Reads, interpolates and validates a spec file. `env` looks up environment variables.
pub fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Vec<ImageConfig>, Error> {
    load_spec(path, env, overrides).map(|s| s.images)
}

/// [`load`], with the spec-wide settings.
pub fn load_spec(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Spec, Error> {
    let text = read_text(path)?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_spec(&text, &path.display().to_string(), base, env, overrides)
}

/// A spec's text, refused when too large or not UTF-8.
fn read_text(path: &Path) -> Result<String, Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        error::at(
            &file,
            0,
            0,
            &format!("cannot read the spec: {e}"),
            "check the path given to -f/--file",
        )
    })?;
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(error::at(
            &file,
            0,
            0,
            "the spec is larger than 16 MiB",
            "split it into several files",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = line_of_offset(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        error::at(
            &file,
            line,
            0,
            "the spec is not valid UTF-8",
            "save the file as UTF-8",
        )
    })?;
    Ok(text)
}

/// Parses spec text; `base` is the folder that relative paths in it are taken from.
pub fn parse(
    text: &str,
    file: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Vec<ImageConfig>, Error> {
    parse_spec(text, file, base, env, overrides).map(|s| s.images)
}

/// [`parse`], with the spec-wide settings.
pub fn parse_spec(
    text: &str,
    file: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Spec, Error> {
    let raw = parse_raw(text, file)?;
    let lines: Vec<&str> = text.lines().collect();
    let spans = image_spans(&lines, raw.images.len());
    if raw.many {
        if let Some(k) = raw.images.iter().position(|i| i.jobs.is_some()) {
            let (line, column) =
                find_key(spans[k], &["jobs"]).map_or((0, 0), |k| (k.line, k.column));
            return Err(error::at(
                file,
                line,
                column,
                "`jobs:` is a key of the whole spec, not of one image",
                "move it beside `images:` (at the top, without indentation)",
            ));
        }
    }
    let jobs = match &raw.jobs {
        None => None,
        Some(value) => Some(parse_jobs(text, file, env, value)?),
    };
    let images = raw
        .images
        .into_iter()
        .zip(spans)
        .map(|(raw, lines)| {
            let secrets = raw.secrets.iter().flatten().map(|s| s.0.clone()).collect();
            resolve(
                &Ctx {
                    text,
                    file,
                    lines,
                    env,
                    secrets,
                },
                raw,
                base,
                overrides,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    if images.len() > 1 && overrides.image.is_some() {
        return Err(error::at(
            file,
            0,
            0,
            "--image cannot be used with a spec that lists several images",
            "edit the spec's `image:` keys instead, or pass a spec with one image",
        ));
    }
    Ok(Spec { images, jobs })
}

/// `jobs: N`, at least 1; `${VAR}` allowed.
fn parse_jobs(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
    raw: &Scalar,
) -> Result<usize, Error> {
    let lines: Vec<&str> = text.lines().collect();
    let (line, column) = root_key(&lines, "jobs").unwrap_or((0, 0));
    let value =
        interpolate(&raw.0, env).map_err(|e| error::at(file, line, column, &e.message, &e.hint))?;
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        _ => Err(error::at(
            file,
            line,
            column,
            &format!("`jobs: {value}` is not a number of docker commands from 1 to {MAX_JOBS}"),
            "write e.g. `jobs: 4`, or remove the key for the default (see the README, \"Concurrency\")",
        )),
    }
}

/// The most docker commands `jobs` may run at once.
pub const MAX_JOBS: usize = 64;

/// The configuration when there is no spec file: flags and defaults only.
pub fn from_overrides(overrides: &Overrides) -> Result<Vec<ImageConfig>, Error> {
    let Some(image) = overrides
        .image
        .as_ref()
        .or(overrides.fallback_image.as_ref())
    else {
        return Err(Error::input(
            "no image to build: there is no layercache.yml here and no --image was given",
        )
        .hint(
            "pass --image registry.example.com/team/app, or write a layercache.yml (see README)",
        ));
    };
    let raw = RawImage {
        image: Some(Scalar(image.clone())),
        dockerfile: None,
        context: None,
        tags: None,
        build_args: None,
        target: None,
        cache_stages: None,
        cache_repository: None,
        pull: None,
        push: None,
        secrets: None,
        registry_user: None,
        registry_password_var: None,
        strategy: None,
        cache_dir: None,
        cache_export: None,
        platforms: None,
        jobs: None,
    };
    let no_env = |_: &str| None;
    let ctx = Ctx {
        text: "",
        file: "command line",
        lines: Lines {
            first: 1,
            lines: &[],
        },
        env: &no_env,
        secrets: Vec::new(),
    };
    Ok(vec![resolve(&ctx, raw, Path::new(""), overrides)?])
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    /// The lines that describe the image being resolved, to place its values.
    lines: Lines<'a>,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The spec's `secrets:` of the image being resolved.
    secrets: Vec<String>,
}

/// Where a value to check was given.
#[derive(Clone, Copy)]
enum Source<'k> {
    /// In the spec, under this key (then the keys under it: `["build_args", "A"]`).
    Spec(&'k [&'k str]),
    /// On the command line, in this flag; it replaced the spec's value.
    Flag(&'static str),
}

impl Ctx<'_> {
    /// Interpolates one value, naming its place on error. Secrets are refused here: the one
    /// place they may go is a build arg of the same name (see `build_arg`).
    fn value(&self, raw: &Scalar, from: Source) -> Result<String, Error> {
        if let Some(secret) = references(&raw.0)
            .into_iter()
            .find(|n| secrets::is_secret(n, &self.secrets))
        {
            return Err(self.invalid(
                from,
                &format!("${{{secret}"),
                &format!("`{secret}` is a secret and would end up in docker's command line and logs"),
                &format!("pass it as a build arg of the same name: `build_args: {{{secret}: ${{{secret}}}}}`; docker then reads it from the environment"),
            ));
        }
        interpolate(&raw.0, self.env)
            .map_err(|e| self.invalid(from, &e.needle, &e.message, &e.hint))
    }

    /// A build arg's value; `None` for a secret passed by name (`NPM_TOKEN: ${NPM_TOKEN}`).
    fn build_arg(&self, name: &str, raw: &Scalar) -> Result<Option<String>, Error> {
        let from = Source::Spec(&["build_args", name]);
        let by_name = format!("${{{name}}}");
        if raw.0.trim() == by_name && secrets::is_secret(name, &self.secrets) {
            if (self.env)(name).is_none() {
                return Err(self.invalid(
                    from,
                    &by_name,
                    &format!("environment variable `{name}` is not set"),
                    &format!("set {name} in the job's environment (it is a secret: it is passed to docker by name)"),
                ));
            }
            return Ok(None);
        }
        self.value(raw, from).map(Some)
    }

    /// Where a value is: the flag it came from, or where `needle` (text of the value) is written
    /// under its key; the value's start when the needle is not found there, the file alone when
    /// the key is not found (a flow mapping such as `{image: app}`).
    fn place(&self, from: Source, needle: &str) -> Place {
        match from {
            Source::Flag(flag) => Place::whole(flag),
            Source::Spec(path) => {
                let (line, column) = find_key(self.lines, path)
                    .map(|key| find_in_value(self.lines, &key, needle))
                    .unwrap_or((0, 0));
                Place {
                    file: self.file.to_string(),
                    line,
                    column,
                }
            }
        }
    }

    /// An error about a value, placed where it was given (see `place`).
    fn invalid(&self, from: Source, needle: &str, message: &str, hint: &str) -> Error {
        let mut place = self.place(from, needle);
        if place.line == 0 && matches!(from, Source::Spec(_)) {
            // Not found under its key: the first place the text appears is a fair guess.
            (place.line, place.column) = locate(self.text, needle);
        }
        place.error(message, hint)
    }

    /// An error about a key itself (`tags: []`), placed at the key.
    fn invalid_key(&self, key: &str, message: &str, hint: &str) -> Error {
        let (line, column) = find_key(self.lines, &[key]).map_or((0, 0), |k| (k.line, k.column));
        error::at(self.file, line, column, message, hint)
    }

    fn path(
        &self,
        raw: &Option<Scalar>,
        key: &'static str,
        base: &Path,
        default: &str,
    ) -> Result<PathBuf, Error> {
        let from = Source::Spec(std::slice::from_ref(&key));
        let value = match raw {
            Some(raw) => self.value(raw, from)?,
            None => default.to_string(),
        };
        if value.is_empty() {
            return Err(self.invalid(
                from,
                raw.as_ref().map_or("", |r| &r.0),
                "a path is empty",
                "remove the key to use its default",
            ));
        }
        Ok(join(base, &value))
    }

    /// `compression=zstd`: an option BuildKit's cache exporter takes, with a value it accepts.
    fn cache_export_option(&self, raw: &Scalar) -> Result<(String, String), Error> {
        let from = Source::Spec(&["cache_export"]);
        let text = self.value(raw, from)?;
        let names: Vec<&str> = CACHE_EXPORT_OPTIONS.iter().map(|(k, _)| *k).collect();
        let hint = format!("write `KEY=VALUE`; the keys are {}", names.join(", "));
        let Some((key, value)) = text.split_once('=') else {
            return Err(self.invalid(from, &raw.0, &format!("`{text}` is not KEY=VALUE"), &hint));
        };
        let Some((_, values)) = CACHE_EXPORT_OPTIONS.iter().find(|(k, _)| *k == key) else {
            let hint = match nearest(key, &names) {
                Some(near) => format!("did you mean `{near}`? {hint}"),
                None => hint,
            };
            return Err(self.invalid(
                from,
                &raw.0,
                &format!("`{key}` is not a cache export option"),
                &hint,
            ));
        };
        let valid = if values.is_empty() {
            value.parse::<u32>().is_ok()
        } else {
            values.contains(&value)
        };
        if !valid {
            let expected = if values.is_empty() {
                "a number".to_string()
            } else {
                values.join(", ")
            };
            return Err(self.invalid(
                from,
                &raw.0,
                &format!("`{value}` is not a value of `{key}`"),
                &format!("use {expected}"),
            ));
        }
        Ok((key.to_string(), value.to_string()))
    }

    /// Platforms as docker spells them, `os/arch[/variant]`; comma-separated lists are split,
    /// repeats dropped.
    fn platforms(&self, raw: &[Scalar], from: Source) -> Result<Vec<String>, Error> {
        let mut platforms: Vec<String> = Vec::new();
        for item in raw {
            for p in self.value(item, from)?.split(',').map(str::trim) {
                let parts: Vec<&str> = p.split('/').collect();
                let word = |w: &str| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                };
                if !(2..=3).contains(&parts.len()) || !parts.iter().all(|w| word(w)) {
                    return Err(self.invalid(
                        from,
                        p,
                        &format!("`{p}` is not a platform"),
                        "write it as docker does, os/arch[/variant]: linux/amd64, linux/arm64, linux/arm/v7",
                    ));
                }
                if !platforms.iter().any(|q| q == p) {
                    platforms.push(p.to_string());
                }
            }
        }
        Ok(platforms)
    }

    fn repository(&self, raw: &Scalar, from: Source) -> Result<Reference, Error> {
        let value = self.value(raw, from)?;
        reference::parse_repository(&value)
            .map_err(|e| self.invalid(from, &raw.0, &e.headline(), &e.hint))
    }

    fn tag(&self, raw: &Scalar, from: Source) -> Result<String, Error> {
        let tag = self.value(raw, from)?;
        reference::validate_tag(&tag)
            .map_err(|e| self.invalid(from, &raw.0, &e.headline(), &e.hint))?;
        Ok(tag)
    }
}

/// `base/value` unless `value` is absolute or `base` is empty (paths stay as the user wrote them).
fn join(base: &Path, value: &str) -> PathBuf {
    if base.as_os_str().is_empty() {
        PathBuf::from(value)
    } else {
        base.join(value)
    }
}

fn resolve(ctx: &Ctx, raw: RawImage, base: &Path, ov: &Overrides) -> Result<ImageConfig, Error> {
    let image =
        match (&ov.image, &raw.image, &ov.fallback_image) {
            (Some(flag), _, _) => ctx.repository(&Scalar(flag.clone()), Source::Flag("--image"))?,
            (None, Some(raw), _) => ctx.repository(raw, Source::Spec(&["image"]))?,
            (None, None, Some(ci)) => {
                ctx.repository(&Scalar(ci.clone()), Source::Flag("the CI's registry image"))?
            }
            (None, None, None) => return Err(error::at(
                ctx.file,
                1,
                1,
                "no `image:`: the spec does not say which image to build",
                "add `image: registry.example.com/team/app` (under GitLab CI, GitHub Actions and \
                 CircleCI it defaults to the CI's own registry image)",
            )),
        };
    let cache_repository = match (&ov.cache_repository, &raw.cache_repository) {
        (Some(flag), _) => {
            ctx.repository(&Scalar(flag.clone()), Source::Flag("--cache-repository"))?
        }
        (None, Some(raw)) => ctx.repository(raw, Source::Spec(&["cache_repository"]))?,
        (None, None) => image.clone(),
    };
    let (tags, from) = if !ov.tags.is_empty() {
        let flags = ov.tags.iter().cloned().map(Scalar).collect();
        (flags, Source::Flag("--tag"))
    } else if let Some(tags) = raw.tags {
        (tags, Source::Spec(&["tags"]))
    } else if !ov.fallback_tags.is_empty() {
        let ci = ov.fallback_tags.iter().cloned().map(Scalar).collect();
        (ci, Source::Flag("the CI's default tags"))
    } else {
        (vec![Scalar("latest".into())], Source::Spec(&["tags"]))
    };
    let tags = tags
        .iter()
        .map(|t| ctx.tag(t, from))
        .collect::<Result<Vec<_>, _>>()?;
    if tags.is_empty() {
        return Err(ctx.invalid_key(
            "tags",
            "`tags:` is empty",
            "list at least one tag, or remove the key for `latest`",
        ));
    }
    let mut build_args = BTreeMap::new();
    for (name, value) in raw.build_args.unwrap_or_default() {
        let value = ctx.build_arg(&name, &value)?;
        build_args.insert(name, value);
    }
    for (name, value) in &ov.build_args {
        build_args.insert(name.clone(), value.clone());
    }
    let (target, target_place) = match (&ov.target, &raw.target) {
        (Some(flag), _) => {
            let from = Source::Flag("--target");
            (
                Some(ctx.value(&Scalar(flag.clone()), from)?),
                ctx.place(from, flag),
            )
        }
        (None, Some(raw)) => {
            let from = Source::Spec(&["target"]);
            (Some(ctx.value(raw, from)?), ctx.place(from, &raw.0))
        }
        (None, None) => (None, Place::whole(ctx.file)),
    };
    let (cache_stages, cache_stage_places) = match &raw.cache_stages {
        Some(list) => {
            let from = Source::Spec(&["cache_stages"]);
            let names = list
                .iter()
                .map(|s| ctx.value(s, from))
                .collect::<Result<Vec<_>, _>>()?;
            let places = list.iter().map(|s| ctx.place(from, &s.0)).collect();
            (Some(names), places)
        }
        None => (None, Vec::new()),
    };
    let pull = match (ov.pull, raw.pull) {
        (Some(p), _) => p,
        (None, Some(raw)) => {
            let from = Source::Spec(&["pull"]);
            ctx.value(&raw, from)?
                .parse()
                .map_err(|e: String| ctx.invalid(from, &raw.0, &e, ""))?
        }
        (None, None) => PullPolicy::Auto,
    };
    let push = match (ov.push, raw.push) {
        (Some(p), _) => p,
        (None, Some(raw)) => {
            let from = Source::Spec(&["push"]);
            parse_bool(&ctx.value(&raw, from)?)
                .ok_or_else(|| ctx.invalid(from, &raw.0, "`push` must be true or false", ""))?
        }
        (None, None) => true,
    };
    let strategy = match (ov.strategy, &raw.strategy) {
        (Some(s), _) => s,
        (None, Some(raw)) => {
            let from = Source::Spec(&["strategy"]);
            let value = ctx.value(raw, from)?;
            <StrategyChoice as clap::ValueEnum>::from_str(&value, false).map_err(|_| {
                ctx.invalid(
                    from,
                    &raw.0,
                    &format!("`{value}` is not a cache strategy"),
                    "use auto, registry, inline, legacy, local or gha",
                )
            })?
        }
        (None, None) => StrategyChoice::Auto,
    };
    let cache_dir = match &ov.cache_dir {
        Some(p) => p.clone(),
        None => ctx.path(&raw.cache_dir, "cache_dir", base, ".layercache-cache")?,
    };
    let mut cache_export = Vec::new();
    for option in raw.cache_export.iter().flatten() {
        cache_export.push(ctx.cache_export_option(option)?);
    }
    let platforms = if !ov.platforms.is_empty() {
        let flags: Vec<Scalar> = ov.platforms.iter().cloned().map(Scalar).collect();
        ctx.platforms(&flags, Source::Flag("--platform"))?
    } else {
        match &raw.platforms {
            Some(list) => ctx.platforms(&list.0, Source::Spec(&["platforms"]))?,
            None => Vec::new(),
        }
    };
    let dockerfile = match &ov.dockerfile {
        Some(p) => p.clone(),
        None => ctx.path(&raw.dockerfile, "dockerfile", base, "Dockerfile")?,
    };
    let context = match &ov.context {
        Some(p) => p.clone(),
        None => ctx.path(&raw.context, "context", base, ".")?,
    };
    let registry_login = match (&raw.registry_user, &raw.registry_password_var) {
        (None, None) => None,
        (Some(user), Some(var)) => {
            let user = ctx.value(user, Source::Spec(&["registry_user"]))?;
            let var_name = ctx.value(var, Source::Spec(&["registry_password_var"]))?;
            let valid = var_name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var_name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ctx.invalid_key(
                    "registry_password_var",
                    &format!("`{var_name}` is not an environment variable name"),
                    "name the variable that holds the password, e.g. `registry_password_var: REGISTRY_PASSWORD`",
                ));
            }
            Some((user, var_name))
        }
        (Some(_), None) | (None, Some(_)) => {
            let key = if raw.registry_user.is_some() {
                "registry_user"
            } else {
                "registry_password_var"
            };
            return Err(ctx.invalid_key(
                key,
                "`registry_user` and `registry_password_var` go together",
                "name both the user and the environment variable that holds the password",
            ));
        }
    };
    Ok(ImageConfig {
        image,
        dockerfile,
        context,
        tags,
        build_args,
        target,
        target_place,
        cache_stages,
        cache_stage_places,
        cache_repository,
        pull,
        push,
        secrets: ctx.secrets.clone(),
        strategy,
        cache_dir,
        cache_export,
        platforms,
        builds_on: Vec::new(),
        registry_login,
        origin: ctx.file.to_string(),
        extras: BuildExtras::default(),
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn parse_with(
        text: &str,
        vars: &'static [(&'static str, &'static str)],
    ) -> Result<Vec<ImageConfig>, Error> {
        parse(
            text,
            "layercache.yml",
            Path::new(""),
            &env(vars),
            &Overrides::default(),
        )
    }

    fn one(text: &str) -> ImageConfig {
        parse_with(text, &[]).unwrap().remove(0)
    }

    fn err(text: &str) -> String {
        parse_with(text, &[]).unwrap_err().to_string()
    }

    #[test]
    fn seed_case_takes_every_default() {
        let c = one("image: registry.example.com/team/app\n");
        assert_eq!(c.image.to_string(), "registry.example.com/team/app");
        assert_eq!(c.dockerfile, PathBuf::from("Dockerfile"));
        assert_eq!(c.context, PathBuf::from("."));
        assert_eq!(c.tags, vec!["latest"]);
        assert!(c.build_args.is_empty());
        assert_eq!(c.target, None);
        assert_eq!(c.cache_stages, None);
        assert_eq!(c.cache_repository, c.image);
        assert_eq!(c.pull, PullPolicy::Auto);
        assert!(c.push);
    }

    #[test]
    fn every_key_is_read() {
        let c = one(
            "image: localhost:5000/app\ndockerfile: Dockerfile.multi\ncontext: src\ntags: [v1, '2.0']\n\
             build_args: {PY: '3.10', N: 3, DEBUG: true}\ntarget: final\ncache_stages: [base]\n\
             cache_repository: localhost:5000/cache\npull: always\npush: false\n",
        );
        assert_eq!(c.dockerfile, PathBuf::from("Dockerfile.multi"));
        assert_eq!(c.context, PathBuf::from("src"));
        assert_eq!(c.tags, vec!["v1", "2.0"]);
        assert_eq!(c.build_args["PY"].as_deref(), Some("3.10"));
        assert_eq!(c.build_args["N"].as_deref(), Some("3"));
        assert_eq!(c.build_args["DEBUG"].as_deref(), Some("true"));
        assert_eq!(c.target.as_deref(), Some("final"));
        assert_eq!(c.cache_stages, Some(vec!["base".to_string()]));
        assert_eq!(c.cache_repository.to_string(), "localhost:5000/cache");
        assert_eq!(c.pull, PullPolicy::Always);
        assert!(!c.push);
    }

    #[test]
    fn paths_are_relative_to_the_spec_folder() {
        let c = parse(
            "image: app\n",
            "ex/layercache.yml",
            Path::new("ex"),
            &env(&[]),
            &Overrides::default(),
        )
        .unwrap()
        .remove(0);
        assert_eq!(c.dockerfile, PathBuf::from("ex/Dockerfile"));
        assert_eq!(c.context, PathBuf::from("ex/."));
    }

    #[test]
    fn several_images_keep_file_order() {
        let list = parse_with(
            "images:\n  - image: b/one\n  - image: a/two\n    tags: [x]\n",
            &[],
        )
        .unwrap();
        let names: Vec<_> = list.iter().map(|c| c.image.to_string()).collect();
        assert_eq!(names, ["b/one", "a/two"]);
        assert_eq!(list[1].tags, ["x"]);
    }

    #[test]
    fn variables_are_interpolated_with_defaults() {
        let list = parse_with(
            "image: ${REG}/app\ntags: ['${SHA}', '${BRANCH:-main}', '${EMPTY:-dflt}', '${UNSET-kept}', '${EMPTY-}x']\n",
            &[("REG", "localhost:5000"), ("SHA", "abc123"), ("EMPTY", "")],
        )
        .unwrap();
        assert_eq!(list[0].image.to_string(), "localhost:5000/app");
        assert_eq!(list[0].tags, ["abc123", "main", "dflt", "kept", "x"]);
    }

    #[test]
    fn unset_variable_is_named_with_its_place() {
        let e = err("image: app\ntags:\n  - ${CI_COMMIT_SHA}\n");
        assert!(
            e.starts_with("layercache.yml:3:5: environment variable `CI_COMMIT_SHA` is not set"),
            "{e}"
        );
        assert!(e.contains("${CI_COMMIT_SHA:-value}"), "{e}");
    }

    /// A default may be a reference itself, as in sh and Compose: `${A:-${B}}` is A, else B, and
    /// B is required only when A is unset (before the shared engine, the `}` of `${B}` closed the
    /// outer reference and the value was the text `${B}`).
    #[test]
    fn nested_defaults_expand_when_used() {
        let vars: &'static [(&'static str, &'static str)] =
            &[("REGISTRY", "registry.example.com"), ("EMPTY", "")];
        let list = parse_with(
            "image: ${CI_REGISTRY_IMAGE:-${REGISTRY}/app}\n\
             tags: ['${CI_COMMIT_TAG:-${CI_COMMIT_SHORT_SHA:-dev}}', '${EMPTY:-${UNSET-x}}y']\n",
            vars,
        )
        .unwrap();
        assert_eq!(list[0].image.to_string(), "registry.example.com/app");
        assert_eq!(list[0].tags, ["dev", "xy"]);
        // The inner variable is required only when the default is used; the error is placed at
        // the reference it is in.
        let vars: &'static [(&'static str, &'static str)] = &[("TAG", "v1")];
        let text = "image: app\ntags:\n  - ${TAG:-${NOPE}}\n  - ${UNSET:-${NOPE}}\n";
        let e = parse_with(text, &[]).unwrap_err().to_string();
        assert!(
            e.starts_with("layercache.yml:3:5: environment variable `NOPE` is not set"),
            "{e}"
        );
        let e = parse_with(text, vars).unwrap_err().to_string();
        assert!(
            e.starts_with("layercache.yml:4:5: environment variable `NOPE` is not set"),
            "{e}"
        );
    }

    #[test]
    fn shell_text_stays_literal() {
        let out = interpolate("$(touch x) `id` $HOME $$ ${A}", &env(&[("A", "a")])).unwrap();
        assert_eq!(out, "$(touch x) `id` $HOME $ a");
    }

    #[test]
    fn unclosed_or_invalid_references_are_errors() {
        assert!(interpolate("${A", &env(&[])).is_err());
        assert!(interpolate("${1A}", &env(&[])).is_err());
        assert!(interpolate("${}", &env(&[])).is_err());
        let e = interpolate("x-${A:-${B:-b}", &env(&[])).unwrap_err();
        assert_eq!(e.needle, "${A:-${B:-b}");
        assert!(e.message.contains("not closed"), "{}", e.message);
        let e = interpolate("x-${TAG:+y}-z", &env(&[])).unwrap_err();
        assert_eq!(e.needle, "${TAG:+y}");
        assert!(e.message.contains("not a valid variable reference"));
    }

    #[test]
    fn unknown_key_suggests_the_nearest() {
        let e = err("image: app\ntgas: [v1]\n");
        assert!(
            e.starts_with("layercache.yml:2:1: unknown field `tgas`"),
            "{e}"
        );
        assert!(e.contains("did you mean `tags`?"), "{e}");
    }

    #[test]
    fn empty_malformed_and_wrong_types_are_errors_with_places() {
        assert!(err("").contains("the spec is empty"));
        assert!(err("# only a comment\n").contains("the spec is empty"));
        let e = err("image: app\ntags: [v1\n");
        assert!(e.starts_with("layercache.yml:"), "{e}");
        let e = err("image: app\ntags: {a: b}\n");
        assert!(e.starts_with("layercache.yml:2:"), "{e}");
        let e = err("image: app\npush: maybe\n");
        assert!(e.contains("`push` must be true or false"), "{e}");
        let e = err("image: app\npull: sometimes\n");
        assert!(e.contains("not a pull policy"), "{e}");
        assert!(err("- a\n- b\n").contains("must be a mapping"));
        assert!(err("images: []\n").contains("`images:` is empty"));
        assert!(err("dockerfile: D\n").contains("no `image:`"));
    }

    #[test]
    fn secrets_travel_by_name_and_nowhere_else() {
        let vars: &'static [(&'static str, &'static str)] =
            &[("NPM_TOKEN", "npm_secret"), ("CI_JOB_TOKEN", "job_secret")];
        let c = parse_with("image: app\nsecrets: [NPM_TOKEN]\nbuild_args:\n  NPM_TOKEN: ${NPM_TOKEN}\n  CI_JOB_TOKEN: '${CI_JOB_TOKEN}'\n", vars)
            .unwrap()
            .remove(0);
        assert_eq!(c.build_args["NPM_TOKEN"], None);
        assert_eq!(c.build_args["CI_JOB_TOKEN"], None);
        assert_eq!(c.secrets, ["NPM_TOKEN"]);
        for text in [
            "image: app\nsecrets: [NPM_TOKEN]\nbuild_args:\n  TOKEN: ${NPM_TOKEN}\n",
            "image: app\nbuild_args:\n  X: pre-${CI_JOB_TOKEN}\n",
            "image: app\ntags: ['${CI_JOB_TOKEN}']\n",
        ] {
            let e = parse_with(text, vars).unwrap_err().to_string();
            assert!(e.contains("is a secret"), "{e}");
            assert!(
                !e.contains("npm_secret") && !e.contains("job_secret"),
                "{e}"
            );
        }
        assert_eq!(references("a ${A} $${B} ${C:-x}"), ["A", "C"]);
        // `$$` then a reference; a reference inside a default, used or not.
        let mut names = references("$$${A} ${B:-${C}}");
        names.sort();
        assert_eq!(names, ["A", "B", "C"]);
        for (text, secret) in [
            (
                "secrets: [NPM_TOKEN]\nbuild_args:\n  X: $$${NPM_TOKEN}\n",
                "NPM_TOKEN",
            ),
            (
                "build_args:\n  Y: ${UNSET:-${CI_JOB_TOKEN}}\n",
                "CI_JOB_TOKEN",
            ),
        ] {
            let e = parse_with(&format!("image: app\n{text}"), vars)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("`{secret}` is a secret")), "{e}");
        }
    }

    #[test]
    fn fractions_must_be_quoted() {
        let e = err("image: app\nbuild_args:\n  PY: 3.10\n");
        assert!(e.starts_with("layercache.yml:3:"), "{e}");
        assert!(e.contains("put it in quotes"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = err("image: a\nimage: b\n");
        assert!(e.contains("duplicate"), "{e}");
        let e = err("image: a\nbuild_args:\n  A: 1\n  A: 2\n");
        assert!(e.contains("duplicate"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_placed_at_the_repeat() {
        let e = err("image: a\n# a comment\n\nimage: b\n");
        assert!(e.starts_with("layercache.yml:4:1: duplicate"), "{e}");
        let e = err("images:\n  - image: a\n    build_args:\n      A: 1\n      B: 2\n      A: 3\n");
        assert!(
            e.starts_with("layercache.yml:6:7: images[0].build_args: duplicate"),
            "{e}"
        );
        assert!(e.contains("may appear once"), "{e}");
        // In a flow mapping the repeat is not searched for: the mapping's start will do.
        let e = err("image: app\nbuild_args: {A: 1, A: 2}\n");
        assert!(e.starts_with("layercache.yml:2:13:"), "{e}");
    }

    #[test]
    fn a_list_or_mapping_for_a_single_value_names_the_key() {
        let e = err("image: app\npush: [true]\n");
        assert!(
            e.starts_with("layercache.yml:2:7: push: expected a single value"),
            "{e}"
        );
        let e = err("images:\n  - image: a\n    target:\n      x: 1\n");
        assert!(
            e.starts_with("layercache.yml:4:7: images[0].target:"),
            "{e}"
        );
        let e = err("image:\n");
        assert!(
            e.starts_with("layercache.yml:1:7: image: a value is missing"),
            "{e}"
        );
    }

    #[test]
    fn keys_beside_images_are_explained() {
        let e = err("image: app\nimages:\n  - image: b\n");
        assert!(
            e.starts_with("layercache.yml:1:1: a spec has either `image:`"),
            "{e}"
        );
        assert!(!e.contains("did you mean"), "{e}");
        let e = err("images:\n  - image: b\ntags: [v1]\n");
        assert!(
            e.starts_with("layercache.yml:3:1: `tags:` is beside `images:`"),
            "{e}"
        );
        let e = err("images:\n  - image: b\ntgas: [v1]\n");
        assert!(e.contains("go inside each image"), "{e}");
        let e = err("images:\n  - image: a\n    dockerfle: D\n");
        assert!(e.starts_with("layercache.yml:3:5:"), "{e}");
        assert!(e.contains("did you mean `dockerfile`?"), "{e}");
    }

    #[test]
    fn empty_values_are_placed() {
        assert!(err("image: \"\"\n").starts_with("layercache.yml:1:8:"));
        assert!(err("image: app\ndockerfile: ''\n").starts_with("layercache.yml:2:13:"));
        let e = err("image: app\ntags: []\n");
        assert!(e.starts_with("layercache.yml:2:1: `tags:` is empty"), "{e}");
    }

    #[test]
    fn values_are_placed_within_their_own_image() {
        let text = "images:\n  - image: a\n    target: t\n  # between\n  - image: b\n    cache_stages:\n      - t\n    target: t\n";
        let list = parse_with(text, &[]).unwrap();
        let at = |line, column| Place {
            file: "layercache.yml".into(),
            line,
            column,
        };
        assert_eq!(list[0].target_place, at(3, 13));
        assert_eq!(list[1].target_place, at(8, 13));
        assert_eq!(list[1].cache_stage_places, [at(7, 9)]);
        // The value is looked for after its key, not wherever the text first appears.
        let c = one("image: nope\ntarget: nope\n");
        assert_eq!(c.target_place, at(2, 9));
        let e = err("images:\n  - image: a\n  - image: ${X}/b\n");
        assert!(e.starts_with("layercache.yml:3:12:"), "{e}");
        // A list written in flow style: the file is named, without a line.
        let list = parse_with("images: [{image: a}, {image: b, target: t}]\n", &[]).unwrap();
        assert_eq!(list[1].target_place, Place::whole("layercache.yml"));
    }

    #[test]
    fn command_line_values_name_their_flag() {
        let parse_ov = |ov: Overrides| {
            parse(
                "image: app\ntags: [v1]\n",
                "layercache.yml",
                Path::new(""),
                &env(&[]),
                &ov,
            )
        };
        let e = parse_ov(Overrides {
            tags: vec!["bad tag".into()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--tag: "), "{e}");
        let e = parse_ov(Overrides {
            image: Some("Bad/App".into()),
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--image: "), "{e}");
        let e = parse_ov(Overrides {
            cache_repository: Some("x//y".into()),
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--cache-repository: "), "{e}");
        let c = parse_ov(Overrides {
            target: Some("final".into()),
            ..Overrides::default()
        })
        .unwrap()
        .remove(0);
        assert_eq!(c.target_place, Place::whole("--target"));
    }

    #[test]
    fn key_scans_survive_odd_text() {
        for (line, column) in [(0, 0), (1, 0), (1, 99), (99, 1), (usize::MAX, usize::MAX)] {
            assert_eq!(
                repeated_key("é: 1\né: 2\n", line, column, "é").is_some(),
                (line, column) == (1, 1)
            );
        }
        assert_eq!(repeated_key("é: 1\né: 2\n", 1, 1, "é"), Some((2, 1)));
        assert_eq!(
            root_key(&["", "# c", "---", "  a: 1", "  b: 2"], "b"),
            Some((5, 3))
        );
        assert_eq!(after_key("'A' : 1", "A"), Some(" 1"));
        assert_eq!(after_key("AB: 1", "A"), None);
        assert_eq!(after_key("A:1", "A"), None);
        assert_eq!(content("  - - x: 1"), (2, true, "x: 1"));
        assert_eq!(content("-x"), (0, false, "-x"));
    }

    #[test]
    fn invalid_references_and_tags_are_errors() {
        let e = err("image: Team/App\n");
        assert!(e.starts_with("layercache.yml:1:8:"), "{e}");
        let long = "a".repeat(129);
        let e = err(&format!("image: app\ntags: [{long}]\n"));
        assert!(e.starts_with("layercache.yml:2:8:"), "{e}");
        assert!(err("image: app:v1\n").contains("layercache.yml:1"));
        assert!(err("image: app\ntags: ['-x']\n").contains("layercache.yml:2"));
    }

    #[test]
    fn overrides_replace_spec_values() {
        let ov = Overrides {
            tags: vec!["v9".into()],
            build_args: vec![("A".into(), Some("cli".into()))],
            target: Some("base".into()),
            push: Some(false),
            pull: Some(PullPolicy::Never),
            dockerfile: Some(PathBuf::from("other/Dockerfile")),
            ..Overrides::default()
        };
        let c = parse(
            "image: app\ntags: [v1]\nbuild_args: {A: spec, B: b}\n",
            "s.yml",
            Path::new(""),
            &env(&[]),
            &ov,
        )
        .unwrap()
        .remove(0);
        assert_eq!(c.tags, ["v9"]);
        assert_eq!(c.build_args["A"].as_deref(), Some("cli"));
        assert_eq!(c.build_args["B"].as_deref(), Some("b"));
        assert_eq!(c.target.as_deref(), Some("base"));
        assert!(!c.push);
        assert_eq!(c.pull, PullPolicy::Never);
        assert_eq!(c.dockerfile, PathBuf::from("other/Dockerfile"));
    }

    #[test]
    fn without_a_spec_the_image_flag_is_needed() {
        assert!(from_overrides(&Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("--image"));
        let ov = Overrides {
            image: Some("localhost:5000/app".into()),
            ..Overrides::default()
        };
        let c = from_overrides(&ov).unwrap().remove(0);
        assert_eq!(c.dockerfile, PathBuf::from("Dockerfile"));
        assert_eq!(c.tags, ["latest"]);
    }

    #[test]
    fn nearest_only_suggests_close_words() {
        assert_eq!(nearest("dockerfil", KEYS), Some("dockerfile"));
        assert_eq!(nearest("build-args", KEYS), Some("build_args"));
        assert_eq!(nearest("zzzzzz", KEYS), None);
    }
}
