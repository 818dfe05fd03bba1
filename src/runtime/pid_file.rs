//! The `pid` file the runtime writes with `--pid-file`.
//!
//! The daemon parses it with Go's `strconv.Atoi` and treats anything else as "not written yet",
//! so a file the daemon could not read is an error here too, rather than a guess: a bare decimal
//! number, no sign, no whitespace, no newline, naming a possible pid.

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::input;

/// The largest pid Linux can hand out (`PID_MAX_LIMIT` on 64-bit kernels).
pub const PID_MAX_LIMIT: i32 = 4 * 1024 * 1024;

/// Why a pid file's content is not a pid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidFileError {
    /// The file is empty.
    Empty,
    /// A byte other than an ASCII digit, shown in the message.
    NotDecimal(String),
    /// A decimal number outside `1..=PID_MAX_LIMIT`.
    OutOfRange(String),
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidFileError::Empty => write!(f, "file is empty"),
            PidFileError::NotDecimal(shown) => write!(
                f,
                "content {shown} is not a bare decimal pid (no sign, whitespace or newline)"
            ),
            PidFileError::OutOfRange(shown) => {
                write!(f, "content {shown} is not a pid in 1..={PID_MAX_LIMIT}")
            }
        }
    }
}

/// Longest content quoted in an error message.
const SHOWN_BYTES: usize = 32;

/// The content quoted for a message: at most [`SHOWN_BYTES`] bytes, escaped.
fn shown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(SHOWN_BYTES)];
    let mut text = format!("\"{}\"", head.escape_ascii());
    if bytes.len() > SHOWN_BYTES {
        text.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    text
}

/// Reads and parses the pid file at `path`; an error names the file.
pub fn read(path: &Path) -> Result<i32> {
    let bytes = input::read_limited(path)?;
    parse(&bytes).map_err(|e| Error::invalid(format!("pid file {}", path.display()), e))
}

/// Parses a pid file's bytes.
pub fn parse(bytes: &[u8]) -> std::result::Result<i32, PidFileError> {
    if bytes.is_empty() {
        return Err(PidFileError::Empty);
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(PidFileError::NotDecimal(shown(bytes)));
    }
    let mut value: i32 = 0;
    for &digit in bytes {
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i32::from(digit - b'0')))
        {
            Some(v) if v <= PID_MAX_LIMIT => v,
            _ => return Err(PidFileError::OutOfRange(shown(bytes))),
        };
    }
    if value == 0 {
        return Err(PidFileError::OutOfRange(shown(bytes)));
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
