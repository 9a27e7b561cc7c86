//! `layercache build`: lint, plan, run, report.

use super::{check_inputs, make_plan, probe_if_present, read_inputs, secrets_of, write_stdout};
use crate::docker;
use crate::error::Error;
use crate::options::{BuildOptions, Env};
use crate::render;
use crate::report;
use crate::run;
use crate::secrets::{MaskingWriter, Secrets};
use std::io::Write;
use std::path::Path;

pub fn build(opts: &BuildOptions, env: &Env) -> Result<(), Error> {
    let lookup = |k: &str| env.get(k);
    let spec = &opts.spec;
    let inputs = read_inputs(spec, &lookup)?;
    let secrets = secrets_of(&inputs, spec, &lookup);
    // Everything docker and the executor print passes through the mask.
    let mut stderr = MaskingWriter::new(std::io::stderr(), secrets.clone());
    if opts.lint {
        // Advice only: a build never fails because of its lint findings.
        let _ = write!(stderr, "{}", super::lint::for_build(&inputs.images));
    }
    let is_set = |k: &str| env.is_set(k);
    check_inputs(&inputs, spec, &is_set)?;
    if opts.dry_run {
        // Like `plan`: probe docker when it is there, but never need it.
        let caps = probe_if_present(&spec.docker, env);
        let plan = make_plan(&inputs, spec, caps.as_ref(), &is_set)?;
        return write_stdout(&secrets.mask(&render::sh(&plan, &inputs.source)));
    }
    let docker_path = docker::find(&spec.docker)?;
    let caps = docker::probe(&docker_path, &docker::EngineEnv::from_env(&|k| env.get(k)));
    let plan = make_plan(&inputs, spec, Some(&caps), &is_set)?;
    let interrupts = run::Interrupts::install()
        .map_err(|e| Error::environment(format!("cannot install signal handlers: {e}")))?;
    let style = run::LogStyle::for_platform(spec.ci.platform);
    print!("{}", style.preamble(&secrets));
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
    write_reports(
        opts,
        spec.ci.step_summary.as_deref(),
        &outcome,
        &cache,
        &secrets,
    )?;
    if let Some(signal) = outcome.interrupted {
        return Err(Error::interrupted(signal));
    }
    if let Some(reason) = &outcome.daemon_unreachable {
        let host = env
            .get("DOCKER_HOST")
            .unwrap_or_else(|| "the default socket".into());
        return Err(Error::environment(format!(
            "the Docker daemon is not reachable ({host}): {}",
            secrets.mask(reason)
        ))
        .hint("start dockerd (or Docker Desktop), check DOCKER_HOST, or use --dry-run to see the plan"));
    }
    match outcome.failure {
        Some(message) => Err(Error::step_failed(secrets.mask(&message))),
        None => Ok(()),
    }
}

/// The cache report's files: `--report` JSON, `--metrics`, and the GitHub step summary.
fn write_reports(
    opts: &BuildOptions,
    step_summary: Option<&Path>,
    outcome: &run::Outcome,
    cache: &report::CacheReport,
    secrets: &Secrets,
) -> Result<(), Error> {
    let write = |path: &Path, text: String, append: bool| {
        let cannot =
            |e: std::io::Error| Error::environment(format!("cannot write {}: {e}", path.display()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(cannot)?;
        file.write_all(secrets.mask(&text).as_bytes())
            .map_err(cannot)
    };
    if let Some(path) = &opts.report {
        write(
            path,
            serde_json::to_string_pretty(cache).unwrap_or_default() + "\n",
            false,
        )?;
    }
    if let Some(path) = &opts.metrics {
        write(path, cache.metrics(), false)?;
    }
    // GitHub Actions renders this file under the job's log.
    if let Some(path) = step_summary {
        write(
            path,
            format!("{}\n{}", report::steps_markdown(outcome), cache.markdown()),
            true,
        )?;
    }
    Ok(())
}
