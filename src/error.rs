//! The error kinds a user's script can tell apart, each with its documented exit status.
//!
//! Layers return their own error values; `main` finds the kind in the error chain and exits with
//! its code. Anything unclassified is a failed step (exit 1).

use std::fmt;

/// What went wrong, in the terms of the README's exit-status table.
#[derive(Debug)]
pub enum Error {
    /// Bad command line, spec or Dockerfile: exit 2.
    Input(String),
    /// docker missing, daemon unreachable: exit 3.
    Environment(String),
    /// A docker step failed: exit 1.
    StepFailed(String),
    /// SIGINT or SIGTERM arrived: exit 130 or 143.
    Interrupted { signal: i32 },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::StepFailed(_) => 1,
            Error::Input(_) => 2,
            Error::Environment(_) => 3,
            Error::Interrupted { signal } => 128u8.saturating_add(*signal as u8),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(msg) | Error::Environment(msg) | Error::StepFailed(msg) => {
                f.write_str(msg)
            }
            Error::Interrupted { signal } => write!(f, "interrupted by signal {signal}"),
        }
    }
}

impl std::error::Error for Error {}

/// A position in an input file, for messages of the form `file:line:col: what` + hint.
pub fn at(file: &str, line: usize, column: usize, message: &str, hint: &str) -> Error {
    let place = match (line, column) {
        (0, _) => file.to_string(),
        (l, 0) => format!("{file}:{l}"),
        (l, c) => format!("{file}:{l}:{c}"),
    };
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!("\n  hint: {hint}")
    };
    Error::Input(format!("{place}: {message}{hint}"))
}
