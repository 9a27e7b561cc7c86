use clap::Parser;
use layercache::cli::{Cli, Command};
use layercache::commands;
use layercache::error::Error;
use layercache::options::{
    ci_context, BuildOptions, CiOptions, DoctorOptions, Env, FileArgs, InitOptions, LintOptions,
    SpecOptions,
};
use layercache::secrets::Secrets;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap exits 2 on usage errors, which is our "invalid input" code too.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing(cli.verbose, cli.quiet);
    // The one read of the environment; everything below gets this snapshot.
    let env = Env::capture();
    match run(&cli, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The built-in secret variables are masked even in errors from before the spec was read.
            let secrets = Secrets::from_env(&[], &|k| env.get(k));
            eprintln!("error: {}", secrets.mask(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Converts the command line once, then runs the command.
fn run(cli: &Cli, env: &Env) -> Result<(), Error> {
    // An empty path is none: `LAYERCACHE_FILE=""` (the GitLab component's default) means the
    // default spec.
    let files = FileArgs {
        files: cli
            .file
            .iter()
            .filter(|p| !p.as_os_str().is_empty())
            .cloned()
            .collect(),
        profiles: cli.profile.clone(),
        project_name: cli.project_name.clone(),
    };
    match &cli.command {
        Command::Build(args) => commands::build(&BuildOptions::new(&files, args, env)?, env),
        Command::Plan(args) => {
            let opts =
                SpecOptions::new(files.input_files(env), &args.spec, ci_context(env), &|k| {
                    env.get(k)
                })?;
            commands::plan(&opts, args.format, env)
        }
        Command::Lint(args) => commands::lint(&LintOptions::new(&files, args, env), env),
        Command::Doctor(args) => commands::doctor(&DoctorOptions::new(&files, args, env), env),
        Command::Ci(args) => commands::ci(&CiOptions::new(&files, args)?, env),
        Command::Init(args) => commands::init(&InitOptions::new(&files, args)),
        Command::Completions(args) => commands::completions(args.shell),
        Command::Man(args) => commands::man(args.command.as_deref()),
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("layercache={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}
