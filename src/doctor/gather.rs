//! Gathering doctor's facts: the I/O half (docker, the daemon, each registry host, the docker
//! config's credentials).

use super::{Facts, RegistryFacts, Server};
use crate::docker::{self, probe_command, Capabilities};
use crate::input::ci::{CiContext, Platform};
use crate::input::reference::is_loopback_registry;
use crate::plan::BuilderChoice;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Asks docker, the environment and each registry host. `env` reads environment variables,
/// `working_dir` is the current folder (both from the snapshot); the CI comes from the same
/// [`CiContext`] that `build` uses.
pub fn gather(
    program: &str,
    builder_mode: BuilderChoice,
    registries: &[String],
    spec_error: Option<String>,
    ci: &CiContext,
    env: &dyn Fn(&str) -> Option<String>,
    working_dir: &Path,
) -> Facts {
    let docker =
        docker::find(program, env("PATH").as_deref(), working_dir).map_err(|e| e.to_string());
    let (caps, server, docker_context) = match &docker {
        Ok(path) => (
            Some(doctor_probe(path, env)),
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
pub(super) fn credentials(host: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
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

/// What `build` would find, and the versions of the client and of buildx besides.
fn doctor_probe(docker: &Path, env: &dyn Fn(&str) -> Option<String>) -> Capabilities {
    let mut caps = docker::probe(docker, &docker::EngineEnv::from_env(env));
    docker::versions(docker, &mut caps);
    caps
}
