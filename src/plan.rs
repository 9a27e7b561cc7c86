//! The planner: a pure function from image configurations, their Dockerfiles and the chosen
//! builder to a [`Plan`], the ordered docker steps. No I/O happens here; tests state every input.
//!
//! The rules, per image:
//! - every stage the shipped target needs that has a name is built on its own with `--target`,
//!   tagged with its own cache ref, so its layers reach the registry (inline cache only carries
//!   the layers of the image it is embedded in);
//! - each build reads the caches of every stage it depends on, then its own;
//! - pushes come after every build of the image succeeded, so a failure publishes nothing.

use crate::ci::Login;
use crate::dockerfile::Dockerfile;
use crate::error::{self, Error};
use crate::reference::Reference;
use crate::spec::{ImageConfig, PullPolicy};
use crate::step::{Retry, Step, StepKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// How images get built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// `DOCKER_BUILDKIT=1`, inline cache, no pre-pull needed.
    BuildKit,
    /// The classic builder: `--cache-from` only sees images pulled beforehand.
    Legacy,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The docker program to run, as the user named it.
    pub docker: String,
    pub builder: Builder,
    /// Tries and backoff for pulls and pushes.
    pub retry: Retry,
    /// With several images, finish the others after one fails (and still exit non-zero).
    pub keep_going: bool,
    /// BuildKit: build each stage a second time from the local cache before pushing, so its
    /// inline cache holds every step's record (see `BuildArgs::reexport_args`).
    pub reexport: bool,
    /// The branch being built and the default branch (tag-safe slugs), for branch caches.
    pub branch: Option<String>,
    pub default_branch: Option<String>,
    /// Registries to log in to before anything else.
    pub logins: Vec<Login>,
}

/// One image's input to the planner.
#[derive(Debug, Clone)]
pub struct ImageInput {
    pub config: ImageConfig,
    pub dockerfile: Dockerfile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub builder: Builder,
    pub keep_going: bool,
    /// `docker login` steps, run before any image; a failure stops everything.
    pub logins: Vec<Step>,
    pub images: Vec<ImagePlan>,
    /// Things the user should fix, found while planning (e.g. an unnamed stage).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePlan {
    /// The image repository.
    pub name: String,
    pub dockerfile: String,
    /// Stage indices in build order, the shipped target last.
    pub targets: Vec<usize>,
    /// The cache ref each built stage is pushed to, in build order.
    pub cache_refs: Vec<String>,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Every step in the order it runs: logins, then each image's.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.logins
            .iter()
            .chain(self.images.iter().flat_map(|i| i.steps.iter()))
    }
}

pub fn plan(images: &[ImageInput], opts: &Options) -> Result<Plan, Error> {
    let mut warnings = Vec::new();
    let images = images
        .iter()
        .map(|input| plan_image(input, opts, &mut warnings))
        .collect::<Result<Vec<_>, _>>()?;
    let logins = opts.logins.iter().map(|l| login_step(l, opts)).collect();
    Ok(Plan {
        builder: opts.builder,
        keep_going: opts.keep_going,
        logins,
        images,
        warnings,
    })
}

/// `docker login --password-stdin`: the password goes from its variable to docker's stdin.
fn login_step(login: &Login, opts: &Options) -> Step {
    Step {
        kind: StepKind::Login,
        program: opts.docker.clone(),
        args: [
            "login",
            "--username",
            &login.user,
            "--password-stdin",
            &login.registry,
        ]
        .map(String::from)
        .to_vec(),
        env: builder_env(opts.builder),
        allow_failure: false,
        image: String::new(),
        stage: None,
        reference: Some(login.registry.clone()),
        // stdin is read once: a retry would send docker an empty password.
        retry: Retry::ONCE,
        output_stage: None,
        stdin_var: Some(login.password_var.clone()),
    }
}

fn plan_image(
    input: &ImageInput,
    opts: &Options,
    warnings: &mut Vec<String>,
) -> Result<ImagePlan, Error> {
    let config = &input.config;
    let df = &input.dockerfile;
    let dockerfile_path = config.dockerfile.display().to_string();
    let target = resolve_target(config, df)?;
    for w in &df.warnings {
        warnings.push(format!(
            "{dockerfile_path}:{}:{}: {}",
            w.line, w.column, w.message
        ));
    }
    let targets = stages_to_build(config, df, target, &dockerfile_path, warnings)?;
    let refs: BTreeMap<usize, StageRefs> = targets
        .iter()
        .map(|&i| (i, stage_refs(&config.cache_repository, df, i, opts)))
        .collect();
    let publish: Vec<String> = config
        .tags
        .iter()
        .map(|t| config.image.with_tag(t).to_string())
        .collect();
    // Only BuildKit's inline cache loses records, and only a pushed cache needs them.
    let reexport = opts.reexport && opts.builder == Builder::BuildKit && config.push;

    let step = |kind, args: Vec<String>, stage: usize, reference: Option<String>| Step {
        kind,
        program: opts.docker.clone(),
        args,
        env: builder_env(opts.builder),
        allow_failure: kind == StepKind::Pull,
        image: config.image.to_string(),
        stage: Some(stage_label(df, stage)),
        reference,
        retry: if matches!(kind, StepKind::Pull | StepKind::Push) {
            opts.retry
        } else {
            Retry::ONCE
        },
        output_stage: (kind == StepKind::Build).then(|| output_stage(df, stage)),
        stdin_var: None,
    };

    let mut steps = Vec::new();
    if needs_pull(opts.builder, config.pull) {
        for (&i, r) in &refs {
            for r in &r.read {
                steps.push(step(
                    StepKind::Pull,
                    vec!["pull".into(), r.clone()],
                    i,
                    Some(r.clone()),
                ));
            }
        }
    }
    for &i in &targets {
        let tags: Vec<String> = std::iter::once(refs[&i].write.clone())
            .chain(publish.iter().filter(|_| i == target).cloned())
            .collect();
        let build = BuildArgs {
            config,
            df,
            stage: i,
            tags: &tags,
            dockerfile_path: &dockerfile_path,
        };
        steps.push(step(
            StepKind::Build,
            build.args(opts.builder, &refs),
            i,
            None,
        ));
        if reexport {
            steps.push(step(StepKind::Reexport, build.reexport_args(), i, None));
        }
    }
    if config.push {
        for (&i, r) in &refs {
            let w = &r.write;
            steps.push(step(
                StepKind::Push,
                vec!["push".into(), w.clone()],
                i,
                Some(w.clone()),
            ));
        }
        for p in &publish {
            steps.push(step(
                StepKind::Push,
                vec!["push".into(), p.clone()],
                target,
                Some(p.clone()),
            ));
        }
    }
    Ok(ImagePlan {
        name: config.image.to_string(),
        dockerfile: dockerfile_path,
        targets,
        cache_refs: refs.into_values().map(|r| r.write).collect(),
        steps,
    })
}

/// What a stage's `docker build` needs.
struct BuildArgs<'a> {
    config: &'a ImageConfig,
    df: &'a Dockerfile,
    stage: usize,
    /// The stage's cache ref, then (for the shipped stage) the publish tags.
    tags: &'a [String],
    dockerfile_path: &'a str,
}

impl BuildArgs<'_> {
    /// The build that does the work: reads the caches of every stage it depends on, then its own.
    fn args(&self, builder: Builder, refs: &BTreeMap<usize, StageRefs>) -> Vec<String> {
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
            for r in &refs[&s].read {
                args.extend(["--cache-from".into(), r.clone()]);
            }
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
    fn reexport_args(&self) -> Vec<String> {
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
        vec!["--target".into(), stage_target_name(self.df, self.stage)]
    }

    /// Build args, tags, Dockerfile and context: the same for both builds.
    fn rest(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (k, v) in &self.config.build_args {
            let arg = match v {
                Some(v) => format!("{k}={v}"),
                // By name: docker reads the value from its environment.
                None => k.clone(),
            };
            args.extend(["--build-arg".into(), arg]);
        }
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

/// How BuildKit's progress output names a stage: nothing at all in a Dockerfile of one stage
/// (named or not: `#7 [4/6] RUN ...`, seen on the e2e engine), else its name, or `stage-N`.
fn output_stage(df: &Dockerfile, i: usize) -> String {
    match &df.stages[i].name {
        _ if df.stages.len() == 1 => String::new(),
        Some(name) => name.clone(),
        None => format!("stage-{i}"),
    }
}

fn builder_env(builder: Builder) -> BTreeMap<String, String> {
    let value = match builder {
        Builder::BuildKit => "1",
        // Set explicitly: clients from 23.0 default to BuildKit and fail without buildx.
        Builder::Legacy => "0",
    };
    BTreeMap::from([("DOCKER_BUILDKIT".to_string(), value.to_string())])
}

fn needs_pull(builder: Builder, policy: PullPolicy) -> bool {
    match policy {
        PullPolicy::Always => true,
        PullPolicy::Never => false,
        // BuildKit fetches the cache manifest itself; the legacy builder only sees local images.
        PullPolicy::Auto => builder == Builder::Legacy,
    }
}

fn resolve_target(config: &ImageConfig, df: &Dockerfile) -> Result<usize, Error> {
    let Some(name) = &config.target else {
        return Ok(df.stages.len().saturating_sub(1));
    };
    df.find_stage(name).ok_or_else(|| {
        config.target_place.error(
            &format!(
                "target `{name}` is not a stage of {}",
                config.dockerfile.display()
            ),
            &format!("stages are: {}", stage_list(df)),
        )
    })
}

fn stage_list(df: &Dockerfile) -> String {
    df.stages
        .iter()
        .map(|s| stage_label(df, s.index))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The stages to build, in order, the target last.
fn stages_to_build(
    config: &ImageConfig,
    df: &Dockerfile,
    target: usize,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<usize>, Error> {
    let needed = df.stages_for_target(target);
    let mut chosen: Vec<usize> = match &config.cache_stages {
        Some(names) => names
            .iter()
            .map(|n| chosen_stage(config, df, &needed, n))
            .collect::<Result<_, _>>()?,
        None => needed
            .iter()
            .copied()
            .filter(|&i| i != target && df.stages[i].name.is_some())
            .collect(),
    };
    if config.cache_stages.is_none() {
        for &i in needed
            .iter()
            .filter(|&&i| i != target && df.stages[i].name.is_none())
        {
            let s = &df.stages[i];
            warnings.push(format!(
                "{path}:{}: stage {i} (FROM {}) has no name, so it cannot be built with --target and its \
                 layers are not cached; name it: FROM {} AS <name>",
                s.line, s.from, s.from
            ));
        }
    }
    chosen.push(target);
    chosen.sort_unstable();
    chosen.dedup();
    Ok(chosen)
}

fn chosen_stage(
    config: &ImageConfig,
    df: &Dockerfile,
    needed: &[usize],
    name: &str,
) -> Result<usize, Error> {
    // Where the name is written: a name listed twice fails the same way both times.
    let written = config
        .cache_stages
        .iter()
        .flatten()
        .position(|n| n == name)
        .and_then(|k| config.cache_stage_places.get(k));
    let place = |msg: String, hint: String| match written {
        Some(at) => at.error(&msg, &hint),
        None => error::at(&config.origin, 0, 0, &msg, &hint),
    };
    let i = df.find_stage(name).ok_or_else(|| {
        place(
            format!(
                "cache_stages names `{name}`, which is not a stage of {}",
                config.dockerfile.display()
            ),
            format!("stages are: {}", stage_list(df)),
        )
    })?;
    if !needed.contains(&i) {
        return Err(place(
            format!("cache_stages names `{name}`, which the target does not need"),
            "remove it from cache_stages, or change target".into(),
        ));
    }
    if df.stages[i].name.is_none() {
        return Err(place(
            format!(
                "cache_stages names stage {i}, which has no name and cannot be built with --target"
            ),
            format!(
                "name it in the Dockerfile: FROM {} AS <name>",
                df.stages[i].from
            ),
        ));
    }
    Ok(i)
}

/// What `--target` takes: the stage name as written.
fn stage_target_name(df: &Dockerfile, i: usize) -> String {
    df.stages[i].name.clone().unwrap_or_else(|| i.to_string())
}

/// A stage as users see it: its name, or `stage N`.
fn stage_label(df: &Dockerfile, i: usize) -> String {
    match &df.stages[i].name {
        Some(n) => n.clone(),
        None => format!("stage {i}"),
    }
}

/// The tag that holds a stage's cache: `cache-<name>` (stage names are valid tags, lowercased
/// as BuildKit compares them), or `cache-stage-<index>` for an unnamed stage.
fn cache_ref(repo: &Reference, df: &Dockerfile, i: usize) -> Reference {
    let tag = match &df.stages[i].name {
        Some(n) => format!("cache-{}", n.to_lowercase()),
        None => format!("cache-stage-{i}"),
    };
    repo.with_tag(&tag)
}

/// Where a stage's cache is written and read.
struct StageRefs {
    /// Pushed: the branch's own cache, `cache-<stage>-<branch>`, or `cache-<stage>`.
    write: String,
    /// Read, in order: the branch's own cache, the default branch's, the plain one, so the
    /// first build of a new branch starts warm from its base.
    read: Vec<String>,
}

fn stage_refs(repo: &Reference, df: &Dockerfile, i: usize, opts: &Options) -> StageRefs {
    let plain = cache_ref(repo, df, i);
    let base_tag = plain.tag.clone().unwrap_or_default();
    let on_branch = |branch: &str| {
        // Tags are at most 128 characters: shorten the branch, never the stage.
        let room = 128usize.saturating_sub(base_tag.len() + 1).max(1);
        let branch: String = branch.chars().take(room).collect();
        plain
            .with_tag(&format!(
                "{base_tag}-{}",
                branch.trim_end_matches(['-', '.'])
            ))
            .to_string()
    };
    let mut read: Vec<String> = Vec::new();
    for r in [
        opts.branch.as_deref().map(on_branch),
        opts.default_branch.as_deref().map(on_branch),
        Some(plain.to_string()),
    ]
    .into_iter()
    .flatten()
    {
        if !read.contains(&r) {
            read.push(r);
        }
    }
    // A build with no branch (a git tag) writes the plain cache, never the default branch's.
    let write = opts
        .branch
        .as_deref()
        .map_or_else(|| plain.to_string(), on_branch);
    StageRefs { write, read }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile;
    use crate::spec::{self, Overrides};
    use std::path::Path;

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

    fn opts(builder: Builder) -> Options {
        Options {
            docker: "docker".into(),
            builder,
            retry: Retry::ONCE,
            keep_going: false,
            reexport: false,
            branch: None,
            default_branch: None,
            logins: Vec::new(),
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
        o.builder = Builder::Legacy;
        assert!(plan(&[input("image: app\n", MULTI)], &o)
            .unwrap()
            .steps()
            .all(|s| s.kind != StepKind::Reexport));
        o.builder = Builder::BuildKit;
        let local = plan(&[input("image: app\npush: false\n", MULTI)], &o).unwrap();
        assert!(local.steps().all(|s| s.kind != StepKind::Reexport));
    }
}
