//! Reading the inputs from disk: the spec (or the flags alone) and each image's Dockerfile.
//! Every input error surfaces here, before docker is run.

use crate::error::{self, Error};
use crate::input::dockerfile::{self, Dockerfile, GraphInputs};
use crate::input::spec::{self, ImageConfig, Overrides};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Dockerfiles above this size are refused before parsing, to bound memory.
const MAX_DOCKERFILE_BYTES: u64 = 64 * 1024 * 1024;

/// One image to build: its configuration and its parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct ImageInput {
    pub config: ImageConfig,
    pub dockerfile: Dockerfile,
}

/// What a command reads: the images, and where they were described (for the plan's header).
#[derive(Debug, Clone)]
pub struct Inputs {
    pub images: Vec<ImageInput>,
    /// The spec's path, or `command-line flags`.
    pub source: String,
    /// The spec's `jobs:`, when it sets it.
    pub jobs: Option<usize>,
}

/// Reads the spec at `file` (or, without one, the flags alone) and the Dockerfiles. `env`
/// answers the spec's `${VAR}`s.
pub fn read_inputs(
    file: Option<&Path>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Inputs, Error> {
    let (spec, source) = match file {
        Some(path) => (
            spec::load_spec(path, env, overrides)?,
            path.display().to_string(),
        ),
        None => (
            spec::Spec {
                images: spec::from_overrides(overrides)?,
                jobs: None,
            },
            "command-line flags".to_string(),
        ),
    };
    Ok(Inputs {
        images: read_dockerfiles(spec.images, env)?,
        source,
        jobs: spec.jobs,
    })
}

/// The names of the variables whose values are secret in this run: every image's `secrets:`
/// and registry password variable, and `extra` (the `--registry-password-var`).
pub fn secret_vars(images: &[ImageInput], extra: Option<&str>) -> Vec<String> {
    images
        .iter()
        .flat_map(|i| i.config.secrets.iter().cloned())
        .chain(extra.map(String::from))
        .chain(
            images
                .iter()
                .filter_map(|i| i.config.registry_login.as_ref().map(|(_, var)| var.clone())),
        )
        .collect()
}

/// Parses each image's Dockerfile once per set of build args, however many images share it.
fn read_dockerfiles(
    configs: Vec<ImageConfig>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ImageInput>, Error> {
    let mut parsed: HashMap<(PathBuf, GraphInputs), Dockerfile> = HashMap::new();
    let mut inputs = Vec::with_capacity(configs.len());
    for config in configs {
        let key = (config.dockerfile.clone(), graph_inputs(&config, env));
        let df = match parsed.get(&key) {
            Some(df) => df.clone(),
            None => {
                let hint = format!(
                    "set `dockerfile:` in {} or pass --dockerfile PATH",
                    config.origin
                );
                let df = read_dockerfile(&config.dockerfile, &hint, &key.1)?;
                parsed.insert(key, df.clone());
                df
            }
        };
        inputs.push(ImageInput {
            config,
            dockerfile: df,
        });
    }
    Ok(inputs)
}

/// What the stage graph of an image depends on: its build args, a name-only one read from the
/// environment as docker reads it (left out when unset, as the docker CLI leaves it out).
fn graph_inputs(config: &ImageConfig, env: &dyn Fn(&str) -> Option<String>) -> GraphInputs {
    let build_args = config
        .build_args
        .iter()
        .filter_map(|(k, v)| match v {
            Some(v) => Some((k.clone(), v.clone())),
            None => env(k).map(|v| (k.clone(), v)),
        })
        .collect();
    GraphInputs {
        build_args,
        // `platforms:` as the spec checked them; the graph is the union of each platform's.
        platforms: config
            .platforms
            .iter()
            .filter_map(|p| dockerfile::Platform::parse(p))
            .collect(),
        ..GraphInputs::default()
    }
}

/// Reads and parses one Dockerfile as `graph` says; `hint` says how to name another one.
pub fn read_dockerfile(path: &Path, hint: &str, graph: &GraphInputs) -> Result<Dockerfile, Error> {
    let shown = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        error::at(
            &shown,
            0,
            0,
            &format!("cannot read the Dockerfile: {e}"),
            hint,
        )
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(error::at(
            &shown,
            0,
            0,
            "this is a folder, not a Dockerfile",
            hint,
        ));
    }
    if meta.len() > MAX_DOCKERFILE_BYTES {
        return Err(error::at(
            &shown,
            0,
            0,
            "the Dockerfile is larger than 64 MiB",
            "is this the right file?",
        ));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    dockerfile::parse_bytes_with(&bytes, graph)
        .map_err(|e| error::at(&shown, e.line, e.column, &e.message, &e.hint))
}
