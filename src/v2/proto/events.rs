//! Task events (`api/events/task.proto`, package `containerd.events`) and the envelope the shim
//! forwards them in (`api/services/ttrpc/events/v1/events.proto`).
//!
//! The shim publishes an event by calling [`EVENTS_SERVICE`] / [`FORWARD_METHOD`] on
//! containerd's ttrpc socket (`TTRPC_ADDRESS`) with a [`ForwardRequest`] built by
//! [`forward_request`]; the answer is an empty message.

use std::time::SystemTime;

use super::google::{Any, Timestamp, TypeUrl};
use super::types::Mount;

/// The ttrpc service containerd serves events on.
pub const EVENTS_SERVICE: &str = "containerd.services.events.ttrpc.v1.Events";
/// Its only method, which takes a [`ForwardRequest`] and answers `Empty`.
pub const FORWARD_METHOD: &str = "Forward";

/// A task event: a message with the topic containerd files it under.
pub trait Event: TypeUrl {
    /// The topic, such as `/tasks/exit`.
    const TOPIC: &'static str;
}

/// The argument of `Forward`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ForwardRequest {
    /// The event and where it belongs.
    #[prost(message, optional, tag = "1")]
    pub envelope: Option<Envelope>,
}

/// An event with its time, namespace and topic.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Envelope {
    /// When the event happened.
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    /// The containerd namespace of the task (the shim's `-namespace`); containerd files the
    /// event under it even without namespace metadata on the call.
    #[prost(string, tag = "2")]
    pub namespace: String,
    /// [`Event::TOPIC`] of the event.
    #[prost(string, tag = "3")]
    pub topic: String,
    /// The event, packed under [`TypeUrl::TYPE_URL`].
    #[prost(message, optional, tag = "4")]
    pub event: Option<Any>,
}

/// Wraps `event` for `Forward`: its topic, its `Any`, `namespace` and the time it happened.
pub fn forward_request<E: Event>(namespace: &str, at: SystemTime, event: &E) -> ForwardRequest {
    ForwardRequest {
        envelope: Some(Envelope {
            timestamp: Some(Timestamp::from(at)),
            namespace: namespace.to_owned(),
            topic: E::TOPIC.to_owned(),
            event: Some(Any::pack(event)),
        }),
    }
}

/// Gives an event message its type URL and topic, both spelled as on the wire.
macro_rules! event {
    ($message:ident, $type_url:literal, $topic:literal) => {
        impl TypeUrl for $message {
            const TYPE_URL: &'static str = $type_url;
        }
        impl Event for $message {
            const TOPIC: &'static str = $topic;
        }
    };
}

event!(TaskCreate, "containerd.events.TaskCreate", "/tasks/create");
event!(TaskStart, "containerd.events.TaskStart", "/tasks/start");
event!(TaskDelete, "containerd.events.TaskDelete", "/tasks/delete");
event!(TaskExit, "containerd.events.TaskExit", "/tasks/exit");
event!(TaskOom, "containerd.events.TaskOOM", "/tasks/oom");
event!(
    TaskExecAdded,
    "containerd.events.TaskExecAdded",
    "/tasks/exec-added"
);
event!(
    TaskExecStarted,
    "containerd.events.TaskExecStarted",
    "/tasks/exec-started"
);
event!(TaskPaused, "containerd.events.TaskPaused", "/tasks/paused");
event!(
    TaskResumed,
    "containerd.events.TaskResumed",
    "/tasks/resumed"
);
event!(
    TaskCheckpointed,
    "containerd.events.TaskCheckpointed",
    "/tasks/checkpointed"
);

/// `/tasks/create`: the task was created (after Create succeeded).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskCreate {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Bundle directory.
    #[prost(string, tag = "2")]
    pub bundle: String,
    /// The rootfs mounts from the request.
    #[prost(message, repeated, tag = "3")]
    pub rootfs: Vec<Mount>,
    /// The stdio from the request.
    #[prost(message, optional, tag = "4")]
    pub io: Option<TaskIo>,
    /// Checkpoint restored from, if any.
    #[prost(string, tag = "5")]
    pub checkpoint: String,
    /// Host pid of the init process.
    #[prost(uint32, tag = "6")]
    pub pid: u32,
}

/// The stdio of a [`TaskCreate`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskIo {
    /// Stdin URI.
    #[prost(string, tag = "1")]
    pub stdin: String,
    /// Stdout URI.
    #[prost(string, tag = "2")]
    pub stdout: String,
    /// Stderr URI.
    #[prost(string, tag = "3")]
    pub stderr: String,
    /// Whether the init process has a terminal.
    #[prost(bool, tag = "4")]
    pub terminal: bool,
}

/// `/tasks/start`: the init process started. Must be published before its [`TaskExit`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskStart {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Host pid of the init process.
    #[prost(uint32, tag = "2")]
    pub pid: u32,
}

/// `/tasks/delete`: a process was deleted (the Go shim sends it for init only).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskDelete {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Host pid it had.
    #[prost(uint32, tag = "2")]
    pub pid: u32,
    /// Exit status.
    #[prost(uint32, tag = "3")]
    pub exit_status: u32,
    /// When it exited.
    #[prost(message, optional, tag = "4")]
    pub exited_at: Option<Timestamp>,
    /// Exec id, or the container id for init.
    #[prost(string, tag = "5")]
    pub id: String,
}

/// `/tasks/exit`: a process exited (Docker learns container exits only from this).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskExit {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Exec id, or the container id for init.
    #[prost(string, tag = "2")]
    pub id: String,
    /// Host pid it had.
    #[prost(uint32, tag = "3")]
    pub pid: u32,
    /// Exit status.
    #[prost(uint32, tag = "4")]
    pub exit_status: u32,
    /// When it exited.
    #[prost(message, optional, tag = "5")]
    pub exited_at: Option<Timestamp>,
}

/// `/tasks/oom` (`TaskOOM` in Go): the container's cgroup hit its memory limit.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskOom {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
}

/// `/tasks/exec-added`: Exec registered a process.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskExecAdded {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// The new exec id.
    #[prost(string, tag = "2")]
    pub exec_id: String,
}

/// `/tasks/exec-started`: an exec process started. Must be published before its [`TaskExit`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskExecStarted {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Exec id.
    #[prost(string, tag = "2")]
    pub exec_id: String,
    /// Host pid of the exec process.
    #[prost(uint32, tag = "3")]
    pub pid: u32,
}

/// `/tasks/paused`: the container was frozen.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskPaused {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
}

/// `/tasks/resumed`: the container was thawed.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskResumed {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
}

/// `/tasks/checkpointed`: a checkpoint was written.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TaskCheckpointed {
    /// Container id.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Where.
    #[prost(string, tag = "2")]
    pub checkpoint: String,
}
