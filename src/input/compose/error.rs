//! [`ComposeError`]: every failure of the Compose reader, placed at `file:line:col` with a hint.
//!
//! The reader never panics and never prints; each layer returns one of these. A line or column
//! of 0 means "not known" (a value written in flow style, or a file that could not be read).

use std::fmt;

/// A Compose file could not be read or resolved. `Display` writes
/// `file:line:col: message` and, when there is one, `\n  hint: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeError {
    /// The file as the user named it (or as discovery found it); empty when no file is involved.
    pub file: String,
    /// 1-based; 0 when unknown, and then so is `column`.
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// What to do about it; may be empty.
    pub hint: String,
}

impl ComposeError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> ComposeError {
        ComposeError {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: String::new(),
        }
    }

    /// The same error placed at `line`:`column` (kept when the place is unknown: 0).
    pub fn at(mut self, place: (usize, usize)) -> ComposeError {
        if place.0 > 0 {
            (self.line, self.column) = place;
        }
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> ComposeError {
        self.hint = hint.into();
        self
    }
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.line, self.column) {
            (true, _, _) => {}
            (false, 0, _) => write!(f, "{}: ", self.file)?,
            (false, l, 0) => write!(f, "{}:{l}: ", self.file)?,
            (false, l, c) => write!(f, "{}:{l}:{c}: ", self.file)?,
        }
        f.write_str(&self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for ComposeError {}

impl From<ComposeError> for crate::error::Error {
    /// Compose input errors are input errors: exit status 2.
    fn from(e: ComposeError) -> crate::error::Error {
        let error = crate::error::Error::input(e.message).hint(e.hint);
        if e.file.is_empty() {
            return error;
        }
        error.at(crate::error::Place::at(&e.file, e.line, e.column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_places_the_message_and_the_hint() {
        let e = ComposeError::new("compose.yaml", "required variable TOKEN is missing a value")
            .at((7, 16))
            .hint("set TOKEN");
        assert_eq!(
            e.to_string(),
            "compose.yaml:7:16: required variable TOKEN is missing a value\n  hint: set TOKEN"
        );
        let e = ComposeError::new("compose.yaml", "bad").at((3, 0));
        assert_eq!(e.to_string(), "compose.yaml:3: bad");
        assert_eq!(ComposeError::new("", "no file").to_string(), "no file");
        assert_eq!(ComposeError::new("f", "m").at((0, 9)).to_string(), "f: m");
    }
}
