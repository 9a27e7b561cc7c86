//! The build spec (`layercache.yml`): its schema, defaults, `${VAR}` interpolation, command-line
//! overrides and validation. Every error names the file, the line and what to do.
//!
//! It knows nothing of docker commands; it hands the planner a list of [`ImageConfig`].

use crate::error::{self, Error};
use crate::input::reference::{self, Reference};
use crate::secrets;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// `registry_user` and `registry_password_var`: log in to the image's registry as this
    /// user, with the password in this environment variable (sent to docker on stdin).
    pub registry_login: Option<(String, String)>,
    /// Where this image was described, for messages: the spec path, or `command line`.
    pub origin: String,
}

pub use crate::error::Place;

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
    /// Used when neither the spec nor a flag names an image: the CI's registry image.
    pub fallback_image: Option<String>,
    /// Used when neither the spec nor a flag names tags: the CI's commit and branch or tag.
    pub fallback_tags: Vec<String>,
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
    "registry_user",
    "registry_password_var",
];

/// Specs above this size are refused: a spec is a few lines, and this bounds memory.
const MAX_SPEC_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    // Optional (a CI may supply it), but `image:` with nothing after it is still an error.
    #[serde(default, deserialize_with = "present")]
    image: Option<Scalar>,
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
    registry_user: Option<Scalar>,
    registry_password_var: Option<Scalar>,
}

/// A key that may be left out, but when written must have a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Scalar>, D::Error> {
    Scalar::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    images: Vec<RawImage>,
}

/// A YAML scalar taken as text, so `VERSION: 1.10` or `push: ${PUSH:-true}` both work.
#[derive(Debug, Clone)]
struct Scalar(String);

/// The message for a list or mapping where a `Scalar` belongs; `yaml_error` knows it by this text.
const NOT_A_SINGLE_VALUE: &str =
    "expected a single value (text, number or boolean), not a list or mapping";

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than `serde_yaml::Value`: an error raised while serde_yaml is still on
        // the value gets the value's line, column and key path (`push: ...`); one raised after
        // reading a whole `Value` is placed at the start of the enclosing mapping.
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a single value (text, number or boolean)")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Scalar, E> {
        Ok(Scalar(s.to_string()))
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Scalar, E> {
        Ok(Scalar(b.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Scalar, E> {
        Ok(Scalar(n.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Scalar, E> {
        Ok(Scalar(n.to_string()))
    }

    fn visit_i128<E: serde::de::Error>(self, n: i128) -> Result<Scalar, E> {
        Ok(Scalar(n.to_string()))
    }

    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<Scalar, E> {
        Ok(Scalar(n.to_string()))
    }

    // YAML reads `3.10` as the number 3.1: refuse fractions rather than change a version.
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Scalar, E> {
        Err(E::custom(format!(
            "`{n}` is read by YAML as a number, which can change it (3.10 becomes 3.1); put it in quotes"
        )))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Scalar, E> {
        Err(E::custom("a value is missing (empty)"))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Scalar, A::Error> {
        Err(serde::de::Error::custom(NOT_A_SINGLE_VALUE))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Scalar, A::Error> {
        Err(serde::de::Error::custom(NOT_A_SINGLE_VALUE))
    }

    // serde_yaml hands a value with a YAML tag (`!name value`) over as an enum.
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, _: A) -> Result<Scalar, A::Error> {
        Err(serde::de::Error::custom(
            "YAML tags such as `!name` are not supported here; remove the tag",
        ))
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
    let lines: Vec<&str> = text.lines().collect();
    let spans = image_spans(&lines, raws.len());
    let images = raws
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
    Ok(images)
}

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

fn parse_raw(text: &str, file: &str) -> Result<Vec<RawImage>, Error> {
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| yaml_error(text, file, &e))?;
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
        serde_yaml::Value::Mapping(m) if m.contains_key("images") => {
            // serde would call these unknown fields of the list form, and then suggest the very
            // key it refuses.
            if let Some(key) = KEYS.iter().find(|k| m.contains_key(**k)) {
                return Err(beside_images(text, file, key));
            }
            true
        }
        serde_yaml::Value::Mapping(_) => false,
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
        let spec: RawSpec = serde_yaml::from_str(text).map_err(|e| yaml_error(text, file, &e))?;
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
            serde_yaml::from_str(text).map_err(|e| yaml_error(text, file, &e))?
        ])
    }
}

/// An image key written beside `images:`, where it would be ignored.
fn beside_images(text: &str, file: &str, key: &str) -> Error {
    let lines: Vec<&str> = text.lines().collect();
    let (line, column) = root_key(&lines, key).unwrap_or((1, 1));
    if key == "image" {
        return error::at(
            file,
            line,
            column,
            "a spec has either `image:` (one image) or `images:` (a list), not both",
            "move this image into the list as `- image: ...`, or remove `images:`",
        );
    }
    error::at(
        file,
        line,
        column,
        &format!("`{key}:` is beside `images:`, where it applies to no image"),
        &format!(
            "each image of `images:` has its own keys: move `{key}:` into the images that need it"
        ),
    )
}

/// Turns a YAML error into `file:line:col: message` with a suggestion for misspelt keys.
fn yaml_error(text: &str, file: &str, e: &serde_yaml::Error) -> Error {
    let (mut line, mut column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let message = e.to_string();
    // serde_yaml appends " at line L column C"; we print the place first instead.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    // serde_yaml also starts the message with the path of the value (`images[0].push: `), so
    // the kinds of error are found by their text wherever it starts.
    let hint = if message.starts_with("unknown field `") && message.ends_with("expected `images`") {
        // Beside `images:`, where no other key is read.
        "with `images:`, the other keys go inside each image of the list".to_string()
    } else if let Some(i) = message.find("unknown field `") {
        let unknown = message[i + "unknown field `".len()..]
            .split('`')
            .next()
            .unwrap_or("");
        // At the top a list of images may have been meant as well.
        let mut candidates = KEYS.to_vec();
        if i == 0 {
            candidates.push("images");
        }
        match nearest(unknown, &candidates) {
            Some(key) => format!("did you mean `{key}`? valid keys: {}", KEYS.join(", ")),
            None => format!("valid keys: {}", KEYS.join(", ")),
        }
    } else if message.contains("duplicate entry") || message.contains("duplicate field") {
        // serde_yaml places a repeated key at the start of its mapping; point at the repeat.
        if let Some(at) = duplicated_key(&message).and_then(|k| repeated_key(text, line, column, k))
        {
            (line, column) = at;
        }
        "each key may appear once in a mapping; remove one of them".to_string()
    } else if message.contains("a value is missing") {
        "write the value after the `:`".to_string()
    } else if message.contains(NOT_A_SINGLE_VALUE) {
        "lists are for `tags`, `cache_stages` and `secrets`, a mapping for `build_args`; \
         other keys take one value"
            .to_string()
    } else {
        "see the spec reference in the README".to_string()
    };
    error::at(file, line, column, &message, &hint)
}

/// The key a serde_yaml duplicate-key message names, as it is likely written: `"A"` -> `A`.
fn duplicated_key(message: &str) -> Option<&str> {
    let i = message.find("duplicate entry with key ")?;
    let rest = &message[i + "duplicate entry with key ".len()..];
    if let Some(quoted) = rest.strip_prefix('"') {
        // Debug-quoted: give up on escapes rather than search for the wrong text.
        quoted.split('"').next().filter(|k| !k.contains('\\'))
    } else if let Some(boolean) = rest.strip_prefix('`') {
        boolean.split('`').next()
    } else {
        rest.split_whitespace().next()
    }
}

/// The second `key:` of the block mapping that starts at `line`:`column` (serde_yaml's place
/// for a duplicate). Its keys are the lines indented to `column`; the first line may hold a
/// `- ` or a parent key before it. `None` for a flow mapping (`{A: 1, A: 2}`) or odd input.
fn repeated_key(text: &str, line: usize, column: usize, key: &str) -> Option<(usize, usize)> {
    let indent = column.checked_sub(1)?;
    let mut seen = 0;
    for (i, l) in text.lines().enumerate().skip(line.checked_sub(1)?) {
        let rest = if i + 1 == line {
            let (at, _) = l.char_indices().nth(indent)?;
            &l[at..]
        } else {
            let content = l.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            match (l.len() - content.len()).cmp(&indent) {
                std::cmp::Ordering::Less => break,
                std::cmp::Ordering::Greater => continue,
                std::cmp::Ordering::Equal => content,
            }
        };
        if after_key(rest, key).is_some() {
            seen += 1;
            if seen == 2 {
                return Some((i + 1, column));
            }
        }
    }
    None
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

    fn repository(&self, raw: &Scalar, from: Source) -> Result<Reference, Error> {
        let value = self.value(raw, from)?;
        reference::parse_repository(&value)
            .map_err(|e| self.invalid(from, &raw.0, &e.to_string(), ""))
    }

    fn tag(&self, raw: &Scalar, from: Source) -> Result<String, Error> {
        let tag = self.value(raw, from)?;
        reference::validate_tag(&tag)
            .map_err(|e| self.invalid(from, &raw.0, &e.to_string(), ""))?;
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
        registry_login,
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

// ---------------------------------------------------------------------------------------------
// Placing values. serde_yaml keeps no positions in what it returns, so values are found again
// in the text: a key at the start of a line (after its indentation and any `- `), then the
// value's text after it. This reads block YAML as people write specs; for anything else
// (flow mappings, anchors) the search comes back empty and messages name the file alone.

/// Some lines of the spec, and the 1-based number of the first.
#[derive(Clone, Copy)]
struct Lines<'a> {
    first: usize,
    lines: &'a [&'a str],
}

impl<'a> Lines<'a> {
    /// Each line with its number, its indentation and what follows (see `content`).
    fn iter(self) -> impl Iterator<Item = (usize, &'a str, usize, bool, &'a str)> {
        self.lines.iter().enumerate().map(move |(i, line)| {
            let (indent, dashed, content) = content(line);
            (self.first + i, *line, indent, dashed, content)
        })
    }
}

/// A line's indentation, whether it starts a block sequence item (`- `), and its content after
/// both: in `  - image: a` that is `image: a`.
fn content(line: &str) -> (usize, bool, &str) {
    let rest = line.trim_start_matches(' ');
    let indent = line.len() - rest.len();
    let mut rest = rest;
    let mut dashed = false;
    while let Some(after) = rest.strip_prefix('-') {
        if !(after.is_empty() || after.starts_with(' ')) {
            break;
        }
        dashed = true;
        rest = after.trim_start_matches(' ');
    }
    (indent, dashed, rest)
}

fn is_blank(content: &str) -> bool {
    content.is_empty() || content.starts_with('#')
}

/// What follows `key:` when `content` starts with that key (bare or quoted); `None` otherwise.
fn after_key<'c>(content: &'c str, key: &str) -> Option<&'c str> {
    let rest = ["", "\"", "'"].iter().find_map(|quote| {
        content
            .strip_prefix(quote)?
            .strip_prefix(key)?
            .strip_prefix(quote)
    })?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

/// 1-based column, in characters, of `part` (a slice of `line`).
fn column_of(line: &str, part: &str) -> usize {
    let at = line.len() - part.len();
    line.get(..at).map_or(0, |before| before.chars().count()) + 1
}

/// A key found in the text.
struct KeyAt {
    line: usize,
    column: usize,
    /// Where the value starts on the key's line, if it starts there.
    value_column: Option<usize>,
    /// Index of the key's line in the `Lines` searched.
    index: usize,
}

/// Whether a line belongs to the value of a key written at `key_column`: it is indented further,
/// or is an item of a list indented as much as the key (`tags:` then `- v1`).
fn in_value(key_column: usize, indent: usize, dashed: bool) -> bool {
    indent + 1 > key_column || (indent + 1 == key_column && dashed)
}

/// The first `path[0]:` among `lines`, then `path[1]:` inside its value, and so on.
fn find_key(lines: Lines, path: &[&str]) -> Option<KeyAt> {
    let mut found: Option<KeyAt> = None;
    for key in path {
        let from = found.as_ref().map_or(0, |k| k.index + 1);
        let parent = found.as_ref().map(|k| k.column);
        let mut next = None;
        for (index, (number, line, indent, dashed, content)) in lines.iter().enumerate().skip(from)
        {
            if is_blank(content) && !dashed {
                continue;
            }
            if parent.is_some_and(|column| !in_value(column, indent, dashed)) {
                break;
            }
            if let Some(rest) = after_key(content, key) {
                let value = rest.trim_start_matches([' ', '\t']);
                next = Some(KeyAt {
                    line: number,
                    column: column_of(line, content),
                    value_column: (!is_blank(value)).then(|| column_of(line, value)),
                    index,
                });
                break;
            }
        }
        found = Some(next?);
    }
    found
}

/// Where `needle` is written in the value of `key`: on the key's line or the lines of its value.
/// Falls back to the start of the value, then to the key.
fn find_in_value(lines: Lines, key: &KeyAt, needle: &str) -> (usize, usize) {
    let fallback = (key.line, key.value_column.unwrap_or(key.column));
    if needle.is_empty() {
        return fallback;
    }
    for (number, line, indent, dashed, content) in lines.iter().skip(key.index) {
        let searched = if number == key.line {
            match key.value_column {
                Some(column) => line
                    .char_indices()
                    .nth(column - 1)
                    .map_or("", |(at, _)| &line[at..]),
                None => continue,
            }
        } else if is_blank(content) && !dashed {
            continue;
        } else if !in_value(key.column, indent, dashed) {
            break;
        } else {
            line
        };
        let code = searched.split(" #").next().unwrap_or(searched);
        if let Some(at) = code.find(needle) {
            return (number, column_of(line, &searched[at..]));
        }
    }
    fallback
}

/// A key of the top-level mapping: at the indentation of the first line with content.
fn root_key(lines: &[&str], key: &str) -> Option<(usize, usize)> {
    let all = Lines { first: 1, lines };
    let mut root = None;
    for (number, line, indent, dashed, content) in all.iter() {
        if is_blank(content) || content.starts_with("---") || content.starts_with('%') {
            continue;
        }
        let root = *root.get_or_insert(indent);
        if indent == root && !dashed && after_key(content, key).is_some() {
            return Some((number, column_of(line, content)));
        }
    }
    None
}

/// The lines of each image: each item of a block list under `images:`, or the whole text for
/// a single image or a list written some other way (`images: [{image: a}]`).
fn image_spans<'a>(lines: &'a [&'a str], count: usize) -> Vec<Lines<'a>> {
    let whole = Lines { first: 1, lines };
    let mut starts = Vec::new();
    if count > 1 {
        if let Some((line, column)) = root_key(lines, "images") {
            let mut item_indent = None;
            for (number, _, indent, dashed, content) in whole.iter().skip(line) {
                if is_blank(content) && !dashed {
                    continue;
                }
                if !in_value(column, indent, dashed) {
                    break;
                }
                let items = *item_indent.get_or_insert(indent);
                if indent < items {
                    break;
                }
                if indent == items && dashed {
                    starts.push(number);
                }
            }
        }
    }
    if starts.len() != count {
        return vec![whole; count];
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).map_or(lines.len(), |&next| next - 1);
            Lines {
                first: start,
                lines: lines.get(start - 1..end).unwrap_or(&[]),
            }
        })
        .collect()
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
