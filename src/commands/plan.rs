//! `layercache plan`: the plan as a POSIX sh script or JSON, on stdout.

use super::{probe_if_present, write_stdout, Planning};
use crate::cli::Format;
use crate::error::Error;
use crate::input::dockerfile::Dockerfile;
use crate::options::{Env, SpecOptions};
use crate::render;

pub fn plan(opts: &SpecOptions, format: Format, env: &Env) -> Result<(), Error> {
    let planning = Planning::read(opts, &|k| env.get(k), env)?;
    let checked = planning.check(opts, env)?;
    let caps = probe_if_present(&opts.docker, env);
    let plan = planning.plan(checked, caps.as_ref(), opts)?;
    let inputs = &planning.inputs;
    let text = match format {
        Format::Sh => render::sh(&plan, &inputs.source),
        Format::Json => {
            let dockerfiles: Vec<&Dockerfile> =
                inputs.images.iter().map(|i| &i.dockerfile).collect();
            let value = render::json(&plan, &dockerfiles);
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
    };
    write_stdout(&planning.secrets.mask(&text))
}
