//! The exported-cache strategies: one `docker buildx build` per image, reading the branch chain
//! of caches and writing this branch's with `mode=max` (every stage's layers, so no per-stage
//! builds are needed), publishing with `--push` in the same build. The cache lives in the
//! registry (`type=registry`), in a folder the CI keeps (`type=local`), or in GitHub Actions'
//! cache service (`type=gha`).
//!
//! A failed build pushes nothing: BuildKit exports the image and the cache only after every
//! step succeeded. The build pushes the immutable tags (the commit, a version); the moving
//! ones (`latest`, the branch) are added after it, so they never name an image whose cache
//! export or push failed.

use super::builder::builder_env;
use super::refs::{exported_cache_refs, StageRefs};
use super::stages::resolve_target;
use super::step::{Retry, Step, StepKind};
use super::{publish_refs, ImageInput, ImagePlan, Options, Strategy};
use crate::docker::Driver;
use crate::error::Error;
use crate::input::spec::ImageConfig;

pub(crate) fn plan_image(
    input: &ImageInput,
    opts: &Options,
    strategy: Strategy,
    warnings: &mut Vec<String>,
) -> Result<ImagePlan, Error> {
    let config = &input.config;
    let df = &input.dockerfile;
    let dockerfile_path = config.dockerfile.display().to_string();
    let target = resolve_target(config, df)?;
    if config.cache_stages.is_some() {
        warnings.push(format!(
            "{}: cache_stages is ignored with the {} strategy: its cache (mode=max) holds every stage",
            config.origin,
            strategy.name()
        ));
    }
    let refs = exported_cache_refs(&config.cache_repository, opts);
    let cache = Cache::of(strategy, config, &refs);

    let mut args: Vec<String> = ["buildx", "build", "--progress=plain"]
        .map(String::from)
        .to_vec();
    if target != df.stages.len().saturating_sub(1) {
        args.extend(["--target".into(), df.stages[target].target()]);
    }
    // One build for every platform, and one cache: a single-node builder (the docker driver
    // always is one) solves all platforms in one session, and its mode=max export holds every
    // platform's records. Only a multi-node builder exports each node's cache to the same ref,
    // the last one winning (docker/buildx#1044, confirmed upstream as a multi-node problem;
    // moby/buildkit#2758); the e2e test checks that a wiped runner hits for both platforms.
    if !config.platforms.is_empty() {
        args.extend(["--platform".into(), config.platforms.join(",")]);
    }
    if let Some(b) = opts.caps.as_ref().and_then(|c| c.builder.as_ref()) {
        if config.platforms.len() > 1 && b.nodes > 1 {
            warnings.push(format!(
                "{}: builder `{}` has {} nodes: buildx writes each node's cache to the one cache \
                 ref and keeps the last (docker/buildx#1044), so the platforms built on the other \
                 nodes miss their cache on the next runner; a builder of one node keeps them all",
                config.image, b.name, b.nodes
            ));
        }
    }
    for from in cache.from() {
        args.extend(["--cache-from".into(), from]);
    }
    // Compose's own `cache_from`, after layercache's: an image ref is read as a registry cache
    // (as compose passes it); `type=...` is passed on as written.
    for from in &config.extras.cache_from {
        let from = if from.contains('=') {
            from.clone()
        } else {
            format!("type=registry,ref={from}")
        };
        args.extend(["--cache-from".into(), from]);
    }
    if let Some(to) = cache.to(config) {
        args.extend(["--cache-to".into(), to]);
    }
    for (k, v) in &config.build_args {
        let arg = match v {
            Some(v) => format!("{k}={v}"),
            // By name: docker reads the value from its environment.
            None => k.clone(),
        };
        args.extend(["--build-arg".into(), arg]);
    }
    args.extend(config.extras.args());
    // `--push` publishes every `--tag` at once, after the cache export. The moving tags wait
    // for it: they are added afterwards, in the registry, to the image the first immutable tag
    // names (`buildx imagetools create`: no pull, a multi-platform index stays one). Without an
    // immutable tag, or without a push, there is nothing to order.
    let publish = publish_refs(config, opts);
    let (in_build, after) = match publish.immutable.first() {
        Some(first) if config.push => (publish.immutable.clone(), Some((first, &publish.moving))),
        _ => (publish.all(), None),
    };
    // The local names (Compose's own) are tagged in the build only when it loads the image:
    // `--push` would publish them (to Docker Hub, as `library/<name>`). After a push they are
    // tagged in the daemon by steps of their own, below.
    let local_in_build = if config.push {
        &[][..]
    } else {
        &config.extras.local_tags[..]
    };
    let local_source = in_build.first().cloned();
    for tag in in_build.into_iter().chain(local_in_build.iter().cloned()) {
        args.extend(["--tag".into(), tag]);
    }
    args.extend(["--file".into(), dockerfile_path.clone()]);
    // Without --push the image goes to the daemon's store; a builder with another driver
    // would otherwise keep it in its own cache ("No output specified").
    args.push(if config.push { "--push" } else { "--load" }.into());
    args.push(config.context.display().to_string());

    let step = |kind: StepKind, program: &str, args: Vec<String>| Step {
        after: Vec::new(),
        kind,
        program: program.to_string(),
        args,
        env: builder_env(strategy.builder()),
        allow_failure: false,
        image: config.image.to_string(),
        stage: Some(df.stages[target].label()),
        reference: None,
        retry: Retry::ONCE,
        // The build prints every stage it runs; the report reads them all.
        output_stage: None,
        stdin_var: None,
    };
    let mut build = step(StepKind::Build, &opts.docker, args);
    if config.push {
        // The executor tries it again only when its push (the export) failed, never for a
        // failed Dockerfile step; the sh script never does.
        build.retry = opts.retry;
    }
    let mut steps = vec![build];
    for (source, moving) in after
        .iter()
        .flat_map(|(s, m)| m.iter().map(move |m| (s, m)))
    {
        // After the build, one after another (the executor may otherwise start them at once).
        let previous = steps.len() - 1;
        steps.push(Step {
            reference: Some(moving.clone()),
            retry: opts.retry,
            after: vec![previous],
            ..step(
                StepKind::Push,
                &opts.docker,
                ["buildx", "imagetools", "create", "--tag", moving, source]
                    .map(String::from)
                    .to_vec(),
            )
        });
    }
    if config.push && !config.extras.local_tags.is_empty() {
        if let Some(source) = local_source {
            local_tag_steps(&mut steps, &source, config, opts, &step);
        }
    }
    if let Cache::Local { dir } = &cache {
        let mut save = step(StepKind::SaveCache, "sh", replace_dir(dir));
        save.after = vec![0];
        steps.push(save);
    }
    Ok(ImagePlan {
        name: config.image.to_string(),
        strategy,
        strategy_reason: String::new(),
        dockerfile: dockerfile_path,
        targets: vec![target],
        cache_refs: vec![cache.written()],
        steps,
        after: Vec::new(),
        platforms: config.platforms.clone(),
    })
}

/// `docker tag SOURCE NAME` for each local name, after every step so far. Only the docker
/// driver puts what it pushes in the daemon's image store too; another driver's image is
/// pulled first (by its pushed tag, so from the registry just written). Without a probe the
/// driver is unknown, and the pull makes the steps right for either.
fn local_tag_steps(
    steps: &mut Vec<Step>,
    source: &str,
    config: &ImageConfig,
    opts: &Options,
    step: &dyn Fn(StepKind, &str, Vec<String>) -> Step,
) {
    let docker_driver = opts
        .caps
        .as_ref()
        .and_then(|c| c.builder.as_ref())
        .is_some_and(|b| b.driver == Driver::Docker);
    let mut previous: Vec<usize> = (0..steps.len()).collect();
    if !docker_driver {
        steps.push(Step {
            reference: Some(source.to_string()),
            retry: opts.retry,
            after: previous,
            ..step(
                StepKind::Pull,
                &opts.docker,
                vec!["pull".into(), source.to_string()],
            )
        });
        previous = vec![steps.len() - 1];
    }
    for name in &config.extras.local_tags {
        steps.push(Step {
            reference: Some(name.clone()),
            after: previous.clone(),
            ..step(
                StepKind::Tag,
                &opts.docker,
                vec!["tag".into(), source.to_string(), name.clone()],
            )
        });
    }
}

/// Where the cache is read and written.
enum Cache {
    Registry {
        read: Vec<String>,
        write: String,
    },
    /// A folder that the CI keeps between jobs (GitLab `cache:`, CircleCI `save_cache`).
    Local {
        dir: String,
    },
    /// GitHub Actions' cache service; scopes named like the registry refs.
    Gha {
        read: Vec<String>,
        write: String,
    },
}

impl Cache {
    fn of(strategy: Strategy, config: &ImageConfig, refs: &StageRefs) -> Cache {
        match strategy {
            Strategy::Local => Cache::Local {
                dir: config.cache_dir.display().to_string(),
            },
            Strategy::Gha => Cache::Gha {
                read: refs.read.clone(),
                write: refs.write.clone(),
            },
            _ => Cache::Registry {
                read: refs.read.clone(),
                write: refs.write.clone(),
            },
        }
    }

    fn from(&self) -> Vec<String> {
        match self {
            Cache::Registry { read, .. } => read
                .iter()
                .map(|r| format!("type=registry,ref={r}"))
                .collect(),
            Cache::Local { dir } => vec![format!("type=local,src={dir}")],
            Cache::Gha { read, .. } => read.iter().map(|s| format!("type=gha,scope={s}")).collect(),
        }
    }

    /// The `--cache-to` value. A registry or GitHub cache is written only when the build
    /// publishes (`--no-push` publishes nothing); a local folder always, it is this runner's.
    fn to(&self, config: &ImageConfig) -> Option<String> {
        let options: String = config
            .cache_export
            .iter()
            .map(|(k, v)| format!(",{k}={v}"))
            .collect();
        match self {
            Cache::Registry { write, .. } if config.push => {
                Some(format!("type=registry,ref={write},mode=max{options}"))
            }
            // Written beside the folder, then moved over it: BuildKit's local exporter keeps
            // the old blobs in a folder it writes again, so it would grow without end
            // (moby/buildkit#1896, docker/build-push-action#252).
            Cache::Local { dir } => Some(format!("type=local,dest={dir}.new,mode=max{options}")),
            Cache::Gha { write, .. } if config.push => {
                Some(format!("type=gha,scope={write},mode=max{options}"))
            }
            _ => None,
        }
    }

    fn written(&self) -> String {
        match self {
            Cache::Registry { write, .. } | Cache::Gha { write, .. } => write.clone(),
            Cache::Local { dir } => dir.clone(),
        }
    }
}

/// `sh -c` that moves the freshly written cache folder over the old one.
fn replace_dir(dir: &str) -> Vec<String> {
    vec![
        "-c".into(),
        r#"rm -rf "$1" && mv "$1.new" "$1""#.into(),
        "sh".into(),
        dir.to_string(),
    ]
}
