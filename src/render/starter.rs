//! The starter spec that `layercache init` writes: the Dockerfile's stages, and the defaults
//! that suit CI left out (the image and tags then come from the CI), each explained in a
//! comment. The first line names the spec's JSON Schema for editors.

use super::ci_jobs::scalar;
use crate::input::dockerfile::Dockerfile;
use crate::input::spec::SCHEMA_URL;

/// What the starter says, from the Dockerfile's stages.
#[derive(Debug, Clone)]
pub struct Starter {
    /// The Dockerfile as the spec names it (relative to the spec's folder).
    pub dockerfile: String,
    pub image: Option<String>,
    /// Every stage, as users see it (`builder`, `stage 1`).
    pub stages: Vec<String>,
    /// The shipped stage's name, when the last stage has one.
    pub target: Option<String>,
    /// The named stages the target needs, besides itself, in build order.
    pub cache_stages: Vec<String>,
    /// Stages the target needs that have no name, so cannot be cached on their own.
    pub unnamed: Vec<String>,
}

impl Starter {
    /// The starter for `df`, named `dockerfile` from the spec's folder: the last stage is the
    /// target, the stages it needs before it are cached.
    pub fn for_dockerfile(df: &Dockerfile, dockerfile: String, image: Option<String>) -> Starter {
        let label = |i: usize| df.stages[i].label();
        let last = df.stages.len() - 1;
        let before: Vec<usize> = df
            .stages_for_target(last)
            .into_iter()
            .filter(|&i| i != last)
            .collect();
        Starter {
            dockerfile,
            image,
            stages: (0..df.stages.len()).map(label).collect(),
            target: df.stages[last].name.clone(),
            cache_stages: before
                .iter()
                .filter_map(|&i| df.stages[i].name.clone())
                .collect(),
            unnamed: before
                .iter()
                .filter(|&&i| df.stages[i].name.is_none())
                .map(|&i| label(i))
                .collect(),
        }
    }
}

pub fn starter_spec(s: &Starter) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema={SCHEMA_URL}\n\
         # layercache.yml: what `layercache build` builds, written by `layercache init` for\n\
         # {dockerfile}. Every key is explained in the README (The spec: layercache.yml).\n\n",
        dockerfile = s.dockerfile
    );
    out.push_str(
        "# The image repository, without tag. Left out, CI builds the CI's own registry image:\n\
         # GitLab $CI_REGISTRY_IMAGE, GitHub ghcr.io/<owner>/<repo>, CircleCI <user>/<repo>.\n",
    );
    match &s.image {
        Some(image) => out.push_str(&format!("image: {}\n", scalar(image))),
        None => out.push_str("# image: registry.example.com/team/app\n"),
    }
    out.push_str(&format!("dockerfile: {}\n", scalar(&s.dockerfile)));
    out.push_str(&format!(
        "\n# The Dockerfile's stages: {}.\n",
        s.stages.join(", ")
    ));
    if let Some(target) = &s.target {
        out.push_str(&format!(
            "# The stage to ship (the last one, the default):\ntarget: {}\n",
            scalar(target)
        ));
    }
    if !s.cache_stages.is_empty() {
        out.push_str(
            "# Built and cached on their own, each as <repository>:cache-<stage> (the default:\n\
             # every named stage the target needs):\ncache_stages:\n",
        );
        for stage in &s.cache_stages {
            out.push_str(&format!("  - {}\n", scalar(stage)));
        }
    }
    for stage in &s.unnamed {
        out.push_str(&format!(
            "# {stage} has no name, so it cannot be cached on its own: name it (FROM ... AS name).\n"
        ));
    }
    out.push_str(
        "\n# Tags: in CI the commit SHA and the branch (or git tag); elsewhere `latest`.\n\
         # tags: [\"${CI_COMMIT_SHA:-dev}\", latest]\n\
         # Pushes the caches and tags after the builds (`--no-push` builds only):\n\
         push: true\n",
    );
    out
}
