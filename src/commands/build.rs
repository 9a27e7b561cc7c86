//! `layercache build`: lint, plan, run, report.

use super::{probe_if_present, write_stdout, Planning};
use crate::docker;
use crate::error::Error;
use crate::options::{BuildOptions, Env};
use crate::render;
use crate::report;
use crate::run;
use crate::secrets::MaskingWriter;
use std::io::Write;

pub fn build(opts: &BuildOptions, env: &Env) -> Result<(), Error> {
    let spec = &opts.spec;
    let planning = Planning::read(spec, &|k| env.get(k), env)?;
    let (inputs, secrets) = (&planning.inputs, &planning.secrets);
    // Everything docker and the executor print passes through the mask.
    let mut stderr = MaskingWriter::new(std::io::stderr(), secrets.clone());
    if opts.lint {
        // Advice only: a build never fails because of its lint findings.
        let _ = write!(stderr, "{}", crate::lint::for_build(&inputs.images));
    }
    let checked = planning.check(spec, env)?;
    if opts.dry_run {
        // Like `plan`: probe docker when it is there, but never need it.
        let caps = probe_if_present(&spec.docker, env);
        let plan = planning.plan(checked, caps.as_ref(), spec)?;
        return write_stdout(&secrets.mask(&render::sh(&plan, &inputs.source)));
    }
    let docker_path = docker::find(&spec.docker, env.get("PATH").as_deref(), env.working_dir())?;
    let caps = docker::probe(&docker_path, &docker::EngineEnv::from_env(&|k| env.get(k)));
    let plan = planning.plan(checked, Some(&caps), spec)?;
    let interrupts = run::Interrupts::install()
        .map_err(|e| Error::environment(format!("cannot install signal handlers: {e}")))?;
    let style = run::LogStyle::for_platform(spec.ci.platform);
    print!("{}", style.preamble(secrets));
    let concurrent = crate::plan::concurrency::runs_concurrently(&plan);
    let progress = run::Progress::choose(opts.progress, concurrent, style);
    let outcome = run::run(&plan, &mut stderr, &interrupts, style, progress);
    let _ = write!(stderr, "{}", report::steps_table(&outcome));
    let cache = report::cache_report(&plan, &outcome);
    let _ = write!(stderr, "{}", cache.table());
    // After a failure or an interrupt: what the registry holds now, and what it lacks.
    if let Some(summary) = report::push_summary(&plan, &outcome) {
        let _ = write!(stderr, "{summary}");
    }
    let files = report::Files {
        report: opts.report.as_deref(),
        metrics: opts.metrics.as_deref(),
        step_summary: spec.ci.step_summary.as_deref(),
    };
    report::write_files(&files, &outcome, &cache, secrets)?;
    outcome.result(env.get("DOCKER_HOST"), secrets)
}
