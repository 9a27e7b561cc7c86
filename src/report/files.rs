//! The report's files: the `--report` JSON, the `--metrics` text, and the GitHub step summary.

use super::{steps_markdown, CacheReport};
use crate::error::Error;
use crate::run::Outcome;
use crate::secrets::Secrets;
use std::io::Write;
use std::path::Path;

/// Where each file goes; `None`: not written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Files<'a> {
    pub report: Option<&'a Path>,
    pub metrics: Option<&'a Path>,
    /// Appended to: GitHub Actions renders it under the job's log.
    pub step_summary: Option<&'a Path>,
}

/// Writes the files, their text masked.
pub fn write_files(
    files: &Files,
    outcome: &Outcome,
    cache: &CacheReport,
    secrets: &Secrets,
) -> Result<(), Error> {
    let write = |path: &Path, text: String, append: bool| {
        let cannot =
            |e: std::io::Error| Error::environment(format!("cannot write {}: {e}", path.display()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(cannot)?;
        file.write_all(secrets.mask(&text).as_bytes())
            .map_err(cannot)
    };
    if let Some(path) = files.report {
        write(
            path,
            serde_json::to_string_pretty(cache).unwrap_or_default() + "\n",
            false,
        )?;
    }
    if let Some(path) = files.metrics {
        write(path, cache.metrics(), false)?;
    }
    if let Some(path) = files.step_summary {
        write(
            path,
            format!("{}\n{}", steps_markdown(outcome), cache.markdown()),
            true,
        )?;
    }
    Ok(())
}
