//! Unit tests of [`super`].

use super::*;
use crate::v2::proto::task::{Empty, StartResponse, StateResponse};
use crate::v2::ttrpc::frame::{Decoder, Item};

fn error<T: fmt::Debug>(result: Result<T, CallError>) -> (Code, String) {
    let error = result.expect_err("a call that must fail");
    (error.code(), error.message().to_owned())
}

/// The Response inside the single frame in `out`, with that frame's stream id.
fn response(out: &[u8]) -> (u32, Vec<u8>, Response) {
    let mut decoder = Decoder::new();
    let spare = decoder.spare();
    spare[..out.len()].copy_from_slice(out);
    decoder.filled(out.len());
    let Some(Item::Frame(frame)) = decoder.next_item() else {
        panic!("no frame in {out:?}");
    };
    assert_eq!(frame.kind, FrameKind::Response);
    let decoded = Response::decode(frame.payload).expect("a Response");
    let result = (frame.stream_id, frame.payload.to_vec(), decoded);
    assert!(decoder.next_item().is_none(), "more than one frame");
    result
}

#[test]
fn an_even_stream_id_is_refused_before_the_request_is_read() {
    for stream_id in [0, 2, u32::MAX - 1] {
        assert_eq!(
            error(decode_call(stream_id, b"\xff not a request")),
            (
                Code::InvalidArgument,
                "StreamID must be odd for client initiated streams".to_owned()
            )
        );
    }
}

#[test]
fn a_payload_that_is_not_a_request_is_an_invalid_argument() {
    // A length-delimited field 1 announcing more bytes than follow, then a service name that
    // is not UTF-8.
    for garbage in [&b"\x0a\x05ab"[..], b"\x0a\x02\xff\xfe"] {
        let (code, message) = error(decode_call(1, garbage));
        assert_eq!(code, Code::InvalidArgument);
        assert!(
            message.starts_with("unmarshal request error: "),
            "{message}"
        );
    }
}

#[test]
fn an_empty_ok_reply_is_a_frame_with_no_payload() {
    let mut out = Vec::new();
    encode_reply(9, &Empty {}, &mut out).expect("a small reply");
    assert_eq!(out, [0, 0, 0, 0, 0, 0, 0, 9, 2, 0]);
}

#[test]
fn an_ok_reply_carries_the_message_and_no_status() {
    let reply = StartResponse { pid: 4242 };
    let mut out = Vec::new();
    encode_reply(11, &reply, &mut out).expect("a small reply");
    let (stream_id, _, response) = response(&out);
    assert_eq!(stream_id, 11);
    assert_eq!(response.status, None);
    assert_eq!(
        StartResponse::decode(response.payload.as_slice()),
        Ok(reply)
    );
}

#[test]
fn a_reply_too_large_for_a_frame_is_refused_with_ttrpcs_resource_exhausted() {
    let reply = StateResponse {
        bundle: "b".repeat(MAX_PAYLOAD),
        ..Default::default()
    };
    let mut out = Vec::new();
    let refused = encode_reply(13, &reply, &mut out).expect_err("an oversized reply");
    // The Response wraps the 4 MiB + 5 bytes of StateResponse in 5 more bytes.
    let length = MAX_PAYLOAD + 10;
    assert_eq!(refused, CallError::oversized(length));
    assert_eq!(
        refused.message(),
        format!("message length {length} exceed maximum message size of 4194304")
    );
    assert!(out.is_empty());
}

#[test]
fn an_error_answer_carries_the_code_and_message_in_the_status() {
    let mut out = Vec::new();
    encode_error(
        15,
        &CallError::new(Code::NotFound, "task c1 not found"),
        &mut out,
    );
    let (stream_id, _, response) = response(&out);
    assert_eq!(stream_id, 15);
    assert_eq!(
        response.status,
        Some(Status::new(Code::NotFound, "task c1 not found"))
    );
    assert!(response.payload.is_empty());
}

#[test]
fn a_request_keeps_its_service_method_and_payload_for_the_service_to_read() {
    let wire = Request::new("any.Service", "Method", &StartResponse { pid: 3 });
    assert_eq!(
        decode_call(1, &wire.encode_to_vec()),
        Ok(Call {
            service: "any.Service".into(),
            method: "Method".into(),
            payload: StartResponse { pid: 3 }.encode_to_vec(),
        })
    );
    // Field 1 announced as a varint with no varint after it.
    let (code, message) = error(decode_payload::<StartResponse>(b"\x08"));
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("ttrpc: error unmarshalling payload: "),
        "{message}"
    );
}

#[test]
fn an_echoed_huge_name_is_cut_to_the_message_limit_on_a_character_boundary() {
    // Two-byte characters, so that the limit falls inside one when the prefix is odd.
    let service = format!("x{}", "é".repeat(100_000));
    let error = CallError::unknown_service(&service);
    assert_eq!(error.code(), Code::Unimplemented);
    assert_eq!(error.message().len(), MAX_ERROR_MESSAGE - 1);
    assert!(error.message().starts_with("service xé"));
    let mut out = Vec::new();
    encode_error(17, &error, &mut out);
    assert!(out.len() < MAX_ERROR_MESSAGE + 64);
}
