//! The per-stage inline-cache strategy: one `docker build --target <stage>` per needed stage,
//! each reading the caches of the stages it depends on and writing its own inline cache
//! (`BUILDKIT_INLINE_CACHE=1`), optionally re-exported from the local cache before the push.

use super::refs::StageRefs;
use super::stages::stage_target_name;
use super::{Builder, ImageConfig};
use crate::dockerfile::Dockerfile;
use std::collections::BTreeMap;

/// What a stage's `docker build` needs.
pub(crate) struct StageBuild<'a> {
    pub(crate) config: &'a ImageConfig,
    pub(crate) df: &'a Dockerfile,
    pub(crate) stage: usize,
    /// The stage's cache ref, then (for the shipped stage) the publish tags.
    pub(crate) tags: &'a [String],
    pub(crate) dockerfile_path: &'a str,
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
pub(crate) fn output_stage(df: &Dockerfile, i: usize) -> String {
    match &df.stages[i].name {
        _ if df.stages.len() == 1 => String::new(),
        Some(name) => name.clone(),
        None => format!("stage-{i}"),
    }
}
