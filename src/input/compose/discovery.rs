//! Which Compose files a project is made of, as compose decides: `-f` files, else
//! `COMPOSE_FILE` (split on `COMPOSE_PATH_SEPARATOR`, `:` by default), else the first of
//! `compose.yaml`, `compose.yml`, `docker-compose.yml`, `docker-compose.yaml` in the working
//! folder or the nearest parent that has one, plus the first override file beside it
//! (`compose.override.yml` before `compose.override.yaml`, then the `docker-compose.`
//! ones: note `.yml` first there, `.yaml` first for the main file; both measured).
//!
//! It does not read the files, only asks whether they exist.

use super::error::ComposeError;
use super::fs::{join_clean, FileSystem};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default file names, in compose's order of preference.
pub const DEFAULT_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// The override file names, in compose's order of preference.
pub const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The files found, and what compose would warn about finding them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub files: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// The files to read. `files` are the `-f` paths; `env` is the environment already merged with
/// the working folder's `.env` (for `COMPOSE_FILE`); `start` is where discovery begins.
pub fn discover(
    working_dir: &Path,
    files: &[PathBuf],
    env: &BTreeMap<String, String>,
    start: &Path,
    fs: &dyn FileSystem,
) -> Result<Found, ComposeError> {
    let mut warnings = Vec::new();
    let named: Vec<PathBuf> = if !files.is_empty() {
        files
            .iter()
            .map(|f| join_clean(working_dir, &f.to_string_lossy()))
            .collect()
    } else if let Some(list) = env.get("COMPOSE_FILE").filter(|v| !v.is_empty()) {
        let separator = env
            .get("COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .map_or(":", String::as_str);
        list.split(separator)
            .filter(|p| !p.is_empty())
            .map(|p| join_clean(working_dir, p))
            .collect()
    } else {
        Vec::new()
    };
    if !named.is_empty() {
        for f in &named {
            if !fs.is_file(f) {
                return Err(
                    ComposeError::new(f.display().to_string(), "no such compose file")
                        .hint("check the -f paths and COMPOSE_FILE"),
                );
            }
        }
        return Ok(Found {
            files: named,
            warnings,
        });
    }
    let mut dir = Some(start);
    while let Some(d) = dir {
        let present: Vec<PathBuf> = DEFAULT_NAMES
            .iter()
            .map(|n| d.join(n))
            .filter(|p| fs.is_file(p))
            .collect();
        if let Some(first) = present.first() {
            if present.len() > 1 {
                warnings.push(format!(
                    "found several compose files ({}); using {}",
                    names(&present),
                    first.display()
                ));
            }
            let mut files = vec![first.clone()];
            let overrides: Vec<PathBuf> = OVERRIDE_NAMES
                .iter()
                .map(|n| d.join(n))
                .filter(|p| fs.is_file(p))
                .collect();
            if let Some(o) = overrides.first() {
                if overrides.len() > 1 {
                    warnings.push(format!(
                        "found several override files ({}); using {}",
                        names(&overrides),
                        o.display()
                    ));
                }
                files.push(o.clone());
            }
            return Ok(Found { files, warnings });
        }
        dir = d.parent();
    }
    Err(ComposeError::new(
        start.display().to_string(),
        "no configuration file provided: not found (no compose.yaml, compose.yml, \
         docker-compose.yml or docker-compose.yaml here or in a parent folder)",
    )
    .hint("run in the project's folder, or name the file with -f"))
}

fn names(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::compose::fs::MemoryFs;

    fn found(fs: &MemoryFs, start: &str, env: &[(&str, &str)], files: &[&str]) -> Vec<String> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        discover(Path::new("/w"), &files, &env, Path::new(start), fs)
            .unwrap()
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    }

    #[test]
    fn the_preferred_name_wins_and_its_override_follows() {
        let fs = MemoryFs::new([
            ("/w/docker-compose.yaml", ""),
            ("/w/docker-compose.yml", ""),
            ("/w/compose.override.yaml", ""),
            ("/w/docker-compose.override.yml", ""),
        ]);
        assert_eq!(
            found(&fs, "/w", &[], &[]),
            ["/w/docker-compose.yml", "/w/compose.override.yaml"]
        );
        let fs = MemoryFs::new([("/w/compose.yml", ""), ("/w/compose.yaml", "")]);
        assert_eq!(found(&fs, "/w", &[], &[]), ["/w/compose.yaml"]);
    }

    #[test]
    fn parents_are_searched() {
        let fs = MemoryFs::new([("/w/compose.yaml", ""), ("/w/compose.override.yml", "")]);
        assert_eq!(
            found(&fs, "/w/a/b", &[], &[]),
            ["/w/compose.yaml", "/w/compose.override.yml"]
        );
        let e = discover(Path::new("/x"), &[], &BTreeMap::new(), Path::new("/x"), &fs).unwrap_err();
        assert!(e.message.contains("no configuration file provided"));
    }

    #[test]
    fn named_files_skip_discovery_and_the_override() {
        let fs = MemoryFs::new([
            ("/w/compose.yaml", ""),
            ("/w/compose.override.yml", ""),
            ("/w/a.yaml", ""),
            ("/w/ci/b.yaml", ""),
        ]);
        assert_eq!(found(&fs, "/w", &[], &["a.yaml"]), ["/w/a.yaml"]);
        assert_eq!(
            found(&fs, "/w", &[("COMPOSE_FILE", "a.yaml:ci/b.yaml")], &[]),
            ["/w/a.yaml", "/w/ci/b.yaml"]
        );
        assert_eq!(
            found(
                &fs,
                "/w",
                &[
                    ("COMPOSE_FILE", "a.yaml;ci/b.yaml"),
                    ("COMPOSE_PATH_SEPARATOR", ";")
                ],
                &[]
            ),
            ["/w/a.yaml", "/w/ci/b.yaml"]
        );
        // -f wins over COMPOSE_FILE.
        assert_eq!(
            found(&fs, "/w", &[("COMPOSE_FILE", "ci/b.yaml")], &["a.yaml"]),
            ["/w/a.yaml"]
        );
        let e = discover(
            Path::new("/w"),
            &[PathBuf::from("missing.yaml")],
            &BTreeMap::new(),
            Path::new("/w"),
            &fs,
        )
        .unwrap_err();
        assert_eq!(e.file, "/w/missing.yaml");
    }
}
