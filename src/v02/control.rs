//! The control FIFO protocol: text lines `"<type> <width> <height>\n"` from the daemon.
//!
//! The daemon writes `0 0 0` to close stdin and `1 <width> <height>` to resize the terminal. The
//! FIFO is also reachable by anyone who can write into the process directory, so the parser is a
//! total function of the bytes: it never panics, holds at most [`MAX_LINE`] bytes whatever it is
//! fed, and gives the same messages however the bytes are split into reads.
//!
//! Grammar of a line (everything else is skipped, one whole line at a time):
//! * up to [`MAX_LINE`] bytes ending in `\n`;
//! * exactly three decimal integers, each with an optional `+` or `-`, separated by spaces or
//!   tabs, with optional blanks (spaces, tabs, `\r`) before, between and after;
//! * type `0` is [`Message::CloseStdin`] whatever the sizes; type `1` is [`Message::Resize`] when
//!   both sizes lie in `0..=65535`, and ignored otherwise rather than truncated; other types are
//!   ignored, as the original did.

/// Longest line the parser accepts, newline excluded. The longest line the daemon writes is
/// `1 4294967295 4294967295`; anything much longer is not from the daemon. A longer line is
/// discarded up to its newline without being stored.
pub const MAX_LINE: usize = 64;

/// A request from the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// Drop the shim's own writer on the stdin FIFO, so that the container sees EOF once the
    /// client has closed its writer too.
    CloseStdin,
    /// Set the terminal size: `width` becomes `ws_col`, `height` becomes `ws_row`.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
}

/// An incremental line parser with a fixed-size buffer.
#[derive(Debug, Clone)]
pub struct ControlParser {
    line: [u8; MAX_LINE],
    len: usize,
    /// The current line outgrew `line`: skip bytes until the next newline.
    discarding: bool,
}

impl Default for ControlParser {
    fn default() -> Self {
        ControlParser::new()
    }
}

impl ControlParser {
    /// A parser at the start of a line.
    pub const fn new() -> ControlParser {
        ControlParser {
            line: [0; MAX_LINE],
            len: 0,
            discarding: false,
        }
    }

    /// Feeds `bytes` and calls `on_message` for each complete, valid line, in order.
    pub fn feed(&mut self, bytes: &[u8], mut on_message: impl FnMut(Message)) {
        for &byte in bytes {
            if byte == b'\n' {
                if !self.discarding {
                    if let Some(message) = parse_line(&self.line[..self.len]) {
                        on_message(message);
                    }
                }
                self.len = 0;
                self.discarding = false;
            } else if self.discarding {
                continue;
            } else if self.len == MAX_LINE {
                self.discarding = true;
            } else {
                self.line[self.len] = byte;
                self.len += 1;
            }
        }
    }

    /// Bytes of the unfinished line currently held (never more than [`MAX_LINE`]).
    pub fn pending(&self) -> usize {
        self.len
    }
}

/// Parses one line without its newline.
pub fn parse_line(line: &[u8]) -> Option<Message> {
    let mut fields = line
        .split(|&b| b == b' ' || b == b'\t' || b == b'\r')
        .filter(|field| !field.is_empty());
    let kind = parse_int(fields.next()?)?;
    let width = parse_int(fields.next()?)?;
    let height = parse_int(fields.next()?)?;
    if fields.next().is_some() {
        return None;
    }
    match kind {
        0 => Some(Message::CloseStdin),
        1 => Some(Message::Resize {
            width: u16::try_from(width).ok()?,
            height: u16::try_from(height).ok()?,
        }),
        _ => None,
    }
}

/// A decimal integer with an optional sign; `None` on anything else or on overflow.
fn parse_int(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(i64::from(digit - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests;
