//! The docker client's config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`),
//! read for one question: was this registry logged in to before layercache ran? A login the
//! user made is theirs; layercache logs out only of the registries it logged in to itself.

use std::path::{Path, PathBuf};

/// The config folder docker reads, from the environment snapshot.
pub fn config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".docker")))
}

/// Whether the config in `dir` holds credentials for `registry`: an `auths` entry (docker
/// writes one, empty with a credential store, for each login) or a `credHelpers` entry.
/// No file, or one that does not parse, is no login.
pub fn logged_in(dir: Option<&Path>, registry: &str) -> bool {
    let Some(text) = dir.and_then(|d| std::fs::read_to_string(d.join("config.json")).ok()) else {
        return false;
    };
    let Ok(config) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let wanted = host(registry);
    ["auths", "credHelpers"].iter().any(|key| {
        config[key]
            .as_object()
            .is_some_and(|m| m.keys().any(|k| host(k) == wanted))
    })
}

/// A registry as docker keys it, reduced to its host: `https://index.docker.io/v1/` and
/// `docker.io` are Docker Hub both.
fn host(key: &str) -> String {
    let key = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let key = key.split('/').next().unwrap_or(key).to_lowercase();
    match key.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_found_by_host() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!logged_in(Some(dir.path()), "registry.example.com"));
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths": {"registry.example.com": {}, "https://index.docker.io/v1/": {"auth": "eA=="}},
                "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}"#,
        )
        .unwrap();
        let d = Some(dir.path());
        assert!(logged_in(d, "registry.example.com"));
        assert!(logged_in(d, "docker.io"));
        assert!(logged_in(d, "123.dkr.ecr.eu-west-1.amazonaws.com"));
        assert!(!logged_in(d, "registry.example"));
        assert!(!logged_in(d, "localhost:5000"));
        assert!(!logged_in(None, "docker.io"));
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        assert_eq!(config_dir(&env), Some(PathBuf::from("/home/u/.docker")));
    }
}
