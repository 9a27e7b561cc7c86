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

/// `.env` (or the `--env-file`s, else the `COMPOSE_ENV_FILES` list) under the process
/// environment, which wins. `COMPOSE_DISABLE_ENV_FILE` (a true value) skips the default `.env`.
pub(super) fn project_env(
    request: &Request,
    project_dir: &Path,
    fs: &dyn FileSystem,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let os = &request.env;
    let named: Vec<String> = if !request.env_files.is_empty() {
        request
            .env_files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect()
    } else {
        os.get("COMPOSE_ENV_FILES")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let disabled = os
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| go_bool(v) == Some(true));
    let files: Vec<PathBuf> = if !named.is_empty() {
        named
            .iter()
            .map(|f| join_clean(&request.working_dir, f))
            .collect()
    } else {
        let dot = project_dir.join(".env");
        if fs.is_file(&dot) && !disabled {
            vec![dot]
        } else {
            Vec::new()
        }
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

/// A boolean as Go's `strconv.ParseBool` reads it.
pub(super) fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}
