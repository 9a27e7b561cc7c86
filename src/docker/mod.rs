//! Finding the docker binary and probing what it can do, once, into [`Capabilities`], and the
//! one place where a step becomes a process. Planning never calls docker: it receives the
//! capabilities as a value.

use crate::error::Error;
use std::path::{Path, PathBuf};
use std::process::Child;

mod command;
pub use command::{probe_command, step_command};

/// What the docker client on this machine offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The client's version as it prints it, e.g. `28.2.2`.
    pub client: Option<String>,
    /// Client version, e.g. (28, 2).
    pub client_version: Option<(u32, u32)>,
    /// `docker buildx version` works.
    pub buildx: bool,
}

/// The docker binary's full path, or an environment error saying how to get one.
pub fn find(program: &str) -> Result<PathBuf, Error> {
    which::which(program).map_err(|_| {
        Error::environment(format!(
            "docker not found: `{program}` is not an executable on PATH\n  \
             hint: install the docker client, or name it with --docker PATH (or LAYERCACHE_DOCKER)"
        ))
    })
}

/// Asks the client for its version and whether the buildx plugin is there. Neither call needs
/// the daemon, and both run at once: they are most of layercache's own time per run. The daemon
/// is not probed at all; a step that cannot reach it says so (see `run`).
pub fn probe(docker: &Path) -> Capabilities {
    let quiet = |args: &[&str]| probe_command(docker, args).spawn().ok();
    let version = quiet(&["--version"]);
    let buildx = quiet(&["buildx", "version"]);
    let finished = |child: Option<Child>| {
        child
            .and_then(|c| c.wait_with_output().ok())
            .filter(|o| o.status.success())
    };
    let version_text = finished(version).map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    Capabilities {
        client: version_text.as_deref().map(client_version_text),
        client_version: version_text.as_deref().and_then(parse_version),
        buildx: finished(buildx).is_some(),
    }
}

/// `Docker version 28.2.2, build e6534b4` -> `28.2.2`.
pub fn client_version_text(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|w| w.trim_end_matches(',').to_string())
        .unwrap_or_else(|| text.trim().to_string())
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
}
