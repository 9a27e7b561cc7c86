//! [`Request`]: how the reader is invoked, the values of compose's own command line (`-f`,
//! `--profile`, `-p`, `--project-directory`, `--env-file`) and an environment snapshot. The
//! reader reads no process state itself: callers fill this once from theirs.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// What `docker compose [OPTIONS] config` would be given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Where compose runs: `-f`, `--env-file` and `COMPOSE_FILE` paths are relative to it, and
    /// discovery starts here.
    pub working_dir: PathBuf,
    /// `-f`, in order; empty: `COMPOSE_FILE`, else discovery.
    pub files: Vec<PathBuf>,
    /// `--profile`, in order; empty: `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// The process environment. It wins over `.env`.
    pub env: BTreeMap<String, String>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_dir: Option<PathBuf>,
    /// `--env-file`, in order (later files win); empty: the project folder's `.env`.
    pub env_files: Vec<PathBuf>,
}
