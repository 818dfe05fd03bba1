//! The part of TOML a runc options table is written in (see [`super`]): `key = value` lines at
//! the top level, read without ever failing on what it does not take.

use std::fmt;

/// Why a TOML text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for TomlError {}

/// A value the shim reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// A basic or literal string.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// A decimal integer.
    Integer(i64),
    /// Anything else, skipped.
    Other,
}

/// Hands each top-level `key = value` of `text` to `set`, in order; what `set` refuses is an
/// error naming its line. Keys under a `[table]` header are skipped.
pub(super) fn read_top_level(
    text: &str,
    mut set: impl FnMut(&str, Value) -> std::result::Result<(), String>,
) -> std::result::Result<(), TomlError> {
    let mut cursor = Cursor {
        text: text.as_bytes(),
        at: 0,
        line: 1,
    };
    let mut in_table = false;
    loop {
        cursor.skip_blank_lines();
        let Some(first) = cursor.peek() else {
            return Ok(());
        };
        if first == b'[' {
            cursor.skip_table_header()?;
            in_table = true;
            continue;
        }
        let line = cursor.line;
        let key = cursor.key()?;
        cursor.skip_spaces();
        if cursor.next() != Some(b'=') {
            return Err(cursor.error("expected `=` after the key"));
        }
        cursor.skip_spaces();
        let value = cursor.value()?;
        cursor.end_of_line()?;
        if !in_table {
            set(&key, value).map_err(|reason| TomlError { line, reason })?;
        }
    }
}

/// A position in the text.
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        if byte == b'\n' {
            self.line += 1;
        }
        Some(byte)
    }

    fn error(&self, reason: &str) -> TomlError {
        TomlError {
            line: self.line,
            reason: reason.to_string(),
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some(b'#') {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.at += 1;
            }
        }
    }

    /// Past blank lines and comment lines, to the first byte of the next line with content.
    fn skip_blank_lines(&mut self) {
        loop {
            self.skip_spaces();
            self.skip_comment();
            match self.peek() {
                Some(b'\n') => {
                    self.next();
                }
                Some(b'\r') if self.text.get(self.at + 1) == Some(&b'\n') => {
                    self.at += 1;
                }
                _ => return,
            }
        }
    }

    /// Nothing but spaces and a comment up to the end of the line, which is consumed.
    fn end_of_line(&mut self) -> std::result::Result<(), TomlError> {
        self.skip_spaces();
        self.skip_comment();
        if self.peek() == Some(b'\r') {
            self.at += 1;
        }
        match self.next() {
            None | Some(b'\n') => Ok(()),
            Some(_) => Err(self.error("unexpected text after the value")),
        }
    }

    /// `[name]` or `[[name]]`: nothing under it is read.
    fn skip_table_header(&mut self) -> std::result::Result<(), TomlError> {
        while let Some(byte) = self.peek() {
            match byte {
                b'\n' | b'#' => break,
                b'"' | b'\'' => {
                    self.string()?;
                }
                _ => self.at += 1,
            }
        }
        self.end_of_line()
    }

    /// A bare key, a quoted one, or a dotted key of either (whose parts are joined by dots:
    /// no runc option has a dot, so a dotted key is never the shim's).
    fn key(&mut self) -> std::result::Result<String, TomlError> {
        let mut key = String::new();
        loop {
            match self.peek() {
                Some(b'"' | b'\'') => key.push_str(&self.string()?),
                Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                    while let Some(b) = self.peek() {
                        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                            break;
                        }
                        key.push(char::from(b));
                        self.at += 1;
                    }
                }
                _ => return Err(self.error("expected a key")),
            }
            self.skip_spaces();
            if self.peek() != Some(b'.') {
                return Ok(key);
            }
            self.at += 1;
            key.push('.');
            self.skip_spaces();
        }
    }

    fn value(&mut self) -> std::result::Result<Value, TomlError> {
        match self.peek() {
            Some(b'"' | b'\'') => {
                if self.text[self.at..].starts_with(b"\"\"\"")
                    || self.text[self.at..].starts_with(b"'''")
                {
                    self.skip_multiline_string()?;
                    return Ok(Value::Other);
                }
                self.string().map(Value::Text)
            }
            Some(b'[' | b'{') => {
                self.skip_nested()?;
                Ok(Value::Other)
            }
            Some(_) => {
                let start = self.at;
                while !matches!(
                    self.peek(),
                    None | Some(b'\n' | b'\r' | b'#' | b' ' | b'\t' | b',' | b']' | b'}')
                ) {
                    self.at += 1;
                }
                let word = std::str::from_utf8(&self.text[start..self.at])
                    .map_err(|_| self.error("a value that is not UTF-8"))?;
                if word.is_empty() {
                    return Err(self.error("expected a value"));
                }
                Ok(scalar(word))
            }
            None => Err(self.error("expected a value")),
        }
    }

    /// A basic (`"..."`, with escapes) or literal (`'...'`) string on one line.
    fn string(&mut self) -> std::result::Result<String, TomlError> {
        let quote = self.next().unwrap_or(b'"');
        let mut bytes = Vec::new();
        loop {
            // The end of the line is looked at, not taken: the error names the string's line.
            if matches!(self.peek(), None | Some(b'\n')) {
                return Err(self.error("a string that does not end"));
            }
            match self.next() {
                Some(b) if b == quote => break,
                Some(b'\\') if quote == b'"' => self.escape(&mut bytes)?,
                Some(b) => bytes.push(b),
                None => {}
            }
        }
        String::from_utf8(bytes).map_err(|_| self.error("a string that is not UTF-8"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> std::result::Result<(), TomlError> {
        let simple = match self.next() {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'n') => b'\n',
            Some(b't') => b'\t',
            Some(b'r') => b'\r',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'e') => 0x1b,
            Some(b'u') => return self.unicode(4, out),
            Some(b'U') => return self.unicode(8, out),
            _ => return Err(self.error("an unknown escape in a string")),
        };
        out.push(simple);
        Ok(())
    }

    fn unicode(&mut self, digits: usize, out: &mut Vec<u8>) -> std::result::Result<(), TomlError> {
        let hex = self
            .text
            .get(self.at..self.at + digits)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| self.error("a bad unicode escape"))?;
        self.at += digits;
        let mut buffer = [0; 4];
        out.extend_from_slice(hex.encode_utf8(&mut buffer).as_bytes());
        Ok(())
    }

    fn skip_multiline_string(&mut self) -> std::result::Result<(), TomlError> {
        let line = self.line;
        let delimiter: &[u8] = if self.text[self.at..].starts_with(b"'''") {
            b"'''"
        } else {
            b"\"\"\""
        };
        self.at += 3;
        loop {
            if self.text[self.at..].starts_with(delimiter) {
                self.at += 3;
                // A closing delimiter may be followed by up to two more quotes of the string.
                while self.peek() == Some(delimiter[0]) {
                    self.at += 1;
                }
                return Ok(());
            }
            match self.next() {
                None => {
                    return Err(TomlError {
                        line,
                        reason: "a multi-line string that does not end".into(),
                    })
                }
                Some(b'\\') if delimiter[0] == b'"' => {
                    self.next();
                }
                Some(_) => {}
            }
        }
    }

    /// An array or inline table, however nested, across lines for an array.
    fn skip_nested(&mut self) -> std::result::Result<(), TomlError> {
        let line = self.line;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => {
                    return Err(TomlError {
                        line,
                        reason: "an array or inline table that does not end".into(),
                    })
                }
                Some(b'[' | b'{') => {
                    depth += 1;
                    self.at += 1;
                }
                Some(b']' | b'}') => {
                    self.at += 1;
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(b'"' | b'\'') => {
                    if self.text[self.at..].starts_with(b"\"\"\"")
                        || self.text[self.at..].starts_with(b"'''")
                    {
                        self.skip_multiline_string()?;
                    } else {
                        self.string()?;
                    }
                }
                Some(b'#') => self.skip_comment(),
                Some(_) => {
                    self.next();
                }
            }
        }
    }
}

/// A bare value: a boolean, a decimal integer (with `_` between digits), or anything else.
fn scalar(word: &str) -> Value {
    match word {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits: String = word.chars().filter(|c| *c != '_').collect();
    let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(&digits);
    let decimal = !unsigned.is_empty()
        && unsigned.bytes().all(|b| b.is_ascii_digit())
        && !word.contains("__")
        && !word.ends_with('_');
    match digits.parse::<i64>() {
        Ok(n) if decimal => Value::Integer(n),
        _ => Value::Other,
    }
}
