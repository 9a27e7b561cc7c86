//! `layercache doctor`: can this machine build with a registry cache, and if not, what to do.
//!
//! Two halves: [`gather`] asks docker, the environment and the registries (all the I/O), and
//! [`evaluate`] turns those facts into checks, each ok / warn / fail with a one-line fix. Tests
//! state facts by hand.

use crate::docker::{BuildxPlugin, Capabilities};
use crate::input::reference::is_loopback_registry;
use crate::plan::builder::{self, Builder, BuilderChoice};
use crate::plan::strategy::{self, StrategyChoice};
mod gather;

pub use gather::gather;

use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: String,
    pub level: Level,
    pub message: String,
    pub fix: Option<String>,
}

/// What the docker daemon said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub version: String,
    pub storage_driver: String,
}

/// One registry the spec builds for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryFacts {
    pub host: String,
    /// How it answered, or why it did not.
    pub reachable: Result<String, String>,
    /// Where credentials for it were found, if anywhere.
    pub credentials: Option<String>,
}

/// Everything the checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub docker: Result<PathBuf, String>,
    pub client_version: Option<String>,
    pub caps: Option<Capabilities>,
    pub server: Result<Server, String>,
    pub builder_mode: BuilderChoice,
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub ci: Option<String>,
    /// The spec could not be read: its error.
    pub spec_error: Option<String>,
    pub registries: Vec<RegistryFacts>,
}

fn check(name: &str, level: Level, message: impl Into<String>, fix: Option<&str>) -> Check {
    Check {
        check: name.into(),
        level,
        message: message.into(),
        fix: fix.map(String::from),
    }
}

/// The checks, in the order a user would fix them.
pub fn evaluate(f: &Facts) -> Vec<Check> {
    let mut checks = Vec::new();
    let path = match &f.docker {
        Ok(path) => path,
        Err(e) => {
            checks.push(check(
                "docker client",
                Level::Fail,
                e.clone(),
                Some("install the docker client, or name it with --docker PATH"),
            ));
            return checks;
        }
    };
    let version = f.client_version.as_deref().unwrap_or("unknown version");
    checks.push(check(
        "docker client",
        Level::Ok,
        format!("{}, client {version}", path.display()),
        None,
    ));
    checks.push(match &f.server {
        Ok(s) => {
            let store = match f.caps.as_ref().and_then(|c| c.daemon.as_ref()) {
                Some(d) => format!(", {} image store", d.store.name()),
                None => String::new(),
            };
            check("docker daemon", Level::Ok, format!("server {}, storage driver {}{store}", s.version, s.storage_driver), None)
        }
        Err(e) => check(
            "docker daemon",
            Level::Fail,
            format!("not reachable: {e}"),
            Some("start dockerd (or Docker Desktop), or point DOCKER_HOST / the docker context at a running one"),
        ),
    });
    if let Some(caps) = &f.caps {
        checks.push(buildx_check(caps));
    }
    checks.push(builder_check(f));
    if let Some(caps) = &f.caps {
        checks.push(platforms_check(caps));
    }
    let context = f.docker_context.as_deref().unwrap_or("default");
    let host = match &f.docker_host {
        Some(h) => format!("DOCKER_HOST={h}"),
        None => "DOCKER_HOST not set".into(),
    };
    checks.push(check(
        "docker endpoint",
        Level::Ok,
        format!("{host}; docker context {context}"),
        None,
    ));
    checks.push(match &f.ci {
        Some(ci) => check("ci", Level::Ok, format!("running under {ci}"), None),
        None => check(
            "ci",
            Level::Ok,
            "not a CI run (no GITLAB_CI, GITHUB_ACTIONS or CIRCLECI)",
            None,
        ),
    });
    if let Some(e) = &f.spec_error {
        checks.push(check(
            "spec",
            Level::Fail,
            e.clone(),
            Some("fix the spec; `layercache plan` shows the same error"),
        ));
    }
    for r in &f.registries {
        checks.extend(registry_checks(r));
    }
    checks
}

/// The buildx plugin and the builder `docker buildx build` would use.
fn buildx_check(caps: &Capabilities) -> Check {
    let message = match (&caps.buildx, &caps.builder) {
        (None, _) => "no buildx plugin".to_string(),
        (Some(p), None) => format!("{}; `docker buildx inspect` found no builder", plugin(p)),
        (Some(p), Some(b)) => format!(
            "{}; builder `{}`, driver {}{}",
            plugin(p),
            b.name,
            b.driver.name(),
            if caps.buildx_builder_env {
                " (BUILDX_BUILDER: `docker build` uses it too)"
            } else {
                ""
            }
        ),
    };
    check("buildx", Level::Ok, message, None)
}

/// `buildx 0.29.1+ds1`, or where it is when `docker buildx version` did not answer.
fn plugin(p: &BuildxPlugin) -> String {
    match &p.version {
        Some(v) => format!("buildx {v}"),
        None => format!(
            "buildx at {} (`docker buildx version` failed)",
            p.path.display()
        ),
    }
}

/// Whether `platforms:` / `--platform a,b` can build one multi-platform image here. Not a
/// warning where it cannot: single-platform builds work everywhere.
fn platforms_check(caps: &Capabilities) -> Check {
    match strategy::multi_platform(caps) {
        Ok(how) => check("multi-platform", Level::Ok, how, None),
        Err(why_not) => check(
            "multi-platform",
            Level::Ok,
            format!(
                "not here: {why_not}, and per-stage builds on the classic image store hold one \
                 platform per tag; a spec with several platforms is refused (exit 2), one platform \
                 builds (--platform linux/amd64). To build several: the containerd image store \
                 (dockerd \"features\": {{\"containerd-snapshotter\": true}}) or a docker-container \
                 builder (docker buildx create --use)"
            ),
            None,
        ),
    }
}

/// The strategy `build` would pick here (without `--strategy`), and why.
fn builder_check(f: &Facts) -> Check {
    let chosen = strategy::choose(StrategyChoice::Auto, f.builder_mode, true, f.caps.as_ref());
    let (builder, _) = builder::choose(f.builder_mode, f.caps.as_ref());
    match (builder, chosen) {
        (_, Err(e)) => check("builder", Level::Fail, e.to_string(), None),
        (Builder::BuildKit, Ok(c)) => check(
            "builder",
            Level::Ok,
            format!("strategy {}: {}", c.strategy.name(), c.reason),
            None,
        ),
        (Builder::Legacy, Ok(c)) => check(
            "builder",
            Level::Warn,
            format!("strategy legacy: {}; cache images are pulled before each build (the alternating miss of BuildKit's inline cache does not occur here)", c.reason),
            Some("install the docker-buildx plugin (Debian: docker-buildx) to build with BuildKit"),
        ),
    }
}

fn registry_checks(r: &RegistryFacts) -> Vec<Check> {
    let name = format!("registry {}", r.host);
    let reach = match &r.reachable {
        Ok(how) => check(&name, Level::Ok, format!("reachable ({how})"), None),
        Err(e) => check(
            &name,
            Level::Warn,
            format!("not reachable: {e}; builds run without its cache and pushes fail"),
            Some("check the registry address in the spec and the network; `build --no-push` still works"),
        ),
    };
    let local = is_loopback_registry(&r.host);
    let creds = match (&r.credentials, local) {
        (Some(source), _) => check(
            &format!("credentials {}", r.host),
            Level::Ok,
            format!("found in {source}"),
            None,
        ),
        (None, true) => check(
            &format!("credentials {}", r.host),
            Level::Ok,
            "none found; a registry on this machine usually needs none",
            None,
        ),
        (None, false) => check(
            &format!("credentials {}", r.host),
            Level::Warn,
            "none found; pushes will be refused if the registry needs a login",
            Some("docker login the registry (in CI: with the job's registry token)"),
        ),
    };
    vec![reach, creds]
}

/// True when `build` could not work: a check failed.
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.level == Level::Fail)
}

pub fn human(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let level = match c.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        out.push_str(&format!("{level:<5} {:<width$}  {}\n", c.check, c.message));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("      {:<width$}  fix: {fix}\n", ""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gather::credentials;

    fn facts() -> Facts {
        Facts {
            docker: Ok(PathBuf::from("/usr/bin/docker")),
            client_version: Some("20.10.24".into()),
            caps: Some(Capabilities {
                client: None,
                client_version: Some((20, 10)),
                ..Capabilities::default()
            }),
            server: Ok(Server {
                version: "20.10.24".into(),
                storage_driver: "overlay2".into(),
            }),
            builder_mode: BuilderChoice::Auto,
            docker_host: None,
            docker_context: Some("default".into()),
            ci: None,
            spec_error: None,
            registries: vec![RegistryFacts {
                host: "127.0.0.1:5000".into(),
                reachable: Ok("GET http://127.0.0.1:5000/v2/: HTTP/1.1 200 OK".into()),
                credentials: None,
            }],
        }
    }

    fn level(checks: &[Check], name: &str) -> Level {
        checks
            .iter()
            .find(|c| c.check == name)
            .map(|c| c.level)
            .unwrap_or_else(|| panic!("no check {name}"))
    }

    #[test]
    fn a_working_buildkit_setup_passes() {
        let checks = evaluate(&facts());
        assert!(!failed(&checks));
        assert!(checks.iter().all(|c| c.level == Level::Ok), "{checks:#?}");
        let builder = checks.iter().find(|c| c.check == "builder").unwrap();
        assert!(
            builder.message.contains("re-exports each stage"),
            "{}",
            builder.message
        );
    }

    #[test]
    fn a_new_client_without_buildx_warns_and_names_the_fix() {
        let mut f = facts();
        f.caps = Some(Capabilities {
            client: None,
            client_version: Some((28, 2)),
            ..Capabilities::default()
        });
        let checks = evaluate(&f);
        assert_eq!(level(&checks, "builder"), Level::Warn);
        assert!(checks.iter().any(|c| c
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("docker-buildx"))));
        assert!(!failed(&checks));
    }

    #[test]
    fn no_docker_or_no_daemon_fails() {
        let mut f = facts();
        f.server = Err("Cannot connect to the Docker daemon".into());
        assert!(failed(&evaluate(&f)));
        f.docker = Err("docker not found".into());
        let checks = evaluate(&f);
        assert_eq!(checks.len(), 1);
        assert!(failed(&checks));
    }

    #[test]
    fn remote_registries_without_credentials_warn() {
        let mut f = facts();
        f.registries = vec![RegistryFacts {
            host: "registry.example.com".into(),
            reachable: Err("cannot resolve registry.example.com".into()),
            credentials: None,
        }];
        let checks = evaluate(&f);
        assert_eq!(level(&checks, "registry registry.example.com"), Level::Warn);
        assert_eq!(
            level(&checks, "credentials registry.example.com"),
            Level::Warn
        );
        assert!(!failed(&checks));
    }

    #[test]
    fn credentials_come_from_ci_variables_or_the_docker_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths": {"registry.example.com": {}}}"#,
        )
        .unwrap();
        let d = dir.path().display().to_string();
        let env = move |k: &str| match k {
            "DOCKER_CONFIG" => Some(d.clone()),
            "CI_REGISTRY" => Some("registry.gitlab.com".into()),
            "CI_REGISTRY_PASSWORD" => Some("x".into()),
            _ => None,
        };
        assert!(credentials("registry.example.com", &env)
            .unwrap()
            .ends_with("config.json"));
        assert!(credentials("registry.gitlab.com", &env)
            .unwrap()
            .contains("CI_REGISTRY_PASSWORD"));
        assert_eq!(credentials("other.example.com", &env), None);
    }
}
