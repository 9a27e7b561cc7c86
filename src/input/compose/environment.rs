//! The environment a project is resolved with: its `.env` (or the `--env-file`s) under the
//! process environment, which wins; and how paths are shown in messages.
//!
//! It reads env files through the [`FileSystem`]; parsing them is [`super::dotenv`]'s.

use super::dotenv;
use super::error::ComposeError;
use super::fs::{join_clean, FileSystem};
use super::request::Request;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `.env` (or the `--env-file`s) under the process environment, which wins.
pub(super) fn project_env(
    request: &Request,
    project_dir: &Path,
    fs: &dyn FileSystem,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let files: Vec<PathBuf> = if request.env_files.is_empty() {
        let dot = project_dir.join(".env");
        if fs.is_file(&dot) {
            vec![dot]
        } else {
            Vec::new()
        }
    } else {
        request
            .env_files
            .iter()
            .map(|f| join_clean(&request.working_dir, &f.to_string_lossy()))
            .collect()
    };
    let mut dot = BTreeMap::new();
    for f in &files {
        dot.extend(read_env_file(
            f,
            &display(&request.working_dir, f),
            &request.env,
            fs,
        )?);
    }
    Ok(overlay(dot, &request.env))
}

pub(super) fn read_env_file(
    path: &Path,
    shown: &str,
    env: &BTreeMap<String, String>,
    fs: &dyn FileSystem,
) -> Result<BTreeMap<String, String>, ComposeError> {
    match fs.read(path) {
        Ok(Some(text)) => dotenv::parse(&text, shown, env),
        Ok(None) => Err(ComposeError::new(shown, "no such env file")
            .hint("check the --env-file or env_file path")),
        Err(why) => Err(ComposeError::new(
            shown,
            format!("cannot read the env file: {why}"),
        )),
    }
}

/// `base` with every variable of `top` set over it.
pub(super) fn overlay(
    mut base: BTreeMap<String, String>,
    top: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    base.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
    base
}

/// A path as the user would write it: relative to the working folder when under it.
pub(super) fn display(working_dir: &Path, path: &Path) -> String {
    path.strip_prefix(working_dir)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}
