//! Which builder runs the builds: BuildKit or the legacy builder, chosen from what the user
//! asked for and what the docker client can do.

use crate::docker::Capabilities;
use clap::ValueEnum;
use serde::Serialize;
use std::collections::BTreeMap;

/// How images get built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// BuildKit (DOCKER_BUILDKIT=1): inline cache, no pre-pull needed
    #[value(name = "buildkit")]
    BuildKit,
    /// The legacy builder (DOCKER_BUILDKIT=0): `--cache-from` only sees images pulled
    /// beforehand; for a client from 23.0 without buildx
    Legacy,
}

/// What the user asked for with `--builder` (or `LAYERCACHE_BUILDER`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuilderChoice {
    /// BuildKit when the client can use it, else the legacy builder
    #[default]
    Auto,
    /// BuildKit (DOCKER_BUILDKIT=1)
    #[value(name = "buildkit")]
    BuildKit,
    /// The legacy builder (DOCKER_BUILDKIT=0)
    Legacy,
}

pub(crate) fn builder_env(builder: Builder) -> BTreeMap<String, String> {
    let value = match builder {
        Builder::BuildKit => "1",
        // Set explicitly: clients from 23.0 default to BuildKit and fail without buildx.
        Builder::Legacy => "0",
    };
    BTreeMap::from([("DOCKER_BUILDKIT".to_string(), value.to_string())])
}

/// Picks the builder and says why, in one line a user can act on.
pub fn choose(mode: BuilderChoice, caps: Option<&Capabilities>) -> (Builder, String) {
    match (mode, caps) {
        (BuilderChoice::BuildKit, _) => (Builder::BuildKit, "BuildKit (chosen with --builder buildkit)".into()),
        (BuilderChoice::Legacy, _) => (Builder::Legacy, "legacy builder (chosen with --builder legacy)".into()),
        (BuilderChoice::Auto, None) => (
            Builder::BuildKit,
            "BuildKit (docker was not probed; the plan shows what a BuildKit-capable client runs)".into(),
        ),
        (BuilderChoice::Auto, Some(c)) if c.buildx.is_some() => (Builder::BuildKit, "BuildKit (buildx plugin found)".into()),
        (BuilderChoice::Auto, Some(c)) => match c.client_version {
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
    fn builder_choice_follows_buildx_and_version() {
        let new_without_buildx = Capabilities {
            client: None,
            client_version: Some((28, 2)),
            ..Capabilities::default()
        };
        let old = Capabilities {
            client: None,
            client_version: Some((20, 10)),
            ..Capabilities::default()
        };
        let with_buildx = Capabilities {
            client: None,
            client_version: Some((28, 2)),
            buildx: Some(crate::docker::BuildxPlugin::debian()),
            ..Capabilities::default()
        };
        assert_eq!(
            choose(BuilderChoice::Auto, Some(&new_without_buildx)).0,
            Builder::Legacy
        );
        assert!(choose(BuilderChoice::Auto, Some(&new_without_buildx))
            .1
            .contains("buildx"));
        assert_eq!(choose(BuilderChoice::Auto, Some(&old)).0, Builder::BuildKit);
        assert_eq!(
            choose(BuilderChoice::Auto, Some(&with_buildx)).0,
            Builder::BuildKit
        );
        assert_eq!(choose(BuilderChoice::Auto, None).0, Builder::BuildKit);
        assert_eq!(
            choose(BuilderChoice::Legacy, Some(&with_buildx)).0,
            Builder::Legacy
        );
        assert_eq!(
            choose(BuilderChoice::BuildKit, Some(&new_without_buildx)).0,
            Builder::BuildKit
        );
    }
}
