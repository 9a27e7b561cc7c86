//! A `Step` is one docker invocation held as data. Planning makes them, the executor runs them,
//! the renderers print them; none of those three decide anything about the others.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Pull,
    Build,
    Push,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub kind: StepKind,
    /// The docker program as the user named it (`docker` unless overridden); resolved on PATH
    /// by the executor exactly as `sh` would resolve it in a rendered script.
    pub program: String,
    pub args: Vec<String>,
    /// Variables set for this step only, on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    /// A failure of this step is reported and the run goes on (the `|| true` of hand-written
    /// recipes); only pulls of cache images are tolerated.
    pub allow_failure: bool,
    /// The image repository this step belongs to.
    pub image: String,
    /// The Dockerfile stage this step builds or whose cache it moves, if any.
    pub stage: Option<String>,
    /// The image reference pulled or pushed, for messages.
    pub reference: Option<String>,
}

impl Step {
    /// The full command line: program then arguments.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// A short human label: `build builder`, `push app:cache-builder`.
    pub fn label(&self) -> String {
        match self.kind {
            StepKind::Build => format!("build {}", self.stage.as_deref().unwrap_or("image")),
            StepKind::Pull => format!("pull {}", self.reference.as_deref().unwrap_or("")),
            StepKind::Push => format!("push {}", self.reference.as_deref().unwrap_or("")),
        }
    }
}
