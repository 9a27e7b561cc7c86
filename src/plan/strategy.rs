//! Which cache strategy an image is built with: the fastest one that stays warm on the engine
//! the probe found, unless the user names one (`--strategy`, spec `strategy:`).
//!
//! Measured on real engines (ENGINE.md, and this project's benchmark; README "Strategies"):
//! - an engine that can export a cache (the containerd image store, or a buildx builder with a
//!   docker-container, kubernetes, remote or cloud driver) is 2-3x faster with one
//!   `docker buildx build` per image and a registry cache in `mode=max`, which holds every
//!   stage's layers without per-stage builds;
//! - the docker driver on the classic image store refuses cache export ("Cache export is not
//!   supported for the docker driver"): per-stage builds with inline caches;
//! - on that store, BuildKit before 0.14 (Docker before 27) drops the records of steps it took
//!   from an imported cache (moby/buildkit#1981, #2274, #3730; fixed by #4796), so the next
//!   runner misses every other run unless each stage is re-exported from the local cache before
//!   its push; Docker 28.5 and the containerd store did not show the miss, so the re-export is
//!   skipped there (it costs 0.5-1 s per stage). Docker 27 was not measured: it ships BuildKit
//!   0.14 with the fix, so it is taken to behave like 28;
//! - a client from 23.0 without buildx refuses `DOCKER_BUILDKIT=1`: the legacy builder.

use super::builder::{self, Builder, BuilderChoice};
use crate::docker::{Capabilities, Driver, ImageStore};
use crate::error::Error;
use clap::ValueEnum;
use serde::Serialize;

/// What the user asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyChoice {
    /// The fastest strategy that stays warm on the engine found
    #[default]
    Auto,
    /// One `docker buildx build` per image with a registry cache (mode=max) and --push
    Registry,
    /// Per-stage `docker build --target` with inline caches, each stage's cache image pushed
    Inline,
    /// The legacy builder, cache images pulled first
    Legacy,
    /// Like registry, with the cache in a local folder (`cache_dir`) kept by the CI's own cache
    Local,
    /// Like registry, with the cache in GitHub Actions' cache service
    Gha,
}

/// How an image is built and where its cache lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Registry,
    Local,
    Gha,
    /// Per-stage inline caches; `reexport`: each stage built again from the local cache before
    /// its push, where the engine would otherwise drop records.
    Inline {
        reexport: bool,
    },
    /// The legacy builder; `cache`: pull cache images and build `--cache-from` them. The
    /// containerd image store cannot: its legacy builder fails the build at the first step it
    /// would take from a pulled image ("failed to restore cached image ... failed to read diff
    /// archive", 26.1 and 28.5, tests/fixtures/engines/E2E-MATRIX.md), so there it builds
    /// without a cache.
    Legacy {
        cache: bool,
    },
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Registry => "registry",
            Strategy::Local => "local",
            Strategy::Gha => "gha",
            Strategy::Inline { .. } => "inline",
            Strategy::Legacy { .. } => "legacy",
        }
    }

    /// One `docker buildx build` per image with an exported cache.
    pub fn exports_cache(self) -> bool {
        matches!(self, Strategy::Registry | Strategy::Local | Strategy::Gha)
    }

    pub fn builder(self) -> Builder {
        match self {
            Strategy::Legacy { .. } => Builder::Legacy,
            _ => Builder::BuildKit,
        }
    }
}

/// The strategy, and a line that says why, for the log and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub strategy: Strategy,
    pub reason: String,
}

/// Picks the strategy. `caps` is `None` when docker was not probed (`plan` without docker):
/// then `auto` plans what is right on the most engines' classic store. `reexport` is false
/// with `--no-reexport`. Asking for what the engine cannot do is an input error (exit 2),
/// before anything runs.
pub fn choose(
    choice: StrategyChoice,
    builder_choice: BuilderChoice,
    reexport: bool,
    caps: Option<&Capabilities>,
) -> Result<Chosen, Error> {
    let (builder, builder_reason) = builder::choose(builder_choice, caps);
    if builder == Builder::Legacy {
        return match choice {
            StrategyChoice::Auto | StrategyChoice::Legacy => Ok(legacy(caps, builder_reason)),
            other => Err(Error::input(format!(
                "the {} strategy needs BuildKit, but the {builder_reason}",
                name(other)
            ))
            .hint("install the docker-buildx plugin, or drop --builder legacy")),
        };
    }
    let inline = || Strategy::Inline {
        reexport: reexport && loses_records(caps),
    };
    match choice {
        StrategyChoice::Legacy => Ok(legacy(
            caps,
            "legacy builder (chosen with --strategy legacy)".into(),
        )),
        StrategyChoice::Inline => {
            refuse_inline_on_foreign_builder(caps)?;
            Ok(Chosen {
                strategy: inline(),
                reason: "per-stage inline caches (chosen)".into(),
            })
        }
        StrategyChoice::Registry | StrategyChoice::Local | StrategyChoice::Gha => {
            if let Some(why_not) = caps.and_then(cannot_export) {
                return Err(Error::input(format!(
                    "the {} strategy exports a BuildKit cache, which this engine cannot: {why_not}",
                    name(choice)
                ))
                .hint(
                    "use the containerd image store (dockerd \"features\": {\"containerd-snapshotter\": true}), \
                     or a builder with the docker-container driver (docker buildx create --use), \
                     or --strategy auto",
                ));
            }
            let strategy = match choice {
                StrategyChoice::Registry => Strategy::Registry,
                StrategyChoice::Local => Strategy::Local,
                _ => Strategy::Gha,
            };
            Ok(Chosen {
                strategy,
                reason: format!("{} cache (chosen)", name(choice)),
            })
        }
        StrategyChoice::Auto => Ok(auto(caps, inline())),
    }
}

/// [`choose`] for an image built for `platforms` platforms. One multi-platform image needs one
/// `docker buildx build --platform a,b` with an exported cache: the per-stage strategies push
/// each stage with `docker push`, and the classic image store (and the legacy builder) holds
/// one platform per tag. So `auto` picks an exported cache where the engine can (and, docker
/// not probed, plans one), and a multi-platform image is refused (exit 2) where it cannot.
pub fn choose_for_platforms(
    choice: StrategyChoice,
    builder_choice: BuilderChoice,
    reexport: bool,
    caps: Option<&Capabilities>,
    platforms: usize,
) -> Result<Chosen, Error> {
    if platforms <= 1 {
        return choose(choice, builder_choice, reexport, caps);
    }
    let refuse = |why: String| {
        Error::input(format!("a multi-platform image ({platforms} platforms) needs one buildx build with an exported cache, but {why}"))
            .hint(
                "use the containerd image store (dockerd \"features\": {\"containerd-snapshotter\": true}) \
                 or a builder with the docker-container driver, and --strategy auto or registry; \
                 or build one platform (--platform linux/amd64)",
            )
    };
    match choice {
        StrategyChoice::Inline => {
            return Err(refuse(
                "--strategy inline builds each stage on its own and pushes it with `docker push`"
                    .into(),
            ))
        }
        StrategyChoice::Legacy => {
            return Err(refuse("the legacy builder builds one platform".into()))
        }
        _ => {}
    }
    let chosen = choose(choice, builder_choice, reexport, caps)?;
    if chosen.strategy.exports_cache() {
        return Ok(chosen);
    }
    if matches!(chosen.strategy, Strategy::Legacy { .. }) {
        return Err(refuse(chosen.reason));
    }
    match caps.map(cannot_export) {
        None => Ok(Chosen {
            strategy: Strategy::Registry,
            reason: "registry cache, mode=max (a multi-platform image is one buildx build with an \
                     exported cache; docker was not probed)"
                .into(),
        }),
        Some(None) => Ok(chosen),
        Some(Some(why_not)) => Err(refuse(format!(
            "this engine cannot export a cache: {why_not}"
        ))),
    }
}

/// Whether this engine can build one multi-platform image (what `doctor` says): `Err` says why not.
pub fn multi_platform(caps: &Capabilities) -> Result<String, String> {
    match cannot_export(caps) {
        None => Ok(format!(
            "{} can build a multi-platform image in one build (--platform a,b) with one cache",
            exporter(caps)
        )),
        Some(why_not) => Err(why_not),
    }
}

/// The legacy builder, with its pulled caches unless the containerd store breaks them.
fn legacy(caps: Option<&Capabilities>, reason: String) -> Chosen {
    let containerd = caps
        .and_then(|c| c.daemon.as_ref())
        .is_some_and(|d| d.store == ImageStore::Containerd);
    if containerd {
        return Chosen {
            strategy: Strategy::Legacy { cache: false },
            reason: format!(
                "{reason}; WITHOUT a cache: on the containerd image store the legacy builder fails \
                 on cache images it pulled, so none are used (install docker-buildx for the \
                 registry cache)"
            ),
        };
    }
    Chosen {
        strategy: Strategy::Legacy { cache: true },
        reason,
    }
}

fn auto(caps: Option<&Capabilities>, inline: Strategy) -> Chosen {
    let Some(caps) = caps else {
        return Chosen {
            strategy: inline,
            reason: "per-stage inline caches (docker was not probed; the plan shows what most \
                     engines with the classic image store need)"
                .into(),
        };
    };
    match cannot_export(caps) {
        None => Chosen {
            strategy: Strategy::Registry,
            reason: format!(
                "registry cache, mode=max ({} can export a cache: one build per image holds every stage)",
                exporter(caps)
            ),
        },
        Some(why_not) => {
            let reexport = match inline {
                Strategy::Inline { reexport: true } => {
                    "; layercache re-exports each stage before its push, as this engine's BuildKit \
                     drops the records of steps taken from an imported cache (moby/buildkit#1981, \
                     #2274, #3730; off with --no-reexport)"
                }
                _ => "",
            };
            Chosen {
                strategy: inline,
                reason: format!("per-stage inline caches ({why_not}){reexport}"),
            }
        }
    }
}

/// Why `docker buildx build --cache-to` would be refused here, or `None` when it works.
pub fn cannot_export(caps: &Capabilities) -> Option<String> {
    if caps.buildx.is_none() {
        return Some("the docker client has no buildx plugin".into());
    }
    match &caps.builder {
        Some(b) if b.driver != Driver::Docker => None,
        Some(b) => match &caps.daemon {
            Some(d) if d.store == ImageStore::Containerd => None,
            Some(_) => Some(format!(
                "builder `{}` uses the docker driver on the classic image store, which refuses cache export",
                b.name
            )),
            None => Some("the daemon did not answer, so its image store is unknown".into()),
        },
        None => Some("`docker buildx inspect` found no builder".into()),
    }
}

/// What exports the cache, for messages: the builder's driver, or the containerd store.
fn exporter(caps: &Capabilities) -> String {
    match &caps.builder {
        Some(b) if b.driver != Driver::Docker => {
            format!("builder `{}` (driver {})", b.name, b.driver.name())
        }
        _ => "the containerd image store".into(),
    }
}

/// Whether the inline cache of this engine drops the records of imported steps (the
/// alternating miss): BuildKit before 0.14 on the classic store, or an engine not probed.
pub fn loses_records(caps: Option<&Capabilities>) -> bool {
    let Some(daemon) = caps.and_then(|c| c.daemon.as_ref()) else {
        return true;
    };
    daemon.store == ImageStore::Classic && daemon.version_number.is_none_or(|(major, _)| major < 27)
}

/// `docker build` with `BUILDX_BUILDER` naming a builder that is not the docker driver builds
/// into that builder's own cache: the image would not be in the daemon for `docker push`.
fn refuse_inline_on_foreign_builder(caps: Option<&Capabilities>) -> Result<(), Error> {
    let Some(caps) = caps else { return Ok(()) };
    match &caps.builder {
        Some(b) if caps.buildx_builder_env && b.driver != Driver::Docker => Err(Error::input(format!(
            "the inline strategy runs `docker build`, which BUILDX_BUILDER sends to builder `{}` (driver {}): \
             its images stay in the builder's cache and `docker push` would fail",
            b.name,
            b.driver.name()
        ))
        .hint("use --strategy registry (or auto) with this builder, or unset BUILDX_BUILDER")),
        _ => Ok(()),
    }
}

fn name(choice: StrategyChoice) -> &'static str {
    match choice {
        StrategyChoice::Auto => "auto",
        StrategyChoice::Registry => "registry",
        StrategyChoice::Inline => "inline",
        StrategyChoice::Legacy => "legacy",
        StrategyChoice::Local => "local",
        StrategyChoice::Gha => "gha",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::{BuildxBuilder, Daemon};

    fn engine(version: (u32, u32), store: ImageStore, driver: Option<Driver>) -> Capabilities {
        Capabilities {
            client: Some("28.2.2".into()),
            client_version: Some((28, 2)),
            buildx: driver
                .as_ref()
                .map(|_| crate::docker::BuildxPlugin::debian()),
            builder: driver.map(|driver| BuildxBuilder {
                name: "default".into(),
                driver,
                nodes: 1,
            }),
            buildx_builder_env: false,
            daemon: Some(Daemon {
                version: format!("{}.{}.0", version.0, version.1),
                version_number: Some(version),
                store,
            }),
        }
    }

    fn auto_on(caps: &Capabilities) -> Strategy {
        choose(StrategyChoice::Auto, BuilderChoice::Auto, true, Some(caps))
            .unwrap()
            .strategy
    }

    #[test]
    fn auto_follows_the_measured_table() {
        use ImageStore::{Classic, Containerd};
        let docker = Some(Driver::Docker);
        assert_eq!(
            auto_on(&engine((26, 1), Classic, docker.clone())),
            Strategy::Inline { reexport: true }
        );
        assert_eq!(
            auto_on(&engine((26, 1), Containerd, docker.clone())),
            Strategy::Registry
        );
        assert_eq!(
            auto_on(&engine((28, 5), Classic, docker.clone())),
            Strategy::Inline { reexport: false }
        );
        assert_eq!(
            auto_on(&engine((28, 5), Containerd, docker.clone())),
            Strategy::Registry
        );
        // A docker-container builder exports caches whatever the daemon's store.
        assert_eq!(
            auto_on(&engine((26, 1), Classic, Some(Driver::DockerContainer))),
            Strategy::Registry
        );
        for driver in [Driver::Kubernetes, Driver::Remote, Driver::Cloud] {
            assert_eq!(
                auto_on(&engine((20, 10), Classic, Some(driver))),
                Strategy::Registry
            );
        }
    }

    #[test]
    fn clients_without_buildx() {
        // 20.10's client builds with the daemon's BuildKit from DOCKER_BUILDKIT=1.
        let mut old = engine((20, 10), ImageStore::Classic, None);
        old.client_version = Some((20, 10));
        assert_eq!(auto_on(&old), Strategy::Inline { reexport: true });
        // 23.0 and later refuse DOCKER_BUILDKIT=1 without buildx.
        let new = engine((28, 5), ImageStore::Containerd, None);
        assert_eq!(auto_on(&new), Strategy::Legacy { cache: false });
        let e = choose(
            StrategyChoice::Registry,
            BuilderChoice::Auto,
            true,
            Some(&new),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("needs BuildKit"), "{e}");
    }

    #[test]
    fn the_legacy_builder_uses_no_cache_on_the_containerd_store() {
        let classic = engine((28, 5), ImageStore::Classic, None);
        assert_eq!(auto_on(&classic), Strategy::Legacy { cache: true });
        let containerd = engine((28, 5), ImageStore::Containerd, None);
        let chosen = choose(
            StrategyChoice::Auto,
            BuilderChoice::Auto,
            true,
            Some(&containerd),
        )
        .unwrap();
        assert_eq!(chosen.strategy, Strategy::Legacy { cache: false });
        assert!(
            chosen.reason.contains("WITHOUT a cache"),
            "{}",
            chosen.reason
        );
    }

    #[test]
    fn the_reexport_is_kept_only_where_records_are_lost() {
        assert!(loses_records(None));
        assert!(loses_records(Some(&engine(
            (20, 10),
            ImageStore::Classic,
            None
        ))));
        assert!(!loses_records(Some(&engine(
            (27, 0),
            ImageStore::Classic,
            None
        ))));
        assert!(!loses_records(Some(&engine(
            (26, 1),
            ImageStore::Containerd,
            None
        ))));
        let caps = engine((26, 1), ImageStore::Classic, Some(Driver::Docker));
        let off = choose(
            StrategyChoice::Auto,
            BuilderChoice::Auto,
            false,
            Some(&caps),
        )
        .unwrap();
        assert_eq!(off.strategy, Strategy::Inline { reexport: false });
    }

    #[test]
    fn asking_for_what_the_engine_cannot_do_is_refused() {
        let caps = engine((28, 5), ImageStore::Classic, Some(Driver::Docker));
        for choice in [
            StrategyChoice::Registry,
            StrategyChoice::Local,
            StrategyChoice::Gha,
        ] {
            let e = choose(choice, BuilderChoice::Auto, true, Some(&caps)).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("refuses cache export"), "{e}");
        }
        // Not probed: planned as asked.
        let chosen = choose(StrategyChoice::Registry, BuilderChoice::Auto, true, None).unwrap();
        assert_eq!(chosen.strategy, Strategy::Registry);
    }

    #[test]
    fn inline_is_refused_where_docker_build_would_miss_the_daemon() {
        let mut caps = engine((28, 5), ImageStore::Classic, Some(Driver::DockerContainer));
        assert!(choose(
            StrategyChoice::Inline,
            BuilderChoice::Auto,
            true,
            Some(&caps)
        )
        .is_ok());
        caps.buildx_builder_env = true;
        let e = choose(
            StrategyChoice::Inline,
            BuilderChoice::Auto,
            true,
            Some(&caps),
        )
        .unwrap_err();
        assert!(e.to_string().contains("BUILDX_BUILDER"), "{e}");
    }

    #[test]
    fn the_builder_flag_still_decides_legacy() {
        let caps = engine((28, 5), ImageStore::Containerd, Some(Driver::Docker));
        let legacy = choose(
            StrategyChoice::Auto,
            BuilderChoice::Legacy,
            true,
            Some(&caps),
        )
        .unwrap();
        assert_eq!(legacy.strategy, Strategy::Legacy { cache: false });
        assert!(choose(
            StrategyChoice::Registry,
            BuilderChoice::Legacy,
            true,
            Some(&caps)
        )
        .is_err());
    }
}
