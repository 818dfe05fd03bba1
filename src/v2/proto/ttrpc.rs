//! The ttrpc envelope (package `ttrpc`, ttrpc-go's `request.proto`) and `google.rpc.Status`.

use super::google::Any;

/// One call: the frame payload of every Request frame.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// Fully qualified service name, such as `containerd.task.v2.Task`.
    #[prost(string, tag = "1")]
    pub service: String,
    /// Method name within the service, such as `Create`.
    #[prost(string, tag = "2")]
    pub method: String,
    /// The encoded request message of that method.
    #[prost(bytes = "vec", tag = "3")]
    pub payload: Vec<u8>,
    /// How long the caller waits for the answer, in nanoseconds; 0 (the usual case) for no limit.
    #[prost(int64, tag = "4")]
    pub timeout_nano: i64,
    /// gRPC-style metadata, e.g. `containerd-namespace-ttrpc`.
    #[prost(message, repeated, tag = "5")]
    pub metadata: Vec<KeyValue>,
}

impl Request {
    /// A call of `method` of `service` carrying `message`, with no timeout and no metadata.
    pub fn new<M: prost::Message>(service: &str, method: &str, message: &M) -> Request {
        Request {
            service: service.to_owned(),
            method: method.to_owned(),
            payload: message.encode_to_vec(),
            timeout_nano: 0,
            metadata: Vec::new(),
        }
    }
}

/// The answer to one call: the frame payload of every Response frame.
///
/// `status` left out means OK, so an OK answer whose message is empty (`google.protobuf.Empty`)
/// encodes to zero bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Response {
    /// Why the call failed; `None` or code 0 when it succeeded.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    /// The encoded response message, when the call succeeded.
    #[prost(bytes = "vec", tag = "2")]
    pub payload: Vec<u8>,
}

/// One metadata entry of a [`Request`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct KeyValue {
    /// Entry name.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Entry value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.rpc.Status`: a gRPC code and a message. containerd turns it into its own error kinds
/// with `errdefs.FromGRPC`, so the code decides what containerd does (NotFound from Delete is
/// accepted, Unimplemented from Create makes 2.x fall back to the v2 API).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// A [`Code`], kept as the wire's `int32` because a peer may send codes this shim does not
    /// name.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// Human-readable text; containerd shows it to the user.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed details; containerd neither sends nor reads them.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

impl Status {
    /// A status with `code` and `message` and no details.
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status {
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
        }
    }
}

/// The gRPC status codes the shim and containerd use (gRPC numbering; the others exist but are
/// not produced here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, prost::Enumeration)]
#[repr(i32)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// The caller cancelled.
    Canceled = 1,
    /// An error of no other kind.
    Unknown = 2,
    /// The request is malformed or names something invalid.
    InvalidArgument = 3,
    /// The request's timeout passed.
    DeadlineExceeded = 4,
    /// The task or process does not exist.
    NotFound = 5,
    /// The task or exec id is taken.
    AlreadyExists = 6,
    /// The caller may not do this.
    PermissionDenied = 7,
    /// A frame over the size limit (what ttrpc answers to an oversized frame).
    ResourceExhausted = 8,
    /// The task is not in a state that allows the call.
    FailedPrecondition = 9,
    /// Unknown service or method, or a method not built yet.
    Unimplemented = 12,
    /// The server failed, or the request's payload does not decode (ttrpc's choice).
    Internal = 13,
    /// The server cannot serve now.
    Unavailable = 14,
}
