//! The planner: a pure function from image configurations, their Dockerfiles and what the
//! engine can do (the probe's [`Capabilities`], as a value) to a [`Plan`], the ordered docker
//! steps. No I/O happens here; tests state every input.
//!
//! Each image gets a strategy (`strategy`): one build with an exported cache (`cache_export`:
//! registry, local folder or GitHub's cache), or per-stage builds with inline caches
//! (`per_stage`, also the legacy builder's). Whatever the strategy, nothing is published before
//! every build of the image succeeded.

pub mod builder;
mod cache_export;
pub mod concurrency;
pub mod logins;
mod per_stage;
mod refs;
mod stages;
pub mod step;
pub mod strategy;

pub use crate::input::ImageInput;
pub use builder::{Builder, BuilderChoice};
pub use logins::{logins, logouts, LoginFlags};
pub use strategy::{Strategy, StrategyChoice};

use crate::docker::Capabilities;
use crate::error::Error;
use crate::input::ci::Login;
use crate::input::spec::ImageConfig;
use logins::{login_step, logout_step};
use step::{Retry, Step};

#[derive(Debug, Clone)]
pub struct Options {
    /// The docker program to run, as the user named it.
    pub docker: String,
    /// `--builder`: auto, or BuildKit / the legacy builder forced.
    pub builder: BuilderChoice,
    /// What the engine can do; `None` when docker was not probed (`plan` without docker).
    pub caps: Option<Capabilities>,
    /// Tries and backoff for pulls and pushes.
    pub retry: Retry,
    /// With several images, finish the others after one fails (and still exit non-zero).
    pub keep_going: bool,
    /// `--jobs` or the spec's `jobs:`: docker commands at once; `None`: the default.
    pub jobs: Option<usize>,
    /// The machine's cores, for the default of `jobs` (`concurrency::default_jobs`).
    pub parallelism: usize,
    /// Per-stage inline caches: build each stage a second time from the local cache before
    /// pushing, where the engine would drop records (see `StageBuild::reexport_args`); false
    /// with `--no-reexport`.
    pub reexport: bool,
    /// The branch being built and the default branch (tag-safe slugs), for branch caches.
    pub branch: Option<String>,
    pub default_branch: Option<String>,
    /// Registries to log in to before anything else.
    pub logins: Vec<Login>,
    /// Registries to log out of at the end, whatever happened (see [`Plan::logouts`]).
    pub logouts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub builder: Builder,
    pub keep_going: bool,
    /// At most this many docker commands run at once (1: one after another, in plan order).
    pub jobs: usize,
    /// `docker login` steps, run before any image; a failure stops everything.
    pub logins: Vec<Step>,
    pub images: Vec<ImagePlan>,
    /// `docker logout` steps, run after everything else also when a step failed or the run was
    /// interrupted, so credentials do not outlive the run on a shared runner (as
    /// docker/login-action's post step). Their failure is only reported.
    pub logouts: Vec<Step>,
    /// Things the user should fix, found while planning (e.g. an unnamed stage).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePlan {
    /// The image repository.
    pub name: String,
    pub strategy: Strategy,
    /// Why this strategy, in a line.
    pub strategy_reason: String,
    pub dockerfile: String,
    /// Stage indices in build order, the shipped target last.
    pub targets: Vec<usize>,
    /// Where the cache is written: the ref each built stage is pushed to, in build order; or
    /// the one cache ref (folder, scope) of an exported cache.
    pub cache_refs: Vec<String>,
    pub steps: Vec<Step>,
    /// The images (indices into `Plan::images`) whose every step must have succeeded before
    /// this image's first step: those its Dockerfile builds on (see `concurrency`).
    pub after: Vec<usize>,
    /// The platforms built (`--platform`), empty for the engine's own.
    pub platforms: Vec<String>,
}

impl Plan {
    /// Every step in the order it runs: logins, then each image's, then the logouts.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.logins
            .iter()
            .chain(self.images.iter().flat_map(|i| i.steps.iter()))
            .chain(&self.logouts)
    }
}

pub fn plan(images: &[ImageInput], opts: &Options) -> Result<Plan, Error> {
    let (builder, _) = builder::choose(opts.builder, opts.caps.as_ref());
    let mut warnings = Vec::new();
    let mut planned = images
        .iter()
        .map(|input| plan_image(input, opts, &mut warnings))
        .collect::<Result<Vec<_>, _>>()?;
    let dependencies = concurrency::image_dependencies(images, &planned)?;
    for (plan, after) in planned.iter_mut().zip(dependencies) {
        plan.after = after;
    }
    let jobs = opts.jobs.unwrap_or_else(|| {
        concurrency::default_jobs(opts.parallelism, planned.iter().map(|i| i.strategy))
    });
    let logins = opts
        .logins
        .iter()
        .map(|l| login_step(l, opts, builder))
        .collect();
    let logouts = opts
        .logouts
        .iter()
        .map(|r| logout_step(r, opts, builder))
        .collect();
    Ok(Plan {
        builder,
        keep_going: opts.keep_going,
        jobs,
        logins,
        images: planned,
        logouts,
        warnings,
    })
}

fn plan_image(
    input: &ImageInput,
    opts: &Options,
    warnings: &mut Vec<String>,
) -> Result<ImagePlan, Error> {
    let chosen = strategy::choose_for_platforms(
        input.config.strategy,
        opts.builder,
        opts.reexport,
        opts.caps.as_ref(),
        input.config.platforms.len(),
    )?;
    tracing::info!("{}: {}", input.config.image, chosen.reason);
    let path = input.config.dockerfile.display();
    for w in &input.dockerfile.warnings {
        warnings.push(format!("{path}:{}:{}: {}", w.line, w.column, w.message));
    }
    if let (Builder::Legacy, Some((key, place))) = (
        chosen.strategy.builder(),
        input.config.extras.buildkit_only.first(),
    ) {
        return Err(place.error(
            &format!(
                "`{key}` needs BuildKit, and {} is built with the legacy builder",
                input.config.image
            ),
            "install the docker-buildx plugin (or pass --builder buildkit), or remove the key",
        ));
    }
    if chosen.strategy == (Strategy::Legacy { cache: false }) {
        warnings.push(format!("{}: {}", input.config.image, chosen.reason));
    }
    let mut plan = if chosen.strategy.exports_cache() {
        cache_export::plan_image(input, opts, chosen.strategy, warnings)?
    } else {
        per_stage::plan_image(input, opts, chosen.strategy, warnings)?
    };
    plan.strategy_reason = chosen.reason;
    Ok(plan)
}

/// The image's refs under its tags, in the order they are published: the immutable tags (the
/// commit, a version, and the other refs Compose's `build.tags` names) first, the moving ones
/// (`latest`, the branch's or the default branch's name) last, each group in the spec's order,
/// the further refs after the image's own. A run that fails part-way then never leaves
/// `latest` on an image whose caches and commit tag are missing.
fn publish_refs(config: &ImageConfig, opts: &Options) -> PublishRefs {
    let (moving, immutable): (Vec<&String>, Vec<&String>) =
        config.tags.iter().partition(|t| is_moving_tag(t, opts));
    let refs = |tags: Vec<&String>| {
        tags.iter()
            .map(|t| config.image.with_tag(t).to_string())
            .collect::<Vec<String>>()
    };
    // The further refs (the other services of a Compose build) are ordered by their tags too.
    let (extra_moving, extra_immutable): (Vec<&String>, Vec<&String>) =
        config.extras.extra_refs.iter().partition(|r| {
            crate::input::reference::parse(r)
                .ok()
                .and_then(|r| r.tag)
                .is_some_and(|t| is_moving_tag(&t, opts))
        });
    PublishRefs {
        immutable: refs(immutable)
            .into_iter()
            .chain(extra_immutable.into_iter().cloned())
            .collect(),
        moving: refs(moving)
            .into_iter()
            .chain(extra_moving.into_iter().cloned())
            .collect(),
    }
}

/// A tag that is moved to each new build: `latest`, or a branch's name.
fn is_moving_tag(tag: &str, opts: &Options) -> bool {
    tag == "latest"
        || opts.branch.as_deref() == Some(tag)
        || opts.default_branch.as_deref() == Some(tag)
}

/// An image's published refs, in two groups.
struct PublishRefs {
    /// Tags that name one build for good: the commit SHA, a version.
    immutable: Vec<String>,
    /// Tags moved to every new build: `latest`, the branch.
    moving: Vec<String>,
}

impl PublishRefs {
    /// All of them, immutable first.
    fn all(&self) -> Vec<String> {
        self.immutable.iter().chain(&self.moving).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::dockerfile;
    use crate::input::spec::{self, Overrides};
    use std::path::Path;
    use step::StepKind;

    fn input(spec_text: &str, dockerfile_text: &str) -> ImageInput {
        let config = spec::parse(
            spec_text,
            "layercache.yml",
            Path::new(""),
            &|_| None,
            &Overrides::default(),
        )
        .unwrap()
        .remove(0);
        ImageInput {
            config,
            dockerfile: dockerfile::parse(dockerfile_text).unwrap(),
        }
    }

    /// The builder forced, docker not probed: per-stage inline caches (re-export off here).
    fn opts(builder: Builder) -> Options {
        Options {
            docker: "docker".into(),
            builder: match builder {
                Builder::BuildKit => BuilderChoice::BuildKit,
                Builder::Legacy => BuilderChoice::Legacy,
            },
            caps: None,
            retry: Retry::ONCE,
            keep_going: false,
            jobs: None,
            parallelism: 2,
            reexport: false,
            branch: None,
            default_branch: None,
            logins: Vec::new(),
            logouts: Vec::new(),
        }
    }

    /// Each step as one line: `docker build ...`, with a `|| true` mark on tolerated steps.
    fn lines(plan: &Plan) -> Vec<String> {
        plan.steps()
            .map(|s| {
                let mut line = s.argv().join(" ");
                if s.allow_failure {
                    line.push_str(" || true");
                }
                line
            })
            .collect()
    }

    const MULTI: &str = "FROM python:3.9.7 AS base\nRUN pip install -r requirements.txt\nFROM base AS final\nCOPY . .\n";

    #[test]
    fn single_stage_buildkit() {
        let p = plan(
            &[input(
                "image: localhost:5000/app\n",
                "FROM busybox:1.36\nRUN true\n",
            )],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        assert_eq!(
            lines(&p),
            [
                "docker build --progress=plain --cache-from localhost:5000/app:cache-stage-0 \
                 --build-arg BUILDKIT_INLINE_CACHE=1 --tag localhost:5000/app:cache-stage-0 \
                 --tag localhost:5000/app:latest --file Dockerfile .",
                "docker push localhost:5000/app:cache-stage-0",
                "docker push localhost:5000/app:latest",
            ]
        );
        assert!(p.steps().all(|s| s.env["DOCKER_BUILDKIT"] == "1"));
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn seed_two_stage_builds_each_stage_with_its_cache() {
        let spec = "image: registry.example.com/team/app\ndockerfile: Dockerfile.multi\ntags: [v1]\nbuild_args: {PY: '3.9'}\n";
        let p = plan(&[input(spec, MULTI)], &opts(Builder::BuildKit)).unwrap();
        let r = "registry.example.com/team/app";
        assert_eq!(
            lines(&p),
            [
                format!(
                    "docker build --progress=plain --target base --cache-from {r}:cache-base \
                     --build-arg BUILDKIT_INLINE_CACHE=1 --build-arg PY=3.9 --tag {r}:cache-base \
                     --file Dockerfile.multi ."
                ),
                format!(
                    "docker build --progress=plain --cache-from {r}:cache-base --cache-from {r}:cache-final \
                     --build-arg BUILDKIT_INLINE_CACHE=1 --build-arg PY=3.9 --tag {r}:cache-final \
                     --tag {r}:v1 --file Dockerfile.multi ."
                ),
                format!("docker push {r}:cache-base"),
                format!("docker push {r}:cache-final"),
                format!("docker push {r}:v1"),
            ]
        );
        assert_eq!(p.images[0].targets, [0, 1]);
    }

    #[test]
    fn legacy_builder_pulls_first_tolerating_misses() {
        let p = plan(
            &[input("image: app\npush: false\n", MULTI)],
            &opts(Builder::Legacy),
        )
        .unwrap();
        assert_eq!(
            lines(&p),
            [
                "docker pull app:cache-base || true",
                "docker pull app:cache-final || true",
                "docker build --target base --cache-from app:cache-base --tag app:cache-base --file Dockerfile .",
                "docker build --cache-from app:cache-base --cache-from app:cache-final --tag app:cache-final \
                 --tag app:latest --file Dockerfile .",
            ]
        );
        assert!(p.steps().all(|s| s.env["DOCKER_BUILDKIT"] == "0"));
    }

    #[test]
    fn pull_policy_is_followed() {
        let always = plan(
            &[input("image: app\npull: always\n", MULTI)],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        assert_eq!(
            always.steps().filter(|s| s.kind == StepKind::Pull).count(),
            2
        );
        let never = plan(
            &[input("image: app\npull: never\n", MULTI)],
            &opts(Builder::Legacy),
        )
        .unwrap();
        assert_eq!(
            never.steps().filter(|s| s.kind == StepKind::Pull).count(),
            0
        );
    }

    #[test]
    fn diamond_reads_every_ancestor_cache_and_builds_in_order() {
        let df = "FROM alpine AS base\nFROM base AS left\nRUN a\nFROM base AS right\nRUN b\n\
                  FROM alpine AS unused\nRUN c\nFROM left AS final\nCOPY --from=right /x /x\n";
        let p = plan(
            &[input("image: app\npush: false\n", df)],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        assert_eq!(p.images[0].targets, [0, 1, 2, 4]);
        let last = lines(&p).pop().unwrap();
        assert!(
            last.contains(
                "--cache-from app:cache-base --cache-from app:cache-left --cache-from app:cache-right \
                 --cache-from app:cache-final"
            ),
            "{last}"
        );
        assert!(!lines(&p).iter().any(|l| l.contains("unused")));
    }

    #[test]
    fn target_selects_a_stage_and_skips_later_ones() {
        let p = plan(
            &[input("image: app\ntarget: base\n", MULTI)],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        let l = lines(&p);
        assert_eq!(l.len(), 3);
        assert!(
            l[0].contains("--target base") && l[0].contains("--tag app:latest"),
            "{}",
            l[0]
        );
    }

    #[test]
    fn unknown_target_is_an_input_error() {
        let e = plan(
            &[input("image: app\ntarget: nope\n", MULTI)],
            &opts(Builder::BuildKit),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("target `nope` is not a stage"),
            "{e}"
        );
        assert!(e.to_string().contains("stages are: base, final"), "{e}");
    }

    #[test]
    fn unnamed_intermediate_stage_warns_and_is_not_targeted() {
        let p = plan(
            &[input(
                "image: app\n",
                "FROM alpine\nRUN x\nFROM alpine AS final\nCOPY --from=0 /a /a\n",
            )],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        assert_eq!(p.images[0].targets, [1]);
        assert_eq!(p.warnings.len(), 1);
        assert!(
            p.warnings[0].starts_with("Dockerfile:1: stage 0 (FROM alpine) has no name"),
            "{}",
            p.warnings[0]
        );
    }

    #[test]
    fn explicit_cache_stages_are_checked() {
        let p = plan(
            &[input("image: app\ncache_stages: []\n", MULTI)],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        assert_eq!(p.images[0].targets, [1]);
        let e = plan(
            &[input("image: app\ncache_stages: [nope]\n", MULTI)],
            &opts(Builder::BuildKit),
        )
        .unwrap_err();
        assert!(e.to_string().contains("cache_stages names `nope`"), "{e}");
    }

    #[test]
    fn cache_repository_holds_stage_caches_but_not_publish_tags() {
        let p = plan(
            &[input("image: app\ncache_repository: cache/app\n", MULTI)],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        let l = lines(&p);
        assert!(
            l.contains(&"docker push cache/app:cache-base".to_string()),
            "{l:?}"
        );
        assert!(l.contains(&"docker push app:latest".to_string()), "{l:?}");
    }

    #[test]
    fn buildkit_stages_are_reexported_from_the_local_cache_before_pushing() {
        let mut o = opts(Builder::BuildKit);
        o.reexport = true;
        let p = plan(&[input("image: app\ntags: [v1]\n", MULTI)], &o).unwrap();
        assert_eq!(
            lines(&p),
            [
                "docker build --progress=plain --target base --cache-from app:cache-base \
                 --build-arg BUILDKIT_INLINE_CACHE=1 --tag app:cache-base --file Dockerfile .",
                "docker build --quiet --target base --build-arg BUILDKIT_INLINE_CACHE=1 --tag app:cache-base \
                 --file Dockerfile .",
                "docker build --progress=plain --cache-from app:cache-base --cache-from app:cache-final \
                 --build-arg BUILDKIT_INLINE_CACHE=1 --tag app:cache-final --tag app:v1 --file Dockerfile .",
                "docker build --quiet --build-arg BUILDKIT_INLINE_CACHE=1 --tag app:cache-final --tag app:v1 \
                 --file Dockerfile .",
                "docker push app:cache-base",
                "docker push app:cache-final",
                "docker push app:v1",
            ]
        );
        let kinds: Vec<StepKind> = p.steps().map(|s| s.kind).collect();
        assert_eq!(kinds[1], StepKind::Reexport);
        // Not for the legacy builder, nor when nothing is pushed.
        o.builder = BuilderChoice::Legacy;
        assert!(plan(&[input("image: app\n", MULTI)], &o)
            .unwrap()
            .steps()
            .all(|s| s.kind != StepKind::Reexport));
        o.builder = BuilderChoice::BuildKit;
        let local = plan(&[input("image: app\npush: false\n", MULTI)], &o).unwrap();
        assert!(local.steps().all(|s| s.kind != StepKind::Reexport));
    }

    #[test]
    fn a_diamond_builds_its_branches_at_once_only_with_the_reexport() {
        let df = "FROM alpine AS base\nFROM base AS left\nRUN a\nFROM base AS right\nRUN b\n\
                  FROM left AS final\nCOPY --from=right /x /x\n";
        let mut o = opts(Builder::BuildKit);
        o.reexport = true;
        let p = plan(&[input("image: app\n", df)], &o).unwrap();
        let after: Vec<(String, Vec<usize>)> = p.images[0]
            .steps
            .iter()
            .map(|s| (s.label(), s.after.clone()))
            .collect();
        let expected: Vec<(String, Vec<usize>)> = [
            ("build base", vec![]),
            ("re-export base", vec![0]),
            // The branches: each after the base (its re-export), not after each other.
            ("build left", vec![1]),
            ("re-export left", vec![2]),
            ("build right", vec![1]),
            ("re-export right", vec![4]),
            ("build final", vec![1, 3, 5]),
            ("re-export final", vec![6]),
            // Pushes after every build, one after another.
            ("push app:cache-base", vec![1, 3, 5, 7]),
            ("push app:cache-left", vec![8]),
            ("push app:cache-right", vec![9]),
            ("push app:cache-final", vec![10]),
            ("push app:latest", vec![11]),
        ]
        .into_iter()
        .map(|(l, a)| (l.to_string(), a))
        .collect();
        assert_eq!(after, expected);
        assert!(concurrency::runs_concurrently(&p));
        // Without the re-export, one after another (moby/buildkit#4674: at once, the cache
        // images lack records).
        o.reexport = false;
        let p = plan(&[input("image: app\n", df)], &o).unwrap();
        let after: Vec<Vec<usize>> = p.images[0].steps.iter().map(|s| s.after.clone()).collect();
        assert_eq!(after[..4], [vec![], vec![0], vec![0, 1], vec![0, 1, 2]]);
        assert!(!concurrency::runs_concurrently(&p));
        o.reexport = true;
        let chain = plan(&[input("image: app\n", MULTI)], &o).unwrap();
        assert!(!concurrency::runs_concurrently(&chain));
    }

    #[test]
    fn images_wait_for_the_images_they_are_built_from() {
        let base = input("image: localhost:5000/base\n", "FROM busybox\nRUN x\n");
        let app = input(
            "image: localhost:5000/app\n",
            "ARG REG=localhost:5000\nFROM ${REG}/base:v1 AS b\nFROM busybox\nCOPY --from=b /x /x\n",
        );
        let hub = input("image: busybox\n", "FROM scratch\n");
        let p = plan(&[app, base, hub], &opts(Builder::BuildKit)).unwrap();
        // `busybox` is the hub's image of the spec: both FROM lines name it.
        assert_eq!(p.images[0].after, [1, 2]);
        assert_eq!(p.images[1].after, [2]);
        assert!(p.images[2].after.is_empty());
        assert_eq!(concurrency::levels(&p.images), [vec![2], vec![1], vec![0]]);
    }

    #[test]
    fn one_platform_goes_to_every_stage_build() {
        let p = plan(
            &[input(
                "image: app\nplatforms: [linux/arm64]\npush: false\n",
                MULTI,
            )],
            &opts(Builder::BuildKit),
        )
        .unwrap();
        assert!(lines(&p)
            .iter()
            .all(|l| l.contains("--platform linux/arm64 ")));
        let e = plan(
            &[input(
                "image: app\nplatforms: [linux/arm64, linux/amd64]\nstrategy: inline\n",
                MULTI,
            )],
            &opts(Builder::BuildKit),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn a_multi_node_builder_is_warned_about_its_one_cache() {
        use crate::docker::{BuildxBuilder, Capabilities, Driver};
        let mut o = opts(Builder::BuildKit);
        o.builder = BuilderChoice::Auto;
        let caps = |nodes| Capabilities {
            client: Some("28.2.2".into()),
            client_version: Some((28, 2)),
            buildx: Some(crate::docker::BuildxPlugin::debian()),
            builder: Some(BuildxBuilder {
                name: "ci".into(),
                driver: Driver::Kubernetes,
                nodes,
            }),
            ..Capabilities::default()
        };
        let spec = "image: app\nplatforms: [linux/amd64, linux/arm64]\n";
        o.caps = Some(caps(2));
        let p = plan(&[input(spec, MULTI)], &o).unwrap();
        assert_eq!(p.images[0].strategy, Strategy::Registry);
        assert!(
            p.warnings.iter().any(|w| w.contains("docker/buildx#1044")),
            "{:?}",
            p.warnings
        );
        o.caps = Some(caps(1));
        assert!(plan(&[input(spec, MULTI)], &o).unwrap().warnings.is_empty());
    }

    #[test]
    fn images_sharing_a_local_cache_folder_take_turns() {
        let one = input("image: one\nstrategy: local\n", MULTI);
        let two = input("image: two\nstrategy: local\n", MULTI);
        let three = input(
            "image: three\nstrategy: local\ncache_dir: elsewhere\n",
            MULTI,
        );
        let p = plan(&[one, two, three], &opts(Builder::BuildKit)).unwrap();
        let after: Vec<&[usize]> = p.images.iter().map(|i| i.after.as_slice()).collect();
        assert_eq!(after, [&[][..], &[0][..], &[][..]]);
    }

    #[test]
    fn an_image_can_name_the_images_it_builds_on() {
        let base = input("image: localhost:5000/base\n", "FROM busybox\n");
        let mut app = input("image: localhost:5000/app\n", "FROM busybox\n");
        app.config.builds_on = vec![crate::input::reference::parse("localhost:5000/base").unwrap()];
        let p = plan(&[app, base], &opts(Builder::BuildKit)).unwrap();
        assert_eq!(p.images[0].after, [1]);
    }
}
