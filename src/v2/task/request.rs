//! The task service's method table: which methods `containerd.task.v2.Task` (and its v3 name)
//! has, and the request message each takes.

use prost::Message;

use crate::v2::proto::task::{
    CheckpointTaskRequest, CloseIoRequest, ConnectRequest, CreateTaskRequest, DeleteRequest,
    ExecProcessRequest, KillRequest, PauseRequest, PidsRequest, ResizePtyRequest, ResumeRequest,
    ShutdownRequest, StartRequest, StateRequest, StatsRequest, UpdateTaskRequest, WaitRequest,
};
use crate::v2::ttrpc::call::{decode_payload, Call, CallError};

/// The task service as containerd 1.6 and 1.7 call it (and 2.x, unless `start` printed
/// bootstrap JSON version 3).
pub const TASK_SERVICE_V2: &str = "containerd.task.v2.Task";

/// The task service as containerd 2.x calls it after bootstrap JSON version 3: the same
/// methods and messages as [`TASK_SERVICE_V2`].
pub const TASK_SERVICE_V3: &str = "containerd.task.v3.Task";

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

    /// Decodes `payload` as the request of `method`, by the task service's method table.
    pub fn decode(method: &str, payload: &[u8]) -> Result<TaskRequest, CallError> {
        Ok(match method {
            "State" => TaskRequest::State(decode_payload(payload)?),
            "Create" => TaskRequest::Create(decode_payload(payload)?),
            "Start" => TaskRequest::Start(decode_payload(payload)?),
            "Delete" => TaskRequest::Delete(decode_payload(payload)?),
            "Pids" => TaskRequest::Pids(decode_payload(payload)?),
            "Pause" => TaskRequest::Pause(decode_payload(payload)?),
            "Resume" => TaskRequest::Resume(decode_payload(payload)?),
            "Checkpoint" => TaskRequest::Checkpoint(decode_payload(payload)?),
            "Kill" => TaskRequest::Kill(decode_payload(payload)?),
            "Exec" => TaskRequest::Exec(decode_payload(payload)?),
            "ResizePty" => TaskRequest::ResizePty(decode_payload(payload)?),
            "CloseIO" => TaskRequest::CloseIo(decode_payload(payload)?),
            "Update" => TaskRequest::Update(decode_payload(payload)?),
            "Wait" => TaskRequest::Wait(decode_payload(payload)?),
            "Stats" => TaskRequest::Stats(decode_payload(payload)?),
            "Connect" => TaskRequest::Connect(decode_payload(payload)?),
            "Shutdown" => TaskRequest::Shutdown(decode_payload(payload)?),
            _ => return Err(CallError::unknown_method(method)),
        })
    }

    /// The request message, encoded as [`TaskRequest::decode`] reads it (for the tests and the
    /// fuzz target, which check one against the other).
    pub fn encode_payload(&self) -> Vec<u8> {
        match self {
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
        }
    }

    /// The task call `call` makes, or `None` when it is not for the task service.
    pub fn of(call: &Call) -> Option<Result<TaskRequest, CallError>> {
        let served = call.service == TASK_SERVICE_V2 || call.service == TASK_SERVICE_V3;
        served.then(|| TaskRequest::decode(&call.method, &call.payload))
    }
}

#[cfg(test)]
mod tests;
