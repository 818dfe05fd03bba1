//! Just enough protobuf wire format to speak ttrpc to a shim by hand: varints and length-delimited
//! fields to build messages, and a field splitter to read them back.
//!
//! It is written from the encoding rules alone (developers.google.com/protocol-buffers/docs/encoding)
//! and shares nothing with the shim's own `prost` messages, so that a test built on it checks the
//! shim's bytes against an independent reading of the format.

use std::fmt;

/// Wire type of varint fields (`int32`, `int64`, `uint32`, `uint64`, `bool`, enums).
pub const VARINT: u8 = 0;
/// Wire type of 8-byte little-endian fields (`fixed64`, `double`).
pub const FIXED64: u8 = 1;
/// Wire type of length-delimited fields (`string`, `bytes`, messages, packed repeats).
pub const LENGTH_DELIMITED: u8 = 2;
/// Wire type of 4-byte little-endian fields (`fixed32`, `float`).
pub const FIXED32: u8 = 5;

/// The longest varint: ten 7-bit groups hold 64 bits.
const MAX_VARINT_LEN: usize = 10;

/// Appends `value` as a base-128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Builds a message field by field, in the order given.
///
/// The typed setters leave out proto3 default values (empty strings, zero numbers, `false`), as
/// every real encoder does; [`MessageWriter::raw_field`] writes anything, for malformed input.
#[derive(Debug, Default, Clone)]
pub struct MessageWriter {
    bytes: Vec<u8>,
}

impl MessageWriter {
    /// An empty message.
    pub fn new() -> MessageWriter {
        MessageWriter::default()
    }

    fn tag(&mut self, field: u32, wire_type: u8) {
        put_varint(
            &mut self.bytes,
            (u64::from(field) << 3) | u64::from(wire_type),
        );
    }

    /// A varint field (`uint32`, `uint64`, enums), left out when zero.
    pub fn uint(mut self, field: u32, value: u64) -> MessageWriter {
        if value != 0 {
            self.tag(field, VARINT);
            put_varint(&mut self.bytes, value);
        }
        self
    }

    /// A signed varint field (`int32`, `int64`: negative numbers take ten bytes), left out when
    /// zero.
    pub fn int(self, field: u32, value: i64) -> MessageWriter {
        self.uint(field, value as u64)
    }

    /// A `bool` field, left out when false.
    pub fn bool(self, field: u32, value: bool) -> MessageWriter {
        self.uint(field, u64::from(value))
    }

    /// A `string` field, left out when empty.
    pub fn string(self, field: u32, value: &str) -> MessageWriter {
        self.bytes(field, value.as_bytes())
    }

    /// A `bytes` (or embedded message) field, left out when empty.
    pub fn bytes(mut self, field: u32, value: &[u8]) -> MessageWriter {
        if !value.is_empty() {
            self.length_delimited(field, value);
        }
        self
    }

    /// An embedded message field, written even when the message is empty (a present but empty
    /// message differs from an absent one).
    pub fn message(mut self, field: u32, value: &[u8]) -> MessageWriter {
        self.length_delimited(field, value);
        self
    }

    fn length_delimited(&mut self, field: u32, value: &[u8]) {
        self.tag(field, LENGTH_DELIMITED);
        put_varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(value);
    }

    /// Arbitrary bytes appended as they are: a hand-made tag, a lying length, a cut-off field.
    pub fn raw_field(mut self, bytes: &[u8]) -> MessageWriter {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// The encoded message.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Why bytes did not split into fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended inside a tag, a varint, a length or a field's value.
    Truncated {
        /// The offset where the cut-off item began.
        at: usize,
    },
    /// A varint ran past ten bytes.
    VarintTooLong {
        /// The offset where it began.
        at: usize,
    },
    /// A wire type this decoder does not read (3 and 4 are the deprecated groups; 6 and 7 do
    /// not exist).
    WireType {
        /// The field number of the tag.
        field: u64,
        /// The wire type.
        wire_type: u8,
        /// The offset of the tag.
        at: usize,
    },
    /// Field number 0, which no message may use.
    FieldZero {
        /// The offset of the tag.
        at: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { at } => write!(f, "input cut off in the item at offset {at}"),
            DecodeError::VarintTooLong { at } => {
                write!(f, "varint at offset {at} is longer than ten bytes")
            }
            DecodeError::WireType {
                field,
                wire_type,
                at,
            } => write!(
                f,
                "field {field} at offset {at} has unsupported wire type {wire_type}"
            ),
            DecodeError::FieldZero { at } => write!(f, "field number 0 at offset {at}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// One field's value as the wire carries it; the schema says what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: the bytes of a string, a `bytes` field or an embedded message.
    LengthDelimited(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// A message split into its fields, in wire order, repeats kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    fields: Vec<(u32, FieldValue<'a>)>,
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let start = *pos;
    let mut value = 0u64;
    for index in 0..MAX_VARINT_LEN {
        let Some(&byte) = bytes.get(start + index) else {
            return Err(DecodeError::Truncated { at: start });
        };
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            *pos = start + index + 1;
            return Ok(value);
        }
    }
    Err(DecodeError::VarintTooLong { at: start })
}

fn take<'a>(bytes: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], DecodeError> {
    let start = *pos;
    let end = start
        .checked_add(len)
        .filter(|&end| end <= bytes.len())
        .ok_or(DecodeError::Truncated { at: start })?;
    *pos = end;
    Ok(&bytes[start..end])
}

impl<'a> Fields<'a> {
    /// Splits `bytes` into fields, failing on anything malformed.
    pub fn decode(bytes: &'a [u8]) -> Result<Fields<'a>, DecodeError> {
        let mut fields = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let at = pos;
            let tag = read_varint(bytes, &mut pos)?;
            let wire_type = (tag & 7) as u8;
            let number = tag >> 3;
            if number == 0 {
                return Err(DecodeError::FieldZero { at });
            }
            let field = u32::try_from(number).map_err(|_| DecodeError::WireType {
                field: number,
                wire_type,
                at,
            })?;
            let value = match wire_type {
                VARINT => FieldValue::Varint(read_varint(bytes, &mut pos)?),
                FIXED64 => {
                    let raw = take(bytes, &mut pos, 8)?;
                    let mut word = [0u8; 8];
                    word.copy_from_slice(raw);
                    FieldValue::Fixed64(u64::from_le_bytes(word))
                }
                LENGTH_DELIMITED => {
                    let len_at = pos;
                    let len = read_varint(bytes, &mut pos)?;
                    let len =
                        usize::try_from(len).map_err(|_| DecodeError::Truncated { at: len_at })?;
                    FieldValue::LengthDelimited(take(bytes, &mut pos, len)?)
                }
                FIXED32 => {
                    let raw = take(bytes, &mut pos, 4)?;
                    let mut word = [0u8; 4];
                    word.copy_from_slice(raw);
                    FieldValue::Fixed32(u32::from_le_bytes(word))
                }
                _ => {
                    return Err(DecodeError::WireType {
                        field: number,
                        wire_type,
                        at,
                    })
                }
            };
            fields.push((field, value));
        }
        Ok(Fields { fields })
    }

    /// Every field in wire order.
    pub fn all(&self) -> &[(u32, FieldValue<'a>)] {
        &self.fields
    }

    /// The last occurrence of `field` (protobuf's rule for a repeated scalar field).
    pub fn get(&self, field: u32) -> Option<FieldValue<'a>> {
        self.fields
            .iter()
            .rev()
            .find(|(number, _)| *number == field)
            .map(|(_, value)| *value)
    }

    /// A varint field; `None` when absent or of another wire type.
    pub fn uint(&self, field: u32) -> Option<u64> {
        match self.get(field)? {
            FieldValue::Varint(value) => Some(value),
            _ => None,
        }
    }

    /// A length-delimited field's bytes; `None` when absent or of another wire type.
    pub fn bytes(&self, field: u32) -> Option<&'a [u8]> {
        match self.get(field)? {
            FieldValue::LengthDelimited(value) => Some(value),
            _ => None,
        }
    }

    /// A string field, lossily decoded; `None` when absent or of another wire type.
    pub fn string(&self, field: u32) -> Option<String> {
        self.bytes(field)
            .map(|value| String::from_utf8_lossy(value).into_owned())
    }

    /// Every occurrence of a length-delimited `field` (a repeated message or string).
    pub fn repeated_bytes(&self, field: u32) -> Vec<&'a [u8]> {
        self.fields
            .iter()
            .filter_map(|(number, value)| match value {
                FieldValue::LengthDelimited(bytes) if *number == field => Some(*bytes),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
