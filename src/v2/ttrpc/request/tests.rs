//! Unit tests of [`super`].

use super::*;
use crate::v2::proto::task::{Empty, StartResponse, StateResponse};
use crate::v2::ttrpc::frame::{Decoder, Item};

fn payload(service: &str, method: &str, message: &impl Message) -> Vec<u8> {
    Request::new(service, method, message).encode_to_vec()
}

fn call(service: &str, method: &str, message: &impl Message) -> Result<Call, CallError> {
    decode_call(1, &payload(service, method, message))
}

fn error(result: Result<Call, CallError>) -> (Code, String) {
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

fn id(id: &str) -> String {
    id.to_owned()
}

#[test]
fn every_task_method_name_decodes_to_its_variant_under_both_service_names() {
    let requests = [
        (
            "State",
            TaskRequest::State(StateRequest {
                id: id("c1"),
                exec_id: id("e1"),
            }),
        ),
        (
            "Create",
            TaskRequest::Create(CreateTaskRequest {
                id: id("c1"),
                bundle: id("/run/b"),
                terminal: true,
                ..Default::default()
            }),
        ),
        (
            "Start",
            TaskRequest::Start(StartRequest {
                id: id("c1"),
                exec_id: id("e2"),
            }),
        ),
        (
            "Delete",
            TaskRequest::Delete(DeleteRequest {
                id: id("c1"),
                exec_id: id("e3"),
            }),
        ),
        ("Pids", TaskRequest::Pids(PidsRequest { id: id("c2") })),
        ("Pause", TaskRequest::Pause(PauseRequest { id: id("c3") })),
        (
            "Resume",
            TaskRequest::Resume(ResumeRequest { id: id("c4") }),
        ),
        (
            "Checkpoint",
            TaskRequest::Checkpoint(CheckpointTaskRequest {
                id: id("c1"),
                path: id("/cp"),
                options: None,
            }),
        ),
        (
            "Kill",
            TaskRequest::Kill(KillRequest {
                id: id("c1"),
                exec_id: String::new(),
                signal: 9,
                all: true,
            }),
        ),
        (
            "Exec",
            TaskRequest::Exec(ExecProcessRequest {
                id: id("c1"),
                exec_id: id("e4"),
                stdout: id("/fifo/out"),
                ..Default::default()
            }),
        ),
        (
            "ResizePty",
            TaskRequest::ResizePty(ResizePtyRequest {
                id: id("c1"),
                exec_id: String::new(),
                width: 80,
                height: 24,
            }),
        ),
        (
            "CloseIO",
            TaskRequest::CloseIo(CloseIoRequest {
                id: id("c1"),
                exec_id: id("e5"),
                stdin: true,
            }),
        ),
        (
            "Update",
            TaskRequest::Update(UpdateTaskRequest {
                id: id("c1"),
                resources: None,
                annotations: [(id("k"), id("v"))].into(),
            }),
        ),
        (
            "Wait",
            TaskRequest::Wait(WaitRequest {
                id: id("c1"),
                exec_id: id("e6"),
            }),
        ),
        ("Stats", TaskRequest::Stats(StatsRequest { id: id("c5") })),
        (
            "Connect",
            TaskRequest::Connect(ConnectRequest { id: id("c6") }),
        ),
        (
            "Shutdown",
            TaskRequest::Shutdown(ShutdownRequest {
                id: id("c1"),
                now: true,
            }),
        ),
    ];
    for (method, request) in requests {
        let message = match &request {
            TaskRequest::State(m) => m.encode_to_vec(),
            TaskRequest::Create(m) => m.encode_to_vec(),
            TaskRequest::Start(m) => m.encode_to_vec(),
            TaskRequest::Delete(m) => m.encode_to_vec(),
            TaskRequest::Pids(m) => m.encode_to_vec(),
            TaskRequest::Pause(m) => m.encode_to_vec(),
            TaskRequest::Resume(m) => m.encode_to_vec(),
            TaskRequest::Checkpoint(m) => m.encode_to_vec(),
            TaskRequest::Kill(m) => m.encode_to_vec(),
            TaskRequest::Exec(m) => m.encode_to_vec(),
            TaskRequest::ResizePty(m) => m.encode_to_vec(),
            TaskRequest::CloseIo(m) => m.encode_to_vec(),
            TaskRequest::Update(m) => m.encode_to_vec(),
            TaskRequest::Wait(m) => m.encode_to_vec(),
            TaskRequest::Stats(m) => m.encode_to_vec(),
            TaskRequest::Connect(m) => m.encode_to_vec(),
            TaskRequest::Shutdown(m) => m.encode_to_vec(),
        };
        assert_eq!(request.method(), method);
        for service in [TASK_SERVICE_V2, TASK_SERVICE_V3] {
            let wire = Request {
                service: service.to_owned(),
                method: method.to_owned(),
                payload: message.clone(),
                timeout_nano: 0,
                metadata: Vec::new(),
            };
            let decoded = decode_call(7, &wire.encode_to_vec())
                .unwrap_or_else(|e| panic!("{service} {method}: {e}"));
            assert_eq!(decoded.request, request, "{service} {method}");
        }
    }
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
fn an_unknown_service_is_unimplemented_whatever_the_method() {
    assert_eq!(
        error(call("containerd.task.v1.Task", "Nonsense", &Empty {})),
        (
            Code::Unimplemented,
            "service containerd.task.v1.Task".to_owned()
        )
    );
    assert_eq!(
        error(call("", "State", &Empty {})),
        (Code::Unimplemented, "service ".to_owned())
    );
}

#[test]
fn an_unknown_method_is_unimplemented_before_its_payload_is_read() {
    let not_a_message = Request {
        payload: b"\xff\xff".to_vec(),
        ..Request::new(TASK_SERVICE_V2, "Frobnicate", &Empty {})
    };
    assert_eq!(
        error(decode_call(1, &not_a_message.encode_to_vec())),
        (Code::Unimplemented, "method Frobnicate".to_owned())
    );
    // Names are matched exactly, as Go's map lookup does.
    assert_eq!(
        error(call(TASK_SERVICE_V3, "state", &Empty {})),
        (Code::Unimplemented, "method state".to_owned())
    );
    assert_eq!(
        error(call(TASK_SERVICE_V2, "CloseIo", &Empty {})),
        (Code::Unimplemented, "method CloseIo".to_owned())
    );
}

#[test]
fn a_request_that_does_not_decode_as_its_method_is_an_invalid_argument() {
    // Field 1 (id) with wire type varint, where the message declares a string.
    let wrong_type = Request {
        payload: vec![0x08, 0x01],
        ..Request::new(TASK_SERVICE_V2, "State", &Empty {})
    };
    let (code, message) = error(decode_call(1, &wrong_type.encode_to_vec()));
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("ttrpc: error unmarshalling payload: "),
        "{message}"
    );
}

#[test]
fn only_a_positive_timeout_is_a_timeout_and_metadata_is_kept() {
    let with = |timeout_nano| Request {
        timeout_nano,
        metadata: vec![KeyValue {
            key: "containerd-namespace-ttrpc".into(),
            value: "default".into(),
        }],
        ..Request::new(TASK_SERVICE_V2, "Connect", &ConnectRequest { id: id("c1") })
    };
    let decoded = decode_call(5, &with(5_000_000_000).encode_to_vec()).expect("a Connect call");
    assert_eq!(decoded.timeout, Some(Duration::from_secs(5)));
    assert_eq!(decoded.metadata, with(0).metadata);
    for no_timeout in [0, -1, i64::MIN] {
        let decoded = decode_call(5, &with(no_timeout).encode_to_vec()).expect("a Connect call");
        assert_eq!(decoded.timeout, None, "timeout_nano {no_timeout}");
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
fn an_echoed_huge_name_is_cut_to_the_message_limit_on_a_character_boundary() {
    // Two-byte characters, so that the limit falls inside one when the prefix is odd.
    let service = format!("x{}", "é".repeat(100_000));
    let (code, message) = error(call(&service, "State", &Empty {}));
    assert_eq!(code, Code::Unimplemented);
    assert_eq!(message.len(), MAX_ERROR_MESSAGE - 1);
    assert!(message.starts_with("service xé"));
    let mut out = Vec::new();
    encode_error(17, &CallError::new(code, message), &mut out);
    assert!(out.len() < MAX_ERROR_MESSAGE + 64);
}
