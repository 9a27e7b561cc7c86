//! One file per subcommand: read the inputs, plan, then run or render. Wiring only: the rules
//! live in `input`, `plan`, `run`, `render`, `report`, `lint` and `doctor`. The order of work is
//! always the same, so `plan`, `build --dry-run` and `build` see the same plan.

mod build;
mod ci;
mod completions;
mod doctor;
mod init;
mod lint;
mod man;
mod plan;

pub use build::build;
pub use ci::ci;
pub use completions::completions;
pub use doctor::doctor;
pub use init::init;
pub use lint::lint;
pub use man::man;
pub use plan::plan;

use crate::docker::Capabilities;
use crate::error::Error;
use crate::input::{self, Inputs};
use crate::options::SpecOptions;
use crate::plan::{self as planner, Plan};
use crate::secrets::Secrets;
use std::io::Write;

/// Reads the spec (or the flags alone) and the Dockerfiles, as `opts` says.
fn read_inputs(opts: &SpecOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Inputs, Error> {
    let inputs = input::read_inputs(&opts.files, &opts.overrides, env)?;
    for w in &inputs.warnings {
        eprintln!("warning: {w}");
    }
    Ok(inputs)
}

/// The secret values of this run: the built-in variables, every image's `secrets:` and the
/// registry password variables.
fn secrets_of(
    inputs: &Inputs,
    opts: &SpecOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Secrets {
    Secrets::from_env(
        &input::secret_vars(&inputs.images, opts.password_var()),
        env,
    )
}

/// Chooses the builder and plans. Warnings go to stderr.
fn make_plan(
    inputs: &Inputs,
    opts: &SpecOptions,
    caps: Option<&Capabilities>,
    is_set: &dyn Fn(&str) -> bool,
) -> Result<Plan, Error> {
    let logins = planner::logins(&opts.ci, opts.login_flags.as_ref(), &inputs.images, is_set)?;
    let (builder, reason) = planner::builder::choose(opts.builder, caps);
    tracing::info!("builder: {reason}");
    if builder == planner::Builder::Legacy && opts.builder == planner::BuilderChoice::Auto {
        eprintln!("warning: using the {reason}");
    }
    let plan = planner::plan(
        &inputs.images,
        &planner::Options {
            docker: opts.docker.clone(),
            builder: opts.builder,
            caps: caps.cloned(),
            retry: opts.retry,
            keep_going: opts.keep_going,
            jobs: opts.jobs.or(inputs.jobs),
            parallelism: opts.parallelism.unwrap_or(UNKNOWN_MACHINE_CORES),
            reexport: opts.reexport,
            branch: opts.ci.branch.clone(),
            default_branch: opts.ci.default_branch.clone(),
            logouts: logouts(&logins, opts),
            logins,
        },
    )?;
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    if opts.fork_push_refused {
        eprintln!(
            "note: this pipeline builds a change from a fork: caches are read, nothing is pushed \
             (--allow-fork-push to push all the same)"
        );
    }
    Ok(plan)
}

/// The registries to log out of at the end: each one logged in to, unless `--keep-login`, or
/// the user's docker config held a login for it already (theirs, left as it was).
fn logouts(logins: &[crate::input::ci::Login], opts: &SpecOptions) -> Vec<String> {
    if opts.keep_login {
        return Vec::new();
    }
    logins
        .iter()
        .filter(|l| !crate::docker::config::logged_in(opts.docker_config.as_deref(), &l.registry))
        .map(|l| l.registry.clone())
        .collect()
}

/// Plans once without asking the engine, so that an input error (a target that is not a
/// stage, a `cache_stages` name the target does not need) stops the run before any docker
/// command, probes included (issue 12: bad input, no docker call).
fn check_inputs(
    inputs: &Inputs,
    opts: &SpecOptions,
    is_set: &dyn Fn(&str) -> bool,
) -> Result<(), Error> {
    let logins = planner::logins(&opts.ci, opts.login_flags.as_ref(), &inputs.images, is_set)?;
    planner::plan(
        &inputs.images,
        &planner::Options {
            docker: opts.docker.clone(),
            builder: opts.builder,
            caps: None,
            retry: opts.retry,
            keep_going: opts.keep_going,
            jobs: opts.jobs.or(inputs.jobs),
            parallelism: opts.parallelism.unwrap_or(UNKNOWN_MACHINE_CORES),
            reexport: opts.reexport,
            branch: opts.ci.branch.clone(),
            default_branch: opts.ci.default_branch.clone(),
            logins,
            logouts: Vec::new(),
        },
    )
    .map(|_| ())
}

/// The cores assumed where the plan runs on another machine (a `ci --standalone` script): the
/// smallest hosted runners of GitHub Actions and GitLab have 2.
const UNKNOWN_MACHINE_CORES: usize = 2;

/// Probes docker when it is there, for commands that never need it (`plan`, `--dry-run`).
fn probe_if_present(docker: &str, env: &crate::options::Env) -> Option<Capabilities> {
    crate::docker::find(docker)
        .ok()
        .map(|p| crate::docker::probe(&p, &crate::docker::EngineEnv::from_env(&|k| env.get(k))))
}

/// Writes a command's output. A closed pipe (`plan | head`) is not an error: the reader has
/// what it wanted.
fn write_stdout(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::environment(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
