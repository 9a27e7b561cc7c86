//! Where the docker client looks, read once from the environment snapshot and the client's
//! config file: its config folder (plugins, buildx's builders), the daemon endpoint of its
//! context, and the builder `BUILDX_BUILDER` names. The probe answers from these files and the
//! daemon's socket instead of starting docker (issue 11: four docker processes cost 280-590 ms).

use std::path::{Path, PathBuf};

/// The docker client's surroundings, as its own lookup rules would find them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineEnv {
    /// `$DOCKER_CONFIG`, else `~/.docker`.
    pub config_dir: Option<PathBuf>,
    /// `cliPluginsExtraDirs` of the config file, searched before the config folder's own.
    pub extra_plugin_dirs: Vec<PathBuf>,
    /// The daemon endpoint when the client uses its default context (`DOCKER_HOST`, else the
    /// default socket); `None` under another context, whose endpoint only docker resolves.
    pub endpoint: Option<String>,
    /// `BUILDX_BUILDER`: `docker buildx build` and `docker build` both use that builder.
    pub buildx_builder: Option<String>,
    /// buildx's own folder: `$BUILDX_CONFIG`, else `<config folder>/buildx`.
    pub buildx_dir: Option<PathBuf>,
    /// The client speaks TLS to the daemon (`DOCKER_TLS_VERIFY` or `DOCKER_TLS` set).
    pub tls: bool,
}

/// Where the probe can ask the daemon's API itself: a unix socket, or plain TCP (GitLab's
/// `docker:dind` with TLS turned off listens on `tcp://docker:2375`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAddress {
    Unix(PathBuf),
    Tcp(String),
}

/// Where a daemon listens when nothing says otherwise (docker/cli's default host on Linux).
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

impl EngineEnv {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> EngineEnv {
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        let config_dir = super::config::config_dir(env);
        let config = config_dir
            .as_deref()
            .and_then(|d| std::fs::read_to_string(d.join("config.json")).ok())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .unwrap_or_default();
        let extra_plugin_dirs = config["cliPluginsExtraDirs"]
            .as_array()
            .map(|dirs| {
                dirs.iter()
                    .filter_map(|d| d.as_str())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        // docker/cli's order: DOCKER_HOST selects the default context, then DOCKER_CONTEXT,
        // then the config file's currentContext.
        let host = set("DOCKER_HOST");
        let context = match &host {
            Some(_) => None,
            None => set("DOCKER_CONTEXT")
                .or_else(|| config["currentContext"].as_str().map(str::to_string))
                .filter(|c| !c.is_empty() && c != "default"),
        };
        let endpoint = match context {
            Some(_) => None,
            None => Some(host.unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())),
        };
        let buildx_dir = set("BUILDX_CONFIG")
            .map(PathBuf::from)
            .or_else(|| config_dir.as_ref().map(|d| d.join("buildx")));
        EngineEnv {
            config_dir,
            extra_plugin_dirs,
            endpoint,
            buildx_builder: set("BUILDX_BUILDER"),
            buildx_dir,
            tls: set("DOCKER_TLS_VERIFY").is_some() || set("DOCKER_TLS").is_some(),
        }
    }

    /// The daemon's unix socket, when the endpoint is one.
    pub fn unix_socket(&self) -> Option<&Path> {
        self.endpoint
            .as_deref()?
            .strip_prefix("unix://")
            .map(Path::new)
    }

    /// The daemon's API without docker in between: its unix socket, or a `tcp://` endpoint
    /// without TLS (TLS, ssh:// and other contexts are left to docker).
    pub fn daemon_address(&self) -> Option<DaemonAddress> {
        if let Some(socket) = self.unix_socket() {
            return Some(DaemonAddress::Unix(socket.to_path_buf()));
        }
        let host = self.endpoint.as_deref()?.strip_prefix("tcp://")?;
        let host = host.trim_end_matches('/');
        (!self.tls && !host.is_empty() && !host.contains('/'))
            .then(|| DaemonAddress::Tcp(host.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env_of(pairs: &[(&str, &str)]) -> EngineEnv {
        let vars: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EngineEnv::from_env(&|k: &str| vars.get(k).cloned())
    }

    #[test]
    fn the_endpoint_is_docker_host_or_the_default_socket_in_the_default_context() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().to_str().unwrap();
        let plain = env_of(&[("DOCKER_CONFIG", config)]);
        assert_eq!(plain.unix_socket(), Some(Path::new("/var/run/docker.sock")));
        assert_eq!(plain.buildx_dir, Some(dir.path().join("buildx")));
        let host = env_of(&[
            ("DOCKER_CONFIG", config),
            ("DOCKER_HOST", "unix:///tmp/d.sock"),
        ]);
        assert_eq!(host.unix_socket(), Some(Path::new("/tmp/d.sock")));
        let tcp = env_of(&[
            ("DOCKER_CONFIG", config),
            ("DOCKER_HOST", "tcp://docker:2375"),
        ]);
        assert_eq!(tcp.endpoint.as_deref(), Some("tcp://docker:2375"));
        assert_eq!(tcp.unix_socket(), None);
        assert_eq!(
            tcp.daemon_address(),
            Some(DaemonAddress::Tcp("docker:2375".into()))
        );
        // TLS (GitLab's docker:dind default): docker's own client does the handshake.
        let tls = env_of(&[
            ("DOCKER_CONFIG", config),
            ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
        ]);
        assert_eq!(tls.daemon_address(), None);
        let ssh = env_of(&[("DOCKER_CONFIG", config), ("DOCKER_HOST", "ssh://me@host")]);
        assert_eq!(ssh.daemon_address(), None);
        // Another context: only docker knows its endpoint. DOCKER_HOST wins over it.
        let ctx = env_of(&[("DOCKER_CONFIG", config), ("DOCKER_CONTEXT", "remote")]);
        assert_eq!(ctx.endpoint, None);
        let both = env_of(&[
            ("DOCKER_CONFIG", config),
            ("DOCKER_CONTEXT", "remote"),
            ("DOCKER_HOST", "unix:///tmp/d.sock"),
        ]);
        assert_eq!(both.unix_socket(), Some(Path::new("/tmp/d.sock")));
        assert_eq!(
            env_of(&[("DOCKER_CONFIG", config), ("DOCKER_CONTEXT", "default")]).unix_socket(),
            Some(Path::new("/var/run/docker.sock"))
        );
    }

    #[test]
    fn the_config_file_names_the_context_and_extra_plugin_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext": "colima", "cliPluginsExtraDirs": ["/opt/plugins"]}"#,
        )
        .unwrap();
        let env = env_of(&[
            ("DOCKER_CONFIG", dir.path().to_str().unwrap()),
            ("BUILDX_CONFIG", "/etc/buildx"),
            ("BUILDX_BUILDER", "ci"),
        ]);
        assert_eq!(env.endpoint, None);
        assert_eq!(env.extra_plugin_dirs, vec![PathBuf::from("/opt/plugins")]);
        assert_eq!(env.buildx_dir, Some(PathBuf::from("/etc/buildx")));
        assert_eq!(env.buildx_builder.as_deref(), Some("ci"));
    }
}
