//! The one place where a docker invocation becomes a `std::process::Command`: a plan's
//! [`Step`], or a probe of the engine.

use crate::plan::step::Step;
use std::path::Path;
use std::process::{Command, Stdio};

/// A step as a process: its program (resolved on PATH as `sh` would), arguments and extra
/// environment; stdout and stderr piped for streaming; stdin piped only when the step writes
/// a password to it, else closed.
pub fn step_command(step: &Step) -> Command {
    let mut command = Command::new(&step.program);
    command
        .args(&step.args)
        .envs(&step.env)
        .stdin(if step.stdin_var.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A question to the engine: `docker ARGS`, stdin closed, both outputs captured.
pub fn probe_command(docker: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(docker);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}
