//! `include:` as compose applies it: each entry loaded as a project of its own (its own folder
//! for relative paths and defaults, its own `.env` or `env_file`, the including project's
//! variables winning over them), its services added to the including file's; a service defined
//! on both sides is an error.

use super::environment::{display, overlay, read_env_file};
use super::error::ComposeError;
use super::fs::join_clean;
use super::interpolate::key_text;
use super::loader::{Loader, MAX_DEPTH};
use super::position::Seg;
use super::scalars;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

impl Loader<'_> {
    /// `include:`: each entry loaded as a project of its own (its own folder for relative
    /// paths, its own `.env` or `env_file`), its services added to this file's.
    pub(super) fn include(
        &mut self,
        doc: &mut Mapping,
        include: Value,
        source: usize,
        base_dir: &Path,
        env: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), ComposeError> {
        let here = |this: &Self, path: &[Seg], message: String| {
            let (file, positions) = &this.sources[source];
            ComposeError::new(file.as_str(), message).at(positions.nearest(path))
        };
        if depth >= MAX_DEPTH {
            return Err(here(
                self,
                &[Seg::key("include")],
                "include nests too deep (a cycle?)".into(),
            ));
        }
        let Value::Sequence(entries) = include else {
            return Err(here(
                self,
                &[Seg::key("include")],
                "include must be a list".into(),
            ));
        };
        for (i, entry) in entries.into_iter().enumerate() {
            let at = [Seg::key("include"), Seg::Index(i)];
            let (paths, project_directory, env_files) = match entry {
                Value::String(p) => (vec![p], None, Vec::new()),
                Value::Mapping(m) => {
                    let list = |v: Option<&Value>| -> Vec<String> {
                        match v {
                            Some(Value::Sequence(s)) => {
                                s.iter().filter_map(scalars::scalar_text).collect()
                            }
                            Some(v) => scalars::scalar_text(v).into_iter().collect(),
                            None => Vec::new(),
                        }
                    };
                    (
                        list(m.get("path")),
                        m.get("project_directory").and_then(scalars::scalar_text),
                        list(m.get("env_file")),
                    )
                }
                _ => {
                    return Err(here(
                        self,
                        &at,
                        "an include entry is a path or a mapping with `path:`".into(),
                    ))
                }
            };
            if paths.is_empty() {
                return Err(here(self, &at, "an include entry needs a path".into()));
            }
            let paths: Vec<PathBuf> = paths.iter().map(|p| join_clean(base_dir, p)).collect();
            let dir = match project_directory {
                Some(d) => join_clean(base_dir, &d),
                None => paths[0]
                    .parent()
                    .map_or_else(|| base_dir.to_path_buf(), Path::to_path_buf),
            };
            let env_files: Vec<PathBuf> = if env_files.is_empty() {
                Some(dir.join(".env"))
                    .filter(|d| self.fs.is_file(d))
                    .into_iter()
                    .collect()
            } else {
                env_files.iter().map(|f| join_clean(base_dir, f)).collect()
            };
            // The including project's environment wins over the included one's files.
            let mut included_env = BTreeMap::new();
            for f in &env_files {
                let shown = display(self.working_dir, f);
                included_env.extend(read_env_file(f, &shown, env, self.fs)?);
            }
            let included_env = overlay(included_env, env);
            if let Some(again) = paths.iter().find(|p| self.including.contains(p)) {
                let chain: Vec<String> = self
                    .including
                    .iter()
                    .chain(std::iter::once(again))
                    .map(|p| display(self.working_dir, p))
                    .collect();
                return Err(here(
                    self,
                    &at,
                    format!("include cycle: {}", chain.join(" -> ")),
                ));
            }
            let mut sub = self.load_model(&paths, &dir, &included_env, depth + 1)?;
            let default_context = dir.display().to_string();
            let services = match doc
                .entry("services".into())
                .or_insert_with(|| Value::Mapping(Mapping::new()))
            {
                Value::Mapping(m) => m,
                _ => continue,
            };
            if let Some(Value::Mapping(included)) = sub.remove("services") {
                for (k, mut v) in included {
                    if services.contains_key(&k) {
                        return Err(here(
                            self,
                            &[Seg::key("services"), Seg::Key(key_text(&k))],
                            format!(
                                "service {} is defined both here and in the included {}",
                                key_text(&k),
                                display(self.working_dir, &paths[0])
                            ),
                        ));
                    }
                    // The included project's defaults are its own folder's.
                    if let Some(Value::Mapping(build)) = v.get_mut("build") {
                        build
                            .entry("context".into())
                            .or_insert_with(|| Value::String(default_context.clone()));
                    }
                    services.insert(k, v);
                }
            }
            if let Some(Value::Mapping(secrets)) = sub.remove("secrets") {
                let target = doc
                    .entry("secrets".into())
                    .or_insert_with(|| Value::Mapping(Mapping::new()));
                if let Value::Mapping(target) = target {
                    for (k, v) in secrets {
                        target.entry(k).or_insert(v);
                    }
                }
            }
        }
        Ok(())
    }
}
