//! Which refs a run published and which it did not, for a run that stopped part-way: the user
//! (or the next pipeline) must know whether `latest` moved and which caches the registry holds.

use super::builder_output::vertex_line;
use crate::plan::step::{Step, StepKind};
use crate::plan::Plan;
use crate::run::{Outcome, Status};

/// The refs each publishing step sends: a push's reference; a `buildx build --push`'s tags
/// and its registry cache.
fn published_by(step: &Step) -> Vec<String> {
    match step.kind {
        StepKind::Push => step.reference.iter().cloned().collect(),
        StepKind::Build if step.args.iter().any(|a| a == "--push") => {
            let mut refs = Vec::new();
            for pair in step.args.windows(2) {
                match (pair[0].as_str(), pair[1].as_str()) {
                    ("--tag", tag) => refs.push(tag.to_string()),
                    ("--cache-to", to) => refs.extend(
                        to.strip_prefix("type=registry,ref=")
                            .and_then(|r| r.split(',').next())
                            .map(String::from),
                    ),
                    _ => {}
                }
            }
            refs
        }
        _ => Vec::new(),
    }
}

/// The refs of a `buildx build --push` that failed or was stopped which reached the registry
/// all the same, read from BuildKit's progress: BuildKit pushes the image, then exports the
/// cache, so a registry failing part-way can leave the tags pushed and the cache not (seen on
/// 28.5 with the containerd store, `e2e::faults::a_push_failing_part_way_never_moves_latest`).
/// The tags count once the vertex that printed `pushing manifest for TAG@sha256:...` is `DONE`
/// (BuildKit prints `... done` after that line also when the push failed), the registry cache
/// once its `exporting cache to registry` vertex is. A tag whose vertex failed counts as not
/// pushed, even if the registry got it before another tag failed.
fn published_before_failure(step: &Step, output: &[String]) -> Vec<String> {
    let refs = published_by(step);
    let cache_refs: Vec<String> = step
        .args
        .windows(2)
        .filter(|pair| pair[0] == "--cache-to")
        .filter_map(|pair| pair[1].strip_prefix("type=registry,ref="))
        .filter_map(|r| r.split(',').next())
        .map(String::from)
        .collect();
    // Vertex -> the refs it pushes once DONE.
    let mut pending: Vec<(u64, Vec<String>)> = Vec::new();
    let mut done = Vec::new();
    for (id, rest) in output.iter().filter_map(|l| vertex_line(l)) {
        if let Some(pushed) = rest
            .strip_prefix("pushing manifest for ")
            .and_then(|r| r.split('@').next())
        {
            // BuildKit prints the name normalised (`docker.io/user/app:v1` for `user/app:v1`).
            let tags = refs
                .iter()
                .filter(|r| *r == pushed || pushed.ends_with(&format!("/{r}")))
                .cloned();
            match pending.iter_mut().find(|(v, _)| *v == id) {
                Some((_, list)) => list.extend(tags),
                None => pending.push((id, tags.collect())),
            }
        } else if rest == "exporting cache to registry" {
            pending.push((id, cache_refs.clone()));
        } else if rest.starts_with("DONE") {
            if let Some(k) = pending.iter().position(|(v, _)| *v == id) {
                done.extend(pending.remove(k).1);
            }
        }
    }
    let mut unique = Vec::new();
    for r in done {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    unique
}

/// `pushed: ...` and `not pushed: ...` lines when some planned ref was not published (a step
/// failed, or the run stopped before it); `None` when every one was, or none was planned.
pub fn push_summary(plan: &Plan, outcome: &Outcome) -> Option<String> {
    let (mut pushed, mut missing) = (Vec::new(), Vec::new());
    for (position, step) in plan.steps().enumerate() {
        let refs = published_by(step);
        let ran = outcome.steps.iter().find(|s| s.position == position);
        match ran {
            Some(s) if s.status == Status::Succeeded => pushed.extend(refs),
            Some(s) if step.kind == StepKind::Build => {
                let some = published_before_failure(step, &s.output);
                let (got, not): (Vec<String>, Vec<String>) =
                    refs.into_iter().partition(|r| some.contains(r));
                pushed.extend(got);
                missing.extend(not);
            }
            _ => missing.extend(refs),
        }
    }
    if missing.is_empty() {
        return None;
    }
    let list = |refs: &[String]| {
        if refs.is_empty() {
            "nothing".to_string()
        } else {
            refs.join(", ")
        }
    };
    Some(format!(
        "pushed: {}\nnot pushed: {}\n",
        list(&pushed),
        list(&missing)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_and_push() -> Step {
        Step {
            kind: StepKind::Build,
            program: "docker".into(),
            args: [
                "buildx",
                "build",
                "--cache-to",
                "type=registry,ref=r.example/app:buildcache,mode=max",
                "--tag",
                "r.example/app:v1",
                "--tag",
                "user/app:sha",
                "--push",
                ".",
            ]
            .map(String::from)
            .to_vec(),
            env: Default::default(),
            allow_failure: false,
            image: "r.example/app".into(),
            stage: None,
            reference: None,
            retry: crate::plan::step::Retry::ONCE,
            output_stage: None,
            stdin_var: None,
            after: Vec::new(),
        }
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn a_build_failing_in_its_cache_export_has_pushed_its_tags() {
        // As 28.5 printed it with the registry failing the cache manifest's PUT.
        let output = lines(
            "#11 exporting to image\n\
             #11 pushing manifest for r.example/app:v1@sha256:88a3\n\
             #11 pushing manifest for r.example/app:v1@sha256:88a3 0.0s done\n\
             #11 pushing manifest for docker.io/user/app:sha@sha256:88a3\n\
             #11 pushing manifest for docker.io/user/app:sha@sha256:88a3 0.0s done\n\
             #11 DONE 0.5s\n\
             #12 exporting cache to registry\n\
             #12 writing layer sha256:1a00 done\n\
             #12 ERROR: error writing manifest blob: unexpected status from PUT request: 500\n",
        );
        assert_eq!(
            published_before_failure(&build_and_push(), &output),
            ["r.example/app:v1", "user/app:sha"]
        );
    }

    #[test]
    fn a_build_failing_in_its_image_push_has_pushed_nothing() {
        // As 28.5 printed it with the registry failing the image manifest's PUT: `done` all
        // the same, then the vertex's ERROR.
        let output = lines(
            "#11 exporting to image\n\
             #11 pushing manifest for r.example/app:v1@sha256:88a3\n\
             #11 7.721 error: failed commit on ref \"manifest-sha256:0e60\": unexpected status: 500\n\
             #11 pushing manifest for r.example/app:v1@sha256:88a3 7.1s done\n\
             #11 ERROR: failed to push r.example/app:v1: unexpected status: 500\n",
        );
        assert!(published_before_failure(&build_and_push(), &output).is_empty());
        // Only its DONE counts for the cache.
        let output = lines(
            "#12 exporting cache to registry\n#12 writing layer sha256:1a00 done\n#12 DONE 0.3s\n",
        );
        assert_eq!(
            published_before_failure(&build_and_push(), &output),
            ["r.example/app:buildcache"]
        );
    }
}
