//! The build spec (`layercache.yml`): its schema, defaults, `${VAR}` interpolation, command-line
//! overrides and validation. Every error names the file, the line and what to do.
//!
//! It knows nothing of docker commands; it hands the planner a list of [`ImageConfig`].

use crate::error::{self, Error};
use crate::reference::{self, Reference};
use crate::secrets;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// When cache images are pulled before building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Only where the builder needs it: the legacy builder reads `--cache-from` from local
    /// images, BuildKit fetches cache manifests itself.
    Auto,
    Always,
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
    /// Stages to build and cache on their own; `None` means every named stage the target needs.
    pub cache_stages: Option<Vec<String>>,
    /// Where cache images live: a tag per stage in this repository.
    pub cache_repository: Reference,
    pub pull: PullPolicy,
    pub push: bool,
    /// Names of environment variables whose values are secret, besides the built-in ones.
    pub secrets: Vec<String>,
    /// Where this image was described, for messages: the spec path, or `command line`.
    pub origin: String,
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
}

/// The spec keys, for error messages and suggestions. Keep in step with `RawImage`.
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
];

/// Specs above this size are refused: a spec is a few lines, and this bounds memory.
const MAX_SPEC_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    image: Scalar,
    dockerfile: Option<Scalar>,
    context: Option<Scalar>,
    tags: Option<Vec<Scalar>>,
    build_args: Option<BTreeMap<String, Scalar>>,
    target: Option<Scalar>,
    cache_stages: Option<Vec<Scalar>>,
    cache_repository: Option<Scalar>,
    pull: Option<Scalar>,
    push: Option<Scalar>,
    secrets: Option<Vec<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    images: Vec<RawImage>,
}

/// A YAML scalar taken as text, so `VERSION: 1.10` or `push: ${PUSH:-true}` both work.
#[derive(Debug, Clone)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => Ok(Scalar(s)),
            // YAML reads `3.10` as the number 3.1: refuse fractions rather than change a version.
            serde_yaml::Value::Number(n) if n.is_f64() => Err(D::Error::custom(format!(
                "`{n}` is read by YAML as a number, which can change it (3.10 becomes 3.1); put it in quotes"
            ))),
            serde_yaml::Value::Number(n) => Ok(Scalar(n.to_string())),
            serde_yaml::Value::Bool(b) => Ok(Scalar(b.to_string())),
            serde_yaml::Value::Null => Err(D::Error::custom("a value is missing (empty)")),
            _ => Err(D::Error::custom(
                "expected a single value (text, number or boolean), found a list or mapping",
            )),
        }
    }
}

/// Reads, interpolates and validates a spec file. `env` looks up environment variables.
pub fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Vec<ImageConfig>, Error> {
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
    let base = path.parent().unwrap_or(Path::new(""));
    parse(&text, &file, base, env, overrides)
}

/// Parses spec text; `base` is the folder that relative paths in it are taken from.
pub fn parse(
    text: &str,
    file: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Vec<ImageConfig>, Error> {
    let raws = parse_raw(text, file)?;
    let images = raws
        .into_iter()
        .map(|raw| {
            let secrets = raw.secrets.iter().flatten().map(|s| s.0.clone()).collect();
            resolve(
                &Ctx {
                    text,
                    file,
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
    Ok(images)
}

/// The configuration when there is no spec file: flags and defaults only.
pub fn from_overrides(overrides: &Overrides) -> Result<Vec<ImageConfig>, Error> {
    let Some(image) = &overrides.image else {
        return Err(Error::Input(
            "no image to build: there is no layercache.yml here and no --image was given\n  \
             hint: pass --image registry.example.com/team/app, or write a layercache.yml (see README)"
                .into(),
        ));
    };
    let raw = RawImage {
        image: Scalar(image.clone()),
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
    };
    let no_env = |_: &str| None;
    let ctx = Ctx {
        text: "",
        file: "command line",
        env: &no_env,
        secrets: Vec::new(),
    };
    Ok(vec![resolve(&ctx, raw, Path::new(""), overrides)?])
}

fn parse_raw(text: &str, file: &str) -> Result<Vec<RawImage>, Error> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?;
    let many = match &value {
        serde_yaml::Value::Null => {
            return Err(error::at(
                file,
                1,
                1,
                "the spec is empty",
                "write at least `image: registry.example.com/team/app`",
            ))
        }
        serde_yaml::Value::Mapping(m) => m.contains_key("images"),
        _ => {
            return Err(error::at(
                file,
                1,
                1,
                "the spec must be a mapping of keys, such as `image: ...`",
                "see the spec reference in the README",
            ))
        }
    };
    if many {
        let spec: RawSpec = serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?;
        if spec.images.is_empty() {
            return Err(error::at(
                file,
                1,
                1,
                "`images:` is empty",
                "list at least one image",
            ));
        }
        Ok(spec.images)
    } else {
        Ok(vec![
            serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?
        ])
    }
}

/// Turns a YAML error into `file:line:col: message` with a suggestion for misspelt keys.
fn yaml_error(file: &str, e: &serde_yaml::Error) -> Error {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let message = e.to_string();
    // serde_yaml appends " at line L column C"; we print the place first instead.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let hint = if let Some(unknown) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        match nearest(unknown, KEYS) {
            Some(key) => format!("did you mean `{key}`? valid keys: {}", KEYS.join(", ")),
            None => format!("valid keys: {}", KEYS.join(", ")),
        }
    } else if message.starts_with("duplicate") {
        "each key may appear once per image; remove one of them".to_string()
    } else {
        "see the spec reference in the README".to_string()
    };
    error::at(file, line, column, &message, &hint)
}

/// The closest candidate by edit distance, when it is close enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { prev } else { prev + 1 };
            prev = row[j + 1];
            row[j + 1] = cost.min(row[j] + 1).min(prev + 1);
        }
    }
    row[b.len()]
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The spec's `secrets:` of the image being resolved.
    secrets: Vec<String>,
}

impl Ctx<'_> {
    /// Interpolates one value, naming its place in the file on error. Secrets are refused
    /// here: the one place they may go is a build arg of the same name (see `build_arg`).
    fn value(&self, raw: &Scalar) -> Result<String, Error> {
        if let Some(secret) = references(&raw.0)
            .into_iter()
            .find(|n| secrets::is_secret(n, &self.secrets))
        {
            return Err(self.invalid(
                &format!("${{{secret}"),
                &format!("`{secret}` is a secret and would end up in docker's command line and logs"),
                &format!("pass it as a build arg of the same name: `build_args: {{{secret}: ${{{secret}}}}}`; docker then reads it from the environment"),
            ));
        }
        interpolate(&raw.0, self.env).map_err(|e| {
            let (line, col) = locate(self.text, &e.needle);
            error::at(self.file, line, col, &e.message, &e.hint)
        })
    }

    /// A build arg's value; `None` for a secret passed by name (`NPM_TOKEN: ${NPM_TOKEN}`).
    fn build_arg(&self, name: &str, raw: &Scalar) -> Result<Option<String>, Error> {
        let by_name = format!("${{{name}}}");
        if raw.0.trim() == by_name && secrets::is_secret(name, &self.secrets) {
            if (self.env)(name).is_none() {
                return Err(self.invalid(
                    &by_name,
                    &format!("environment variable `{name}` is not set"),
                    &format!("set {name} in the job's environment (it is a secret: it is passed to docker by name)"),
                ));
            }
            return Ok(None);
        }
        self.value(raw).map(Some)
    }

    /// An error about a value: placed where the value is written in the file.
    fn invalid(&self, raw: &str, message: &str, hint: &str) -> Error {
        let (line, col) = locate(self.text, raw);
        error::at(self.file, line, col, message, hint)
    }

    fn path(&self, raw: &Option<Scalar>, base: &Path, default: &str) -> Result<PathBuf, Error> {
        let value = match raw {
            Some(raw) => self.value(raw)?,
            None => default.to_string(),
        };
        if value.is_empty() {
            return Err(self.invalid(
                &value,
                "a path is empty",
                "remove the key to use its default",
            ));
        }
        Ok(join(base, &value))
    }

    fn repository(&self, raw: &Scalar, value: &str) -> Result<Reference, Error> {
        reference::parse_repository(value).map_err(|e| self.invalid(&raw.0, &e.to_string(), ""))
    }

    fn tag(&self, raw: &Scalar) -> Result<String, Error> {
        let tag = self.value(raw)?;
        reference::validate_tag(&tag).map_err(|e| self.invalid(&raw.0, &e.to_string(), ""))?;
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
    let image_scalar = ov.image.clone().map(Scalar).unwrap_or(raw.image);
    let image_text = ctx.value(&image_scalar)?;
    let image = ctx.repository(&image_scalar, &image_text)?;
    let cache_repository = match ov
        .cache_repository
        .clone()
        .map(Scalar)
        .or(raw.cache_repository)
    {
        Some(raw) => {
            let text = ctx.value(&raw)?;
            ctx.repository(&raw, &text)?
        }
        None => image.clone(),
    };
    let tags = if !ov.tags.is_empty() {
        ov.tags.iter().cloned().map(Scalar).collect()
    } else {
        raw.tags.unwrap_or_else(|| vec![Scalar("latest".into())])
    };
    let tags = tags
        .iter()
        .map(|t| ctx.tag(t))
        .collect::<Result<Vec<_>, _>>()?;
    if tags.is_empty() {
        return Err(ctx.invalid(
            "tags:",
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
    let target = match ov.target.clone().map(Scalar).or(raw.target) {
        Some(t) => Some(ctx.value(&t)?),
        None => None,
    };
    let cache_stages = match raw.cache_stages {
        Some(list) => Some(
            list.iter()
                .map(|s| ctx.value(s))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let pull = match (ov.pull, raw.pull) {
        (Some(p), _) => p,
        (None, Some(raw)) => ctx
            .value(&raw)?
            .parse()
            .map_err(|e: String| ctx.invalid(&raw.0, &e, ""))?,
        (None, None) => PullPolicy::Auto,
    };
    let push = match (ov.push, raw.push) {
        (Some(p), _) => p,
        (None, Some(raw)) => parse_bool(&ctx.value(&raw)?)
            .ok_or_else(|| ctx.invalid(&raw.0, "`push` must be true or false", ""))?,
        (None, None) => true,
    };
    let dockerfile = match &ov.dockerfile {
        Some(p) => p.clone(),
        None => ctx.path(&raw.dockerfile, base, "Dockerfile")?,
    };
    let context = match &ov.context {
        Some(p) => p.clone(),
        None => ctx.path(&raw.context, base, ".")?,
    };
    Ok(ImageConfig {
        image,
        dockerfile,
        context,
        tags,
        build_args,
        target,
        cache_stages,
        cache_repository,
        pull,
        push,
        secrets: ctx.secrets.clone(),
        origin: ctx.file.to_string(),
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// An interpolation failure, with the text to look for in the file to place it.
#[derive(Debug, PartialEq, Eq)]
pub struct InterpolationError {
    pub needle: String,
    pub message: String,
    pub hint: String,
}

/// The variable names a value refers to with `${NAME...}`.
fn references(s: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        // `$${` is an escaped literal, not a reference.
        let escaped = rest[..i].ends_with('$');
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if !escaped {
            names.push(rest[..end].to_string());
        }
    }
    names
}

/// Replaces `${VAR}`, `${VAR:-default}` (default when unset or empty) and `${VAR-default}`
/// (default when unset); `$$` is a literal `$`. Any other `$` is left alone, so shell-looking
/// text such as `$(cmd)` stays literal.
pub fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_start) = after.strip_prefix('{') {
            let Some(end) = body_start.find('}') else {
                return Err(InterpolationError {
                    needle: format!("${{{body_start}"),
                    message: "`${` is not closed by `}`".into(),
                    hint: "write ${NAME} or ${NAME:-default}; write $$ for a literal $".into(),
                });
            };
            out.push_str(&expand(&body_start[..end], env)?);
            rest = &body_start[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn expand(body: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, InterpolationError> {
    let (name, default, empty_is_unset) = if let Some((n, d)) = body.split_once(":-") {
        (n, Some(d), true)
    } else if let Some((n, d)) = body.split_once('-') {
        (n, Some(d), false)
    } else {
        (body, None, false)
    };
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(InterpolationError {
            needle: format!("${{{body}}}"),
            message: format!("`${{{body}}}` is not a valid variable reference"),
            hint: "variable names are letters, digits and _, e.g. ${CI_COMMIT_SHA}".into(),
        });
    }
    match (env(name), default) {
        (Some(v), Some(d)) if v.is_empty() && empty_is_unset => Ok(d.to_string()),
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => Err(InterpolationError {
            needle: format!("${{{name}"),
            message: format!("environment variable `{name}` is not set"),
            hint: format!("set {name}, or give a default: ${{{name}:-value}}"),
        }),
    }
}

/// 1-based line and column of the first occurrence of `needle` outside a comment; (0, 0) if none.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    if needle.is_empty() {
        return (0, 0);
    }
    for (n, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or(line);
        if code.trim_start().starts_with('#') {
            continue;
        }
        if let Some(i) = code.find(needle) {
            return (n + 1, line[..i].chars().count() + 1);
        }
    }
    (0, 0)
}

fn line_of_offset(valid_prefix: &[u8]) -> usize {
    valid_prefix.iter().filter(|b| **b == b'\n').count() + 1
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
        assert!(err("dockerfile: D\n").contains("missing field `image`"));
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
