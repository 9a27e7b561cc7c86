//! `layercache init`: a starter layercache.yml for the folder's Dockerfile. It never writes over
//! an existing file.

use crate::error::Error;
use crate::input::{self, reference};
use crate::options::InitOptions;
use crate::render::{self, Starter};
use std::io::Write;
use std::path::Path;

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
    let label = |i: usize| df.stages[i].label();
    let last = df.stages.len() - 1;
    let needed = df.stages_for_target(last);
    let before: Vec<usize> = needed.into_iter().filter(|&i| i != last).collect();
    let starter = Starter {
        dockerfile: spec_relative(path, &opts.dockerfile)?,
        image: opts.image.clone(),
        stages: (0..df.stages.len()).map(label).collect(),
        target: df.stages[last].name.clone(),
        cache_stages: before
            .iter()
            .filter_map(|&i| df.stages[i].name.clone())
            .collect(),
        unnamed: before
            .iter()
            .filter(|&&i| df.stages[i].name.is_none())
            .map(|&i| label(i))
            .collect(),
    };
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

/// The Dockerfile's path as the spec names it: relative to the spec's folder.
fn spec_relative(spec: &Path, dockerfile: &Path) -> Result<String, Error> {
    let folder = spec.parent().unwrap_or(Path::new(""));
    let relative = if folder.as_os_str().is_empty() {
        Some(dockerfile)
    } else {
        dockerfile.strip_prefix(folder).ok()
    };
    relative
        .and_then(Path::to_str)
        .map(String::from)
        .ok_or_else(|| {
            Error::input(format!(
                "{}: a spec names its Dockerfile from its own folder ({}), and this one is \
                 outside it",
                dockerfile.display(),
                folder.display()
            ))
            .hint("write the spec beside the Dockerfile: -f DIR/layercache.yml --dockerfile DIR/Dockerfile")
        })
}
