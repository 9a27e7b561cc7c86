use clap::Parser;
use layercache::cli::{Cli, Command};
use layercache::commands;
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
    let file = cli.file.as_deref();
    let result = match &cli.command {
        Command::Build(args) => commands::build(file, args),
        Command::Plan(args) => commands::plan(file, args),
        Command::Lint(args) => commands::lint(file, args),
        Command::Doctor(args) => commands::doctor(file, args),
        Command::Ci(args) => commands::ci(file, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The built-in secret variables are masked even in errors from before the spec was read.
            let secrets = Secrets::from_env(&[], &|k| std::env::var(k).ok());
            eprintln!("error: {}", secrets.mask(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
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
