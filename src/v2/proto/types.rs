//! Shared containerd types: `containerd.types.Mount` (`api/types/mount.proto`) and, from
//! `api/types/task/task.proto` (package `containerd.v1.types`), the task `Status` enum and
//! `ProcessInfo`.

use super::google::Any;

/// A mount containerd asks the shim to make for the rootfs (`CreateTaskRequest.rootfs`).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Mount {
    /// Filesystem type, such as `overlay` or `bind`.
    #[prost(string, tag = "1")]
    pub r#type: String,
    /// What to mount.
    #[prost(string, tag = "2")]
    pub source: String,
    /// Where, relative to the rootfs; empty for the rootfs itself.
    #[prost(string, tag = "3")]
    pub target: String,
    /// mount(8)-style options, such as `ro` or `lowerdir=...`.
    #[prost(string, repeated, tag = "4")]
    pub options: Vec<String>,
}

/// The state of a task or exec process, as `StateResponse.status` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, prost::Enumeration)]
#[repr(i32)]
pub enum Status {
    /// Not known (also what an unknown number on the wire reads as).
    Unknown = 0,
    /// Created by the runtime, not started.
    Created = 1,
    /// Started and not exited.
    Running = 2,
    /// Exited.
    Stopped = 3,
    /// Frozen.
    Paused = 4,
    /// Being frozen.
    Pausing = 5,
}

/// One process of a task, as `PidsResponse` lists them.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProcessInfo {
    /// Host pid.
    #[prost(uint32, tag = "1")]
    pub pid: u32,
    /// Runtime-specific details; the Go runc shim sends `containerd.runc.v1.ProcessDetails`
    /// (the exec id) for exec processes.
    #[prost(message, optional, tag = "2")]
    pub info: Option<Any>,
}
