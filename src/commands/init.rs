//! `layercache init`: a starter layercache.yml for the folder's Dockerfile. It never writes over
//! an existing file.

use crate::error::Error;
use crate::input::{self, reference};
use crate::options::InitOptions;
use crate::render::{self, Starter};
use std::io::Write;

pub fn init(opts: &InitOptions) -> Result<(), Error> {
    let path = &opts.spec_file;
    let exists = || {
        Error::input(format!(
            "{}: the file exists already, and `layercache init` never writes over a spec",
            path.display()
        ))
        .hint("edit it, remove it first, or write the new one elsewhere with -f PATH")
    };
    if path.exists() {
        return Err(exists());
    }
    if let Some(image) = &opts.image {
        reference::parse_repository(image).map_err(|e| {
            Error::input(format!("--image {image}: {}", e.headline())).hint(e.hint.clone())
        })?;
    }
    // As a plain `docker build` reads it (no build args, the build platform), only for its
    // stages: a base left to a build arg is fine here.
    let df = input::read_dockerfile(
        &opts.dockerfile,
        "name the Dockerfile with --dockerfile PATH",
        &input::dockerfile::GraphInputs {
            allow_blank_base: true,
            ..Default::default()
        },
    )?;
    let dockerfile = input::spec_relative(path, &opts.dockerfile)?;
    let starter = Starter::for_dockerfile(&df, dockerfile, opts.image.clone());
    let text = render::starter_spec(&starter);
    // `create_new`: a file that appeared since the check above is not written over either.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => exists(),
            _ => Error::environment(format!("cannot write {}: {e}", path.display())),
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::environment(format!("cannot write {}: {e}", path.display())))?;
    eprintln!(
        "wrote {}: {} stage(s) of {}; `layercache plan` shows what it builds",
        path.display(),
        df.stages.len(),
        opts.dockerfile.display()
    );
    Ok(())
}
