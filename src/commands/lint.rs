//! `layercache lint`: the findings on stdout in the chosen format; an error (exit 1) when one is
//! at or above `--fail-level`.

use super::write_stdout;
use crate::cli::LintFormat;
use crate::error::Error;
use crate::input;
use crate::lint::{self, Target};
use crate::options::{Env, LintOptions};

/// Lints the DOCKERFILE given; else the spec's Dockerfiles, read as `build` reads them; else
/// ./Dockerfile.
pub fn lint(opts: &LintOptions, env: &Env) -> Result<(), Error> {
    let targets = if opts.dockerfile.is_none() && input::names_input(&opts.files) {
        let inputs = input::read_inputs(&opts.files, &opts.overrides, &|k| env.get(k))?;
        for w in &inputs.warnings {
            eprintln!("warning: {w}");
        }
        inputs.images.iter().map(Target::of).collect()
    } else {
        vec![Target::alone(
            opts.dockerfile.as_deref(),
            opts.overrides.context.as_deref(),
        )?]
    };
    let reports = lint::reports(&targets);
    let pretty =
        |value: serde_json::Value| serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    let text = match opts.format {
        LintFormat::Human => lint::human(&reports),
        LintFormat::Json => pretty(lint::json(&reports)),
        LintFormat::Gitlab => pretty(lint::gitlab(&reports)),
        LintFormat::Sarif => pretty(lint::sarif(
            &reports,
            &lint::sarif_root(env.working_dir())?,
            &lint::sources(&reports),
        )),
    };
    write_stdout(&text)?;
    lint::check_fail_level(&reports, opts.fail_level)
}
