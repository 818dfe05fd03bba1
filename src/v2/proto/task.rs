//! The requests and responses of the task service, `containerd.task.v2.Task`
//! (`runtime/v2/task/shim.proto` in containerd v1.6.20). containerd 2.x's
//! `containerd.task.v3.Task` uses the same messages with the same field numbers.
//!
//! In every request, `id` is the container id and `exec_id` the exec process's id, empty for
//! the container's init process.

use std::collections::BTreeMap;

use super::google::{Any, Timestamp};
use super::types::{Mount, ProcessInfo};

/// `google.protobuf.Empty`: the answer of Exec, ResizePty, Kill, CloseIO, Checkpoint, Update,
/// Shutdown, Pause and Resume. It encodes to zero bytes.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Empty {}

/// Create: make the container (`runc create`) and its init process, not yet started.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateTaskRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Bundle directory (holds `config.json`).
    #[prost(string, tag = "2")]
    pub bundle: String,
    /// Mounts that make the rootfs; empty when the bundle's `rootfs` is ready.
    #[prost(message, repeated, tag = "3")]
    pub rootfs: Vec<Mount>,
    /// Whether the init process gets a terminal (then `stderr` is empty).
    #[prost(bool, tag = "4")]
    pub terminal: bool,
    /// Stdin URI (a FIFO path, `file://`, `binary://`); empty when not attached.
    #[prost(string, tag = "5")]
    pub stdin: String,
    /// Stdout URI.
    #[prost(string, tag = "6")]
    pub stdout: String,
    /// Stderr URI.
    #[prost(string, tag = "7")]
    pub stderr: String,
    /// Checkpoint to restore from; empty for a fresh start.
    #[prost(string, tag = "8")]
    pub checkpoint: String,
    /// Parent checkpoint, for incremental restores.
    #[prost(string, tag = "9")]
    pub parent_checkpoint: String,
    /// Runtime options, e.g. `containerd.runc.v1.Options`.
    #[prost(message, optional, tag = "10")]
    pub options: Option<Any>,
}

/// The answer to Create.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct CreateTaskResponse {
    /// Host pid of the init process.
    #[prost(uint32, tag = "1")]
    pub pid: u32,
}

/// Start: start the init process (`runc start`) or an exec process (`runc exec`).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct StartRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
}

/// The answer to Start.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct StartResponse {
    /// Host pid of the started process.
    #[prost(uint32, tag = "1")]
    pub pid: u32,
}

/// Delete: forget an exited process (for init: `runc delete`, and the container).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct DeleteRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
}

/// The answer to Delete, and what the `delete` subcommand writes to stdout.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct DeleteResponse {
    /// Host pid the process had.
    #[prost(uint32, tag = "1")]
    pub pid: u32,
    /// Exit status (128 + signal number for a signalled process).
    #[prost(uint32, tag = "2")]
    pub exit_status: u32,
    /// When it exited.
    #[prost(message, optional, tag = "3")]
    pub exited_at: Option<Timestamp>,
}

/// Exec: register an exec process (started later by Start with its exec id).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecProcessRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// The new exec id.
    #[prost(string, tag = "2")]
    pub exec_id: String,
    /// Whether the process gets a terminal.
    #[prost(bool, tag = "3")]
    pub terminal: bool,
    /// Stdin URI; empty when not attached.
    #[prost(string, tag = "4")]
    pub stdin: String,
    /// Stdout URI.
    #[prost(string, tag = "5")]
    pub stdout: String,
    /// Stderr URI.
    #[prost(string, tag = "6")]
    pub stderr: String,
    /// The OCI process: type URL `types.containerd.io/opencontainers/runtime-spec/1/Process`,
    /// value JSON, not protobuf.
    #[prost(message, optional, tag = "7")]
    pub spec: Option<Any>,
}

/// ResizePty: set a process's terminal size. Both sizes are left out (0) when the client has no
/// terminal size to give.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ResizePtyRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
    /// Columns.
    #[prost(uint32, tag = "3")]
    pub width: u32,
    /// Rows.
    #[prost(uint32, tag = "4")]
    pub height: u32,
}

/// State: report a process.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct StateRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
}

/// The answer to State.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StateResponse {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Bundle directory.
    #[prost(string, tag = "2")]
    pub bundle: String,
    /// Host pid; 0 before the process exists.
    #[prost(uint32, tag = "3")]
    pub pid: u32,
    /// A [`super::types::Status`], as the wire's `int32`; read it with `status()`.
    #[prost(enumeration = "super::types::Status", tag = "4")]
    pub status: i32,
    /// Stdin URI as given at Create or Exec.
    #[prost(string, tag = "5")]
    pub stdin: String,
    /// Stdout URI.
    #[prost(string, tag = "6")]
    pub stdout: String,
    /// Stderr URI.
    #[prost(string, tag = "7")]
    pub stderr: String,
    /// Whether the process has a terminal.
    #[prost(bool, tag = "8")]
    pub terminal: bool,
    /// Exit status, once stopped.
    #[prost(uint32, tag = "9")]
    pub exit_status: u32,
    /// When it exited; `None` (read by containerd as Go's zero time) while it runs.
    #[prost(message, optional, tag = "10")]
    pub exited_at: Option<Timestamp>,
    /// Exec id; empty for init.
    #[prost(string, tag = "11")]
    pub exec_id: String,
}

/// Kill: send a signal to a process.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct KillRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
    /// Signal number.
    #[prost(uint32, tag = "3")]
    pub signal: u32,
    /// Signal every process of the container (`runc kill --all`), not only this one.
    #[prost(bool, tag = "4")]
    pub all: bool,
}

/// CloseIO: close a process's stdin once the client has written all of it.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CloseIoRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
    /// Close stdin (the only stream this closes).
    #[prost(bool, tag = "3")]
    pub stdin: bool,
}

/// Pids: list the container's processes.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PidsRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
}

/// The answer to Pids. containerd 2.x deletes a restarted shim whose list is empty.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PidsResponse {
    /// Every process of the container.
    #[prost(message, repeated, tag = "1")]
    pub processes: Vec<ProcessInfo>,
}

/// Checkpoint: checkpoint the container with CRIU.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckpointTaskRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Directory to write the image to.
    #[prost(string, tag = "2")]
    pub path: String,
    /// Runtime options, e.g. `containerd.runc.v1.CheckpointOptions`.
    #[prost(message, optional, tag = "3")]
    pub options: Option<Any>,
}

/// Update: change the container's resources.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpdateTaskRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// The new resources (an OCI `LinuxResources`).
    #[prost(message, optional, tag = "2")]
    pub resources: Option<Any>,
    /// Annotations to apply.
    #[prost(btree_map = "string, string", tag = "3")]
    pub annotations: BTreeMap<String, String>,
}

/// Wait: answer once the process has exited (a long poll).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct WaitRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exec id; empty for init.
    #[prost(string, tag = "2")]
    pub exec_id: String,
}

/// The answer to Wait.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct WaitResponse {
    /// Exit status.
    #[prost(uint32, tag = "1")]
    pub exit_status: u32,
    /// When it exited.
    #[prost(message, optional, tag = "2")]
    pub exited_at: Option<Timestamp>,
}

/// Stats: report the container's cgroup metrics.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct StatsRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
}

/// The answer to Stats.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatsResponse {
    /// `io.containerd.cgroups.v1.Metrics` or `io.containerd.cgroups.v2.Metrics`.
    #[prost(message, optional, tag = "1")]
    pub stats: Option<Any>,
}

/// Connect: containerd (re)attaching to the shim, after every Create and at restart.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ConnectRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
}

/// The answer to Connect.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ConnectResponse {
    /// The shim's own pid.
    #[prost(uint32, tag = "1")]
    pub shim_pid: u32,
    /// The init process's pid.
    #[prost(uint32, tag = "2")]
    pub task_pid: u32,
    /// Free-form version text.
    #[prost(string, tag = "3")]
    pub version: String,
}

/// Shutdown: the shim should exit once it serves no task.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ShutdownRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Exit at once, even with tasks left.
    #[prost(bool, tag = "2")]
    pub now: bool,
}

/// Pause: freeze the container.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PauseRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
}

/// Resume: thaw the container.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ResumeRequest {
    /// Container id.
    #[prost(string, tag = "1")]
    pub id: String,
}
