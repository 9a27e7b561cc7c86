//! `layercache plan`: the plan as a POSIX sh script or JSON, on stdout.

use super::{check_inputs, make_plan, probe_if_present, read_inputs, secrets_of, write_stdout};
use crate::cli::Format;
use crate::error::Error;
use crate::input::dockerfile::Dockerfile;
use crate::options::{Env, SpecOptions};
use crate::render;

pub fn plan(opts: &SpecOptions, format: Format, env: &Env) -> Result<(), Error> {
    let lookup = |k: &str| env.get(k);
    let inputs = read_inputs(opts, &lookup)?;
    let secrets = secrets_of(&inputs, opts, &lookup);
    check_inputs(&inputs, opts, &|k| env.is_set(k))?;
    let caps = probe_if_present(&opts.docker, env);
    let plan = make_plan(&inputs, opts, caps.as_ref(), &|k| env.is_set(k))?;
    let text = match format {
        Format::Sh => render::sh(&plan, &inputs.source),
        Format::Json => {
            let dockerfiles: Vec<&Dockerfile> =
                inputs.images.iter().map(|i| &i.dockerfile).collect();
            let value = render::json(&plan, &dockerfiles);
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
    };
    write_stdout(&secrets.mask(&text))
}
