//! The plan as JSON, for tools.

use crate::input::dockerfile::Dockerfile;
use crate::plan::step::Step;
use crate::plan::{Plan, Strategy};
use serde_json::{json, Value};

/// The plan as JSON. The shape of `images[].stages`, `targets` and `steps` is a promise to
/// other tools (see the README); add fields, never change these.
pub fn json(plan: &Plan, dockerfiles: &[&Dockerfile]) -> Value {
    let images: Vec<Value> = plan
        .images
        .iter()
        .zip(dockerfiles)
        .map(|(image, df)| {
            let stages: Vec<Value> = df
                .stages
                .iter()
                .map(|s| json!({"index": s.index, "name": s.name, "from": s.from, "base": s.base, "depends_on": s.depends_on, "dependencies": s.dependencies}))
                .collect();
            let steps: Vec<Value> = image.steps.iter().map(step_json).collect();
            json!({
                "name": image.name,
                "strategy": image.strategy.name(),
                "reexport": matches!(image.strategy, Strategy::Inline { reexport: true }),
                "strategy_reason": image.strategy_reason,
                "dockerfile": image.dockerfile,
                "stages": stages,
                "targets": image.targets,
                "cache_refs": image.cache_refs,
                "after": image.after,
                "platforms": image.platforms,
                "steps": steps,
            })
        })
        .collect();
    let logins: Vec<Value> = plan.logins.iter().map(step_json).collect();
    let logouts: Vec<Value> = plan.logouts.iter().map(step_json).collect();
    json!({"builder": plan.builder, "jobs": plan.jobs, "logins": logins, "images": images, "logouts": logouts, "warnings": plan.warnings})
}

fn step_json(s: &Step) -> Value {
    json!({
        "kind": s.kind,
        "argv": s.argv(),
        "env": s.env,
        "allow_failure": s.allow_failure,
        "stage": s.stage,
        "reference": s.reference,
        "tries": s.retry.tries,
        "after": s.after,
        // Only the variable's name: the value never enters a plan.
        "stdin": s.stdin_var.as_ref().map(|v| json!({"env": v})),
    })
}
