//! Cache refs: the tag that holds each stage's cache, and the branch chain read before it
//! (this branch's cache, the default branch's, the plain one).

use super::Options;
use crate::input::dockerfile::Dockerfile;
use crate::input::reference::Reference;

/// The tag that holds a stage's cache: `cache-<name>` (stage names are valid tags, lowercased
/// as BuildKit compares them), or `cache-stage-<index>` for an unnamed stage.
pub(crate) fn cache_ref(repo: &Reference, df: &Dockerfile, i: usize) -> Reference {
    let tag = match &df.stages[i].name {
        Some(n) => format!("cache-{}", n.to_lowercase()),
        None => format!("cache-stage-{i}"),
    };
    repo.with_tag(&tag)
}

/// Where a stage's cache is written and read.
pub(crate) struct StageRefs {
    /// Pushed: the branch's own cache, `cache-<stage>-<branch>`, or `cache-<stage>`.
    pub(crate) write: String,
    /// Read, in order: the branch's own cache, the default branch's, the plain one, so the
    /// first build of a new branch starts warm from its base.
    pub(crate) read: Vec<String>,
}

pub(crate) fn stage_refs(repo: &Reference, df: &Dockerfile, i: usize, opts: &Options) -> StageRefs {
    branch_chain(&cache_ref(repo, df, i), opts)
}

/// The tag of an image's exported cache (registry strategy): one for all stages. Not `cache-…`,
/// which a stage named like a branch could collide with.
pub(crate) const EXPORTED_CACHE_TAG: &str = "buildcache";

/// Where an image's exported cache is written and read.
pub(crate) fn exported_cache_refs(repo: &Reference, opts: &Options) -> StageRefs {
    branch_chain(&repo.with_tag(EXPORTED_CACHE_TAG), opts)
}

/// `plain` on this branch (written), and the chain read: this branch's, the default branch's,
/// the plain one.
fn branch_chain(plain: &Reference, opts: &Options) -> StageRefs {
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
