//! The per-stage inline-cache strategy: one `docker build --target <stage>` per needed stage,
//! each reading the caches of the stages it depends on and writing its own inline cache
//! (`BUILDKIT_INLINE_CACHE=1`), optionally re-exported from the local cache before the push.

use super::builder::builder_env;
use super::refs::{stage_refs, StageRefs};
use super::stages::{resolve_target, stages_to_build};
use super::step::{Retry, Step, StepKind};
use super::{publish_refs, Builder, ImageConfig, ImageInput, ImagePlan, Options, Strategy};
use crate::error::Error;
use crate::input::dockerfile::Dockerfile;
use crate::input::spec::PullPolicy;
use std::collections::BTreeMap;

/// The image's steps: pulls where the builder needs them, one build per stage (and its
/// re-export), then the pushes: cache refs, immutable tags, moving tags (`publish_refs`).
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
    let mut targets = stages_to_build(config, df, target, &dockerfile_path, warnings)?;
    // Without a cache (the legacy builder on the containerd store) only the target is built,
    // and no cache ref is read or written.
    let cached = strategy != Strategy::Legacy { cache: false };
    if !cached {
        targets = vec![target];
    }
    let refs: BTreeMap<usize, StageRefs> = targets
        .iter()
        .filter(|_| cached)
        .map(|&i| (i, stage_refs(config.stage_cache_repository(), df, i, opts)))
        .collect();
    let publish = publish_refs(config, opts).all();
    let builder = strategy.builder();
    // Only a pushed cache needs complete records.
    let reexport = matches!(strategy, Strategy::Inline { reexport: true }) && config.push;

    let step = |kind, args: Vec<String>, stage: usize, reference: Option<String>| Step {
        after: Vec::new(),
        kind,
        program: opts.docker.clone(),
        args,
        env: builder_env(builder),
        allow_failure: kind == StepKind::Pull,
        image: config.image.to_string(),
        stage: Some(df.stages[stage].label()),
        reference,
        retry: if matches!(kind, StepKind::Pull | StepKind::Push) {
            opts.retry
        } else {
            Retry::ONCE
        },
        output_stage: (kind == StepKind::Build).then(|| df.progress_name(stage)),
        stdin_var: None,
    };

    // What each step waits for (`Step::after`): the pulls one after another, then each stage's
    // build after the pulls and after every stage it needs (their re-exports included). With the
    // re-export, stages that do not need each other (a diamond's branches) build at once; without
    // it, one after another in plan order: concurrent builds importing the same inline caches
    // skip some of them (moby/buildkit#4674), and without the re-export the cache images then
    // lack those records. Measured with bench-diamond's 6-run chain, its branches at once: warm
    // in 5 of 5 runs on 20.10 and 26.1 (re-export), in 1 of 5 on 28.5 with the classic store
    // (no re-export: M P H P P P, median 10.8 s), which in plan order was warm in 5 of 5. The
    // pushes wait for every build, then go one after another, cache refs first.
    let mut steps: Vec<Step> = Vec::new();
    let push_step = |steps: &mut Vec<Step>, mut s: Step, after: Vec<usize>| {
        s.after = after;
        steps.push(s);
        steps.len() - 1
    };
    let mut last_pull: Option<usize> = None;
    if needs_pull(builder, config.pull) {
        for (&i, r) in &refs {
            for r in &r.read {
                let s = step(
                    StepKind::Pull,
                    vec!["pull".into(), r.clone()],
                    i,
                    Some(r.clone()),
                );
                last_pull = Some(push_step(&mut steps, s, last_pull.into_iter().collect()));
            }
        }
        // Compose's `cache_from` images: the legacy builder only sees them once pulled.
        for r in config.extras.cache_from.iter().filter(|r| !r.contains('=')) {
            steps.push(step(
                StepKind::Pull,
                vec!["pull".into(), r.clone()],
                target,
                Some(r.clone()),
            ));
        }
    }
    // The last step of each stage built so far (its re-export, or its build).
    let mut done: BTreeMap<usize, usize> = BTreeMap::new();
    let mut previous: Option<usize> = None;
    for &i in &targets {
        let tags: Vec<String> = refs
            .get(&i)
            .map(|r| r.write.clone())
            .into_iter()
            .chain(publish.iter().filter(|_| i == target).cloned())
            // Names for the local engine only (Compose's own): tagged, never pushed.
            .chain(
                config
                    .extras
                    .local_tags
                    .iter()
                    .filter(|_| i == target)
                    .cloned(),
            )
            .collect();
        let build = StageBuild {
            config,
            df,
            stage: i,
            tags: &tags,
            dockerfile_path: &dockerfile_path,
            platforms: &config.platforms,
        };
        let mut after: Vec<usize> = last_pull.into_iter().collect();
        after.extend(df.ancestors(i).iter().filter_map(|a| done.get(a)));
        if !reexport {
            after.extend(previous);
        }
        after.sort_unstable();
        after.dedup();
        let b = push_step(
            &mut steps,
            step(StepKind::Build, build.args(builder, &refs), i, None),
            after,
        );
        let last = if reexport {
            push_step(
                &mut steps,
                step(StepKind::Reexport, build.reexport_args(), i, None),
                vec![b],
            )
        } else {
            b
        };
        done.insert(i, last);
        previous = Some(last);
    }
    if config.push {
        let mut previous: Vec<usize> = done.values().copied().collect();
        let pushes = refs
            .iter()
            .map(|(&i, r)| (i, r.write.clone()))
            .chain(publish.iter().map(|p| (target, p.clone())))
            .collect::<Vec<_>>();
        for (i, reference) in pushes {
            let s = step(
                StepKind::Push,
                vec!["push".into(), reference.clone()],
                i,
                Some(reference),
            );
            previous = vec![push_step(&mut steps, s, previous)];
        }
    }
    Ok(ImagePlan {
        name: config.image.to_string(),
        strategy,
        strategy_reason: String::new(),
        dockerfile: dockerfile_path,
        targets,
        cache_refs: refs.into_values().map(|r| r.write).collect(),
        steps,
        after: Vec::new(),
        platforms: config.platforms.clone(),
    })
}

fn needs_pull(builder: Builder, policy: PullPolicy) -> bool {
    match policy {
        PullPolicy::Always => true,
        PullPolicy::Never => false,
        // BuildKit fetches the cache manifest itself; the legacy builder only sees local images.
        PullPolicy::Auto => builder == Builder::Legacy,
    }
}

/// What a stage's `docker build` needs.
pub(crate) struct StageBuild<'a> {
    pub(crate) config: &'a ImageConfig,
    pub(crate) df: &'a Dockerfile,
    pub(crate) stage: usize,
    /// The stage's cache ref, then (for the shipped stage) the publish tags.
    pub(crate) tags: &'a [String],
    pub(crate) dockerfile_path: &'a str,
    /// `--platform`, when the spec names one (one only: see `strategy::choose_for_platforms`).
    pub(crate) platforms: &'a [String],
}

impl StageBuild<'_> {
    /// The build that does the work: reads the caches of every stage it depends on, then its own.
    pub(crate) fn args(&self, builder: Builder, refs: &BTreeMap<usize, StageRefs>) -> Vec<String> {
        let mut args: Vec<String> = vec!["build".into()];
        if builder == Builder::BuildKit {
            // Plain progress keeps `#N CACHED` lines readable in CI logs and for the report.
            args.push("--progress=plain".into());
        }
        args.extend(self.target());
        // Ancestors first: when two stages start with the same steps, the legacy builder takes
        // those steps from the first matching source, and the ancestor's copy is the one whose
        // chain continues into the expensive steps (measured on the e2e engine).
        let ancestors = self
            .df
            .ancestors(self.stage)
            .into_iter()
            .filter(|a| refs.contains_key(a));
        for s in ancestors.chain([self.stage]) {
            for r in refs.get(&s).map(|r| r.read.as_slice()).unwrap_or_default() {
                args.extend(["--cache-from".into(), r.clone()]);
            }
        }
        // Compose's own `cache_from` refs, after layercache's: a fallback, never the leader.
        for r in &self.config.extras.cache_from {
            args.extend(["--cache-from".into(), r.clone()]);
        }
        if builder == Builder::BuildKit {
            args.extend(["--build-arg".into(), "BUILDKIT_INLINE_CACHE=1".into()]);
        }
        args.extend(self.rest());
        args
    }

    /// The same build again, from the local cache only. BuildKit's inline cache leaves out the
    /// records of steps it took from an imported cache, so a pushed image whose early steps
    /// were cache hits makes the next runner miss them (moby/buildkit#1981, #2274, #3730): warm
    /// and cold runs alternate. A build whose every step is a local cache hit records them all
    /// (measured on the e2e engine: 80-130 ms per stage), so this image is the one pushed.
    pub(crate) fn reexport_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec!["build".into(), "--quiet".into()];
        args.extend(self.target());
        args.extend(["--build-arg".into(), "BUILDKIT_INLINE_CACHE=1".into()]);
        args.extend(self.rest());
        args
    }

    fn target(&self) -> Vec<String> {
        if self.stage == self.df.stages.len().saturating_sub(1) {
            return Vec::new();
        }
        vec!["--target".into(), self.df.stages[self.stage].target()]
    }

    /// Platform, build args, Compose's build options, tags, Dockerfile and context: the same
    /// for both builds.
    fn rest(&self) -> Vec<String> {
        let mut args = Vec::new();
        if !self.platforms.is_empty() {
            args.extend(["--platform".into(), self.platforms.join(",")]);
        }
        for (k, v) in &self.config.build_args {
            let arg = match v {
                Some(v) => format!("{k}={v}"),
                // By name: docker reads the value from its environment.
                None => k.clone(),
            };
            args.extend(["--build-arg".into(), arg]);
        }
        args.extend(self.config.extras.args());
        for t in self.tags {
            args.extend(["--tag".into(), t.clone()]);
        }
        args.extend([
            "--file".into(),
            self.dockerfile_path.to_string(),
            self.config.context.display().to_string(),
        ]);
        args
    }
}
