//! Finding the docker binary and probing what it can do, once, into [`Capabilities`].
//! Planning never calls docker: it receives the chosen [`Builder`] as a value.

use crate::error::Error;
use crate::plan::Builder;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// What the user asked for with `--builder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderMode {
    Auto,
    BuildKit,
    Legacy,
}

/// What the docker client on this machine offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Client version, e.g. (28, 2).
    pub client_version: Option<(u32, u32)>,
    /// `docker buildx version` works.
    pub buildx: bool,
}

/// The docker binary's full path, or an environment error saying how to get one.
pub fn find(program: &str) -> Result<PathBuf, Error> {
    which::which(program).map_err(|_| {
        Error::Environment(format!(
            "docker not found: `{program}` is not an executable on PATH\n  \
             hint: install the docker client, or name it with --docker PATH (or LAYERCACHE_DOCKER)"
        ))
    })
}

/// Asks the client for its version and whether the buildx plugin is there. Neither call needs
/// the daemon, and both run at once: they are most of layercache's own time per run. The daemon
/// is not probed at all; a step that cannot reach it says so (see `run`).
pub fn probe(docker: &Path) -> Capabilities {
    let quiet = |args: &[&str]| {
        Command::new(docker)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    };
    let version = quiet(&["--version"]);
    let buildx = quiet(&["buildx", "version"]);
    let finished = |child: Option<Child>| {
        child
            .and_then(|c| c.wait_with_output().ok())
            .filter(|o| o.status.success())
    };
    let client_version =
        finished(version).and_then(|o| parse_version(&String::from_utf8_lossy(&o.stdout)));
    Capabilities {
        client_version,
        buildx: finished(buildx).is_some(),
    }
}

/// `Docker version 28.2.2, build e6534b4` -> (28, 2).
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = v.trim_end_matches(',').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// Picks the builder and says why, in one line a user can act on.
pub fn choose_builder(mode: BuilderMode, caps: Option<&Capabilities>) -> (Builder, String) {
    match (mode, caps) {
        (BuilderMode::BuildKit, _) => (Builder::BuildKit, "BuildKit (chosen with --builder buildkit)".into()),
        (BuilderMode::Legacy, _) => (Builder::Legacy, "legacy builder (chosen with --builder legacy)".into()),
        (BuilderMode::Auto, None) => (
            Builder::BuildKit,
            "BuildKit (docker was not probed; the plan shows what a BuildKit-capable client runs)".into(),
        ),
        (BuilderMode::Auto, Some(c)) if c.buildx => (Builder::BuildKit, "BuildKit (buildx plugin found)".into()),
        (BuilderMode::Auto, Some(c)) => match c.client_version {
            // Clients before 23.0 build with BuildKit from DOCKER_BUILDKIT=1 without buildx.
            Some((major, minor)) if major < 23 => (
                Builder::BuildKit,
                format!("BuildKit (docker client {major}.{minor} builds with DOCKER_BUILDKIT=1)"),
            ),
            version => (
                Builder::Legacy,
                format!(
                    "legacy builder: the docker client{} has no buildx plugin, and clients from 23.0 refuse \
                     DOCKER_BUILDKIT=1 without it; install docker-buildx for BuildKit's faster, \
                     registry-friendly cache (or force with --builder)",
                    version.map(|(a, b)| format!(" {a}.{b}")).unwrap_or_default()
                ),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_client_output() {
        assert_eq!(
            parse_version("Docker version 28.2.2, build e6534b4"),
            Some((28, 2))
        );
        assert_eq!(
            parse_version("Docker version 20.10.24+dfsg1, build 297e128"),
            Some((20, 10))
        );
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn builder_choice_follows_buildx_and_version() {
        let new_without_buildx = Capabilities {
            client_version: Some((28, 2)),
            buildx: false,
        };
        let old = Capabilities {
            client_version: Some((20, 10)),
            buildx: false,
        };
        let with_buildx = Capabilities {
            client_version: Some((28, 2)),
            buildx: true,
        };
        assert_eq!(
            choose_builder(BuilderMode::Auto, Some(&new_without_buildx)).0,
            Builder::Legacy
        );
        assert!(choose_builder(BuilderMode::Auto, Some(&new_without_buildx))
            .1
            .contains("buildx"));
        assert_eq!(
            choose_builder(BuilderMode::Auto, Some(&old)).0,
            Builder::BuildKit
        );
        assert_eq!(
            choose_builder(BuilderMode::Auto, Some(&with_buildx)).0,
            Builder::BuildKit
        );
        assert_eq!(choose_builder(BuilderMode::Auto, None).0, Builder::BuildKit);
        assert_eq!(
            choose_builder(BuilderMode::Legacy, Some(&with_buildx)).0,
            Builder::Legacy
        );
        assert_eq!(
            choose_builder(BuilderMode::BuildKit, Some(&new_without_buildx)).0,
            Builder::BuildKit
        );
    }
}
