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
mod tests {
    use super::*;

    fn messages(bytes: &[u8]) -> Vec<Message> {
        let mut parser = ControlParser::new();
        let mut out = Vec::new();
        parser.feed(bytes, |m| out.push(m));
        out
    }

    fn resize(width: u16, height: u16) -> Message {
        Message::Resize { width, height }
    }

    #[test]
    fn the_daemon_lines_parse() {
        assert_eq!(messages(b"0 0 0\n"), vec![Message::CloseStdin]);
        assert_eq!(messages(b"1 80 24\n"), vec![resize(80, 24)]);
        assert_eq!(
            messages(b"1 80 24\n0 0 0\n1 132 43\n"),
            vec![resize(80, 24), Message::CloseStdin, resize(132, 43)]
        );
    }

    #[test]
    fn a_line_is_acted_on_only_once_its_newline_arrives() {
        assert_eq!(messages(b"1 80 24"), vec![]);
    }

    #[test]
    fn blanks_and_signs_and_leading_zeros_are_accepted() {
        assert_eq!(messages(b"  1\t080  +024 \r\n"), vec![resize(80, 24)]);
        assert_eq!(messages(b"0 -5 99999999\n"), vec![Message::CloseStdin]);
    }

    #[test]
    fn sizes_outside_u16_are_ignored_not_truncated() {
        assert_eq!(messages(b"1 65536 24\n"), vec![]);
        assert_eq!(messages(b"1 80 -1\n"), vec![]);
        assert_eq!(messages(b"1 65535 0\n"), vec![resize(65535, 0)]);
    }

    #[test]
    fn malformed_lines_are_skipped_and_the_next_line_still_parses() {
        let cases: &[&[u8]] = &[
            b"",
            b"garbage",
            b"1 80",
            b"1 80 24 7",
            b"0x1 80 24",
            b"1 0x50 24",
            b"1 80.5 24",
            b"1 8e1 24",
            b"1 - 24",
            b"1 +-80 24",
            b"1\x0080 24",
            b"\xff\xfe 1 2",
            b"2 80 24",
            b"-1 80 24",
            b"99999999999999999999 1 1",
            b"1 99999999999999999999999 24",
        ];
        for case in cases {
            let mut bytes = case.to_vec();
            bytes.extend_from_slice(b"\n1 10 20\n");
            assert_eq!(messages(&bytes), vec![resize(10, 20)], "case {case:?}");
        }
    }

    #[test]
    fn an_endless_line_keeps_memory_bounded_and_is_skipped_whole() {
        let mut parser = ControlParser::new();
        let mut out = Vec::new();
        let chunk = [b'7'; 4096];
        for _ in 0..1024 {
            parser.feed(&chunk, |m| out.push(m));
            assert!(parser.pending() <= MAX_LINE);
        }
        // The tail of the long line looks valid on its own but belongs to the skipped line.
        parser.feed(b" 1 80 24\n1 1 2\n", |m| out.push(m));
        assert_eq!(out, vec![resize(1, 2)]);
    }

    #[test]
    fn a_line_of_exactly_max_line_bytes_is_accepted() {
        let mut line = b"1 80 ".to_vec();
        line.resize(MAX_LINE - 2, b'0');
        line.extend_from_slice(b"24\n");
        assert_eq!(line.len(), MAX_LINE + 1);
        assert_eq!(messages(&line), vec![resize(80, 24)]);
        let mut longer = b"1 80 0".to_vec();
        longer.extend_from_slice(&line[5..]);
        assert_eq!(messages(&longer), vec![]);
    }

    #[test]
    fn any_chunking_gives_the_same_messages() {
        let stream: &[u8] =
            b"1 80 24\n\xff\x00junk\n0 0 0\n1 65536 1\n   1 1 1   \n3 3 3\n1 200 50\n";
        let whole = messages(stream);
        assert_eq!(whole.len(), 4);
        for split in 0..stream.len() {
            let mut parser = ControlParser::new();
            let mut out = Vec::new();
            parser.feed(&stream[..split], |m| out.push(m));
            parser.feed(&stream[split..], |m| out.push(m));
            assert_eq!(out, whole, "split at {split}");
        }
        let mut parser = ControlParser::new();
        let mut out = Vec::new();
        for byte in stream {
            parser.feed(std::slice::from_ref(byte), |m| out.push(m));
        }
        assert_eq!(out, whole);
    }
}
