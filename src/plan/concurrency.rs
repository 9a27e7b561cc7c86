//! What may run at once: the order between images (an image whose Dockerfile builds `FROM`
//! another image of the spec comes after it), and how many docker commands run at once by
//! default. The executor and the sh renderer read the result from the `Plan`; nothing here
//! runs anything.

use super::{ImageInput, ImagePlan, Strategy};
use crate::error::Error;
use crate::input::dockerfile::Dockerfile;
use crate::input::reference::{self, Reference};
use std::collections::BTreeMap;

/// The images each image waits for (indices into the spec's images, ascending): those its
/// Dockerfile builds on (`FROM`, `COPY --from=`, `RUN --mount=from=` naming another image's
/// repository) or its configuration names (`ImageConfig::builds_on`), and, for images sharing one local cache folder, the image before it (both
/// would write and move the same folder). A cycle is an input error.
pub(crate) fn image_dependencies(
    inputs: &[ImageInput],
    plans: &[ImagePlan],
) -> Result<Vec<Vec<usize>>, Error> {
    let repos: Vec<String> = inputs.iter().map(|i| normal(&i.config.image)).collect();
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); inputs.len()];
    for (i, input) in inputs.iter().enumerate() {
        let named = images_used(&input.dockerfile, &input.config.build_args)
            .into_iter()
            .filter_map(|used| reference::parse(&used).ok());
        for r in named.chain(input.config.builds_on.iter().cloned()) {
            let wanted = normal(&r);
            for (j, repo) in repos.iter().enumerate() {
                if j != i && *repo == wanted && !after[i].contains(&j) {
                    after[i].push(j);
                }
            }
        }
    }
    let mut last_user: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (input, plan)) in inputs.iter().zip(plans).enumerate() {
        if plan.strategy == Strategy::Local {
            let dir = input.config.cache_dir.display().to_string();
            if let Some(j) = last_user.insert(dir, i) {
                if !after[i].contains(&j) {
                    after[i].push(j);
                }
            }
        }
    }
    for a in &mut after {
        a.sort_unstable();
    }
    if let Some(cycle) = find_cycle(&after) {
        let names: Vec<String> = cycle.iter().map(|&i| plans[i].name.clone()).collect();
        return Err(Error::input(format!(
            "the images build on each other in a circle: {}",
            names.join(" -> ")
        ))
        .hint("an image can only build FROM images that do not need it; change one FROM line"));
    }
    Ok(after)
}

/// Docker Hub's short names and their long form compare equal: `busybox`, `docker.io/library/busybox`.
fn normal(r: &Reference) -> String {
    let path = if r.registry() == "docker.io" && !r.path.contains('/') {
        format!("library/{}", r.path)
    } else {
        r.path.clone()
    };
    format!("{}/{path}", r.registry())
}

/// The images a Dockerfile reads, with `$VAR`/`${VAR}` taken from the build args, then from the
/// global `ARG` defaults (an unknown variable leaves the reference unreadable, so unused).
fn images_used(df: &Dockerfile, build_args: &BTreeMap<String, Option<String>>) -> Vec<String> {
    let lookup = |name: &str| -> Option<String> {
        match build_args.get(name) {
            Some(Some(v)) => Some(v.clone()),
            Some(None) => None,
            None => df
                .global_args
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.clone()),
        }
    };
    let is_stage = |s: &str| df.find_stage(s).is_some();
    let mut used = Vec::new();
    for stage in &df.stages {
        if stage.base_stage.is_none() {
            // The base as BuildKit expands it (build args, global ARGs, platform ARGs).
            used.push(stage.base.clone());
        }
        for ins in &stage.instructions {
            for flag in &ins.flags {
                let from = flag.strip_prefix("--from=").or_else(|| {
                    flag.strip_prefix("--mount=")
                        .and_then(|m| m.split(',').find_map(|kv| kv.strip_prefix("from=")))
                });
                if let Some(from) = from.map(|f| f.trim_matches('"')) {
                    if !is_stage(from) {
                        used.push(expand(from, &lookup));
                    }
                }
            }
        }
    }
    used
}

fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => return String::new(),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        // `${NAME:-default}` and the like: the name, then the default when unset.
        let (name, default) = match name.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (name, None),
        };
        match lookup(name).or(default.map(String::from)) {
            Some(v) => out.push_str(&v),
            None => return String::new(),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A cycle among `after` edges, as the images on it (first repeated at the end), if any.
fn find_cycle(after: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        i: usize,
        after: &[Vec<usize>],
        mark: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        mark[i] = Mark::Open;
        path.push(i);
        for &j in &after[i] {
            match mark[j] {
                Mark::Open => {
                    let start = path.iter().position(|&p| p == j).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(j);
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(j, after, mark, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        mark[i] = Mark::Done;
        None
    }
    let mut mark = vec![Mark::New; after.len()];
    for i in 0..after.len() {
        if mark[i] == Mark::New {
            if let Some(c) = visit(i, after, &mut mark, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// The images in levels: each image in the first level after every image it waits for. The sh
/// script starts the images of one level together.
pub fn levels(images: &[ImagePlan]) -> Vec<Vec<usize>> {
    let mut level: Vec<Option<usize>> = vec![None; images.len()];
    // Dependencies are acyclic (checked while planning): repeat until every level is known.
    while level.iter().any(Option::is_none) {
        let before = level.clone();
        for (i, image) in images.iter().enumerate() {
            if level[i].is_some() {
                continue;
            }
            let deps: Option<Vec<usize>> = image.after.iter().map(|&j| before[j]).collect();
            if let Some(deps) = deps {
                level[i] = Some(deps.into_iter().map(|l| l + 1).max().unwrap_or(0));
            }
        }
        if level == before {
            // Not reachable with a checked plan; never loop forever on a hand-made one.
            for l in level.iter_mut().filter(|l| l.is_none()) {
                *l = Some(images.len());
            }
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, l) in level.into_iter().enumerate() {
        let l = l.unwrap_or(0);
        if out.len() <= l {
            out.resize(l + 1, Vec::new());
        }
        out[l].push(i);
    }
    out.retain(|l| !l.is_empty());
    out
}

/// Whether two docker commands of the plan may ever run at once: more than one job, and two
/// images that do not wait for each other, or two steps of one image that do not (a diamond's
/// branches). A chain runs one step at a time whatever `jobs` says.
pub fn runs_concurrently(plan: &super::Plan) -> bool {
    if plan.jobs <= 1 {
        return false;
    }
    if levels(&plan.images).iter().any(|l| l.len() > 1) {
        return true;
    }
    plan.images.iter().any(|image| {
        // A step's depth: one more than the deepest step it waits for. Two steps at one depth
        // never wait for each other; one step per depth is a chain.
        let mut depth: Vec<usize> = Vec::with_capacity(image.steps.len());
        for step in &image.steps {
            let d = step
                .after
                .iter()
                .filter_map(|&j| depth.get(j))
                .map(|d| d + 1)
                .max()
                .unwrap_or(0);
            depth.push(d);
        }
        let mut seen = std::collections::BTreeSet::new();
        depth.iter().any(|d| !seen.insert(*d))
    })
}

/// How many docker commands run at once unless `--jobs` or `jobs:` say: from the machine's
/// cores (`parallelism`) and the strategies.
///
/// - A docker command mostly waits: on the daemon, which does the building, and on the
///   registry. So even one core gains from overlapping one image's cache import, export and
///   push with another's build: never fewer than 2.
/// - An exported cache is one `docker buildx build` per image, and BuildKit already builds its
///   independent stages at once inside it: one command per core.
/// - Per-stage inline caches make several short commands per image (re-exports from the local
///   cache, pushes) that use little CPU: two per core.
/// - More than 8 builds at once contend for the daemon's disk and BuildKit's solver more than
///   they gain; 8 is the cap of the default (`--jobs` goes up to 64).
pub fn default_jobs(parallelism: usize, strategies: impl IntoIterator<Item = Strategy>) -> usize {
    let per_stage = strategies.into_iter().any(|s| !s.exports_cache());
    let per_core = if per_stage { 2 } else { 1 };
    (parallelism.max(1) * per_core).clamp(2, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_from_lines_are_expanded() {
        let lookup = |n: &str| (n == "REG").then(|| "localhost:5000".to_string());
        assert_eq!(expand("${REG}/base:1", &lookup), "localhost:5000/base:1");
        assert_eq!(expand("$REG/base", &lookup), "localhost:5000/base");
        assert_eq!(expand("${NOPE:-x}/b", &lookup), "x/b");
        assert_eq!(expand("${NOPE}/b", &lookup), "");
        assert_eq!(expand("busybox", &lookup), "busybox");
    }

    #[test]
    fn cycles_are_found_and_levels_follow_dependencies() {
        assert_eq!(find_cycle(&[vec![], vec![0], vec![1]]), None);
        assert_eq!(
            find_cycle(&[vec![2], vec![0], vec![1]]),
            Some(vec![0, 2, 1, 0])
        );
        let image = |after: Vec<usize>| ImagePlan {
            name: String::new(),
            strategy: Strategy::Registry,
            strategy_reason: String::new(),
            dockerfile: String::new(),
            targets: Vec::new(),
            cache_refs: Vec::new(),
            steps: Vec::new(),
            after,
            platforms: Vec::new(),
        };
        let images = [
            image(vec![]),
            image(vec![0]),
            image(vec![]),
            image(vec![1, 2]),
        ];
        assert_eq!(levels(&images), vec![vec![0, 2], vec![1], vec![3]]);
    }

    #[test]
    fn the_default_follows_cores_and_strategy() {
        assert_eq!(default_jobs(1, [Strategy::Registry]), 2);
        assert_eq!(default_jobs(2, [Strategy::Registry]), 2);
        assert_eq!(default_jobs(2, [Strategy::Inline { reexport: true }]), 4);
        assert_eq!(
            default_jobs(4, [Strategy::Registry, Strategy::Legacy { cache: true }]),
            8
        );
        assert_eq!(default_jobs(64, [Strategy::Registry]), 8);
    }
}
