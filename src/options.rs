//! The command line and the environment, converted once into the values the layers take (as
//! ripgrep turns its low-level flags into `HiArgs`): a spec path, spec overrides, the builder
//! choice, retries, login flags and the CI context. Nothing below this module sees `SpecArgs` or
//! reads `std::env`, with one documented exception: the executor reads a `docker login`
//! password from its variable at the moment it writes it to docker's stdin, so the value is
//! held nowhere else.

use crate::cli::{
    BuildArgs, CiArgs, DoctorArgs, DoctorFormat, FailLevel, InitArgs, LintArgs, LintFormat,
    SpecArgs,
};
use crate::error::Error;
use crate::input::ci::{is_platform_variable, CiContext, Platform, ShellCi};
use crate::input::spec::Overrides;
use crate::lint::Severity;
use crate::plan::step::Retry;
use crate::plan::{Builder, BuilderChoice, LoginFlags};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::input::InputFiles;
pub use crate::input::DEFAULT_SPEC;

/// The environment, read once at start-up: the variables and the current folder. Variables
/// whose name or value is not UTF-8 are left out: no variable layercache reads can be one.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// Empty when it cannot be read (a folder removed under the process).
    working_dir: PathBuf,
}

impl Env {
    pub fn capture() -> Env {
        Env {
            working_dir: std::env::current_dir().unwrap_or_default(),
            ..Env::from_pairs(
                std::env::vars_os()
                    .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
            )
        }
    }

    /// Variables alone (tests), with no current folder.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Env {
        Env {
            vars: pairs.into_iter().collect(),
            working_dir: PathBuf::new(),
        }
    }

    /// Where relative paths start.
    pub fn working_dir(&self) -> &Path {
        &self.working_dir
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// Every variable, for readers that take the environment whole (Compose's variables).
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }
}

/// The files the global flags name: `-f` (repeatable), `--profile`, `--project-name`.
#[derive(Debug, Clone, Default)]
pub struct FileArgs {
    pub files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    pub project_name: Option<String>,
}

impl FileArgs {
    /// The input files with the environment snapshot and the current folder.
    pub fn input_files(&self, env: &Env) -> InputFiles {
        InputFiles {
            given: self.files.clone(),
            profiles: self.profiles.clone(),
            project_name: self.project_name.clone(),
            env: env.vars().clone(),
            working_dir: env.working_dir().to_path_buf(),
        }
    }

    /// The one file `lint DOCKERFILE`-less and `ci` name: the first `-f`, or the default spec.
    fn first(&self) -> Option<&Path> {
        self.files.first().map(PathBuf::as_path)
    }
}

/// Everything a command that reads a spec needs to know, besides the files themselves.
#[derive(Debug, Clone)]
pub struct SpecOptions {
    /// The spec or Compose files, or none (see [`InputFiles`]).
    pub files: InputFiles,
    /// The flags that replace spec values, with the CI's image and tags as fallbacks.
    pub overrides: Overrides,
    /// The docker program, as the user named it.
    pub docker: String,
    pub builder: BuilderChoice,
    pub retry: Retry,
    pub keep_going: bool,
    /// `--jobs` / `LAYERCACHE_JOBS`; the spec's `jobs:` and the default come later.
    pub jobs: Option<usize>,
    /// The cores of the machine the plan runs on, for the default of `jobs`: this one's
    /// (`available_parallelism`), else [`UNKNOWN_MACHINE_CORES`].
    pub parallelism: usize,
    pub reexport: bool,
    pub login_flags: Option<LoginFlags>,
    pub ci: CiContext,
    /// A fork's pipeline without `--allow-fork-push`: nothing is pushed, whatever the spec says.
    pub fork_push_refused: bool,
    /// `--keep-login`: no `docker logout` at the end.
    pub keep_login: bool,
    /// The docker client's config folder, read for the logins made before the run.
    pub docker_config: Option<PathBuf>,
}

impl SpecOptions {
    /// Converts the flags; `env` supplies `--build-arg KEY` values and the CI's variables.
    pub fn new(
        files: InputFiles,
        args: &SpecArgs,
        ci: CiContext,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<SpecOptions, Error> {
        let build_args = args
            .build_args
            .iter()
            .map(|arg| parse_build_arg(arg, env))
            .collect::<Result<Vec<_>, _>>()?;
        let login_flags = match (&args.registry_user, &args.registry_password_var) {
            (Some(user), Some(var)) => Some(LoginFlags {
                user: user.clone(),
                password_var: var.clone(),
            }),
            (None, None) => None,
            _ => {
                return Err(
                    Error::input("--registry-user and --registry-password-var go together")
                        .hint("name the user and the environment variable that holds the password"),
                )
            }
        };
        let fork_push_refused = ci.from_fork && !args.allow_fork_push;
        let overrides = Overrides {
            image: args.image.clone(),
            dockerfile: args.dockerfile.clone(),
            context: args.context.clone(),
            tags: args.tags.clone(),
            build_args,
            target: args.target.clone(),
            cache_repository: args.cache_repository.clone(),
            pull: args.pull,
            strategy: args.strategy,
            cache_dir: args.cache_dir.clone(),
            platforms: args.platforms.clone(),
            push: match (args.push, args.no_push) {
                _ if fork_push_refused => Some(false),
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            fallback_image: ci.image.clone(),
            fallback_tags: ci.default_tags(),
        };
        Ok(SpecOptions {
            files,
            overrides,
            docker: args.docker.clone(),
            builder: args.builder,
            retry: Retry {
                tries: args.retries,
                base_delay: Duration::from_secs_f64(args.retry_delay),
            },
            keep_going: args.keep_going,
            jobs: args.jobs.map(|j| j as usize),
            parallelism: std::thread::available_parallelism()
                .map_or(UNKNOWN_MACHINE_CORES, |n| n.get()),
            reexport: !args.no_reexport,
            login_flags,
            ci,
            fork_push_refused,
            keep_login: args.keep_login,
            docker_config: crate::docker::config::config_dir(env),
        })
    }

    /// The options of a `ci --standalone` job's script: planned as a local run (the job must not
    /// depend on the CI that generated it) with the flags' defaults, the runner's `docker` from
    /// its PATH and the builder named, as this machine's docker says nothing about the runner's.
    /// The CI's values (image, tags, branch caches) are the job's shell variables, `shell`'s
    /// placeholders here.
    pub fn for_job(
        files: InputFiles,
        shell: &ShellCi,
        builder: Builder,
        push: bool,
    ) -> SpecOptions {
        let ci = shell.context();
        SpecOptions {
            files,
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
            parallelism: UNKNOWN_MACHINE_CORES,
            reexport: true,
            login_flags: None,
            ci,
            // The job decides nothing about forks: the script is written once, for every pipeline.
            fork_push_refused: false,
            keep_login: false,
            // The runner's docker config is the job's business: log out of what the script logs
            // in to.
            docker_config: None,
        }
    }

    /// The variable that holds the password given with `--registry-password-var`, if any.
    pub fn password_var(&self) -> Option<&str> {
        self.login_flags.as_ref().map(|l| l.password_var.as_str())
    }
}

/// The cores assumed where they are not known, or the plan runs on another machine (a `ci
/// --standalone` script): the smallest hosted runners of GitHub Actions and GitLab have 2.
pub const UNKNOWN_MACHINE_CORES: usize = 2;

/// The environment as a standalone job's spec sees it when the job is generated: the CI's own
/// variables are the job's, read in each run (placeholders here, shell variables in the
/// script); any other is read from the snapshot, fixed at generation time, and its name noted.
pub struct RecordingEnv<'a> {
    env: &'a Env,
    shell: &'a ShellCi,
    platform: Platform,
    fixed: RefCell<BTreeSet<String>>,
}

impl<'a> RecordingEnv<'a> {
    pub fn new(env: &'a Env, shell: &'a ShellCi, platform: Platform) -> RecordingEnv<'a> {
        RecordingEnv {
            env,
            shell,
            platform,
            fixed: RefCell::default(),
        }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        if is_platform_variable(self.platform, name) {
            Some(self.shell.token(&format!("${{{name}}}")))
        } else {
            self.fixed.borrow_mut().insert(name.to_string());
            self.env.get(name)
        }
    }

    /// The variables read and fixed, by name, with whether each was set (never their values:
    /// one may be a secret).
    pub fn fixed(self) -> Vec<(String, bool)> {
        self.fixed
            .into_inner()
            .into_iter()
            .map(|name| {
                let set = self.env.is_set(&name);
                (name, set)
            })
            .collect()
    }
}

/// `layercache build`'s options.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub spec: SpecOptions,
    pub dry_run: bool,
    pub lint: bool,
    pub report: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
    pub progress: Option<crate::run::Progress>,
}

impl BuildOptions {
    pub fn new(files: &FileArgs, args: &BuildArgs, env: &Env) -> Result<BuildOptions, Error> {
        Ok(BuildOptions {
            spec: SpecOptions::new(files.input_files(env), &args.spec, ci_context(env), &|k| {
                env.get(k)
            })?,
            dry_run: args.dry_run,
            lint: !args.no_lint,
            report: args.report.clone(),
            metrics: args.metrics.clone(),
            progress: args.progress,
        })
    }
}

/// `layercache lint`'s options.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// The spec or Compose files whose Dockerfiles are linted, when no DOCKERFILE is given.
    pub files: InputFiles,
    pub dockerfile: Option<PathBuf>,
    /// `--context`, and the CI's fallbacks, for reading the spec as `build` reads it.
    pub overrides: Overrides,
    pub format: LintFormat,
    /// The least severe finding that fails the run; `None` when none does.
    pub fail_level: Option<Severity>,
}

impl LintOptions {
    pub fn new(files: &FileArgs, args: &LintArgs, env: &Env) -> LintOptions {
        let ci = ci_context(env);
        LintOptions {
            files: files.input_files(env),
            dockerfile: args.dockerfile.clone(),
            overrides: Overrides {
                context: args.context.clone(),
                // Linting pushes nothing: a service without `image:` is fine here.
                push: Some(false),
                fallback_image: ci.image.clone(),
                fallback_tags: ci.default_tags(),
                ..Overrides::default()
            },
            format: args.format,
            fail_level: match args.fail_level {
                FailLevel::Error => Some(Severity::Error),
                FailLevel::Warning => Some(Severity::Warning),
                FailLevel::Info => Some(Severity::Info),
                FailLevel::None => None,
            },
        }
    }
}

/// `layercache doctor`'s options. The spec's flags may be wrong: doctor reports that as a
/// failed check instead of stopping.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    pub docker: String,
    pub builder: BuilderChoice,
    pub spec: Result<SpecOptions, Error>,
    pub ci: CiContext,
    pub format: DoctorFormat,
}

impl DoctorOptions {
    pub fn new(files: &FileArgs, args: &DoctorArgs, env: &Env) -> DoctorOptions {
        let ci = ci_context(env);
        DoctorOptions {
            docker: args.spec.docker.clone(),
            builder: args.spec.builder,
            spec: SpecOptions::new(files.input_files(env), &args.spec, ci.clone(), &|k| {
                env.get(k)
            }),
            ci,
            format: args.format,
        }
    }
}

/// `layercache ci`'s options.
#[derive(Debug, Clone)]
pub struct CiOptions {
    pub platform: Platform,
    pub spec_file: Option<PathBuf>,
    pub standalone: bool,
    pub builder: Option<Builder>,
    /// GitLab: the `include: component:` snippet instead of a job.
    pub component: bool,
}

impl CiOptions {
    pub fn new(files: &FileArgs, args: &CiArgs) -> Result<CiOptions, Error> {
        if files.files.len() > 1 {
            // The job names one file on its command line.
            return Err(Error::input(
                "`layercache ci` takes one -f: the job runs `layercache -f FILE build`",
            )
            .hint("list the Compose files under `compose:` in a layercache.yml, and name that"));
        }
        Ok(CiOptions {
            platform: args.platform,
            spec_file: spec_path(files.first()),
            standalone: args.standalone,
            builder: args.builder,
            component: args.component,
        })
    }
}

/// `layercache init`'s options.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Where the starter spec goes: `-f PATH`, else ./layercache.yml.
    pub spec_file: PathBuf,
    pub dockerfile: PathBuf,
    pub image: Option<String>,
}

impl InitOptions {
    pub fn new(files: &FileArgs, args: &InitArgs) -> InitOptions {
        InitOptions {
            spec_file: files
                .first()
                .map_or_else(|| PathBuf::from(DEFAULT_SPEC), Path::to_path_buf),
            dockerfile: args.dockerfile.clone(),
            image: args.image.clone(),
        }
    }
}

/// The CI this run is in, from the environment snapshot.
pub fn ci_context(env: &Env) -> CiContext {
    CiContext::from_env(&|k| env.get(k))
}

/// The spec a command reads: `-f PATH`, or `layercache.yml` here when it exists.
pub fn spec_path(file: Option<&Path>) -> Option<PathBuf> {
    match file {
        Some(p) => Some(p.to_path_buf()),
        None => Path::new(DEFAULT_SPEC)
            .is_file()
            .then(|| PathBuf::from(DEFAULT_SPEC)),
    }
}

/// `KEY=VALUE`, or `KEY` alone: passed by name, docker reads the value from its environment,
/// so argv never holds it (the way to pass secrets).
fn parse_build_arg(
    arg: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Option<String>), Error> {
    let (key, value) = match arg.split_once('=') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => {
            if env(arg).is_none() {
                return Err(Error::input(format!(
                    "--build-arg {arg}: no value given and the environment variable {arg} is not set"
                ))
                .hint(format!("write --build-arg {arg}=VALUE, or export {arg}")));
            }
            (arg.to_string(), None)
        }
    };
    if key.is_empty() || key.chars().any(|c| c.is_whitespace()) {
        return Err(Error::input(format!(
            "--build-arg {arg}: `{key}` is not a build argument name"
        ))
        .hint("write --build-arg KEY=VALUE"));
    }
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_args_take_values_or_the_environment() {
        let env = |k: &str| (k == "FROM_ENV").then(|| "x".to_string());
        assert_eq!(
            parse_build_arg("A=b=c", &env).unwrap(),
            ("A".into(), Some("b=c".into()))
        );
        assert_eq!(
            parse_build_arg("FROM_ENV", &env).unwrap(),
            ("FROM_ENV".into(), None)
        );
        assert!(parse_build_arg("UNSET", &env)
            .unwrap_err()
            .to_string()
            .contains("not set"));
        assert!(parse_build_arg("=v", &env).is_err());
    }

    #[test]
    fn the_snapshot_answers_what_was_captured() {
        let env = Env::from_pairs([("A".to_string(), "1".to_string())]);
        assert_eq!(env.get("A").as_deref(), Some("1"));
        assert!(env.is_set("A"));
        assert!(!env.is_set("B"));
    }
}
