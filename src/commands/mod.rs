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
use crate::options::{Env, SpecOptions};
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

/// What a command plans from, read once: the inputs and the secret values to mask.
struct Planning {
    inputs: Inputs,
    secrets: Secrets,
}

/// The planner's options (who logs in and out where; no engine capabilities), and the plan
/// made with them.
struct Checked {
    options: planner::Options,
    plan: Plan,
}

impl Planning {
    /// Reads the inputs; `spec_env` answers the spec's `${VAR}`s, `env` the secrets' values.
    fn read(
        opts: &SpecOptions,
        spec_env: &dyn Fn(&str) -> Option<String>,
        env: &Env,
    ) -> Result<Planning, Error> {
        let inputs = read_inputs(opts, spec_env)?;
        let secrets = Secrets::from_env(
            &input::secret_vars(&inputs.images, opts.password_var()),
            &|k| env.get(k),
        );
        Ok(Planning { inputs, secrets })
    }

    /// Plans without asking the engine, so that an input error (a target that is not a stage,
    /// a `cache_stages` name the target does not need, an unset password variable) stops the
    /// run before any docker command, probes included (issue 12: bad input, no docker call).
    fn check(&self, opts: &SpecOptions, env: &Env) -> Result<Checked, Error> {
        let images = &self.inputs.images;
        let logins = planner::logins(&opts.ci, opts.login_flags.as_ref(), images, &|k| {
            env.is_set(k)
        })?;
        let theirs = |registry: &str| {
            crate::docker::config::logged_in(opts.docker_config.as_deref(), registry)
        };
        let options = planner::Options {
            docker: opts.docker.clone(),
            builder: opts.builder,
            caps: None,
            retry: opts.retry,
            keep_going: opts.keep_going,
            jobs: opts.jobs.or(self.inputs.jobs),
            parallelism: opts.parallelism,
            reexport: opts.reexport,
            branch: opts.ci.branch.clone(),
            default_branch: opts.ci.default_branch.clone(),
            logouts: planner::logouts(&logins, opts.keep_login, &theirs),
            logins,
        };
        let plan = planner::plan(images, &options)?;
        Ok(Checked { options, plan })
    }

    /// The plan for the engine probed (`None`: not probed, the checked plan as it is), with its
    /// warnings on stderr.
    fn plan(
        &self,
        checked: Checked,
        caps: Option<&Capabilities>,
        opts: &SpecOptions,
    ) -> Result<Plan, Error> {
        let (builder, reason) = planner::builder::choose(opts.builder, caps);
        tracing::info!("builder: {reason}");
        if builder == planner::Builder::Legacy && opts.builder == planner::BuilderChoice::Auto {
            eprintln!("warning: using the {reason}");
        }
        let plan = match caps {
            None => checked.plan,
            Some(caps) => planner::plan(
                &self.inputs.images,
                &planner::Options {
                    caps: Some(caps.clone()),
                    ..checked.options
                },
            )?,
        };
        for w in &plan.warnings {
            eprintln!("warning: {w}");
        }
        if opts.fork_push_refused {
            eprintln!(
                "note: this pipeline builds a change from a fork: caches are read, nothing is \
                 pushed (--allow-fork-push to push all the same)"
            );
        }
        Ok(plan)
    }
}

/// Probes docker when it is there, for commands that never need it (`plan`, `--dry-run`).
fn probe_if_present(docker: &str, env: &Env) -> Option<Capabilities> {
    crate::docker::find(docker, env.get("PATH").as_deref(), env.working_dir())
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
