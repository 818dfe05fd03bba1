//! Unit tests of [`super`].

use prost::Message;

use super::*;
use crate::v2::proto::task::Empty;
use crate::v2::proto::ttrpc::{Code, Request};
use crate::v2::ttrpc::call::decode_call;

fn call(service: &str, method: &str, message: &impl Message) -> Call {
    let payload = Request::new(service, method, message).encode_to_vec();
    decode_call(1, &payload).expect("a well-formed call")
}

fn error(result: Option<Result<TaskRequest, CallError>>) -> (Code, String) {
    let error = result
        .expect("a task call")
        .expect_err("a call that must fail");
    (error.code(), error.message().to_owned())
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
        let message = request.encode_payload();
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
                .ok()
                .as_ref()
                .and_then(TaskRequest::of)
                .unwrap_or_else(|| panic!("{service} {method}: not a task call"))
                .unwrap_or_else(|e| panic!("{service} {method}: {e}"));
            assert_eq!(decoded, request, "{service} {method}");
        }
    }
}

#[test]
fn a_call_of_another_service_is_not_the_task_services_whatever_the_method() {
    for service in ["containerd.task.v1.Task", "", "containerd.task.v2.Task "] {
        let call = call(service, "State", &Empty {});
        assert_eq!(TaskRequest::of(&call), None, "{service:?}");
    }
}

#[test]
fn an_unknown_method_is_unimplemented_before_its_payload_is_read() {
    let not_a_message = Request {
        payload: b"\xff\xff".to_vec(),
        ..Request::new(TASK_SERVICE_V2, "Frobnicate", &Empty {})
    };
    let frobnicate = decode_call(1, &not_a_message.encode_to_vec()).expect("a call");
    assert_eq!(
        error(TaskRequest::of(&frobnicate)),
        (Code::Unimplemented, "method Frobnicate".to_owned())
    );
    // Names are matched exactly, as Go's map lookup does.
    assert_eq!(
        error(TaskRequest::of(&call(TASK_SERVICE_V3, "state", &Empty {}))),
        (Code::Unimplemented, "method state".to_owned())
    );
    assert_eq!(
        error(TaskRequest::of(&call(
            TASK_SERVICE_V2,
            "CloseIo",
            &Empty {}
        ))),
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
    let call = decode_call(1, &wrong_type.encode_to_vec()).expect("a call");
    let (code, message) = error(TaskRequest::of(&call));
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        message.starts_with("ttrpc: error unmarshalling payload: "),
        "{message}"
    );
}
