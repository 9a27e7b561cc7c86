//! Compose file text -> YAML mappings, one per document (compose merges the documents of one
//! file in order, like several files): parse errors placed at `file:line:col`, `<<` merge keys
//! applied, the top-level keys checked against the Compose schema. Nothing else: no
//! substitution, no defaults.

use super::error::ComposeError;
use super::interpolate::key_text;
use serde_yaml::{Mapping, Value};

/// Top-level keys of the Compose specification (besides `x-` extensions).
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Parses one Compose file into its documents (at least one).
pub fn parse(text: &str, file: &str) -> Result<Vec<Mapping>, ComposeError> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| yaml_error(&e, file))?;
        if value.is_null() && !docs.is_empty() {
            continue;
        }
        docs.push(document_mapping(value, text, file)?);
    }
    if docs.is_empty() {
        return Err(ComposeError::new(file, "the compose file is empty")
            .hint("define at least `services:`"));
    }
    Ok(docs)
}

fn yaml_error(e: &serde_yaml::Error, file: &str) -> ComposeError {
    let place = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let message = e.to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    ComposeError::new(file, format!("not valid YAML: {message}"))
        .at(place)
        .hint("check the indentation and quoting around this place")
}

fn document_mapping(mut value: Value, text: &str, file: &str) -> Result<Mapping, ComposeError> {
    value.apply_merge().map_err(|e| {
        ComposeError::new(file, format!("a `<<` merge key cannot be applied: {e}"))
            .hint("`<<:` takes an alias of a mapping (`<<: *name`) or a list of them")
    })?;
    let map = match value {
        Value::Mapping(m) => m,
        Value::Null => {
            return Err(ComposeError::new(file, "the compose file is empty")
                .hint("define at least `services:`"))
        }
        _ => {
            return Err(ComposeError::new(file, "a compose file must be a mapping")
                .at((1, 1))
                .hint("start with `services:`"))
        }
    };
    for k in map.keys() {
        let key = key_text(k);
        if !key.starts_with("x-") && !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            let place = super::position::Positions::index(text)
                .nearest(&[super::position::Seg::Key(key.clone())]);
            return Err(ComposeError::new(
                file,
                format!("(root) additional properties '{key}' not allowed"),
            )
            .at(place)
            .hint(format!(
                "top-level keys are {}, and x- extensions",
                TOP_LEVEL_KEYS.join(", ")
            )));
        }
    }
    Ok(map)
}

/// Whether `text` reads as a Compose file (whatever its name): its first document is a mapping
/// with `services:` or `include:` and no key outside the Compose top level. A layercache spec
/// (`image:`, `images:`) does not; neither does text that is not YAML.
pub fn looks_like_compose(text: &str) -> bool {
    use serde::Deserialize;
    let Some(first) = serde_yaml::Deserializer::from_str(text).next() else {
        return false;
    };
    let Ok(Value::Mapping(map)) = Value::deserialize(first) else {
        return false;
    };
    (map.contains_key("services") || map.contains_key("include"))
        && map.keys().all(|k| {
            let key = key_text(k);
            key.starts_with("x-") || TOP_LEVEL_KEYS.contains(&key.as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_placed() {
        let e = parse("services:\n  app:\n    build: [\n", "c.yaml").unwrap_err();
        assert_eq!(e.file, "c.yaml");
        assert!(e.line >= 3, "{e}");
        let e = parse("services: {}\nservice: {}\n", "c.yaml").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(parse("", "c.yaml").unwrap_err().message.contains("empty"));
        assert!(parse("- a", "c.yaml").is_err());
        let e = parse("a: 1\na: 2\n", "c.yaml").unwrap_err();
        assert!(e.message.contains("duplicate"), "{e}");
    }

    #[test]
    fn compose_files_are_recognised_by_their_content() {
        assert!(looks_like_compose("services:\n  app:\n    build: .\n"));
        assert!(looks_like_compose("include: [a.yaml]\nx-a: 1\n"));
        assert!(!looks_like_compose("image: registry.example.com/app\n"));
        assert!(!looks_like_compose("images:\n  - image: a\n"));
        assert!(!looks_like_compose("services: {}\nimage: a\n"));
        assert!(!looks_like_compose("services: [\n"));
        assert!(!looks_like_compose(""));
    }

    #[test]
    fn documents_are_returned_in_order() {
        let docs = parse("services: {a: {}}\n---\nservices: {b: {}}\n---\n", "c.yaml").unwrap();
        assert_eq!(docs.len(), 2);
        assert!(parse("---\n---\n", "c.yaml").is_err());
    }

    #[test]
    fn merge_keys_are_applied() {
        let m = &parse(
            "x-b: &b {context: ., args: {A: '1'}}\nservices:\n  a:\n    build:\n      <<: *b\n      target: t\n",
            "c.yaml",
        )
        .unwrap()[0];
        let build = &m["services"]["a"]["build"];
        assert_eq!(build["context"], Value::String(".".into()));
        assert_eq!(build["target"], Value::String("t".into()));
    }
}
