//! `layercache doctor`: the checks on stdout; exit 3 when `build` could not work.

use super::{read_inputs, write_stdout};
use crate::cli::DoctorFormat;
use crate::doctor;
use crate::error::Error;
use crate::input;
use crate::options::{DoctorOptions, Env};

pub fn doctor(opts: &DoctorOptions, env: &Env) -> Result<(), Error> {
    let lookup = |k: &str| env.get(k);
    // The registries come from the spec (or --image); without either there are none to check.
    let (registries, spec_error) = match &opts.spec {
        Ok(spec) if input::names_input(&spec.files) || spec.overrides.image.is_some() => {
            match read_inputs(spec, &lookup) {
                Ok(inputs) => (input::registries_of(&inputs.images), None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            }
        }
        Ok(_) => (Vec::new(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let facts = doctor::gather(
        &opts.docker,
        opts.builder,
        &registries,
        spec_error,
        &opts.ci,
        &lookup,
        env.working_dir(),
    );
    let checks = doctor::evaluate(&facts);
    let text = match opts.format {
        DoctorFormat::Human => doctor::human(&checks),
        DoctorFormat::Json => serde_json::to_string_pretty(&checks).unwrap_or_default() + "\n",
    };
    write_stdout(&text)?;
    if doctor::failed(&checks) {
        return Err(Error::environment(
            "doctor: `layercache build` cannot work here; see the FAIL lines above",
        ));
    }
    Ok(())
}
