//! The spec's YAML as serde reads it (every value a scalar taken as text), and serde_yaml's
//! errors turned into messages that name the key, its line and a fix.

use super::locate::*;
use super::KEYS;
use crate::error::{self, Error};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImage {
    // Optional (a CI may supply it), but `image:` with nothing after it is still an error.
    #[serde(default, deserialize_with = "present")]
    pub(super) image: Option<Scalar>,
    pub(super) dockerfile: Option<Scalar>,
    pub(super) context: Option<Scalar>,
    pub(super) tags: Option<Vec<Scalar>>,
    pub(super) build_args: Option<BTreeMap<String, Scalar>>,
    pub(super) target: Option<Scalar>,
    pub(super) cache_stages: Option<Vec<Scalar>>,
    pub(super) cache_repository: Option<Scalar>,
    pub(super) pull: Option<Scalar>,
    pub(super) push: Option<Scalar>,
    pub(super) secrets: Option<Vec<Scalar>>,
    pub(super) registry_user: Option<Scalar>,
    pub(super) registry_password_var: Option<Scalar>,
    pub(super) strategy: Option<Scalar>,
    pub(super) cache_dir: Option<Scalar>,
    pub(super) cache_export: Option<Vec<Scalar>>,
    pub(super) platforms: Option<Platforms>,
    /// Spec-wide, not per image: read here only in the one-image form, whose mapping is the
    /// top level (`super::TOP_KEYS`).
    pub(super) jobs: Option<Scalar>,
}

/// `platforms:` as a list (`[linux/amd64, linux/arm64]`) or as docker spells it on its command
/// line (`linux/amd64,linux/arm64`); each item may hold several, comma-separated.
#[derive(Debug, Clone)]
pub(super) struct Platforms(pub(super) Vec<Scalar>);

impl<'de> Deserialize<'de> for Platforms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Platforms;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a platform, a comma-separated list of them, or a list")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Platforms, E> {
                Ok(Platforms(vec![Scalar(s.to_string())]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Platforms, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Scalar>()? {
                    items.push(item);
                }
                Ok(Platforms(items))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Platforms, E> {
                Err(E::custom("a value is missing (empty)"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A key that may be left out, but when written must have a value.
pub(super) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Scalar>, D::Error> {
    Scalar::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) images: Vec<RawImage>,
    pub(super) jobs: Option<Scalar>,
}

/// A YAML scalar taken as text, so `VERSION: 1.10` or `push: ${PUSH:-true}` both work.
#[derive(Debug, Clone)]
pub(super) struct Scalar(pub(super) String);

/// The message for a list or mapping where a `Scalar` belongs; `yaml_error` knows it by this text.
pub(super) const NOT_A_SINGLE_VALUE: &str =
    "expected a single value (text, number or boolean), not a list or mapping";

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than `serde_yaml::Value`: an error raised while serde_yaml is still on
        // the value gets the value's line, column and key path (`push: ...`); one raised after
        // reading a whole `Value` is placed at the start of the enclosing mapping.
        d.deserialize_any(ScalarVisitor)
    }
}

pub(super) struct ScalarVisitor;

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

/// The spec as serde reads it: the images, and the spec-wide keys.
pub(super) struct RawFile {
    pub(super) images: Vec<RawImage>,
    pub(super) jobs: Option<Scalar>,
    /// The list form (`images:`): `jobs:` inside an image is then a mistake.
    pub(super) many: bool,
}

pub(super) fn parse_raw(text: &str, file: &str) -> Result<RawFile, Error> {
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
            let per_image = KEYS.iter().filter(|k| !super::TOP_KEYS.contains(k));
            if let Some(key) = per_image.into_iter().find(|k| m.contains_key(**k)) {
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
        Ok(RawFile {
            images: spec.images,
            jobs: spec.jobs,
            many,
        })
    } else {
        let mut image: RawImage =
            serde_yaml::from_str(text).map_err(|e| yaml_error(text, file, &e))?;
        Ok(RawFile {
            jobs: image.jobs.take(),
            images: vec![image],
            many,
        })
    }
}

/// An image key written beside `images:`, where it would be ignored.
pub(super) fn beside_images(text: &str, file: &str, key: &str) -> Error {
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
pub(super) fn yaml_error(text: &str, file: &str, e: &serde_yaml::Error) -> Error {
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
    let hint = if message.starts_with("unknown field `")
        && (message.ends_with("expected `images`")
            || message.ends_with("expected `images` or `jobs`"))
    {
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
pub(super) fn duplicated_key(message: &str) -> Option<&str> {
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
pub(super) fn repeated_key(
    text: &str,
    line: usize,
    column: usize,
    key: &str,
) -> Option<(usize, usize)> {
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

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
