//! A `Step` is one docker invocation held as data. Planning makes them, the executor runs them,
//! the renderers print them; none of those three decide anything about the others.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Login,
    /// `docker logout` of a registry this run logged in to; always run at the end.
    Logout,
    Pull,
    Build,
    /// The same build again from the local cache, so the pushed inline cache is complete.
    Reexport,
    Push,
    /// `docker tag`: a name in the local engine only (Compose's `<project>-<service>`), after
    /// a build that pushed without loading the image under it.
    Tag,
    /// Not docker: moves a freshly written local cache folder over the old one.
    #[serde(rename = "save-cache")]
    SaveCache,
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
    /// How often a failure is tried again (registry traffic only; builds are never retried).
    pub retry: Retry,
    /// The stage as the builder's output names it (`builder`, `stage-1`, or empty for a
    /// single unnamed stage), for build steps; the report and conditions read it.
    pub output_stage: Option<String>,
    /// The environment variable whose value is written to the step's stdin (a registry
    /// password for `docker login --password-stdin`); the value itself is never in the plan.
    pub stdin_var: Option<String>,
    /// The steps of the same image (indices into its `steps`) that must have ended well before
    /// this one starts; steps with none left to wait for may run at once. Logins and the images
    /// an image builds on come first anyway (`ImagePlan::after`).
    pub after: Vec<usize>,
}

/// Tries and backoff for a step that talks to a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retry {
    /// Total tries, at least 1.
    pub tries: u32,
    /// The wait before the second try; it doubles before each further try.
    pub base_delay: Duration,
}

impl Retry {
    pub const ONCE: Retry = Retry {
        tries: 1,
        base_delay: Duration::ZERO,
    };

    /// Pushes and pulls unless `--retries` / `--retry-delay` say otherwise.
    pub const DEFAULT: Retry = Retry {
        tries: 3,
        base_delay: Duration::from_secs(1),
    };

    /// The waits between tries: base, 2 x base, 4 x base, ...
    pub fn delays(&self) -> Vec<Duration> {
        (0..self.tries.saturating_sub(1))
            .map(|i| self.base_delay.saturating_mul(2u32.saturating_pow(i)))
            .collect()
    }
}

/// Docker's words when it cannot reach the daemon: no step can work, so the run stops with
/// exit 3 whatever the step (even a tolerated pull), and nothing is retried.
pub const DAEMON_UNREACHABLE_MARKERS: &[&str] = &[
    "Cannot connect to the Docker daemon",
    "error during connect",
    "Is the docker daemon running?",
];

/// Docker's words for a pull of an image the registry does not have: the usual miss on a first
/// run or a new branch, not worth retrying.
pub const ABSENT_IMAGE_MARKERS: &[&str] = &["manifest unknown", "not found", "does not exist"];

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
            // A buildx build that publishes in the same step says so.
            StepKind::Build if self.args.iter().any(|a| a == "--push") => format!(
                "build and push {}",
                self.stage.as_deref().unwrap_or("image")
            ),
            StepKind::Build => format!("build {}", self.stage.as_deref().unwrap_or("image")),
            StepKind::Reexport => format!("re-export {}", self.stage.as_deref().unwrap_or("image")),
            StepKind::Login => format!("login {}", self.reference.as_deref().unwrap_or("")),
            StepKind::Logout => format!("logout {}", self.reference.as_deref().unwrap_or("")),
            StepKind::Pull => format!("pull {}", self.reference.as_deref().unwrap_or("")),
            StepKind::Push => format!("push {}", self.reference.as_deref().unwrap_or("")),
            StepKind::Tag => format!("tag {}", self.reference.as_deref().unwrap_or("")),
            StepKind::SaveCache => {
                format!("save cache {}", self.args.last().map_or("", String::as_str))
            }
        }
    }
}
