//! Which refs a run published and which it did not, for a run that stopped part-way: the user
//! (or the next pipeline) must know whether `latest` moved and which caches the registry holds.

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

/// `pushed: ...` and `not pushed: ...` lines when some planned ref was not published (a step
/// failed, or the run stopped before it); `None` when every one was, or none was planned.
pub fn push_summary(plan: &Plan, outcome: &Outcome) -> Option<String> {
    let (mut pushed, mut missing) = (Vec::new(), Vec::new());
    for (position, step) in plan.steps().enumerate() {
        let refs = published_by(step);
        let done = outcome
            .steps
            .iter()
            .any(|s| s.position == position && s.status == Status::Succeeded);
        if done { &mut pushed } else { &mut missing }.extend(refs);
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
