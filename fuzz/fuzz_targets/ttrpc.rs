//! The ttrpc frame decoder and the task call decoder on hostile bytes, read from the socket in
//! pieces the input itself chooses.
//!
//! Input layout, as for `control`: byte 0 modulo 32 is how many "cut" bytes follow; the rest is
//! the byte stream a peer writes on the shim's socket. Each cut byte is one read size (below
//! 128: that many bytes, zero included; from 128: the square of its low seven bits, up to
//! 16 129), used in turn, and never more than the decoder offers; no cut bytes means one byte
//! per read.
//!
//! Checked on every input:
//! * reading in those pieces gives exactly the items of reading as much as the decoder offers
//!   each time, and both equal a reference model that walks the stream header by header;
//! * the decoder never holds more than `MAX_BUFFER` bytes, grows only when full and then to at
//!   most twice what it holds (or one `READ_CHUNK` more), keeps under two chunks once it holds
//!   nothing, and always offers space once its items are taken;
//! * every complete Request frame goes through `decode_call`, then the task service's method
//!   table, without panicking; a refusal has one of ttrpc's three codes, the even-stream-id
//!   text exactly when the id is even, a message of at most `MAX_ERROR_MESSAGE` bytes, and an
//!   answer that decodes back as one Response frame on the same stream; an oversized frame's
//!   answer does too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyshim::v2::proto::ttrpc::Code;
use tinyshim::v2::ttrpc::frame::{
    Decoder, FrameKind, Item, HEADER_LEN, MAX_BUFFER, MAX_PAYLOAD, READ_CHUNK,
};
use tinyshim::v2::task::request::TaskRequest;
use tinyshim::v2::ttrpc::call::{decode_call, encode_error, CallError, MAX_ERROR_MESSAGE};

/// An item that owns its payload, so that items of different runs can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Frame {
        stream_id: u32,
        kind: FrameKind,
        flags: u8,
        payload: Vec<u8>,
    },
    Oversized {
        stream_id: u32,
        kind: FrameKind,
        flags: u8,
        length: u32,
    },
}

/// How many bytes one cut byte asks to read.
fn read_size(cut: u8) -> usize {
    if cut < 128 {
        usize::from(cut)
    } else {
        let root = usize::from(cut & 0x7f);
        root * root
    }
}

/// Feeds `stream` in reads of the sizes `next_size` gives (capped by the space offered),
/// taking every item after each read and checking the decoder's bounds throughout.
fn feed(stream: &[u8], mut next_size: impl FnMut(usize) -> usize) -> Vec<Owned> {
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let held = decoder.held();
        let before = decoder.capacity();
        let spare = decoder.spare();
        assert!(!spare.is_empty(), "no space offered holding {held} bytes");
        let count = next_size(spare.len()).min(spare.len()).min(rest.len());
        spare[..count].copy_from_slice(&rest[..count]);
        let capacity = decoder.capacity();
        assert!(capacity <= MAX_BUFFER, "capacity {capacity}");
        if capacity > before {
            // Only a full buffer grows, so growth is geometric, never a few bytes per read.
            assert_eq!(
                held, before,
                "grew from {before} to {capacity} holding {held}"
            );
            let most = (held + READ_CHUNK).max(2 * held);
            assert!(capacity <= most, "grew to {capacity} holding {held}");
        }
        if held == 0 {
            assert!(capacity < 2 * READ_CHUNK, "idle capacity {capacity}");
        }
        decoder.filled(count);
        rest = &rest[count..];
        while let Some(item) = decoder.next_item() {
            items.push(match item {
                Item::Frame(frame) => Owned::Frame {
                    stream_id: frame.stream_id,
                    kind: frame.kind,
                    flags: frame.flags,
                    payload: frame.payload.to_vec(),
                },
                Item::Oversized {
                    stream_id,
                    kind,
                    flags,
                    length,
                } => Owned::Oversized {
                    stream_id,
                    kind,
                    flags,
                    length,
                },
            });
        }
        // A connection releases the buffer whenever its socket runs dry; here, after every
        // odd-sized read, so that releases fall anywhere in the stream.
        if count % 2 == 1 {
            decoder.release_if_empty();
            if decoder.held() == 0 {
                assert_eq!(decoder.capacity(), 0, "released");
            }
        }
    }
    items
}

fn feed_in_reads(stream: &[u8], cuts: &[u8]) -> Vec<Owned> {
    let sizes: Vec<usize> = if cuts.is_empty() {
        vec![1]
    } else {
        cuts.iter().copied().map(read_size).collect()
    };
    // Cuts that are all zero would never consume anything: read nothing once per cut, then all.
    let progresses = sizes.iter().any(|&size| size > 0);
    let mut turn = 0;
    feed(stream, |offered| {
        let size = if progresses {
            sizes[turn % sizes.len()]
        } else if turn < sizes.len() {
            0
        } else {
            offered
        };
        turn += 1;
        size
    })
}

/// The items of `stream`, found by walking it header by header without a decoder.
fn reference(stream: &[u8]) -> Vec<Owned> {
    let mut items = Vec::new();
    let mut rest = stream;
    while let Some((header, after)) = rest.split_first_chunk::<HEADER_LEN>() {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let stream_id = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let kind = FrameKind::from_byte(header[8]);
        let flags = header[9];
        let length_usize = length as usize;
        if length_usize > MAX_PAYLOAD {
            items.push(Owned::Oversized {
                stream_id,
                kind,
                flags,
                length,
            });
            rest = &after[length_usize.min(after.len())..];
        } else if after.len() < length_usize {
            break;
        } else {
            let (payload, next) = after.split_at(length_usize);
            items.push(Owned::Frame {
                stream_id,
                kind,
                flags,
                payload: payload.to_vec(),
            });
            rest = next;
        }
    }
    items
}

/// Checks that the answer to `error` on `stream_id` is one Response frame on that stream.
fn check_answer(stream_id: u32, error: &CallError) {
    let mut out = Vec::new();
    encode_error(stream_id, error, &mut out);
    let mut decoder = Decoder::new();
    let spare = decoder.spare();
    assert!(out.len() <= spare.len(), "an answer of {} bytes", out.len());
    spare[..out.len()].copy_from_slice(&out);
    decoder.filled(out.len());
    match decoder.next_item() {
        Some(Item::Frame(frame)) => {
            assert_eq!(frame.stream_id, stream_id);
            assert_eq!(frame.kind, FrameKind::Response);
            assert_eq!(frame.payload.len(), out.len() - HEADER_LEN);
        }
        other => panic!("answer decoded as {other:?}"),
    }
    assert!(decoder.next_item().is_none());
}

fn check_call(stream_id: u32, payload: &[u8]) {
    let decoded = decode_call(stream_id, payload).and_then(|call| {
        TaskRequest::of(&call).unwrap_or_else(|| Err(CallError::unknown_service(&call.service)))
    });
    let Err(error) = decoded else {
        return;
    };
    assert!(
        matches!(error.code(), Code::InvalidArgument | Code::Unimplemented),
        "{error}"
    );
    let even_refusal = error.message() == "StreamID must be odd for client initiated streams";
    assert_eq!(even_refusal, stream_id.is_multiple_of(2), "{error}");
    assert!(error.message().len() <= MAX_ERROR_MESSAGE);
    check_answer(stream_id, &error);
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 32).min(rest.len());
    let (cuts, stream) = rest.split_at(count);
    let whole = feed(stream, |offered| offered);
    assert_eq!(whole, reference(stream));
    assert_eq!(feed_in_reads(stream, cuts), whole);
    for item in &whole {
        match item {
            Owned::Frame {
                stream_id,
                kind: FrameKind::Request,
                payload,
                ..
            } => check_call(*stream_id, payload),
            Owned::Oversized {
                stream_id, length, ..
            } => check_answer(*stream_id, &CallError::oversized(*length as usize)),
            Owned::Frame { .. } => {}
        }
    }
});
