//! The `pid` file the runtime writes with `--pid-file`.
//!
//! The daemon parses it with Go's `strconv.Atoi` and treats anything else as "not written yet",
//! so a file the daemon could not read is an error here too, rather than a guess: a bare decimal
//! number, no sign, no whitespace, no newline, naming a possible pid.

use std::fmt;

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

/// Parses a pid file's bytes.
pub fn parse(bytes: &[u8]) -> Result<i32, PidFileError> {
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
mod tests {
    use super::*;

    #[test]
    fn runc_output_parses() {
        assert_eq!(parse(b"4242"), Ok(4242));
        assert_eq!(parse(b"1"), Ok(1));
        assert_eq!(parse(b"0004242"), Ok(4242));
        assert_eq!(parse(b"4194304"), Ok(PID_MAX_LIMIT));
    }

    #[test]
    fn what_the_daemon_could_not_parse_is_rejected() {
        assert_eq!(parse(b""), Err(PidFileError::Empty));
        for bad in [
            &b"abc"[..],
            b"123\n",
            b" 123",
            b"-5",
            b"+5",
            b"12a",
            b"\x00",
            b"1.0",
        ] {
            assert!(
                matches!(parse(bad), Err(PidFileError::NotDecimal(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn numbers_that_are_not_pids_are_rejected() {
        for bad in [&b"0"[..], b"4194305", b"99999999999999999999999999"] {
            assert!(
                matches!(parse(bad), Err(PidFileError::OutOfRange(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn messages_quote_the_content_escaped_and_bounded() {
        let message = parse(b"12\n\"x").unwrap_err().to_string();
        assert!(message.contains(r#""12\n\"x""#), "{message}");
        let huge = vec![b'x'; 1 << 20];
        let message = parse(&huge).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("1048576 bytes"), "{message}");
    }
}
