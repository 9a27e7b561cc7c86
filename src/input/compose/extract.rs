//! The merged, normalised YAML of one service -> a typed [`ServiceBuild`], with compose's
//! defaults: `context` is the project folder, `dockerfile` is `Dockerfile` unless
//! `dockerfile_inline` is given.
//!
//! The shapes were checked by [`super::normalize`], so this reads values without failing; a
//! value of an unexpected shape (which normalising prevents) is left out rather than guessed.

use super::interpolate::key_text;
use super::model::{BuildSecret, ServiceBuild};
use super::scalars::scalar_text;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;

/// The build of service `name`, if it has one. `default_context` is the project folder.
pub fn service_build(name: &str, service: &Mapping, default_context: &str) -> Option<ServiceBuild> {
    let build = match service.get("build")? {
        Value::Mapping(m) => m,
        _ => return None,
    };
    let text = |key: &str| build.get(key).and_then(scalar_text);
    let dockerfile_inline = text("dockerfile_inline");
    let dockerfile = text("dockerfile").or_else(|| {
        dockerfile_inline
            .is_none()
            .then(|| "Dockerfile".to_string())
    });
    Some(ServiceBuild {
        service: name.to_string(),
        image: service.get("image").and_then(scalar_text),
        platform: service.get("platform").and_then(scalar_text),
        context: text("context").unwrap_or_else(|| default_context.to_string()),
        dockerfile,
        dockerfile_inline,
        args: string_map(build.get("args")),
        args_by_name: Default::default(),
        target: text("target"),
        cache_from: strings(build.get("cache_from")),
        cache_to: strings(build.get("cache_to")),
        tags: strings(build.get("tags")),
        platforms: strings(build.get("platforms")),
        labels: string_map(build.get("labels")),
        secrets: secrets(build.get("secrets")),
        ssh: strings(build.get("ssh")),
        network: text("network"),
        extra_hosts: extra_hosts(build.get("extra_hosts")),
        shm_size: match build.get("shm_size") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        },
        additional_contexts: string_map(build.get("additional_contexts")),
        pull: build.get("pull") == Some(&Value::Bool(true)),
        no_cache: build.get("no_cache") == Some(&Value::Bool(true)),
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    match v {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((key_text(k), scalar_text(v)?)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn extra_hosts(v: Option<&Value>) -> BTreeMap<String, Vec<String>> {
    match v {
        Some(Value::Mapping(m)) => m
            .iter()
            .map(|(k, v)| (key_text(k), strings(Some(v))))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn secrets(v: Option<&Value>) -> Vec<BuildSecret> {
    let Some(Value::Sequence(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let m = match item {
                Value::Mapping(m) => m,
                _ => return None,
            };
            let get = |k: &str| m.get(k).and_then(scalar_text);
            Some(BuildSecret {
                source: get("source")?,
                target: get("target"),
                uid: get("uid"),
                gid: get("gid"),
                mode: get("mode"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_filled_in() {
        let m: Mapping = serde_yaml::from_str("build: {}\nimage: a").unwrap();
        let b = service_build("s", &m, "/p").unwrap();
        assert_eq!(b.context, "/p");
        assert_eq!(b.dockerfile.as_deref(), Some("Dockerfile"));
        assert_eq!(b.image.as_deref(), Some("a"));
        let m: Mapping = serde_yaml::from_str("build: {dockerfile_inline: 'FROM x'}").unwrap();
        let b = service_build("s", &m, "/p").unwrap();
        assert_eq!(b.dockerfile, None);
        let m: Mapping = serde_yaml::from_str("image: a").unwrap();
        assert_eq!(service_build("s", &m, "/p"), None);
    }
}
