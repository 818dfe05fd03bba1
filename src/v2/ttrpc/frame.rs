//! ttrpc frames: a pure, incremental decoder and an encoder, with no I/O, so that both can be
//! unit-tested and fuzzed without a socket.
//!
//! A frame is a 10-byte header (payload length and stream id as big-endian `u32`, then a type
//! byte and a flags byte) followed by the payload. ttrpc refuses payloads over [`MAX_PAYLOAD`].
//!
//! The [`Decoder`] is fed straight from a non-blocking socket: read into [`Decoder::spare`],
//! report the count with [`Decoder::filled`], then take items with [`Decoder::next_item`] until
//! it returns `None`. Whatever a peer sends, memory stays bounded:
//! * the buffer never exceeds [`MAX_BUFFER`], one header and one largest payload;
//! * it grows only as bytes arrive, at most doubling what is already held, so a peer that
//!   announces 4 MiB and sends ten bytes costs one [`READ_CHUNK`], not 4 MiB;
//! * it shrinks back to about one chunk once a large frame has been handed out;
//! * an oversized frame is reported once, as soon as its header arrives, and its payload is
//!   dropped as it comes in, never stored, so that decoding resumes with the frame after it
//!   (the server answers the oversized one with ResourceExhausted, as ttrpc does, and keeps the
//!   connection).

use std::fmt;

use prost::Message;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 10;

/// Largest payload ttrpc accepts or sends (ttrpc-go's `messageLengthMax`, `4 << 20`).
pub const MAX_PAYLOAD: usize = 4 << 20;

/// Most bytes a [`Decoder`] ever holds: one header and one largest payload.
pub const MAX_BUFFER: usize = HEADER_LEN + MAX_PAYLOAD;

/// What a [`Decoder`] offers per read when no large frame is under way. Every call containerd
/// makes to a shim fits in it (Create, the largest, is a few hundred bytes), so one read takes
/// in several calls, and an idle connection keeps no more than this.
pub const READ_CHUNK: usize = 4096;

/// The type byte of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// 1: a call, whose payload is a `ttrpc.Request`.
    Request,
    /// 2: an answer, whose payload is a `ttrpc.Response`.
    Response,
    /// 3: stream data (ttrpc 1.2 streaming, which the task API does not use).
    Data,
    /// Any other type byte; a server ignores such frames for forward compatibility.
    Unknown(u8),
}

impl FrameKind {
    /// The kind a type byte names.
    pub fn from_byte(byte: u8) -> FrameKind {
        match byte {
            1 => FrameKind::Request,
            2 => FrameKind::Response,
            3 => FrameKind::Data,
            other => FrameKind::Unknown(other),
        }
    }

    /// The type byte of this kind.
    pub fn to_byte(self) -> u8 {
        match self {
            FrameKind::Request => 1,
            FrameKind::Response => 2,
            FrameKind::Data => 3,
            FrameKind::Unknown(other) => other,
        }
    }
}

/// One complete frame, borrowed from the decoder until the next call into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The stream (call) it belongs to; client calls use odd ids.
    pub stream_id: u32,
    /// Its type.
    pub kind: FrameKind,
    /// Its flags byte (0 for unary calls).
    pub flags: u8,
    /// Its payload, at most [`MAX_PAYLOAD`] bytes.
    pub payload: &'a [u8],
}

/// What the decoder hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// A complete frame.
    Frame(Frame<'a>),
    /// A frame whose announced payload exceeds [`MAX_PAYLOAD`]. Its payload is being dropped;
    /// the next item is the frame after it.
    Oversized {
        /// The stream it belongs to, for the ResourceExhausted answer.
        stream_id: u32,
        /// Its type.
        kind: FrameKind,
        /// Its flags byte.
        flags: u8,
        /// The payload length it announced.
        length: u32,
    },
}

/// An incremental frame decoder over a bounded buffer; see the module documentation.
#[derive(Default)]
pub struct Decoder {
    /// Bytes read from the peer in `start..end`; the rest is space offered to the next read.
    /// Always initialised, so that a read can go straight into it without `unsafe`.
    buffer: Vec<u8>,
    /// First byte not handed out yet.
    start: usize,
    /// End of the bytes read.
    end: usize,
    /// Payload bytes of an oversized frame still to drop as they arrive.
    discarding: u32,
}

impl Decoder {
    /// A decoder at a frame boundary. It allocates nothing until the first [`Decoder::spare`].
    pub const fn new() -> Decoder {
        Decoder {
            buffer: Vec::new(),
            start: 0,
            end: 0,
            discarding: 0,
        }
    }

    /// Space to read into, never empty once every item has been taken with
    /// [`Decoder::next_item`]. Read into it, then call [`Decoder::filled`] with the count.
    pub fn spare(&mut self) -> &mut [u8] {
        self.compact();
        let target = self.end + self.wanted();
        // Growing only once full makes every step at least double a large frame's buffer, so a
        // frame trickling in a byte per read costs a few reallocations, not one per read.
        if self.end == self.buffer.len() && target > self.end {
            // Exact, not amortised: the buffer's size is what the bounds above promise.
            self.buffer.reserve_exact(target - self.buffer.len());
            self.buffer.resize(target, 0);
        } else if self.buffer.len() >= 2 * target {
            self.buffer.truncate(target);
            self.buffer.shrink_to_fit();
        }
        &mut self.buffer[self.end..]
    }

    /// Records that the last read put `count` bytes at the start of [`Decoder::spare`]. A count
    /// beyond the space offered is clamped to it.
    pub fn filled(&mut self, count: usize) {
        self.end = self.end.saturating_add(count).min(self.buffer.len());
    }

    /// The next complete item, or `None` until more bytes arrive. A frame borrows the decoder's
    /// buffer, so handle it before asking for the next one.
    pub fn next_item(&mut self) -> Option<Item<'_>> {
        if self.discarding > 0 {
            let dropped = self
                .discarding
                .min(u32::try_from(self.held()).unwrap_or(u32::MAX));
            self.discarding -= dropped;
            self.start += dropped as usize;
            if self.discarding > 0 {
                return None;
            }
        }
        let header = Header::parse(self.buffer.get(self.start..self.end)?)?;
        if header.length as usize > MAX_PAYLOAD {
            self.start += HEADER_LEN;
            self.discarding = header.length;
            return Some(Item::Oversized {
                stream_id: header.stream_id,
                kind: header.kind,
                flags: header.flags,
                length: header.length,
            });
        }
        let payload_start = self.start + HEADER_LEN;
        let payload_end = payload_start + header.length as usize;
        if payload_end > self.end {
            return None;
        }
        self.start = payload_end;
        Some(Item::Frame(Frame {
            stream_id: header.stream_id,
            kind: header.kind,
            flags: header.flags,
            payload: &self.buffer[payload_start..payload_end],
        }))
    }

    /// Bytes read and not yet handed out: a partial frame, or items not taken yet.
    pub fn held(&self) -> usize {
        self.end - self.start
    }

    /// Whether the next [`Decoder::spare`] would grow the buffer past one [`READ_CHUNK`]: a
    /// frame larger than that is under way and fills what is allocated.
    pub fn would_grow_past_chunk(&self) -> bool {
        let held = self.held();
        held == self.buffer.len() && held + self.wanted() > READ_CHUNK
    }

    /// Bytes the decoder has allocated; never more than [`MAX_BUFFER`].
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
    }

    /// Frees the buffer when it holds no byte of an unfinished frame. containerd keeps one
    /// connection per task open and idle, so a buffer kept between calls would cost a page per
    /// container; reading the next call allocates one again.
    pub fn release_if_empty(&mut self) {
        if self.held() == 0 {
            self.buffer = Vec::new();
            self.start = 0;
            self.end = 0;
        }
    }

    /// Moves the bytes not handed out to the front, so that the space after them is free.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }

    /// How much space to want after the bytes held: one chunk, or, for a frame larger than
    /// that, as much again as is already held (never more than the frame still lacks), and
    /// never so much that the buffer would pass [`MAX_BUFFER`].
    fn wanted(&self) -> usize {
        let held = self.held();
        let missing = match self
            .buffer
            .get(self.start..self.end)
            .and_then(Header::parse)
        {
            Some(header) if self.discarding == 0 && header.length as usize <= MAX_PAYLOAD => {
                (HEADER_LEN + header.length as usize).saturating_sub(held)
            }
            _ => 0,
        };
        READ_CHUNK
            .max(missing.min(held))
            .min(MAX_BUFFER.saturating_sub(self.end))
    }
}

impl fmt::Debug for Decoder {
    // The buffer can be megabytes: show its shape, not its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("held", &self.held())
            .field("capacity", &self.capacity())
            .field("discarding", &self.discarding)
            .finish()
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    length: u32,
    stream_id: u32,
    kind: FrameKind,
    flags: u8,
}

impl Header {
    /// The header at the start of `bytes`, or `None` if fewer than [`HEADER_LEN`] bytes are there.
    fn parse(bytes: &[u8]) -> Option<Header> {
        let &[l0, l1, l2, l3, s0, s1, s2, s3, kind, flags, ..] = bytes else {
            return None;
        };
        Some(Header {
            length: u32::from_be_bytes([l0, l1, l2, l3]),
            stream_id: u32::from_be_bytes([s0, s1, s2, s3]),
            kind: FrameKind::from_byte(kind),
            flags,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(&self.stream_id.to_be_bytes());
        out.push(self.kind.to_byte());
        out.push(self.flags);
    }
}

/// A payload the encoder refused because ttrpc peers drop frames over [`MAX_PAYLOAD`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTooLarge {
    /// The payload's length.
    pub length: usize,
}

impl fmt::Display for PayloadTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a payload of {} bytes exceeds ttrpc's limit of {MAX_PAYLOAD}",
            self.length
        )
    }
}

impl std::error::Error for PayloadTooLarge {}

/// Appends one frame carrying `payload` to `out`.
pub fn encode(
    stream_id: u32,
    kind: FrameKind,
    flags: u8,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), PayloadTooLarge> {
    write_header(stream_id, kind, flags, payload.len(), out)?;
    out.extend_from_slice(payload);
    Ok(())
}

/// Reserves room for a frame of `length` payload bytes and writes its header.
fn write_header(
    stream_id: u32,
    kind: FrameKind,
    flags: u8,
    length: usize,
    out: &mut Vec<u8>,
) -> Result<(), PayloadTooLarge> {
    let checked = checked_length(length)?;
    out.reserve(HEADER_LEN + length);
    Header {
        length: checked,
        stream_id,
        kind,
        flags,
    }
    .write(out);
    Ok(())
}

/// Appends one frame whose payload is `message`, encoded in place.
pub fn encode_message<M: Message>(
    stream_id: u32,
    kind: FrameKind,
    flags: u8,
    message: &M,
    out: &mut Vec<u8>,
) -> Result<(), PayloadTooLarge> {
    let encoded_len = message.encoded_len();
    let frame_start = out.len();
    write_header(stream_id, kind, flags, encoded_len, out)?;
    // A Vec grows as needed, so this fails only if the frame cannot fit in memory at all.
    if message.encode(out).is_err() {
        out.truncate(frame_start);
        return Err(PayloadTooLarge {
            length: encoded_len,
        });
    }
    Ok(())
}

fn checked_length(length: usize) -> Result<u32, PayloadTooLarge> {
    if length > MAX_PAYLOAD {
        return Err(PayloadTooLarge { length });
    }
    u32::try_from(length).map_err(|_| PayloadTooLarge { length })
}

#[cfg(test)]
mod tests;
