//! What is linted, and the one place lint touches the disk: which Dockerfiles (with the build
//! each belongs to), the names at the top of each build context and whether a
//! Dockerfile-specific ignore file exists, so that the rules stay pure; and the Dockerfiles' text
//! again, for SARIF's snippets.

use super::{human_line, lint, Inputs, Report, Rule, Severity};
use crate::error::Error;
use crate::input::dockerfile::{Dockerfile, GraphInputs};
use crate::input::{self, ImageInput};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One Dockerfile to lint, with the build it belongs to.
#[derive(Debug, Clone)]
pub struct Target {
    path: PathBuf,
    dockerfile: Dockerfile,
    context: PathBuf,
    build_args: BTreeMap<String, Option<String>>,
}

impl Target {
    /// An image's Dockerfile, as `build` reads it.
    pub fn of(input: &ImageInput) -> Target {
        Target {
            path: input.config.dockerfile.clone(),
            dockerfile: input.dockerfile.clone(),
            context: input.config.context.clone(),
            build_args: input.config.build_args.clone(),
        }
    }

    /// A Dockerfile without a spec: `path`, else ./Dockerfile; the context is `context`, else
    /// the Dockerfile's folder, as in `docker build DIR`.
    pub fn alone(path: Option<&Path>, context: Option<&Path>) -> Result<Target, Error> {
        let path = path.map_or_else(|| PathBuf::from("Dockerfile"), Path::to_path_buf);
        // Without a spec there are no build args: a base that needs one is linted, not refused.
        let lenient = GraphInputs {
            allow_blank_base: true,
            ..GraphInputs::default()
        };
        let dockerfile = input::read_dockerfile(
            &path,
            "pass the Dockerfile's path: layercache lint path/to/Dockerfile",
            &lenient,
        )?;
        let context = context.map_or_else(
            || {
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            },
            Path::to_path_buf,
        );
        Ok(Target {
            path,
            dockerfile,
            context,
            build_args: BTreeMap::new(),
        })
    }
}

/// Lints each target, listing its context. Images that share a Dockerfile share one report, and
/// one built the same way is linted once (a spec may hold thousands of images).
pub fn reports(targets: &[Target]) -> Vec<Report> {
    let mut reports: Vec<Report> = Vec::new();
    let mut report_of: HashMap<String, usize> = HashMap::new();
    let mut seen = HashSet::new();
    for target in targets {
        if !seen.insert((&target.path, &target.context, &target.build_args)) {
            continue;
        }
        let inputs = Inputs {
            context_entries: context_entries(&target.context),
            dockerfile_ignore: dockerfile_ignore(&target.path).is_file(),
            build_args: target.build_args.clone(),
        };
        let findings = lint(&target.dockerfile, &inputs);
        let file = target.path.display().to_string();
        let file = file.strip_prefix("./").unwrap_or(&file).to_string();
        match report_of.get(&file).and_then(|&i| reports.get_mut(i)) {
            Some(report) => {
                for f in findings {
                    if !report.findings.contains(&f) {
                        report.findings.push(f);
                    }
                }
                report.findings.sort_by_key(|f| (f.line, f.rule));
            }
            None => {
                report_of.insert(file.clone(), reports.len());
                reports.push(Report { file, findings });
            }
        }
    }
    reports
}

/// What `build` prints before planning: warnings and errors with their fixes, each line
/// prefixed `lint: `.
pub fn for_build(images: &[ImageInput]) -> String {
    let targets: Vec<Target> = images.iter().map(Target::of).collect();
    let mut out = String::new();
    for report in reports(&targets) {
        // The planner already warns about the unnamed stages it has to build.
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity() >= Severity::Warning && f.rule != Rule::UnnamedStage)
        {
            out.push_str(&format!("lint: {}\n", human_line(&report.file, f)));
            out.push_str(&format!("lint:   fix: {}\n", f.fix));
        }
    }
    out
}

/// An error (exit 1) when a finding is at or above `threshold` (`--fail-level`).
pub fn check_fail_level(reports: &[Report], threshold: Option<Severity>) -> Result<(), Error> {
    let Some(threshold) = threshold else {
        return Ok(());
    };
    let failing = reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.severity() >= threshold)
        .count();
    if failing == 0 {
        return Ok(());
    }
    let plural = if failing == 1 { "" } else { "s" };
    Err(Error::step_failed(format!(
        "lint: {failing} finding{plural} at or above --fail-level {threshold}"
    )))
}

/// The text of each Dockerfile with findings, for the columns and snippets of SARIF's regions;
/// one that cannot be read again (it was just parsed) is left out, and its regions are lines.
pub fn sources(reports: &[Report]) -> BTreeMap<String, String> {
    reports
        .iter()
        .filter(|r| !r.findings.is_empty())
        .filter_map(|r| {
            let bytes = std::fs::read(&r.file)
                .map_err(|e| tracing::debug!("lint: cannot read {} again: {e}", r.file))
                .ok()?;
            Some((r.file.clone(), String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

/// The working directory, which SARIF's file URIs are relative to; an error when it could not
/// be read (empty).
pub fn sarif_root(working_dir: &Path) -> Result<PathBuf, Error> {
    if working_dir.as_os_str().is_empty() {
        return Err(Error::environment(
            "lint: cannot read the working directory, which SARIF's file names are relative to",
        )
        .hint("run layercache from the repository's root (it may have been removed)"));
    }
    Ok(working_dir.to_path_buf())
}

/// The names at the top of the build context, or `None` when it cannot be listed.
fn context_entries(dir: &Path) -> Option<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| tracing::debug!("lint: cannot list the context {}: {e}", dir.display()))
        .ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    )
}

/// BuildKit's Dockerfile-specific ignore file: `<Dockerfile>.dockerignore` beside it.
fn dockerfile_ignore(dockerfile: &Path) -> PathBuf {
    let name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dockerfile.with_file_name(format!("{name}.dockerignore"))
}
