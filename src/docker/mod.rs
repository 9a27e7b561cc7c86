//! Finding the docker binary and probing what it can do, once, into [`Capabilities`], and the
//! one place where a step becomes a process. Planning never calls docker: it receives the
//! capabilities as a value.

use crate::error::Error;
use std::path::{Path, PathBuf};

mod buildx_store;
mod command;
pub mod config;
mod daemon_socket;
mod engine_env;
mod plugins;
mod probe;

pub use command::{probe_command, step_command};
pub use engine_env::EngineEnv;
pub use probe::{
    probe, versions, BuildxBuilder, BuildxPlugin, Capabilities, Daemon, Driver, ImageStore,
};

/// The docker binary's full path, or an environment error saying how to get one: `program`
/// looked for in `search_path` (PATH, from the environment snapshot), or from `working_dir` when
/// it is a path.
pub fn find(
    program: &str,
    search_path: Option<&str>,
    working_dir: &Path,
) -> Result<PathBuf, Error> {
    which::which_in(program, search_path, working_dir).map_err(|_| {
        Error::environment(format!(
            "docker not found: `{program}` is not an executable on PATH"
        ))
        .hint("install the docker client, or name it with --docker PATH (or LAYERCACHE_DOCKER)")
    })
}
