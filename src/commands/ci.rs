//! `layercache ci PLATFORM`: a CI job for the spec, on stdout. The default job installs
//! layercache and runs `layercache build`; `--standalone` embeds the script that `plan --format
//! sh` prints, planned by the same functions.

use super::{write_stdout, Planning};
use crate::error::Error;
use crate::input::ci::{Platform, ShellCi};
use crate::input::ci_job::{job_registries, JobInput};
use crate::input::{ImageInput, InputFiles};
use crate::options::{CiOptions, Env, RecordingEnv, SpecOptions};
use crate::plan::Builder;
use crate::render::{self, ci_jobs};

pub fn ci(opts: &CiOptions, env: &Env) -> Result<(), Error> {
    let platform = opts.platform;
    let job = JobInput::find(opts.spec_file.as_deref(), env.working_dir())?;
    for w in &job.warnings {
        eprintln!("warning: {w}");
    }
    let flag = job.flag.as_deref();
    if opts.component {
        return write_stdout(&ci_jobs::gitlab_component(platform, flag, &job.source)?);
    }
    if !opts.standalone {
        return write_stdout(&ci_jobs::default_job(platform, flag, &job.source)?);
    }
    let builder = opts.builder.unwrap_or(Builder::BuildKit);
    let planned = script(&job, platform, builder, true, env)?;
    // GitHub builds pull requests too, and those must not publish anything.
    let pull_request_script = match platform {
        Platform::GitHub => Some(script(&job, platform, builder, false, env)?.script),
        _ => None,
    };
    let standalone = ci_jobs::Standalone {
        spec: job.source.clone(),
        spec_flag: job.flag.clone(),
        builder,
        script: planned.script,
        pull_request_script,
        registries: job_registries(&planned.images),
        env_read: planned.env_read,
    };
    let text = ci_jobs::standalone_job(platform, &standalone)?;
    for w in ci_jobs::standalone_warnings(platform, &standalone) {
        eprintln!("warning: {w}");
    }
    write_stdout(&text)
}

/// A standalone job's script, the images it was planned from, and the variables the spec read
/// that are fixed at generation time (the CI's own are read by the job in each run).
struct Script {
    script: String,
    images: Vec<ImageInput>,
    env_read: Vec<ci_jobs::EnvRead>,
}

/// The `plan --format sh` script for the runner (see [`SpecOptions::for_job`]).
fn script(
    job: &JobInput,
    platform: Platform,
    builder: Builder,
    push: bool,
    env: &Env,
) -> Result<Script, Error> {
    let shell = ShellCi::new(platform);
    let files = InputFiles {
        given: job.spec.iter().cloned().collect(),
        env: env.vars().clone(),
        working_dir: env.working_dir().to_path_buf(),
        ..InputFiles::default()
    };
    let opts = SpecOptions::for_job(files, &shell, builder, push);
    let recording = RecordingEnv::new(env, &shell, platform);
    // The secrets' values are looked up to be masked, not read by the spec: not recorded.
    let planning = Planning::read(&opts, &|k| recording.get(k), env)?;
    let checked = planning.check(&opts, env)?;
    let plan = planning.plan(checked, None, &opts)?;
    let script = planning
        .secrets
        .mask(&render::sh_for_job(&plan, &planning.inputs.source, &shell));
    // Only names leave here, never values.
    let env_read = recording
        .fixed()
        .into_iter()
        .map(|(name, set)| ci_jobs::EnvRead { name, set })
        .collect();
    Ok(Script {
        script,
        images: planning.inputs.images,
        env_read,
    })
}
