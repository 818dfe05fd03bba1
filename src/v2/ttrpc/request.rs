//! Task service calls: decoding a Request frame's payload into a typed [`Call`], and encoding
//! the answer, with the gRPC codes and texts of ttrpc-go's server (v1.1.1 in containerd 1.6,
//! v1.2.x in 1.7 and 2.x), since containerd reacts to the codes.
//!
//! [`decode_call`] checks, in the order of ttrpc-go 1.2 (1.1 decodes the Request before
//! checking the stream id; the codes are the same):
//!
//! | what is wrong | code | message |
//! |---|---|---|
//! | even (server-initiated) stream id | 3 InvalidArgument | `StreamID must be odd for client initiated streams` |
//! | the payload is not a `ttrpc.Request` | 3 InvalidArgument | `unmarshal request error: <why>` |
//! | not one of [`TASK_SERVICE_V2`], [`TASK_SERVICE_V3`] | 12 Unimplemented | `service <name>` |
//! | not one of the 17 task methods | 12 Unimplemented | `method <name>` |
//! | the request does not decode as that method's message | 3 InvalidArgument | `ttrpc: error unmarshalling payload: <why>` |
//!
//! and the connection answers an oversized frame with [`CallError::oversized`] (8
//! ResourceExhausted). `<why>` is prost's description, not Go's. A message is cut to
//! [`MAX_ERROR_MESSAGE`] bytes, so a peer cannot make an answer that echoes its own huge
//! service name exceed the frame limit.
//!
//! How a connection uses this with the frame decoder (`socket` stands for the non-blocking unix
//! stream; there, `WouldBlock` ends the read loop until the next readiness):
//!
//! ```
//! use std::io::Read;
//! use tinyshim::v2::ttrpc::frame::{Decoder, FrameKind, Item};
//! use tinyshim::v2::ttrpc::request::{decode_call, encode_error, CallError};
//!
//! // A Request frame with an empty payload on stream 1: a call that names no service.
//! let mut socket: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 1, 1, 0];
//! let mut decoder = Decoder::new();
//! let mut answers = Vec::new();
//! loop {
//!     let Ok(count) = socket.read(decoder.spare()) else {
//!         break; // on a real socket: WouldBlock, or a failed read that closes it
//!     };
//!     if count == 0 {
//!         break; // the peer closed the connection
//!     }
//!     decoder.filled(count);
//!     while let Some(item) = decoder.next_item() {
//!         match item {
//!             Item::Frame(frame) if frame.kind == FrameKind::Request => {
//!                 match decode_call(frame.stream_id, frame.payload) {
//!                     Ok(_call) => { /* serve _call.request, answer with encode_reply */ }
//!                     Err(error) => encode_error(frame.stream_id, &error, &mut answers),
//!                 }
//!             }
//!             Item::Frame(_) => {} // a server ignores every other kind
//!             Item::Oversized { stream_id, length, .. } => {
//!                 encode_error(stream_id, &CallError::oversized(length as usize), &mut answers)
//!             }
//!         }
//!     }
//! }
//! // The answer: 12 Unimplemented, "service ".
//! assert_eq!(answers[..10], [0, 0, 0, 14, 0, 0, 0, 1, 2, 0]);
//! ```

use std::fmt;
use std::time::Duration;

use prost::Message;

use super::frame::{self, FrameKind, MAX_PAYLOAD};
use crate::v2::proto::task::{
    CheckpointTaskRequest, CloseIoRequest, ConnectRequest, CreateTaskRequest, DeleteRequest,
    ExecProcessRequest, KillRequest, PauseRequest, PidsRequest, ResizePtyRequest, ResumeRequest,
    ShutdownRequest, StartRequest, StateRequest, StatsRequest, UpdateTaskRequest, WaitRequest,
};
use crate::v2::proto::ttrpc::{Code, KeyValue, Request, Response, Status};

/// The task service as containerd 1.6 and 1.7 call it (and 2.x, unless `start` printed
/// bootstrap JSON version 3).
pub const TASK_SERVICE_V2: &str = "containerd.task.v2.Task";

/// The task service as containerd 2.x calls it after bootstrap JSON version 3: the same
/// methods and messages as [`TASK_SERVICE_V2`].
pub const TASK_SERVICE_V3: &str = "containerd.task.v3.Task";

/// Longest error message sent, in bytes; longer ones are cut at a character boundary.
pub const MAX_ERROR_MESSAGE: usize = 1024;

/// A decoded call of the task service.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The method and its request.
    pub request: TaskRequest,
    /// How long the caller waits for the answer (`timeout_nano`), if it said.
    pub timeout: Option<Duration>,
    /// The call's metadata, such as `containerd-namespace-ttrpc`.
    pub metadata: Vec<KeyValue>,
}

/// One variant per method of the task service, holding its decoded request.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskRequest {
    /// `State`, answered with a `StateResponse`.
    State(StateRequest),
    /// `Create`, answered with a `CreateTaskResponse`.
    Create(CreateTaskRequest),
    /// `Start`, answered with a `StartResponse`.
    Start(StartRequest),
    /// `Delete`, answered with a `DeleteResponse`.
    Delete(DeleteRequest),
    /// `Pids`, answered with a `PidsResponse`.
    Pids(PidsRequest),
    /// `Pause`, answered with `Empty`.
    Pause(PauseRequest),
    /// `Resume`, answered with `Empty`.
    Resume(ResumeRequest),
    /// `Checkpoint`, answered with `Empty`.
    Checkpoint(CheckpointTaskRequest),
    /// `Kill`, answered with `Empty`.
    Kill(KillRequest),
    /// `Exec`, answered with `Empty`.
    Exec(ExecProcessRequest),
    /// `ResizePty`, answered with `Empty`.
    ResizePty(ResizePtyRequest),
    /// `CloseIO`, answered with `Empty`.
    CloseIo(CloseIoRequest),
    /// `Update`, answered with `Empty`.
    Update(UpdateTaskRequest),
    /// `Wait`, answered with a `WaitResponse` once the process has exited.
    Wait(WaitRequest),
    /// `Stats`, answered with a `StatsResponse`.
    Stats(StatsRequest),
    /// `Connect`, answered with a `ConnectResponse`.
    Connect(ConnectRequest),
    /// `Shutdown`, answered with `Empty`.
    Shutdown(ShutdownRequest),
}

impl TaskRequest {
    /// The method's name on the wire, e.g. `CloseIO`.
    pub fn method(&self) -> &'static str {
        match self {
            TaskRequest::State(_) => "State",
            TaskRequest::Create(_) => "Create",
            TaskRequest::Start(_) => "Start",
            TaskRequest::Delete(_) => "Delete",
            TaskRequest::Pids(_) => "Pids",
            TaskRequest::Pause(_) => "Pause",
            TaskRequest::Resume(_) => "Resume",
            TaskRequest::Checkpoint(_) => "Checkpoint",
            TaskRequest::Kill(_) => "Kill",
            TaskRequest::Exec(_) => "Exec",
            TaskRequest::ResizePty(_) => "ResizePty",
            TaskRequest::CloseIo(_) => "CloseIO",
            TaskRequest::Update(_) => "Update",
            TaskRequest::Wait(_) => "Wait",
            TaskRequest::Stats(_) => "Stats",
            TaskRequest::Connect(_) => "Connect",
            TaskRequest::Shutdown(_) => "Shutdown",
        }
    }

    /// Decodes `payload` as the request of `method`.
    fn decode(method: &str, payload: &[u8]) -> Result<TaskRequest, CallError> {
        fn decoded<M: Message + Default>(
            payload: &[u8],
            variant: fn(M) -> TaskRequest,
        ) -> Result<TaskRequest, CallError> {
            M::decode(payload).map(variant).map_err(|error| {
                // ttrpc-go answers 13 Internal here; the fault is the caller's argument, which
                // is what 3 says, and containerd treats both as a failed call.
                CallError::new(
                    Code::InvalidArgument,
                    format!("ttrpc: error unmarshalling payload: {error}"),
                )
            })
        }
        match method {
            "State" => decoded(payload, TaskRequest::State),
            "Create" => decoded(payload, TaskRequest::Create),
            "Start" => decoded(payload, TaskRequest::Start),
            "Delete" => decoded(payload, TaskRequest::Delete),
            "Pids" => decoded(payload, TaskRequest::Pids),
            "Pause" => decoded(payload, TaskRequest::Pause),
            "Resume" => decoded(payload, TaskRequest::Resume),
            "Checkpoint" => decoded(payload, TaskRequest::Checkpoint),
            "Kill" => decoded(payload, TaskRequest::Kill),
            "Exec" => decoded(payload, TaskRequest::Exec),
            "ResizePty" => decoded(payload, TaskRequest::ResizePty),
            "CloseIO" => decoded(payload, TaskRequest::CloseIo),
            "Update" => decoded(payload, TaskRequest::Update),
            "Wait" => decoded(payload, TaskRequest::Wait),
            "Stats" => decoded(payload, TaskRequest::Stats),
            "Connect" => decoded(payload, TaskRequest::Connect),
            "Shutdown" => decoded(payload, TaskRequest::Shutdown),
            _ => Err(CallError::new(
                Code::Unimplemented,
                format!("method {method}"),
            )),
        }
    }
}

/// Decodes the payload of a Request frame on stream `stream_id` into a task service call, or
/// says, as ttrpc-go would, why not (see the module documentation).
pub fn decode_call(stream_id: u32, payload: &[u8]) -> Result<Call, CallError> {
    if stream_id % 2 == 0 {
        return Err(CallError::new(
            Code::InvalidArgument,
            "StreamID must be odd for client initiated streams",
        ));
    }
    let request = Request::decode(payload).map_err(|error| {
        CallError::new(
            Code::InvalidArgument,
            format!("unmarshal request error: {error}"),
        )
    })?;
    if request.service != TASK_SERVICE_V2 && request.service != TASK_SERVICE_V3 {
        return Err(CallError::new(
            Code::Unimplemented,
            format!("service {}", request.service),
        ));
    }
    Ok(Call {
        request: TaskRequest::decode(&request.method, &request.payload)?,
        // ttrpc-go sets a deadline only for a positive timeout.
        timeout: u64::try_from(request.timeout_nano)
            .ok()
            .filter(|&nanos| nanos > 0)
            .map(Duration::from_nanos),
        metadata: request.metadata,
    })
}

/// Appends the OK answer `reply` on stream `stream_id` to `out`. An empty reply (`Empty`)
/// makes a frame of zero payload bytes, as Go sends.
///
/// A reply too large for a frame writes nothing and gives the ResourceExhausted error to send
/// instead with [`encode_error`] (ttrpc-go 1.2 refuses to send it too, then drops the
/// connection, which would fail every other call on it).
pub fn encode_reply<M: Message>(
    stream_id: u32,
    reply: &M,
    out: &mut Vec<u8>,
) -> Result<(), CallError> {
    let response = Response {
        status: None,
        payload: reply.encode_to_vec(),
    };
    frame::encode_message(stream_id, FrameKind::Response, 0, &response, out)
        .map_err(|too_large| CallError::oversized(too_large.length))
}

/// Appends the failed answer `error` on stream `stream_id` to `out`.
pub fn encode_error(stream_id: u32, error: &CallError, out: &mut Vec<u8>) {
    let response = Response {
        status: Some(error.to_status()),
        payload: Vec::new(),
    };
    // The message is at most MAX_ERROR_MESSAGE bytes, so the frame is far below the limit and
    // the encoder cannot refuse it.
    let _ = frame::encode_message(stream_id, FrameKind::Response, 0, &response, out);
}

/// A failed call: the gRPC code and message to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    code: Code,
    message: String,
}

impl CallError {
    /// An error with `code` and `message`, cut to [`MAX_ERROR_MESSAGE`] bytes.
    pub fn new(code: Code, message: impl Into<String>) -> CallError {
        let mut message = message.into();
        if message.len() > MAX_ERROR_MESSAGE {
            let mut cut = MAX_ERROR_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        CallError { code, message }
    }

    /// What ttrpc-go answers to a frame whose payload of `length` bytes exceeds the limit, word
    /// for word.
    pub fn oversized(length: usize) -> CallError {
        CallError::new(
            Code::ResourceExhausted,
            format!("message length {length} exceed maximum message size of {MAX_PAYLOAD}"),
        )
    }

    /// The gRPC code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `google.rpc.Status` that carries it.
    pub fn to_status(&self) -> Status {
        Status::new(self.code, self.message.clone())
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.code)
    }
}

impl std::error::Error for CallError {}

#[cfg(test)]
mod tests;
