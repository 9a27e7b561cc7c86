//! What a CI job written by `layercache ci` names: the spec as the job's checkout has it (or
//! ./Dockerfile with the CI's defaults), and the registries it logs in to. The job runs at the
//! root of the repository's checkout, which this folder mirrors when `layercache ci` runs at the
//! repository's root.

use crate::error::Error;
use crate::input::ci::TOKEN_PREFIX;
use crate::input::{ImageInput, DEFAULT_SPEC};
use std::path::{Component, Path, PathBuf};

/// The Dockerfile a job without a spec builds, as `layercache build` does.
const DEFAULT_DOCKERFILE: &str = "Dockerfile";

/// What the job's header says it builds when there is no spec.
const NO_SPEC: &str = "./Dockerfile with the CI's defaults (no layercache.yml)";

/// The input of a CI job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInput {
    /// The spec, relative to the repository's root; `None`: no spec, flags and the CI's defaults.
    pub spec: Option<PathBuf>,
    /// What the job's header says it builds: the spec's path, or the Dockerfile and defaults.
    pub source: String,
    /// The spec for the job's `-f`: only one other than ./layercache.yml, which `layercache
    /// build` finds itself.
    pub flag: Option<String>,
    /// What the user should know (not at the repository's root), for stderr.
    pub warnings: Vec<String>,
}

impl JobInput {
    /// The job's input for `-f FILE` (or none), `working_dir` being where `layercache ci` runs.
    pub fn find(file: Option<&Path>, working_dir: &Path) -> Result<JobInput, Error> {
        let spec = spec_path(file, working_dir)?;
        let spec_text = match &spec {
            Some(spec) => Some(spec.to_str().ok_or_else(|| {
                Error::input(format!(
                    "{}: a CI job cannot name a path that is not UTF-8",
                    spec.display()
                ))
            })?),
            None => None,
        };
        // Without a spec the job builds as `layercache build` does there: ./Dockerfile, with the
        // CI's registry image and tags.
        if spec.is_none() && !working_dir.join(DEFAULT_DOCKERFILE).is_file() {
            return Err(Error::input(format!(
                "no {DEFAULT_SPEC} and no {DEFAULT_DOCKERFILE} here: the CI job has nothing to build"
            ))
            .hint(format!(
                "run `layercache ci` at the repository's root, beside the {DEFAULT_DOCKERFILE}, or \
                 name a spec with -f PATH"
            )));
        }
        let mut warnings = Vec::new();
        if !working_dir.join(".git").exists() {
            warnings.push(
                "no .git here: the job runs at the root of the repository's checkout, so run \
                 `layercache ci` there, with -f naming the spec from the root"
                    .to_string(),
            );
        }
        Ok(JobInput {
            source: spec_text.map_or_else(|| NO_SPEC.to_string(), String::from),
            flag: spec_text
                .filter(|s| Path::new(s) != Path::new(DEFAULT_SPEC))
                .map(String::from),
            spec,
            warnings,
        })
    }
}

/// The spec as the job names it: relative to `working_dir`. `None`: no `-f`.
fn spec_path(file: Option<&Path>, working_dir: &Path) -> Result<Option<PathBuf>, Error> {
    let Some(path) = file else {
        return Ok(None);
    };
    if !working_dir.join(path).is_file() {
        return Err(
            Error::input(format!("{}: no such spec file", path.display()))
                .hint("check the path given to -f/--file"),
        );
    }
    let relative = if path.is_absolute() {
        // (An empty `working_dir`: the current folder could not be read, nothing is inside it.)
        path.strip_prefix(working_dir)
            .ok()
            .filter(|_| working_dir.is_absolute())
            .map(Path::to_path_buf)
    } else {
        Some(path.to_path_buf())
    };
    let outside = || {
        Error::input(format!(
            "{}: the spec is outside this folder, and the CI job can only name files of the \
             repository's checkout",
            path.display()
        ))
        .hint("run `layercache ci` at the repository's root")
    };
    let relative = relative.ok_or_else(outside)?;
    if relative.components().any(|c| c == Component::ParentDir) {
        return Err(outside());
    }
    Ok(Some(
        relative
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect(),
    ))
}

/// The registry hosts a standalone job logs in to: those of the images whose repository the
/// spec names. An image left to the CI is a placeholder here, and the job logs in to the CI's
/// own registry for it.
pub fn job_registries(images: &[ImageInput]) -> Vec<String> {
    crate::input::registries_of(
        images
            .iter()
            .filter(|i| !i.config.image.to_string().contains(TOKEN_PREFIX)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_is_named_from_the_root_and_only_when_not_the_default() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::create_dir_all(dir.join("ci")).unwrap();
        std::fs::write(dir.join("ci/spec.yml"), "image: app\n").unwrap();
        std::fs::write(dir.join(DEFAULT_SPEC), "image: app\n").unwrap();
        let job = JobInput::find(Some(&dir.join("ci/./spec.yml")), dir).unwrap();
        assert_eq!(job.spec, Some(PathBuf::from("ci/spec.yml")));
        assert_eq!(job.flag.as_deref(), Some("ci/spec.yml"));
        assert_eq!(job.warnings.len(), 1, "no .git: {:?}", job.warnings);
        std::fs::create_dir(dir.join(".git")).unwrap();
        let job = JobInput::find(Some(Path::new("./layercache.yml")), dir).unwrap();
        assert_eq!(
            (job.flag, job.source.as_str(), job.warnings.len()),
            (None, "layercache.yml", 0)
        );
        let e = JobInput::find(Some(Path::new("../x.yml")), &dir.join("ci")).unwrap_err();
        assert!(e.to_string().contains("no such spec file"), "{e}");
        std::fs::write(dir.join("x.yml"), "image: app\n").unwrap();
        let e = JobInput::find(Some(Path::new("../x.yml")), &dir.join("ci")).unwrap_err();
        assert!(e.to_string().contains("outside this folder"), "{e}");
        let e = JobInput::find(None, &dir.join("ci")).unwrap_err();
        assert!(e.to_string().contains("nothing to build"), "{e}");
    }
}
