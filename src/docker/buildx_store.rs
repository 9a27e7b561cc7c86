//! The builder buildx would use, read from buildx's own files instead of asking
//! `docker buildx inspect` (a docker process and a buildx process: 180-410 ms measured on these
//! machines). buildx keeps (docker/buildx `store/store.go`): `current`, JSON `{Key, Name,
//! Global}` naming the builder chosen with `docker buildx use` for the endpoint `Key` (an empty
//! Name: the context's default builder); `instances/<name>`, one JSON file per builder with its
//! `Driver` and `Nodes`; `defaults/<hash of endpoint>`, builders chosen with `use --default`.
//! Whatever these files leave open is answered `Unknown`, and the probe asks buildx itself.

use super::engine_env::EngineEnv;
use super::probe::{BuildxBuilder, Driver};
use serde::Deserialize;
use std::path::Path;

/// What buildx's files say about the builder in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(BuildxBuilder),
    /// The files do not settle it (another context, `use --default`, a file that does not
    /// parse): ask `docker buildx inspect`.
    Unknown,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Current {
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    global: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Instance {
    name: String,
    driver: String,
    #[serde(default)]
    nodes: Option<Vec<serde_json::Value>>,
}

/// The builder `docker buildx build` would use under `env`.
pub fn current_builder(env: &EngineEnv) -> Lookup {
    let (Some(dir), Some(endpoint)) = (env.buildx_dir.as_deref(), env.endpoint.as_deref()) else {
        return Lookup::Unknown;
    };
    if let Some(name) = &env.buildx_builder {
        // BUILDX_BUILDER names a builder, or a context (whose builder is its docker driver).
        return match instance(dir, name) {
            Some(found) => Lookup::Found(found),
            None if name == "default" => Lookup::Found(default_builder()),
            None => Lookup::Unknown,
        };
    }
    let current = match std::fs::read_to_string(dir.join("current")) {
        Ok(text) => match serde_json::from_str::<Current>(&text) {
            Ok(c) => Some(c),
            Err(_) => return Lookup::Unknown,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(_) => return Lookup::Unknown,
    };
    if let Some(c) = current.filter(|c| !c.name.is_empty() && (c.global || c.key == endpoint)) {
        return instance(dir, &c.name).map_or(Lookup::Unknown, Lookup::Found);
    }
    if has_entries(&dir.join("defaults")) {
        return Lookup::Unknown;
    }
    Lookup::Found(default_builder())
}

/// The default context's builder: its daemon's own BuildKit (the `docker` driver).
fn default_builder() -> BuildxBuilder {
    BuildxBuilder {
        name: "default".into(),
        driver: Driver::Docker,
        nodes: 1,
    }
}

/// `instances/<name>` (buildx stores names in lower case).
fn instance(dir: &Path, name: &str) -> Option<BuildxBuilder> {
    let text = std::fs::read_to_string(dir.join("instances").join(name.to_lowercase())).ok()?;
    let i: Instance = serde_json::from_str(&text).ok()?;
    Some(BuildxBuilder {
        name: i.name,
        driver: Driver::parse(&i.driver),
        nodes: i.nodes.map_or(1, |n| n.len().max(1)),
    })
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCKET: &str = "unix:///var/run/docker.sock";

    fn env(dir: &Path) -> EngineEnv {
        EngineEnv {
            endpoint: Some(SOCKET.into()),
            buildx_dir: Some(dir.to_path_buf()),
            ..EngineEnv::default()
        }
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn found(lookup: Lookup) -> (String, Driver, usize) {
        match lookup {
            Lookup::Found(b) => (b.name, b.driver, b.nodes),
            Lookup::Unknown => panic!("unknown"),
        }
    }

    #[test]
    fn a_fresh_runner_uses_the_default_builder() {
        let dir = tempfile::tempdir().unwrap();
        let docker = ("default".to_string(), Driver::Docker, 1);
        assert_eq!(found(current_builder(&env(dir.path()))), docker);
        // What buildx 0.13 and 0.29 write after a build with the default builder (recorded on
        // the 26.1 and 28.5 set-ups).
        write(
            dir.path(),
            "current",
            &format!(r#"{{"Key":"{SOCKET}","Name":"","Global":false}}"#),
        );
        assert_eq!(found(current_builder(&env(dir.path()))), docker);
    }

    #[test]
    fn a_builder_chosen_with_use_is_read_from_its_instance_file() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "current",
            &format!(r#"{{"Key":"{SOCKET}","Name":"ci","Global":false}}"#),
        );
        write(
            dir.path(),
            "instances/ci",
            r#"{"Name":"ci","Driver":"docker-container","Nodes":[{"Name":"ci0","Endpoint":"unix:///var/run/docker.sock","Platforms":null}],"Dynamic":false}"#,
        );
        let ci = ("ci".to_string(), Driver::DockerContainer, 1);
        assert_eq!(found(current_builder(&env(dir.path()))), ci);
        // Chosen for another endpoint: not this one's, unless global.
        let mut other = env(dir.path());
        other.endpoint = Some("unix:///tmp/other.sock".into());
        assert_eq!(found(current_builder(&other)).1, Driver::Docker);
        write(
            dir.path(),
            "current",
            r#"{"Key":"unix:///tmp/x","Name":"ci","Global":true}"#,
        );
        assert_eq!(found(current_builder(&other)), ci);
        // BUILDX_BUILDER wins, by instance name (any case) or as the default context.
        let mut named = env(dir.path());
        named.buildx_builder = Some("CI".into());
        assert_eq!(found(current_builder(&named)), ci);
        named.buildx_builder = Some("default".into());
        assert_eq!(found(current_builder(&named)).1, Driver::Docker);
        write(
            dir.path(),
            "instances/multi",
            r#"{"Name":"multi","Driver":"kubernetes","Nodes":[{"Name":"a"},{"Name":"b"}]}"#,
        );
        named.buildx_builder = Some("multi".into());
        assert_eq!(
            found(current_builder(&named)),
            ("multi".to_string(), Driver::Kubernetes, 2)
        );
    }

    #[test]
    fn what_the_files_leave_open_is_asked_of_buildx() {
        let dir = tempfile::tempdir().unwrap();
        // A context other than the default one: no endpoint known here.
        let mut ctx = env(dir.path());
        ctx.endpoint = None;
        assert_eq!(current_builder(&ctx), Lookup::Unknown);
        // BUILDX_BUILDER naming something without an instance file (another context's name).
        let mut named = env(dir.path());
        named.buildx_builder = Some("colima".into());
        assert_eq!(current_builder(&named), Lookup::Unknown);
        // `docker buildx use --default`: keyed by a hash of the endpoint.
        write(dir.path(), "defaults/0123456789abcdef0123", "ci");
        assert_eq!(current_builder(&env(dir.path())), Lookup::Unknown);
        // A current file that does not parse, or names a builder that is gone.
        write(dir.path(), "current", "{");
        assert_eq!(current_builder(&env(dir.path())), Lookup::Unknown);
        write(
            dir.path(),
            "current",
            &format!(r#"{{"Key":"{SOCKET}","Name":"gone"}}"#),
        );
        assert_eq!(current_builder(&env(dir.path())), Lookup::Unknown);
    }
}
