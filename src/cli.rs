//! The command line: clap definitions only. `options` turns them into domain values; the value
//! types the flags take (builder, CI platform, pull policy) are the domain's own.

use crate::input::ci::Platform;
use crate::input::spec::PullPolicy;
use crate::plan::step::Retry;
use crate::plan::{Builder, BuilderChoice, StrategyChoice};
use crate::run::Progress;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  layercache build                        build and push what ./layercache.yml describes
  layercache build --dry-run              print the docker commands instead of running them
  layercache build --image localhost:5000/app --no-push
                                          no spec file: build ./Dockerfile, cache locally only
  layercache plan --format sh > build.sh  a POSIX script with the same steps, for any CI job
  layercache plan --format json           the stages, targets and steps, for tools
  layercache doctor                       can this machine build with a registry cache?
  layercache lint --format gitlab         cache-hygiene findings as a GitLab Code Quality report
  layercache lint --format sarif          ... as SARIF, for GitHub code scanning
  layercache ci github > .github/workflows/layercache.yml
                                          a CI job that installs layercache and builds the spec
  layercache init                         a starter layercache.yml for ./Dockerfile
  layercache completions bash > /etc/bash_completion.d/layercache

Exit status: 0 success, 1 a docker step failed (lint: a finding at or above --fail-level),
2 invalid input, 3 docker missing or unreachable, 130/143 interrupted.";

#[derive(Debug, Parser)]
#[command(
    name = "layercache",
    version,
    about = "Fast docker builds on fresh CI runners: per-stage builds with registry-backed layer cache",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// The build spec, or Compose files (repeatable, merged as compose merges them) [default:
    /// layercache.yml in the current folder, else the Compose file compose would find; an
    /// empty LAYERCACHE_FILE means the default too]
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        value_name = "PATH",
        env = "LAYERCACHE_FILE",
        // Not clap's PathBuf parser, which refuses an empty value.
        value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from)
    )]
    pub file: Vec<PathBuf>,

    /// A Compose profile to enable (repeatable) [default: COMPOSE_PROFILES]
    #[arg(long, global = true, value_name = "PROFILE")]
    pub profile: Vec<String>,

    /// The Compose project name [default: COMPOSE_PROJECT_NAME, `name:`, the folder's name]
    #[arg(long, global = true, value_name = "NAME")]
    pub project_name: Option<String>,

    /// More diagnostics on stderr (-v debug, -vv trace); RUST_LOG also works
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// No diagnostics below errors (docker's output, step headers, warnings and summaries still print)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan and run the pulls, per-stage builds and pushes
    Build(BuildArgs),
    /// Print the plan without running it
    Plan(PlanArgs),
    /// Check Dockerfiles for mistakes that make the layer cache miss (or leak secrets into it)
    Lint(LintArgs),
    /// Check that this machine can build with a registry cache, and say how to fix what cannot
    Doctor(DoctorArgs),
    /// Write a CI job (GitLab CI, GitHub Actions or CircleCI) that builds the spec, to stdout
    Ci(CiArgs),
    /// Write a starter layercache.yml for this folder's Dockerfile (never over an existing file)
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(CompletionsArgs),
    /// Print the man page (roff), of layercache or of one of its commands
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The Dockerfile whose stages the spec names
    #[arg(long, value_name = "PATH", default_value = "Dockerfile")]
    pub dockerfile: PathBuf,

    /// Image repository to write [default: left out, so that CI builds the CI's registry image]
    #[arg(long, value_name = "REPOSITORY")]
    pub image: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print [default: layercache's own]
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The CI system to write the job for
    #[arg(value_enum)]
    pub platform: Platform,

    /// Embed the planned docker commands instead of installing layercache on the runner; the
    /// job then has to be generated again whenever the Dockerfile's stages change
    #[arg(long)]
    pub standalone: bool,

    /// With --standalone: the builder the runner's docker client uses [default: BuildKit, which
    /// the runner images these jobs name all have]
    #[arg(long, value_enum, value_name = "BUILDER", requires = "standalone")]
    pub builder: Option<Builder>,

    /// GitLab: print the `include: component:` snippet that uses layercache's CI/CD component
    /// (templates/layercache.yml) instead of a whole job
    #[arg(long, conflicts_with = "standalone")]
    pub component: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = DoctorFormat::Human)]
    pub format: DoctorFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// One line per check, with a fix under each warning and failure
    Human,
    /// A JSON list of checks: check, level, message, fix
    Json,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Print the plan as a shell script instead of running it (docker is not needed)
    #[arg(long)]
    pub dry_run: bool,

    /// Do not lint the Dockerfiles first (lint findings are printed, never fatal, for build)
    #[arg(long)]
    pub no_lint: bool,

    /// Write the cache report (per image and stage: steps, cached, ran, first miss) as JSON
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write the cache report as a GitLab metrics report (`name value` lines)
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,

    /// How docker's output shows when several commands run at once [default: auto: group in
    /// GitLab CI and GitHub Actions, prefix elsewhere, plain with one job]
    #[arg(long, value_enum, value_name = "STYLE", env = "LAYERCACHE_PROGRESS")]
    pub progress: Option<Progress>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The Dockerfile to check [default: the spec's Dockerfiles when there is a spec, else
    /// ./Dockerfile]
    #[arg(value_name = "DOCKERFILE")]
    pub dockerfile: Option<PathBuf>,

    /// Build context, for the .dockerignore check [default: the spec's context, else the
    /// Dockerfile's folder]
    #[arg(long, value_name = "PATH")]
    pub context: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,

    /// Exit 1 when a finding is at least this severe
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailLevel::Warning)]
    pub fail_level: FailLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// `file:line severity rule message`, then the fix
    Human,
    /// A JSON list of findings: file, rule, severity, line, message, fix
    Json,
    /// A GitLab Code Quality report (artifacts:reports:codequality)
    Gitlab,
    /// A SARIF 2.1.0 log, for GitHub code scanning (github/codeql-action/upload-sarif)
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailLevel {
    Error,
    Warning,
    Info,
    /// Never fail because of findings
    None,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Sh)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A POSIX sh script
    Sh,
    /// JSON: images, stages, targets, steps
    Json,
}

/// Flags that describe the build; each one set overrides the spec for every image.
/// (`Default` is "no flags given", for commands such as `lint` that read the spec alone.)
#[derive(Debug, Default, Args)]
pub struct SpecArgs {
    /// Image repository to build and push, e.g. registry.example.com/team/app
    #[arg(long, value_name = "REPOSITORY")]
    pub image: Option<String>,

    /// Tag to publish (repeatable) [default: latest; in CI the commit SHA and the branch or git tag]
    #[arg(long = "tag", short = 't', value_name = "TAG")]
    pub tags: Vec<String>,

    /// Dockerfile path [default: Dockerfile beside the spec]
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

    /// Build context [default: the spec's folder]
    #[arg(long, value_name = "PATH")]
    pub context: Option<PathBuf>,

    /// Build argument for every stage build (repeatable); KEY alone is passed by name and docker
    /// reads its value from the environment (the way to pass secrets)
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,

    /// Stage to ship [default: the last stage]
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,

    /// Repository for the per-stage cache tags [default: the image repository]
    #[arg(long, value_name = "REPOSITORY")]
    pub cache_repository: Option<String>,

    /// When to pull cache images first
    #[arg(long, value_enum, value_name = "POLICY")]
    pub pull: Option<PullPolicy>,

    /// Push caches and tags after the builds [default]
    #[arg(long, overrides_with = "no_push")]
    pub push: bool,

    /// Build only; nothing is pushed
    #[arg(long, overrides_with = "push")]
    pub no_push: bool,

    /// Which builder to use
    #[arg(long, value_enum, default_value_t = BuilderChoice::Auto, env = "LAYERCACHE_BUILDER")]
    pub builder: BuilderChoice,

    /// The cache strategy [default: auto: the fastest that stays warm on the engine found;
    /// see `layercache doctor`]
    #[arg(long, value_enum, value_name = "STRATEGY", env = "LAYERCACHE_STRATEGY")]
    pub strategy: Option<StrategyChoice>,

    /// With --strategy local: the cache folder [default: .layercache-cache beside the spec]
    #[arg(long, value_name = "PATH")]
    pub cache_dir: Option<PathBuf>,

    /// The docker program
    #[arg(
        long,
        value_name = "PATH",
        default_value = "docker",
        env = "LAYERCACHE_DOCKER"
    )]
    pub docker: String,

    /// Tries for each push and pull, and for a `buildx build --push` whose push failed (a failed
    /// build step is never retried)
    #[arg(long, value_name = "N", default_value_t = Retry::DEFAULT.tries, env = "LAYERCACHE_RETRIES",
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub retries: u32,

    /// Wait before the second try, in seconds; it doubles before each further try
    #[arg(long, value_name = "SECONDS", default_value_t = Retry::DEFAULT.base_delay.as_secs_f64(), env = "LAYERCACHE_RETRY_DELAY",
          value_parser = parse_delay)]
    pub retry_delay: f64,

    /// Log in to the image's registry as this user before anything else (with
    /// --registry-password-var); in CI the CI's own registry credentials are used without it
    #[arg(long, value_name = "USER", env = "LAYERCACHE_REGISTRY_USER")]
    pub registry_user: Option<String>,

    /// The environment variable that holds the registry password; its value reaches docker
    /// only through stdin (`docker login --password-stdin`) and is masked in all output
    #[arg(long, value_name = "NAME", env = "LAYERCACHE_REGISTRY_PASSWORD_VAR")]
    pub registry_password_var: Option<String>,

    /// With several images, build the others after one fails (the exit status is still 1)
    #[arg(long)]
    pub keep_going: bool,

    /// Push caches and tags in a pipeline of a pull or merge request from a fork too (by
    /// default such a run reads the caches and pushes nothing: the default branch reads them)
    #[arg(long)]
    pub allow_fork_push: bool,

    /// Stay logged in to the registries layercache logged in to (by default it logs out of
    /// each at the end of the run, also after a failure or an interrupt)
    #[arg(long)]
    pub keep_login: bool,

    /// Docker commands run at once: independent images, and independent stages of one image
    /// [default: from the machine's cores and the strategy; see README "Concurrency"]
    #[arg(long, short = 'j', value_name = "N", env = "LAYERCACHE_JOBS",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: Option<u32>,

    /// Platforms to build for, comma-separated as docker spells them (linux/amd64,linux/arm64);
    /// more than one needs an engine that can export a cache (see `layercache doctor`)
    #[arg(long = "platform", value_name = "PLATFORMS", value_delimiter = ',')]
    pub platforms: Vec<String>,

    /// Inline strategy: push each stage as built, without first re-exporting it from the local
    /// cache; on engines that drop imported steps' records (classic store, Docker before 27)
    /// runners then miss the cache every other run
    #[arg(long)]
    pub no_reexport: bool,
}

fn parse_delay(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(d) if (0.0..=600.0).contains(&d) => Ok(d),
        _ => Err(format!("`{s}` is not a delay in seconds between 0 and 600")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
