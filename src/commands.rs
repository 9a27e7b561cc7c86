//! One function per subcommand: read the inputs, plan, then run or render. The order of work
//! is always the same, so `plan`, `build --dry-run` and `build` see the same plan.

use crate::ci::{CiContext, Login, Platform};
use crate::cli::{
    BuildArgs, DoctorArgs, DoctorFormat, Format, LintArgs, LintFormat, PlanArgs, SpecArgs,
};
use crate::docker;
use crate::dockerfile::{self, Dockerfile};
use crate::doctor;
use crate::error::{self, Error};
use crate::lint::{self, Report, Severity};
use crate::plan::{self, ImageInput, Plan};
use crate::render;
use crate::report;
use crate::run;
use crate::secrets::{MaskingWriter, Secrets};
use crate::spec::{self, ImageConfig};
use std::collections::{BTreeMap, HashMap};
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
    let ci = CiContext::from_env(&|k| std::env::var(k).ok());
    let (inputs, source) = read_inputs(file, &args.spec, &ci)?;
    let secrets = secrets_of(&inputs, &args.spec);
    // Everything docker and the executor print passes through the mask.
    let mut stderr = MaskingWriter::new(std::io::stderr(), secrets.clone());
    if !args.no_lint {
        // Advice only: a build never fails because of its lint findings.
        let _ = write!(stderr, "{}", lint_for_build(&inputs));
    }
    if args.dry_run {
        // Like `plan`: probe docker when it is there, but never need it.
        let caps = docker::find(&args.spec.docker)
            .ok()
            .map(|p| docker::probe(&p));
        let planned = make_plan(inputs, source, &args.spec, &ci, caps.as_ref())?;
        return write_stdout(&secrets.mask(&render::sh(&planned.plan, &planned.source)));
    }
    let docker_path = docker::find(&args.spec.docker)?;
    let caps = docker::probe(&docker_path);
    let planned = make_plan(inputs, source, &args.spec, &ci, Some(&caps))?;
    let interrupts = run::Interrupts::install()
        .map_err(|e| Error::Environment(format!("cannot install signal handlers: {e}")))?;
    let style = match ci.platform {
        Platform::GitLab => run::LogStyle::GitLab,
        Platform::GitHub => {
            // The runner hides these values in its own logs too; this line is its command
            // channel, not output (the runner does not print it).
            for value in secrets.values() {
                println!("::add-mask::{value}");
            }
            run::LogStyle::GitHub
        }
        _ => run::LogStyle::Plain,
    };
    let outcome = run::run(&planned.plan, &mut stderr, &interrupts, style);
    let _ = write!(stderr, "{}", report::steps_table(&outcome));
    let cache = report::cache_report(&planned.plan, &outcome);
    let _ = write!(stderr, "{}", cache.table());
    write_reports(args, &ci, &outcome, &cache, &secrets)?;
    if let Some(signal) = outcome.interrupted {
        return Err(Error::Interrupted { signal });
    }
    if let Some(reason) = &outcome.daemon_unreachable {
        let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "the default socket".into());
        return Err(Error::Environment(format!(
            "the Docker daemon is not reachable ({host}): {}\n  \
             hint: start dockerd (or Docker Desktop), check DOCKER_HOST, or use --dry-run to see the plan",
            secrets.mask(reason)
        )));
    }
    match outcome.failure {
        Some(message) => Err(Error::StepFailed(secrets.mask(&message))),
        None => Ok(()),
    }
}

/// The cache report's files: `--report` JSON, `--metrics`, and the GitHub step summary.
fn write_reports(
    args: &BuildArgs,
    ci: &CiContext,
    outcome: &run::Outcome,
    cache: &report::CacheReport,
    secrets: &Secrets,
) -> Result<(), Error> {
    let write = |path: &Path, text: String, append: bool| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| Error::Environment(format!("cannot write {}: {e}", path.display())))?;
        file.write_all(secrets.mask(&text).as_bytes())
            .map_err(|e| Error::Environment(format!("cannot write {}: {e}", path.display())))
    };
    if let Some(path) = &args.report {
        write(
            path,
            serde_json::to_string_pretty(cache).unwrap_or_default() + "\n",
            false,
        )?;
    }
    if let Some(path) = &args.metrics {
        write(path, cache.metrics(), false)?;
    }
    // GitHub Actions renders this file under the job's log.
    if let Some(path) = &ci.step_summary {
        write(
            path,
            format!("{}\n{}", report::steps_markdown(outcome), cache.markdown()),
            true,
        )?;
    }
    Ok(())
}

/// The secret values of this run: the built-in variables, every image's `secrets:` and the
/// registry password variable.
fn secrets_of(inputs: &[ImageInput], args: &SpecArgs) -> Secrets {
    let listed: Vec<String> = inputs
        .iter()
        .flat_map(|i| i.config.secrets.iter().cloned())
        .chain(args.registry_password_var.clone())
        .chain(
            inputs
                .iter()
                .filter_map(|i| i.config.registry_login.as_ref().map(|(_, var)| var.clone())),
        )
        .collect();
    Secrets::from_env(&listed, &|k| std::env::var(k).ok())
}

pub fn plan(file: Option<&Path>, args: &PlanArgs) -> Result<(), Error> {
    let ci = CiContext::from_env(&|k| std::env::var(k).ok());
    let (inputs, source) = read_inputs(file, &args.spec, &ci)?;
    let secrets = secrets_of(&inputs, &args.spec);
    let caps = docker::find(&args.spec.docker)
        .ok()
        .map(|p| docker::probe(&p));
    let planned = make_plan(inputs, source, &args.spec, &ci, caps.as_ref())?;
    let text = match args.format {
        Format::Sh => render::sh(&planned.plan, &planned.source),
        Format::Json => {
            let dockerfiles: Vec<&Dockerfile> =
                planned.inputs.iter().map(|i| &i.dockerfile).collect();
            let value = render::json(&planned.plan, &dockerfiles);
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
    };
    write_stdout(&secrets.mask(&text))
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
            Err(Error::Environment(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Reads the spec and the Dockerfiles: every input error surfaces here, before docker is run.
fn read_inputs(
    file: Option<&Path>,
    args: &SpecArgs,
    ci: &CiContext,
) -> Result<(Vec<ImageInput>, String), Error> {
    read_inputs_with(file, args, ci, &|k| std::env::var(k).ok())
}

/// `read_inputs` with the environment given: a CI job file reads the CI's variables as
/// placeholders (see `ci_script`).
fn read_inputs_with(
    file: Option<&Path>,
    args: &SpecArgs,
    ci: &CiContext,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<ImageInput>, String), Error> {
    let overrides = spec::Overrides {
        fallback_image: ci.image.clone(),
        fallback_tags: ci.default_tags(),
        ..args.overrides(env)?
    };
    let (configs, source) = match spec_path(file) {
        Some(path) => (
            spec::load(&path, env, &overrides)?,
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
    ci: &CiContext,
    caps: Option<&docker::Capabilities>,
) -> Result<Planned, Error> {
    let logins = logins(ci, args, &inputs)?;
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
            reexport: !args.no_reexport,
            branch: ci.branch.clone(),
            default_branch: ci.default_branch.clone(),
            logins,
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

/// Who logs in where: `--registry-user` with `--registry-password-var` (for the registry of
/// the first image); else each image's `registry_user` / `registry_password_var`; else the
/// CI's own registry credentials. One login per registry.
fn logins(ci: &CiContext, args: &SpecArgs, inputs: &[ImageInput]) -> Result<Vec<Login>, Error> {
    let mut logins: Vec<Login> = Vec::new();
    match (
        &args.registry_user,
        &args.registry_password_var,
        inputs.first(),
    ) {
        (Some(user), Some(var), Some(first)) => logins.push(Login {
            registry: first.config.image.registry().to_string(),
            user: user.clone(),
            password_var: var.clone(),
        }),
        (Some(_), None, _) | (None, Some(_), _) => {
            return Err(Error::Input(
                "--registry-user and --registry-password-var go together\n  \
                 hint: name the user and the environment variable that holds the password"
                    .into(),
            ))
        }
        _ => {
            for i in inputs {
                if let Some((user, var)) = &i.config.registry_login {
                    let registry = i.config.image.registry().to_string();
                    logins.push(Login {
                        registry,
                        user: user.clone(),
                        password_var: var.clone(),
                    });
                }
            }
        }
    }
    if logins.is_empty() {
        logins.extend(ci.login.iter().cloned());
    }
    logins.dedup_by(|a, b| a.registry == b.registry);
    if let Some(unset) = logins
        .iter()
        .find(|l| std::env::var_os(&l.password_var).is_none())
    {
        return Err(Error::Input(format!(
            "the registry password variable {} (for {}) is not set\n  \
             hint: export {} with the registry password (in CI: from a masked secret)",
            unset.password_var, unset.registry, unset.password_var
        )));
    }
    Ok(logins)
}

/// Parses each image's Dockerfile once per set of build args, however many images share it.
fn read_dockerfiles(configs: Vec<ImageConfig>) -> Result<Vec<ImageInput>, Error> {
    let mut parsed: HashMap<(PathBuf, dockerfile::GraphInputs), Dockerfile> = HashMap::new();
    let mut inputs = Vec::with_capacity(configs.len());
    for config in configs {
        let graph = graph_inputs(&config);
        let key = (config.dockerfile.clone(), graph);
        let df = match parsed.get(&key) {
            Some(df) => df.clone(),
            None => {
                let df = read_dockerfile(&config, &key.1)?;
                parsed.insert(key, df.clone());
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

/// What the stage graph of an image depends on: its build args, a name-only one read from the
/// environment as docker reads it (left out when unset, as the docker CLI leaves it out).
fn graph_inputs(config: &ImageConfig) -> dockerfile::GraphInputs {
    let build_args = config
        .build_args
        .iter()
        .filter_map(|(k, v)| match v {
            Some(v) => Some((k.clone(), v.clone())),
            None => std::env::var(k).ok().map(|v| (k.clone(), v)),
        })
        .collect();
    dockerfile::GraphInputs {
        build_args,
        ..dockerfile::GraphInputs::default()
    }
}

fn read_dockerfile(
    config: &ImageConfig,
    graph: &dockerfile::GraphInputs,
) -> Result<Dockerfile, Error> {
    let hint = format!(
        "set `dockerfile:` in {} or pass --dockerfile PATH",
        config.origin
    );
    read_dockerfile_at(&config.dockerfile, &hint, graph)
}

/// Reads and parses one Dockerfile; `hint` says how to name another one.
fn read_dockerfile_at(
    path: &Path,
    hint: &str,
    graph: &dockerfile::GraphInputs,
) -> Result<Dockerfile, Error> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        error::at(
            &shown,
            0,
            0,
            &format!("cannot read the Dockerfile: {e}"),
            hint,
        )
    })?;
    if meta.is_dir() {
        return Err(error::at(
            &shown,
            0,
            0,
            "this is a folder, not a Dockerfile",
            hint,
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
            hint,
        )
    })?;
    dockerfile::parse_bytes_with(&bytes, graph)
        .map_err(|e| error::at(&shown, e.line, e.column, &e.message, &e.hint))
}

// ---------------------------------------------------------------------------------------------
// doctor

/// `layercache doctor`: the checks on stdout; exit 3 when `build` could not work.
pub fn doctor(file: Option<&Path>, args: &DoctorArgs) -> Result<(), Error> {
    let env = |k: &str| std::env::var(k).ok();
    // The registries come from the spec (or --image); without either there are none to check.
    let (registries, spec_error) = if spec_path(file).is_some() || args.spec.image.is_some() {
        match read_inputs(file, &args.spec, &CiContext::from_env(&env)) {
            Ok((inputs, _)) => (registries_of(&inputs), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        }
    } else {
        (Vec::new(), None)
    };
    let facts = doctor::gather(
        &args.spec.docker,
        args.spec.builder_mode(),
        &registries,
        spec_error,
        &env,
    );
    let checks = doctor::evaluate(&facts);
    let text = match args.format {
        DoctorFormat::Human => doctor::human(&checks),
        DoctorFormat::Json => serde_json::to_string_pretty(&checks).unwrap_or_default() + "\n",
    };
    write_stdout(&text)?;
    if doctor::failed(&checks) {
        return Err(Error::Environment(
            "doctor: `layercache build` cannot work here; see the FAIL lines above".into(),
        ));
    }
    Ok(())
}

fn registries_of(inputs: &[ImageInput]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for i in inputs {
        for r in [&i.config.image, &i.config.cache_repository] {
            let host = r.registry().to_string();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
}

// ---------------------------------------------------------------------------------------------
// lint

/// `layercache lint`: the findings on stdout in the chosen format; an error (exit 1) when one is
/// at or above `--fail-level`.
pub fn lint(file: Option<&Path>, args: &LintArgs) -> Result<(), Error> {
    let reports = lint_reports(&lint_targets(file, args)?);
    let pretty =
        |value: serde_json::Value| serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    let text = match args.format {
        LintFormat::Human => lint::human(&reports),
        LintFormat::Json => pretty(lint::json(&reports)),
        LintFormat::Gitlab => pretty(lint::gitlab(&reports)),
    };
    write_stdout(&text)?;
    let Some(threshold) = args.fail_level.threshold() else {
        return Ok(());
    };
    let failing = reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.severity() >= threshold)
        .count();
    if failing == 0 {
        return Ok(());
    }
    let plural = if failing == 1 { "" } else { "s" };
    Err(Error::StepFailed(format!(
        "lint: {failing} finding{plural} at or above --fail-level {threshold}"
    )))
}

/// What `build` prints before planning: warnings and errors with their fixes, each line
/// prefixed `lint: `.
fn lint_for_build(inputs: &[ImageInput]) -> String {
    let targets: Vec<LintTarget> = inputs.iter().map(LintTarget::of).collect();
    let mut out = String::new();
    for report in lint_reports(&targets) {
        // The planner already warns about the unnamed stages it has to build.
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity() >= Severity::Warning && f.rule != lint::Rule::UnnamedStage)
        {
            out.push_str(&format!("lint: {}\n", lint::human_line(&report.file, f)));
            out.push_str(&format!("lint:   fix: {}\n", f.fix));
        }
    }
    out
}

/// One Dockerfile to lint, with the build it belongs to.
struct LintTarget {
    path: PathBuf,
    dockerfile: Dockerfile,
    context: PathBuf,
    build_args: BTreeMap<String, Option<String>>,
}

impl LintTarget {
    fn of(input: &ImageInput) -> LintTarget {
        LintTarget {
            path: input.config.dockerfile.clone(),
            dockerfile: input.dockerfile.clone(),
            context: input.config.context.clone(),
            build_args: input.config.build_args.clone(),
        }
    }
}

/// The DOCKERFILE given; else the spec's Dockerfiles, read as `build` reads them; else
/// ./Dockerfile. Without a spec the context is the Dockerfile's folder, as in `docker build DIR`.
fn lint_targets(file: Option<&Path>, args: &LintArgs) -> Result<Vec<LintTarget>, Error> {
    if args.dockerfile.is_none() && spec_path(file).is_some() {
        let spec_args = SpecArgs {
            context: args.context.clone(),
            ..SpecArgs::default()
        };
        let ci = CiContext::from_env(&|k| std::env::var(k).ok());
        let (inputs, _) = read_inputs(file, &spec_args, &ci)?;
        return Ok(inputs.iter().map(LintTarget::of).collect());
    }
    let path = args
        .dockerfile
        .clone()
        .unwrap_or_else(|| PathBuf::from("Dockerfile"));
    // Without a spec there are no build args: a base that needs one is linted, not refused.
    let lenient = dockerfile::GraphInputs {
        allow_blank_base: true,
        ..dockerfile::GraphInputs::default()
    };
    let dockerfile = read_dockerfile_at(
        &path,
        "pass the Dockerfile's path: layercache lint path/to/Dockerfile",
        &lenient,
    )?;
    let context = args.context.clone().unwrap_or_else(|| {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    Ok(vec![LintTarget {
        path,
        dockerfile,
        context,
        build_args: BTreeMap::new(),
    }])
}

/// Lints each target, listing its context here so the rules stay pure. Images that share a
/// Dockerfile share one report, and one built the same way is linted once (a spec may hold
/// thousands of images).
fn lint_reports(targets: &[LintTarget]) -> Vec<Report> {
    let mut reports: Vec<Report> = Vec::new();
    let mut report_of: HashMap<String, usize> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for target in targets {
        if !seen.insert((&target.path, &target.context, &target.build_args)) {
            continue;
        }
        let inputs = lint::Inputs {
            context_entries: context_entries(&target.context),
            dockerfile_ignore: dockerfile_ignore(&target.path).is_file(),
            build_args: target.build_args.clone(),
        };
        let findings = lint::lint(&target.dockerfile, &inputs);
        let file = target.path.display().to_string();
        let file = file.strip_prefix("./").unwrap_or(&file).to_string();
        match report_of.get(&file).and_then(|&i| reports.get_mut(i)) {
            Some(report) => {
                for f in findings {
                    if !report.findings.contains(&f) {
                        report.findings.push(f);
                    }
                }
                report.findings.sort_by_key(|f| (f.line, f.rule));
            }
            None => {
                report_of.insert(file.clone(), reports.len());
                reports.push(Report { file, findings });
            }
        }
    }
    reports
}

/// The names at the top of the build context, or `None` when it cannot be listed.
fn context_entries(dir: &Path) -> Option<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| tracing::debug!("lint: cannot list the context {}: {e}", dir.display()))
        .ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    )
}

/// BuildKit's Dockerfile-specific ignore file: `<Dockerfile>.dockerignore` beside it.
fn dockerfile_ignore(dockerfile: &Path) -> PathBuf {
    let name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dockerfile.with_file_name(format!("{name}.dockerignore"))
}

// ---------------------------------------------------------------------------------------------
// ci

/// `layercache ci PLATFORM`: a CI job for the spec, on stdout. The default job installs
/// layercache and runs `layercache build`; `--standalone` embeds the script that `plan --format
/// sh` prints, planned by the same functions.
pub fn ci(file: Option<&Path>, args: &crate::cli::CiArgs) -> Result<(), Error> {
    use crate::ci_config::{self, Platform};
    let platform = match args.platform {
        crate::cli::CiPlatform::Gitlab => Platform::GitLab,
        crate::cli::CiPlatform::Github => Platform::GitHub,
        crate::cli::CiPlatform::Circleci => Platform::CircleCi,
    };
    let spec = ci_spec_path(file)?;
    let spec_text = spec.to_str().ok_or_else(|| {
        Error::Input(format!(
            "{}: a CI job cannot name a path that is not UTF-8",
            spec.display()
        ))
    })?;
    if !Path::new(".git").exists() {
        eprintln!(
            "warning: no .git here: the job runs at the root of the repository's checkout, so run \
             `layercache ci` there, with -f naming the spec from the root"
        );
    }
    if !args.standalone {
        let flag = (spec != Path::new(DEFAULT_SPEC)).then_some(spec_text);
        return write_stdout(&ci_config::default_job(platform, flag)?);
    }

    let builder = match args.builder {
        Some(crate::cli::CiBuilder::Legacy) => crate::cli::BuilderArg::Legacy,
        _ => crate::cli::BuilderArg::Buildkit,
    };
    let ci_platform = match platform {
        Platform::GitLab => crate::ci::Platform::GitLab,
        Platform::GitHub => crate::ci::Platform::GitHub,
        Platform::CircleCi => crate::ci::Platform::CircleCI,
    };
    let planned = ci_script(&spec, ci_platform, builder, true)?;
    // GitHub builds pull requests too, and those must not publish anything.
    let pull_request_script = match platform {
        Platform::GitHub => Some(ci_script(&spec, ci_platform, builder, false)?.script),
        _ => None,
    };
    let mut command = String::from("layercache");
    if spec != Path::new(DEFAULT_SPEC) {
        command.push_str(&format!(" -f {}", render::quote(spec_text)));
    }
    command.push_str(&format!(" ci {} --standalone", platform.arg()));
    if args.builder == Some(crate::cli::CiBuilder::Legacy) {
        command.push_str(" --builder legacy");
    }
    let job = ci_config::Standalone {
        command,
        spec: spec_text.to_string(),
        script: planned.script,
        pull_request_script,
        registries: registries_of(&own_registry_images(planned.inputs)),
        env_read: planned.env_read,
    };
    let text = ci_config::standalone_job(platform, &job)?;
    for w in ci_config::standalone_warnings(platform, &job) {
        eprintln!("warning: {w}");
    }
    write_stdout(&text)
}

/// The images whose repository the spec names: an image left to the CI is a placeholder here,
/// and the job logs in to the CI's own registry for it.
fn own_registry_images(inputs: Vec<ImageInput>) -> Vec<ImageInput> {
    inputs
        .into_iter()
        .filter(|i| !i.config.image.to_string().contains(crate::ci::TOKEN_PREFIX))
        .collect()
}

/// The spec as the job names it: relative to this folder, which the job's checkout mirrors when
/// `layercache ci` runs at the repository's root.
fn ci_spec_path(file: Option<&Path>) -> Result<PathBuf, Error> {
    let Some(path) = spec_path(file) else {
        return Err(Error::Input(format!(
            "no {DEFAULT_SPEC} here: the CI job builds what a spec describes\n  \
             hint: write {DEFAULT_SPEC} (see README), or name the spec with -f PATH"
        )));
    };
    if !path.is_file() {
        return Err(Error::Input(format!(
            "{}: no such spec file\n  hint: check the path given to -f/--file",
            path.display()
        )));
    }
    let relative = if path.is_absolute() {
        let here = std::env::current_dir()
            .map_err(|e| Error::Environment(format!("cannot read the current folder: {e}")))?;
        path.strip_prefix(&here).map(Path::to_path_buf).ok()
    } else {
        Some(path.clone())
    };
    let outside = || {
        Error::Input(format!(
            "{}: the spec is outside this folder, and the CI job can only name files of the \
             repository's checkout\n  hint: run `layercache ci` at the repository's root",
            path.display()
        ))
    };
    let relative = relative.ok_or_else(outside)?;
    if relative
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(outside());
    }
    Ok(relative
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect())
}

/// The `plan --format sh` script for the runner, and the inputs it was planned from. Planned as
/// a local run (the job must not depend on the CI that generated it), with the runner's `docker`
/// from its PATH and the builder named, as this machine's docker says nothing about the runner's.
/// A standalone job's script, the inputs it was planned from, and the variables the spec read
/// that are fixed at generation time (the CI's own are read by the job in each run).
struct CiScript {
    script: String,
    inputs: Vec<ImageInput>,
    env_read: Vec<crate::ci_config::EnvRead>,
}

fn ci_script(
    spec: &Path,
    platform: crate::ci::Platform,
    builder: crate::cli::BuilderArg,
    push: bool,
) -> Result<CiScript, Error> {
    use clap::{Args, FromArgMatches};
    // The flags' defaults as `plan` has them (retries, their delay, ...), straight from clap.
    let matches = SpecArgs::augment_args(clap::Command::new("ci"))
        .try_get_matches_from(["ci"])
        .map_err(|e| Error::Input(e.to_string()))?;
    let mut args = SpecArgs::from_arg_matches(&matches).map_err(|e| Error::Input(e.to_string()))?;
    args.docker = "docker".into();
    args.builder = builder;
    args.no_push = !push;
    // The CI's values (image, tags, branch caches, and the CI variables the spec reads) are
    // read by the job in each run: placeholders here, shell variables in the script.
    let shell = crate::ci::ShellCi::new(platform);
    let ci = shell.context();
    let fixed = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let env = |k: &str| {
        if crate::ci::is_platform_variable(platform, k) {
            Some(shell.token(&format!("${{{k}}}")))
        } else {
            fixed.borrow_mut().insert(k.to_string());
            std::env::var(k).ok()
        }
    };
    let (inputs, source) = read_inputs_with(Some(spec), &args, &ci, &env)?;
    let secrets = secrets_of(&inputs, &args);
    let planned = make_plan(inputs, source, &args, &ci, None)?;
    let script = render::sh(&planned.plan, &planned.source);
    // The values are read after `set -eu`, so a variable the runner lacks stops the job.
    let script = script.replacen("set -eu\n", &format!("set -eu\n{}", shell.prelude), 1);
    let script = secrets.mask(&render::resolve_symbols(&script, &shell.symbols()));
    // Only names leave here, never values.
    let env_read = fixed
        .into_inner()
        .into_iter()
        .map(|name| crate::ci_config::EnvRead {
            set: std::env::var_os(&name).is_some(),
            name,
        })
        .collect();
    Ok(CiScript {
        script,
        inputs: planned.inputs,
        env_read,
    })
}
