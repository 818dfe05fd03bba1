//! Unit tests of [`super`].

use super::*;

/// An [`Item`] that owns its payload, so that items from different runs can be compared.
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
        length: u32,
    },
}

fn own(item: Item<'_>) -> Owned {
    match item {
        Item::Frame(frame) => Owned::Frame {
            stream_id: frame.stream_id,
            kind: frame.kind,
            flags: frame.flags,
            payload: frame.payload.to_vec(),
        },
        Item::Oversized {
            stream_id, length, ..
        } => Owned::Oversized { stream_id, length },
    }
}

fn request(stream_id: u32, payload: &[u8]) -> Owned {
    Owned::Frame {
        stream_id,
        kind: FrameKind::Request,
        flags: 0,
        payload: payload.to_vec(),
    }
}

fn frame_bytes(stream_id: u32, kind: FrameKind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(stream_id, kind, 0, payload, &mut out).expect("a payload within the limit");
    out
}

/// A header announcing `length` payload bytes, which need not follow.
fn header(stream_id: u32, length: u32) -> Vec<u8> {
    let mut out = length.to_be_bytes().to_vec();
    out.extend_from_slice(&stream_id.to_be_bytes());
    out.extend_from_slice(&[1, 0]);
    out
}

/// Reads `stream` into `decoder` the way a connection does, each read taking at most the next
/// of `reads` bytes (cycling) and at most what `spare` offers, and takes every item after each
/// read.
fn feed(decoder: &mut Decoder, stream: &[u8], reads: &[usize]) -> Vec<Owned> {
    let mut items = Vec::new();
    let mut rest = stream;
    let mut turn = 0;
    while !rest.is_empty() {
        let spare = decoder.spare();
        assert!(!spare.is_empty(), "no space offered with every item taken");
        let count = spare.len().min(reads[turn % reads.len()]).min(rest.len());
        turn += 1;
        spare[..count].copy_from_slice(&rest[..count]);
        decoder.filled(count);
        rest = &rest[count..];
        while let Some(item) = decoder.next_item() {
            items.push(own(item));
        }
    }
    items
}

fn decode(stream: &[u8], reads: &[usize]) -> Vec<Owned> {
    feed(&mut Decoder::new(), stream, reads)
}

#[test]
fn the_header_is_length_then_stream_id_big_endian_then_type_and_flags() {
    let mut out = Vec::new();
    encode(0x0102_0304, FrameKind::Response, 0x05, b"abc", &mut out).expect("small payload");
    assert_eq!(out, [0, 0, 0, 3, 1, 2, 3, 4, 2, 5, b'a', b'b', b'c']);
    assert_eq!(
        decode(&out, &[usize::MAX]),
        vec![Owned::Frame {
            stream_id: 0x0102_0304,
            kind: FrameKind::Response,
            flags: 5,
            payload: b"abc".to_vec(),
        }]
    );
}

#[test]
fn any_split_into_reads_gives_the_same_items() {
    let mut stream = frame_bytes(1, FrameKind::Request, b"first call");
    stream.extend(frame_bytes(3, FrameKind::Request, b""));
    stream.extend(header(5, (MAX_PAYLOAD + 1) as u32));
    stream.extend(vec![0xaa; MAX_PAYLOAD + 1]);
    stream.extend(frame_bytes(7, FrameKind::Unknown(9), &[0x55; 5000]));
    stream.extend(frame_bytes(9, FrameKind::Request, b"last call"));
    let whole = decode(&stream, &[usize::MAX]);
    assert_eq!(
        whole.first(),
        Some(&request(1, b"first call")),
        "items: {whole:?}"
    );
    assert_eq!(whole.len(), 5);
    let splits: &[&[usize]] = &[
        &[1],
        &[2],
        &[9],
        &[10],
        &[11],
        &[4095, 1],
        &[3, 7, 4096, 65536],
        &[100_000],
        &[1 << 20],
    ];
    for reads in splits {
        assert_eq!(decode(&stream, reads), whole, "reads of {reads:?}");
    }
}

#[test]
fn one_read_holding_several_frames_gives_them_all_in_order() {
    let mut stream = Vec::new();
    for id in [1, 3, 5, 7] {
        stream.extend(frame_bytes(id, FrameKind::Request, &[id as u8; 40]));
    }
    let mut decoder = Decoder::new();
    assert!(decoder.spare().len() >= stream.len());
    let items = feed(&mut decoder, &stream, &[stream.len()]);
    let ids: Vec<u32> = items
        .iter()
        .map(|item| match item {
            Owned::Frame { stream_id, .. } => *stream_id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 3, 5, 7]);
}

#[test]
fn a_zero_length_frame_is_a_frame_with_an_empty_payload() {
    // What an OK answer to an Empty-returning call looks like: the header alone.
    let stream = frame_bytes(11, FrameKind::Response, b"");
    assert_eq!(stream.len(), HEADER_LEN);
    assert_eq!(
        decode(&stream, &[usize::MAX]),
        vec![Owned::Frame {
            stream_id: 11,
            kind: FrameKind::Response,
            flags: 0,
            payload: Vec::new(),
        }]
    );
}

#[test]
fn an_oversized_frame_is_reported_once_as_its_header_arrives_and_its_payload_is_skipped() {
    let length = (MAX_PAYLOAD + 100) as u32;
    let mut decoder = Decoder::new();
    let items = feed(&mut decoder, &header(13, length), &[usize::MAX]);
    assert_eq!(
        items,
        vec![Owned::Oversized {
            stream_id: 13,
            length
        }]
    );

    // The payload, in pieces, then a good frame in the same read as its last piece.
    let mut rest = vec![0x01; length as usize];
    rest.extend(frame_bytes(15, FrameKind::Request, b"after"));
    let items = feed(&mut decoder, &rest, &[65536]);
    assert_eq!(items, vec![request(15, b"after")]);
    assert_eq!(decoder.held(), 0);
}

#[test]
fn a_frame_of_exactly_the_limit_is_decoded() {
    let payload = vec![0x42; MAX_PAYLOAD];
    let stream = frame_bytes(17, FrameKind::Request, &payload);
    assert_eq!(decode(&stream, &[1 << 18]), vec![request(17, &payload)]);
}

#[test]
fn unknown_frame_types_are_decoded_with_their_type_byte() {
    let stream = frame_bytes(19, FrameKind::Unknown(0x7f), b"x");
    assert_eq!(
        decode(&stream, &[usize::MAX]),
        vec![Owned::Frame {
            stream_id: 19,
            kind: FrameKind::Unknown(0x7f),
            flags: 0,
            payload: b"x".to_vec(),
        }]
    );
    assert_eq!(FrameKind::from_byte(3), FrameKind::Data);
}

#[test]
fn an_announced_frame_costs_only_the_bytes_that_arrived() {
    for length in [MAX_PAYLOAD as u32, u32::MAX] {
        let mut decoder = Decoder::new();
        let mut stream = header(21, length);
        stream.extend_from_slice(&[0; 10]);
        feed(&mut decoder, &stream, &[usize::MAX]);
        decoder.spare();
        assert_eq!(decoder.capacity(), READ_CHUNK, "announcing {length}");
    }
}

#[test]
fn the_buffer_grows_at_most_twice_what_it_holds_and_never_past_the_bound() {
    let stream = frame_bytes(23, FrameKind::Request, &vec![7; MAX_PAYLOAD]);
    let mut decoder = Decoder::new();
    let mut rest = stream.as_slice();
    let mut items = 0;
    while !rest.is_empty() {
        let held = decoder.held();
        let spare = decoder.spare();
        let count = spare.len().min(200_000).min(rest.len());
        spare[..count].copy_from_slice(&rest[..count]);
        let capacity = decoder.capacity();
        assert!(
            capacity <= (held + READ_CHUNK).max(2 * held),
            "capacity {capacity} holding {held}"
        );
        assert!(capacity <= MAX_BUFFER);
        decoder.filled(count);
        rest = &rest[count..];
        while decoder.next_item().is_some() {
            items += 1;
        }
    }
    assert_eq!(items, 1);
}

#[test]
fn a_frame_trickling_in_a_byte_per_read_reallocates_only_a_few_times() {
    let length = 1 << 18;
    let stream = frame_bytes(31, FrameKind::Request, &vec![3; length]);
    let mut decoder = Decoder::new();
    let mut capacity = decoder.capacity();
    let mut reallocations = 0;
    let mut items = 0;
    for &byte in &stream {
        decoder.spare()[0] = byte;
        decoder.filled(1);
        if decoder.capacity() != capacity {
            capacity = decoder.capacity();
            reallocations += 1;
        }
        while decoder.next_item().is_some() {
            items += 1;
        }
    }
    assert_eq!(items, 1);
    // One chunk, then doublings up to the frame, then a chunk past it.
    let doublings = (length / READ_CHUNK).ilog2() as usize;
    assert!(
        reallocations <= doublings + 2,
        "{reallocations} reallocations"
    );
}

#[test]
fn the_buffer_shrinks_back_to_one_chunk_after_a_large_frame() {
    let mut stream = frame_bytes(25, FrameKind::Request, &vec![1; 1 << 20]);
    // The start of the next frame, so that the decoder is not simply empty.
    stream.extend_from_slice(&header(27, 100)[..4]);
    let mut decoder = Decoder::new();
    assert_eq!(feed(&mut decoder, &stream, &[1 << 16]).len(), 1);
    decoder.spare();
    assert_eq!(decoder.held(), 4);
    assert_eq!(decoder.capacity(), READ_CHUNK + 4);
}

#[test]
fn an_idle_decoder_owns_no_buffer_and_one_holding_part_of_a_frame_keeps_it() {
    let mut decoder = Decoder::new();
    let mut stream = frame_bytes(1, FrameKind::Request, b"call");
    assert_eq!(feed(&mut decoder, &stream, &[4096]).len(), 1);
    decoder.release_if_empty();
    assert_eq!(decoder.capacity(), 0, "between calls");

    stream.truncate(HEADER_LEN + 2);
    assert!(feed(&mut decoder, &stream, &[4096]).is_empty());
    decoder.release_if_empty();
    assert_eq!(
        decoder.held(),
        HEADER_LEN + 2,
        "the unfinished frame's bytes"
    );
    let rest = b"ll";
    decoder.spare()[..2].copy_from_slice(rest);
    decoder.filled(2);
    assert_eq!(
        decoder.next_item().map(own),
        Some(request(1, b"call")),
        "the frame completed after the release"
    );
}

#[test]
fn the_encoder_refuses_a_payload_over_the_limit_and_writes_nothing() {
    let mut out = b"earlier".to_vec();
    let too_large = vec![0; MAX_PAYLOAD + 1];
    assert_eq!(
        encode(1, FrameKind::Request, 0, &too_large, &mut out),
        Err(PayloadTooLarge {
            length: MAX_PAYLOAD + 1
        })
    );
    let message = crate::v2::proto::ttrpc::Response {
        status: None,
        payload: too_large,
    };
    assert!(encode_message(1, FrameKind::Response, 0, &message, &mut out).is_err());
    assert_eq!(out, b"earlier");
}

#[test]
fn encode_message_frames_the_message_encoding() {
    let message = crate::v2::proto::ttrpc::KeyValue {
        key: "containerd-namespace-ttrpc".into(),
        value: "default".into(),
    };
    let mut out = Vec::new();
    encode_message(29, FrameKind::Request, 0, &message, &mut out).expect("small message");
    assert_eq!(
        out,
        frame_bytes(29, FrameKind::Request, &message.encode_to_vec())
    );
}
