//! Reading the inputs from disk: the spec (or the flags alone) and each image's Dockerfile.
//! Every input error surfaces here, before docker is run.

use crate::error::{self, Error};
use crate::input::compose;
use crate::input::compose_images;
use crate::input::dockerfile::{self, Dockerfile, GraphInputs};
use crate::input::spec::{self, ImageConfig, Overrides, SpecFile};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The spec a command reads when `-f` is not given and this file exists here.
pub const DEFAULT_SPEC: &str = "layercache.yml";

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
    /// The spec's path, the Compose files, or `command-line flags`.
    pub source: String,
    /// The spec's `jobs:`, when it sets it.
    pub jobs: Option<usize>,
    /// What the readers would warn about (compose's own warnings), for stderr.
    pub warnings: Vec<String>,
}

/// Which files describe the images, as the command line and the environment name them.
#[derive(Debug, Clone, Default)]
pub struct InputFiles {
    /// `-f`, in order: one spec, or Compose files (told apart by their content). Empty:
    /// `layercache.yml` here, else Compose's own discovery (`COMPOSE_FILE`, `compose.yaml`,
    /// ...) unless `--image` names the image, else the flags alone.
    pub given: Vec<PathBuf>,
    /// `--profile`, in order; empty: the spec's, else `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// `--project-name`; else the spec's, else compose's rules.
    pub project_name: Option<String>,
    /// The environment snapshot, for Compose's variables and files.
    pub env: BTreeMap<String, String>,
    /// Where relative paths start: the current folder.
    pub working_dir: PathBuf,
}

/// What the files turned out to be.
enum Selected {
    Spec(PathBuf),
    /// Compose files; empty: compose's discovery.
    Compose(Vec<PathBuf>),
    Flags,
}

/// Reads the spec, the Compose files or the flags alone (see [`InputFiles`]) and the
/// Dockerfiles. `env` answers the spec's `${VAR}`s.
pub fn read_inputs(
    files: &InputFiles,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Inputs, Error> {
    let mut warnings = Vec::new();
    let mut jobs = None;
    let (configs, source) = match select(files, overrides)? {
        Selected::Spec(path) => match spec::load_file(&path, env, overrides)? {
            SpecFile::Images(spec) => {
                jobs = spec.jobs;
                (spec.images, path.display().to_string())
            }
            SpecFile::Compose(settings) => {
                jobs = settings.jobs;
                let request = compose::Request {
                    working_dir: files.working_dir.join(&settings.working_dir),
                    files: settings
                        .files
                        .iter()
                        .map(|f| files.working_dir.join(f))
                        .collect(),
                    profiles: first_non_empty(&files.profiles, &settings.profiles),
                    project_name: files.project_name.clone().or(settings.project_name.clone()),
                    env: files.env.clone(),
                    ..compose::Request::default()
                };
                let configs =
                    compose_configs(&request, &settings, overrides, files, env, &mut warnings)?;
                (configs, path.display().to_string())
            }
        },
        Selected::Compose(paths) => {
            let settings = spec::compose_settings_from_flags(overrides)?;
            let request = compose::Request {
                working_dir: files.working_dir.clone(),
                files: paths,
                profiles: files.profiles.clone(),
                project_name: files.project_name.clone(),
                env: files.env.clone(),
                ..compose::Request::default()
            };
            let configs =
                compose_configs(&request, &settings, overrides, files, env, &mut warnings)?;
            let shown = configs
                .iter()
                .map(|c| c.origin.clone())
                .fold(Vec::<String>::new(), |mut acc, o| {
                    if !acc.contains(&o) {
                        acc.push(o);
                    }
                    acc
                })
                .join(", ");
            (configs, shown)
        }
        Selected::Flags => (
            spec::from_overrides(overrides)?,
            "command-line flags".to_string(),
        ),
    };
    Ok(Inputs {
        images: read_dockerfiles(configs, env)?,
        source,
        jobs,
        warnings,
    })
}

fn first_non_empty(a: &[String], b: &[String]) -> Vec<String> {
    if a.is_empty() { b } else { a }.to_vec()
}

/// Reads the Compose project and converts its services; compose's warnings go to `warnings`.
fn compose_configs(
    request: &compose::Request,
    settings: &spec::ComposeSpec,
    overrides: &Overrides,
    files: &InputFiles,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<ImageConfig>, Error> {
    let project = compose::load(request)?;
    warnings.extend(project.warnings.iter().map(|w| format!("compose: {w}")));
    let mut configs =
        compose_images::images_of(&project, settings, overrides, &files.working_dir, env)?;
    // Paths as the user would write them: relative to the current folder when inside it.
    for c in &mut configs {
        c.context = relative(&c.context, &files.working_dir);
        c.dockerfile = relative(&c.dockerfile, &files.working_dir);
    }
    Ok(configs)
}

fn relative(path: &Path, base: &Path) -> PathBuf {
    match path.strip_prefix(base) {
        Ok(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Ok(p) => p.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

/// Whether the files name something to build: `-f`, `layercache.yml` here, or a Compose
/// project compose would find (`doctor` and `lint` read the images only then).
pub fn names_input(files: &InputFiles) -> bool {
    !matches!(select(files, &Overrides::default()), Ok(Selected::Flags))
}

/// Tells a spec from Compose files (by content), and finds the default input.
fn select(files: &InputFiles, overrides: &Overrides) -> Result<Selected, Error> {
    if files.given.is_empty() {
        let spec = files.working_dir.join(DEFAULT_SPEC);
        if spec.is_file() {
            return Ok(Selected::Spec(PathBuf::from(DEFAULT_SPEC)));
        }
        if overrides.image.is_some() {
            return Ok(Selected::Flags);
        }
        let named = files.env.get("COMPOSE_FILE").is_some_and(|v| !v.is_empty());
        let found = compose::discovery::discover(
            &files.working_dir,
            &[],
            &files.env,
            &files.working_dir,
            &compose::RealFs,
        )
        .is_ok();
        return Ok(if named || found {
            Selected::Compose(Vec::new())
        } else {
            Selected::Flags
        });
    }
    let mut specs = Vec::new();
    let mut composes = Vec::new();
    for f in &files.given {
        // An unreadable file is the spec reader's to report, with its own message.
        let text = std::fs::read_to_string(files.working_dir.join(f)).unwrap_or_default();
        // A Compose file that does not parse is still the Compose reader's to report (its
        // name says what it is), rather than the spec reader's ("unknown field `services`").
        let named = f
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("compose"));
        if compose::looks_like_compose(&text)
            || (named && !text.lines().any(|l| l.starts_with("compose:")))
        {
            composes.push(f.clone());
        } else {
            specs.push(f.clone());
        }
    }
    match (specs.as_slice(), composes.is_empty()) {
        ([], false) => Ok(Selected::Compose(composes)),
        ([spec], true) => Ok(Selected::Spec(spec.clone())),
        ([spec, ..], false) => Err(Error::input(format!(
            "{} is a layercache spec and {} a Compose file: a spec and Compose files cannot be              mixed with -f",
            spec.display(),
            composes[0].display()
        ))
        .hint(
            "name only the Compose files with -f, or list them under `compose:` in the spec",
        )),
        _ => Err(Error::input(format!(
            "several specs given with -f ({}): layercache reads one spec",
            specs
                .iter()
                .map(|s| s.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("list several images under `images:` in one spec; several -f are for Compose files")),
    }
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

/// The Dockerfile's path as the spec names it: relative to the spec's folder.
pub fn spec_relative(spec: &Path, dockerfile: &Path) -> Result<String, Error> {
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

/// The registry hosts the images are pushed to and their caches kept in, each once, in order.
pub fn registries_of<'a>(images: impl IntoIterator<Item = &'a ImageInput>) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for i in images {
        for r in [&i.config.image, &i.config.cache_repository] {
            let host = r.registry().to_string();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
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
