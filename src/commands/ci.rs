//! `layercache ci PLATFORM`: a CI job for the spec, on stdout. The default job installs
//! layercache and runs `layercache build`; `--standalone` embeds the script that `plan --format
//! sh` prints, planned by the same functions.

use super::doctor::registries_of;
use super::{make_plan, read_inputs, secrets_of, write_stdout};
use crate::error::Error;
use crate::input::ci::{is_platform_variable, Platform, ShellCi, TOKEN_PREFIX};
use crate::input::spec::Overrides;
use crate::input::{ImageInput, InputFiles};
use crate::options::{CiOptions, Env, SpecOptions, DEFAULT_SPEC};
use crate::plan::step::Retry;
use crate::plan::{Builder, BuilderChoice};
use crate::render::{self, ci_jobs};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

pub fn ci(opts: &CiOptions, env: &Env) -> Result<(), Error> {
    let platform = opts.platform;
    let spec = ci_spec_path(opts.spec_file.as_deref())?;
    let spec_text = match &spec {
        Some(spec) => Some(spec.to_str().ok_or_else(|| {
            Error::input(format!(
                "{}: a CI job cannot name a path that is not UTF-8",
                spec.display()
            ))
        })?),
        None => None,
    };
    // Without a spec the job builds as `layercache build` does there: ./Dockerfile, with the
    // CI's registry image and tags.
    if spec.is_none() && !Path::new(DEFAULT_DOCKERFILE).is_file() {
        return Err(Error::input(format!(
            "no {DEFAULT_SPEC} and no {DEFAULT_DOCKERFILE} here: the CI job has nothing to build"
        ))
        .hint(format!(
            "run `layercache ci` at the repository's root, beside the {DEFAULT_DOCKERFILE}, or \
             name a spec with -f PATH"
        )));
    }
    let source = spec_text.map_or_else(|| NO_SPEC.to_string(), String::from);
    if !Path::new(".git").exists() {
        eprintln!(
            "warning: no .git here: the job runs at the root of the repository's checkout, so run \
             `layercache ci` there, with -f naming the spec from the root"
        );
    }
    // `-f` only for a spec other than ./layercache.yml, which `layercache build` finds itself.
    let flag = spec_text.filter(|s| Path::new(s) != Path::new(DEFAULT_SPEC));
    if opts.component {
        if platform != Platform::GitLab {
            return Err(Error::input(format!(
                "--component is for GitLab, whose CI/CD components are included by path; {} \
                 has no such thing here",
                platform.name()
            ))
            .hint(
                "for GitHub Actions, use layercache's action (see README); or drop --component",
            ));
        }
        return write_stdout(&ci_jobs::gitlab_component(flag, &source)?);
    }
    if !opts.standalone {
        return write_stdout(&ci_jobs::default_job(platform, flag, &source)?);
    }

    let builder = opts.builder.unwrap_or(Builder::BuildKit);
    let spec = spec.as_deref();
    let planned = script(spec, platform, builder, true, env)?;
    // GitHub builds pull requests too, and those must not publish anything.
    let pull_request_script = match platform {
        Platform::GitHub => Some(script(spec, platform, builder, false, env)?.script),
        _ => None,
    };
    let mut command = String::from("layercache");
    if let Some(flag) = flag {
        command.push_str(&format!(" -f {}", render::quote(flag)));
    }
    command.push_str(&format!(" ci {} --standalone", platform.arg()));
    if builder == Builder::Legacy {
        command.push_str(" --builder legacy");
    }
    let job = ci_jobs::Standalone {
        command,
        spec: source,
        script: planned.script,
        pull_request_script,
        registries: registries_of(&own_registry_images(planned.images)),
        env_read: planned.env_read,
    };
    let text = ci_jobs::standalone_job(platform, &job)?;
    for w in ci_jobs::standalone_warnings(platform, &job) {
        eprintln!("warning: {w}");
    }
    write_stdout(&text)
}

/// The images whose repository the spec names: an image left to the CI is a placeholder here,
/// and the job logs in to the CI's own registry for it.
fn own_registry_images(images: Vec<ImageInput>) -> Vec<ImageInput> {
    images
        .into_iter()
        .filter(|i| !i.config.image.to_string().contains(TOKEN_PREFIX))
        .collect()
}

/// The Dockerfile a job without a spec builds, as `layercache build` does.
const DEFAULT_DOCKERFILE: &str = "Dockerfile";

/// What the job's header says it builds when there is no spec.
const NO_SPEC: &str = "./Dockerfile with the CI's defaults (no layercache.yml)";

/// The spec as the job names it: relative to this folder, which the job's checkout mirrors when
/// `layercache ci` runs at the repository's root. `None`: no spec, flags and the CI's defaults.
fn ci_spec_path(file: Option<&Path>) -> Result<Option<PathBuf>, Error> {
    let Some(path) = file else {
        return Ok(None);
    };
    if !path.is_file() {
        return Err(
            Error::input(format!("{}: no such spec file", path.display()))
                .hint("check the path given to -f/--file"),
        );
    }
    let relative = if path.is_absolute() {
        let here = std::env::current_dir()
            .map_err(|e| Error::environment(format!("cannot read the current folder: {e}")))?;
        path.strip_prefix(&here).map(Path::to_path_buf).ok()
    } else {
        Some(path.to_path_buf())
    };
    let outside = || {
        Error::input(format!(
            "{}: the spec is outside this folder, and the CI job can only name files of the \
             repository's checkout",
            path.display()
        ))
        .hint("run `layercache ci` at the repository's root")
    };
    let relative = relative.ok_or_else(outside)?;
    if relative.components().any(|c| c == Component::ParentDir) {
        return Err(outside());
    }
    Ok(Some(
        relative
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect(),
    ))
}

/// A standalone job's script, the images it was planned from, and the variables the spec read
/// that are fixed at generation time (the CI's own are read by the job in each run).
struct Script {
    script: String,
    images: Vec<ImageInput>,
    env_read: Vec<ci_jobs::EnvRead>,
}

/// The `plan --format sh` script for the runner. Planned as a local run (the job must not
/// depend on the CI that generated it) with the flags' defaults, the runner's `docker` from its
/// PATH and the builder named, as this machine's docker says nothing about the runner's.
fn script(
    spec: Option<&Path>,
    platform: Platform,
    builder: Builder,
    push: bool,
    env: &Env,
) -> Result<Script, Error> {
    // The CI's values (image, tags, branch caches, and the CI variables the spec reads) are
    // read by the job in each run: placeholders here, shell variables in the script.
    let shell = ShellCi::new(platform);
    let ci = shell.context();
    let fixed = RefCell::new(BTreeSet::new());
    let recording = |k: &str| {
        if is_platform_variable(platform, k) {
            Some(shell.token(&format!("${{{k}}}")))
        } else {
            fixed.borrow_mut().insert(k.to_string());
            env.get(k)
        }
    };
    let opts = SpecOptions {
        files: InputFiles {
            given: spec.map(Path::to_path_buf).into_iter().collect(),
            env: env.vars().clone(),
            working_dir: std::env::current_dir().unwrap_or_default(),
            ..InputFiles::default()
        },
        overrides: Overrides {
            push: Some(push),
            fallback_image: ci.image.clone(),
            fallback_tags: ci.default_tags(),
            ..Overrides::default()
        },
        docker: "docker".into(),
        builder: match builder {
            Builder::BuildKit => BuilderChoice::BuildKit,
            Builder::Legacy => BuilderChoice::Legacy,
        },
        retry: Retry::DEFAULT,
        keep_going: false,
        jobs: None,
        parallelism: None,
        reexport: true,
        login_flags: None,
        ci,
        // The job decides nothing about forks: the script is written once, for every pipeline.
        fork_push_refused: false,
        keep_login: false,
        // The runner's docker config is the job's business: log out of what the script logs in to.
        docker_config: None,
    };
    let inputs = read_inputs(&opts, &recording)?;
    // The secrets' values are looked up to be masked, not read by the spec: not recorded.
    let secrets = secrets_of(&inputs, &opts, &|k| env.get(k));
    let plan = make_plan(&inputs, &opts, None, &|k| env.is_set(k))?;
    let script = render::sh_with_prelude(&plan, &inputs.source, &shell.prelude);
    let script = secrets.mask(&render::resolve_symbols(&script, &shell.symbols()));
    // Only names leave here, never values.
    let env_read = fixed
        .into_inner()
        .into_iter()
        .map(|name| ci_jobs::EnvRead {
            set: env.is_set(&name),
            name,
        })
        .collect();
    Ok(Script {
        script,
        images: inputs.images,
        env_read,
    })
}
