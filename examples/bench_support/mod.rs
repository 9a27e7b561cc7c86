//! What both benchmarks (cache_benchmark.rs, concurrency_benchmark.rs) need from the machine and
//! the file system, in one place. Included by each with `#[path]`: a folder without `main.rs`
//! is not an example of its own.

use std::path::{Path, PathBuf};

/// The 1-minute load average: the machine is shared, and a busy CPU stretches every step, so the
/// figures are only comparable with it in view.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `target/`: two levels above `target/release/examples/`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| root.join("target"))
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Copies a folder's files and subfolders into `to`, made if missing.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
