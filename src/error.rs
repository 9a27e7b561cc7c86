//! The one error type: what kind it is (which gives the exit status), where (file:line:col),
//! what went wrong and what to do, written by one `Display`.
//!
//! Layers with errors that callers branch on keep their own typed errors (a Dockerfile's
//! `DockerfileError`, an image reference's `ReferenceError`); they become an [`Error`] where the
//! file they came from is known.

use std::fmt;

/// What went wrong, in the terms of the README's exit-status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A docker step failed (or lint found something at `--fail-level`): exit 1.
    StepFailed,
    /// Bad command line, spec or Dockerfile: exit 2.
    Input,
    /// docker missing, daemon unreachable, a file that cannot be written: exit 3.
    Environment,
    /// SIGINT or SIGTERM arrived: exit 128 + the signal (130, 143).
    Interrupted { signal: i32 },
}

/// Where a value was given: a line and column of a file, or a command-line flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// A file's path, or the flag (`--target`).
    pub file: String,
    /// 1-based; 0 when unknown, and then so is `column`.
    pub line: usize,
    /// 1-based, in characters; 0 when unknown.
    pub column: usize,
}

impl Place {
    /// A whole file (or flag), no line.
    pub fn whole(file: &str) -> Place {
        Place::at(file, 0, 0)
    }

    pub fn at(file: &str, line: usize, column: usize) -> Place {
        Place {
            file: file.to_string(),
            line,
            column,
        }
    }

    /// An input error about the value given here.
    pub fn error(&self, message: &str, hint: &str) -> Error {
        Error::input(message).hint(hint).at(self.clone())
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => f.write_str(&self.file),
            (l, 0) => write!(f, "{}:{l}", self.file),
            (l, c) => write!(f, "{}:{l}:{c}", self.file),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub place: Option<Place>,
    pub message: String,
    /// What to do about it; empty when there is nothing to add.
    pub hint: String,
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            place: None,
            message: message.into(),
            hint: String::new(),
        }
    }

    pub fn input(message: impl Into<String>) -> Error {
        Error::new(Kind::Input, message)
    }

    pub fn environment(message: impl Into<String>) -> Error {
        Error::new(Kind::Environment, message)
    }

    pub fn step_failed(message: impl Into<String>) -> Error {
        Error::new(Kind::StepFailed, message)
    }

    pub fn interrupted(signal: i32) -> Error {
        Error::new(
            Kind::Interrupted { signal },
            format!("interrupted by signal {signal}"),
        )
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = hint.into();
        self
    }

    pub fn at(mut self, place: Place) -> Error {
        self.place = Some(place);
        self
    }

    /// The same error with its text passed through `f` (secret masking).
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Error {
        Error {
            message: f(&self.message),
            hint: f(&self.hint),
            ..self
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::StepFailed => 1,
            Kind::Input => 2,
            Kind::Environment => 3,
            Kind::Interrupted { signal } => 128u8.saturating_add(signal as u8),
        }
    }
}

impl fmt::Display for Error {
    /// `place: message`, then `  hint: ...` on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = &self.place {
            write!(f, "{place}: ")?;
        }
        f.write_str(&self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// An input error at a position in a file: `file:line:col: message` + hint.
pub fn at(file: &str, line: usize, column: usize, message: &str, hint: &str) -> Error {
    Place::at(file, line, column).error(message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_writes_place_message_and_hint() {
        let e = at("layercache.yml", 3, 7, "bad tag", "use letters");
        assert_eq!(
            e.to_string(),
            "layercache.yml:3:7: bad tag\n  hint: use letters"
        );
        assert_eq!(e.exit_code(), 2);
        assert_eq!(at("f", 3, 0, "m", "").to_string(), "f:3: m");
        assert_eq!(at("f", 0, 9, "m", "").to_string(), "f: m");
        assert_eq!(Error::environment("no docker").exit_code(), 3);
        assert_eq!(Error::step_failed("x").exit_code(), 1);
        assert_eq!(Error::interrupted(15).exit_code(), 143);
        assert_eq!(Error::interrupted(2).to_string(), "interrupted by signal 2");
    }
}
