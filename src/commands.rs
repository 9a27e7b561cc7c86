//! One function per subcommand: read the inputs, plan, then run or render. The order of work
//! is always the same, so `plan`, `build --dry-run` and `build` see the same plan.

use crate::cli::{BuildArgs, Format, PlanArgs, SpecArgs};
use crate::docker;
use crate::dockerfile::{self, Dockerfile};
use crate::error::{self, Error};
use crate::plan::{self, ImageInput, Plan};
use crate::render;
use crate::run::{self, Status};
use crate::spec::{self, ImageConfig};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The spec file a command reads: `-f PATH`, or `layercache.yml` here when it exists.
pub const DEFAULT_SPEC: &str = "layercache.yml";

/// Dockerfiles above this size are refused before parsing, to bound memory.
const MAX_DOCKERFILE_BYTES: u64 = 64 * 1024 * 1024;

/// Everything planned, with the inputs the renderers need.
struct Planned {
    plan: Plan,
    inputs: Vec<ImageInput>,
    source: String,
}

pub fn build(file: Option<&Path>, args: &BuildArgs) -> Result<(), Error> {
    let mut stderr = std::io::stderr();
    let (inputs, source) = read_inputs(file, &args.spec)?;
    if args.dry_run {
        // Like `plan`: probe docker when it is there, but never need it.
        let caps = docker::find(&args.spec.docker)
            .ok()
            .map(|p| docker::probe(&p));
        let planned = make_plan(inputs, source, &args.spec, caps.as_ref())?;
        print!("{}", render::sh(&planned.plan, &planned.source));
        return Ok(());
    }
    let docker_path = docker::find(&args.spec.docker)?;
    let caps = docker::probe(&docker_path);
    let planned = make_plan(inputs, source, &args.spec, Some(&caps))?;
    docker::check_daemon(&docker_path)?;
    let interrupts = run::Interrupts::install()
        .map_err(|e| Error::Environment(format!("cannot install signal handlers: {e}")))?;
    let outcome = run::run(&planned.plan, &mut stderr, &interrupts);
    let _ = write!(stderr, "{}", summary(&outcome));
    if let Some(signal) = outcome.interrupted {
        return Err(Error::Interrupted { signal });
    }
    match outcome.failure {
        Some(message) => Err(Error::StepFailed(message)),
        None => Ok(()),
    }
}

pub fn plan(file: Option<&Path>, args: &PlanArgs) -> Result<(), Error> {
    let (inputs, source) = read_inputs(file, &args.spec)?;
    let caps = docker::find(&args.spec.docker)
        .ok()
        .map(|p| docker::probe(&p));
    let planned = make_plan(inputs, source, &args.spec, caps.as_ref())?;
    match args.format {
        Format::Sh => print!("{}", render::sh(&planned.plan, &planned.source)),
        Format::Json => {
            let dockerfiles: Vec<&Dockerfile> =
                planned.inputs.iter().map(|i| &i.dockerfile).collect();
            let value = render::json(&planned.plan, &dockerfiles);
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Reads the spec and the Dockerfiles: every input error surfaces here, before docker is run.
fn read_inputs(file: Option<&Path>, args: &SpecArgs) -> Result<(Vec<ImageInput>, String), Error> {
    let env = |k: &str| std::env::var(k).ok();
    let overrides = args.overrides(&env)?;
    let (configs, source) = match spec_path(file) {
        Some(path) => (
            spec::load(&path, &env, &overrides)?,
            path.display().to_string(),
        ),
        None => (
            spec::from_overrides(&overrides)?,
            "command-line flags".to_string(),
        ),
    };
    Ok((read_dockerfiles(configs)?, source))
}

/// Chooses the builder and plans. Warnings go to stderr.
fn make_plan(
    inputs: Vec<ImageInput>,
    source: String,
    args: &SpecArgs,
    caps: Option<&docker::Capabilities>,
) -> Result<Planned, Error> {
    let (builder, reason) = docker::choose_builder(args.builder_mode(), caps);
    tracing::info!("builder: {reason}");
    if builder == plan::Builder::Legacy && args.builder_mode() == docker::BuilderMode::Auto {
        eprintln!("warning: using the {reason}");
    }
    let plan = plan::plan(
        &inputs,
        &plan::Options {
            docker: args.docker.clone(),
            builder,
            retry: args.retry(),
            keep_going: args.keep_going,
        },
    )?;
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    Ok(Planned {
        plan,
        inputs,
        source,
    })
}

fn spec_path(file: Option<&Path>) -> Option<PathBuf> {
    match file {
        Some(p) => Some(p.to_path_buf()),
        None => Path::new(DEFAULT_SPEC)
            .is_file()
            .then(|| PathBuf::from(DEFAULT_SPEC)),
    }
}

/// Parses each image's Dockerfile once, however many images share it.
fn read_dockerfiles(configs: Vec<ImageConfig>) -> Result<Vec<ImageInput>, Error> {
    let mut parsed: HashMap<PathBuf, Dockerfile> = HashMap::new();
    let mut inputs = Vec::with_capacity(configs.len());
    for config in configs {
        let df = match parsed.get(&config.dockerfile) {
            Some(df) => df.clone(),
            None => {
                let df = read_dockerfile(&config)?;
                parsed.insert(config.dockerfile.clone(), df.clone());
                df
            }
        };
        inputs.push(ImageInput {
            config,
            dockerfile: df,
        });
    }
    Ok(inputs)
}

fn read_dockerfile(config: &ImageConfig) -> Result<Dockerfile, Error> {
    let path = &config.dockerfile;
    let shown = path.display().to_string();
    let hint = format!(
        "set `dockerfile:` in {} or pass --dockerfile PATH",
        config.origin
    );
    let meta = std::fs::metadata(path).map_err(|e| {
        error::at(
            &shown,
            0,
            0,
            &format!("cannot read the Dockerfile: {e}"),
            &hint,
        )
    })?;
    if meta.is_dir() {
        return Err(error::at(
            &shown,
            0,
            0,
            "this is a folder, not a Dockerfile",
            &hint,
        ));
    }
    if meta.len() > MAX_DOCKERFILE_BYTES {
        return Err(error::at(
            &shown,
            0,
            0,
            "the Dockerfile is larger than 64 MiB",
            "is this the right file?",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        error::at(
            &shown,
            0,
            0,
            &format!("cannot read the Dockerfile: {e}"),
            &hint,
        )
    })?;
    dockerfile::parse_bytes(&bytes)
        .map_err(|e| error::at(&shown, e.line, e.column, &e.message, &e.hint))
}

/// The end-of-build table: each step, how it ended and how long it took.
fn summary(outcome: &run::Outcome) -> String {
    let total: f64 = outcome.steps.iter().map(|s| s.duration.as_secs_f64()).sum();
    let mut out = format!(
        "\nlayercache: {} steps in {total:.3}s of docker\n",
        outcome.steps.len()
    );
    for s in &outcome.steps {
        let status = match s.status {
            Status::Succeeded => "ok",
            Status::Tolerated { .. } => "missed",
            Status::Failed { .. } => "FAILED",
        };
        out.push_str(&format!(
            "  {status:<7} {:>7.1}s  {}\n",
            s.duration.as_secs_f64(),
            s.label
        ));
    }
    out
}
