//! Bytes to text.

use super::*;

/// The text of a file, or why it is not a Dockerfile we can read.
pub(super) fn decode(bytes: &[u8]) -> Result<&str, DockerfileError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(error(
            (1, 1),
            "the file is UTF-16 encoded",
            "save the Dockerfile as UTF-8; docker reads nothing else",
        ));
    }
    let (body, skipped) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, UTF8_BOM.len()),
        None => (bytes, 0),
    };
    // NUL is checked before UTF-8 validity: a binary file usually fails both, and "binary" is the
    // message that tells the user they pointed at the wrong file.
    if let Some(at) = body.iter().position(|&b| b == 0) {
        return Err(error(
            byte_position(body, at),
            format!(
                "the file contains a NUL byte (at byte offset {}); it looks binary, not like a Dockerfile",
                at + skipped
            ),
            "check that the path points to the Dockerfile",
        ));
    }
    std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let byte = body.get(at).copied().unwrap_or_default();
        error(
            byte_position(body, at),
            format!(
                "the file is not valid UTF-8: byte 0x{byte:02X} at byte offset {}",
                at + skipped
            ),
            "save the Dockerfile as UTF-8",
        )
    })
}

/// Line and column (in characters) of byte offset `at`.
pub(super) fn byte_position(bytes: &[u8], at: usize) -> (usize, usize) {
    let prefix = bytes.get(..at).unwrap_or(bytes);
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let before = prefix.get(line_start..).unwrap_or_default();
    (line, String::from_utf8_lossy(before).chars().count() + 1)
}
