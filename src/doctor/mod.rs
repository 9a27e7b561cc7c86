//! `layercache doctor`: can this machine build with a registry cache, and if not, what to do.
//!
//! Two halves: [`gather`] asks docker, the environment and the registries (all the I/O), and
//! [`evaluate`] turns those facts into checks, each ok / warn / fail with a one-line fix. Tests
//! state facts by hand.

use crate::docker::{self, probe_command, Capabilities};
use crate::input::ci::{CiContext, Platform};
use crate::input::reference::is_loopback_registry;
use crate::plan::builder::{self, Builder, BuilderChoice};
use serde::Serialize;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
        Ok(s) => check("docker daemon", Level::Ok, format!("server {}, storage driver {}", s.version, s.storage_driver), None),
        Err(e) => check(
            "docker daemon",
            Level::Fail,
            format!("not reachable: {e}"),
            Some("start dockerd (or Docker Desktop), or point DOCKER_HOST / the docker context at a running one"),
        ),
    });
    checks.push(builder_check(f));
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

fn builder_check(f: &Facts) -> Check {
    let (builder, reason) = builder::choose(f.builder_mode, f.caps.as_ref());
    match builder {
        Builder::BuildKit => check(
            "builder",
            Level::Ok,
            format!(
                "{reason}; BuildKit's inline cache drops the records of steps taken from an imported \
                 cache (moby/buildkit#1981, #2274, #3730), so layercache re-exports each stage before \
                 pushing (off with --no-reexport)"
            ),
            None,
        ),
        Builder::Legacy => check(
            "builder",
            Level::Warn,
            format!("{reason}; cache images are pulled before each build (the alternating miss of BuildKit's inline cache does not occur here)"),
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

// ---------------------------------------------------------------------------------------------
// gathering the facts (I/O)

/// Asks docker, the environment and each registry host. `env` reads environment variables;
/// the CI comes from the same [`CiContext`] that `build` uses.
pub fn gather(
    program: &str,
    builder_mode: BuilderChoice,
    registries: &[String],
    spec_error: Option<String>,
    ci: &CiContext,
    env: &dyn Fn(&str) -> Option<String>,
) -> Facts {
    let docker = docker::find(program).map_err(|e| e.to_string());
    let (caps, server, docker_context) = match &docker {
        Ok(path) => (
            Some(docker::probe(path)),
            server(path),
            output(path, &["context", "show"]).map(|s| s.trim().to_string()),
        ),
        Err(e) => (None, Err(e.clone()), None),
    };
    let client_version = caps.as_ref().and_then(|c| c.client.clone());
    let registries = registries
        .iter()
        .map(|host| RegistryFacts {
            host: host.clone(),
            reachable: reach(host),
            credentials: credentials(host, env),
        })
        .collect();
    Facts {
        docker,
        client_version,
        caps,
        server,
        builder_mode,
        docker_host: env("DOCKER_HOST"),
        docker_context,
        ci: (ci.platform != Platform::Local).then(|| ci.platform.name().to_string()),
        spec_error,
        registries,
    }
}

fn output(docker: &Path, args: &[&str]) -> Option<String> {
    let out = probe_command(docker, args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn server(docker: &Path) -> Result<Server, String> {
    let out = probe_command(
        docker,
        &["info", "--format", "{{.ServerVersion}}|{{.Driver}}"],
    )
    .output()
    .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match text.split_once('|') {
        Some((version, driver)) if out.status.success() && !version.is_empty() => Ok(Server {
            version: version.into(),
            storage_driver: driver.into(),
        }),
        _ => {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(err
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no answer")
                .trim()
                .to_string())
        }
    }
}

/// A TCP connection to the registry; for a registry on this machine (plain HTTP, as docker
/// allows for loopback) also the answer of `GET /v2/`.
fn reach(host: &str) -> Result<String, String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => (name, port),
        _ => (
            if host == "docker.io" {
                "registry-1.docker.io"
            } else {
                host
            },
            "443",
        ),
    };
    let address = format!("{name}:{port}");
    let socket = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {name}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {name}"))?;
    let mut stream = TcpStream::connect_timeout(&socket, Duration::from_secs(3))
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    if !is_loopback_registry(host) {
        return Ok(format!("TCP connection to {address}"));
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let request = format!("GET /v2/ HTTP/1.0\r\nHost: {address}\r\n\r\n");
    let mut answer = String::new();
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.take(4096).read_to_string(&mut answer))
        .map_err(|e| format!("{address} did not answer GET /v2/: {e}"))?;
    let status = answer.lines().next().unwrap_or("").trim().to_string();
    Ok(format!("GET http://{address}/v2/: {status}"))
}

/// Where a login for `host` would come from: docker's config file, or the CI's variables.
fn credentials(host: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if env("CI_REGISTRY").as_deref() == Some(host) && env("CI_REGISTRY_PASSWORD").is_some() {
        return Some("CI_REGISTRY_PASSWORD (GitLab)".into());
    }
    if host == "ghcr.io" && env("GITHUB_TOKEN").is_some() {
        return Some("GITHUB_TOKEN (GitHub Actions)".into());
    }
    let dir = env("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".docker")))?;
    let path = dir.join("config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let named = |key: &str| {
        config[key]
            .as_object()
            .is_some_and(|m| m.keys().any(|k| k.contains(host)))
    };
    if named("auths") || named("credHelpers") {
        return Some(path.display().to_string());
    }
    config["credsStore"]
        .as_str()
        .map(|store| format!("the credential store `{store}` ({})", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            docker: Ok(PathBuf::from("/usr/bin/docker")),
            client_version: Some("20.10.24".into()),
            caps: Some(Capabilities {
                client: None,
                client_version: Some((20, 10)),
                buildx: false,
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
            buildx: false,
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
