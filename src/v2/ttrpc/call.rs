//! ttrpc calls, whatever the service: decoding a Request frame's payload into a [`Call`] (its
//! service, method and payload), and encoding the answer, with the gRPC codes and texts of
//! ttrpc-go's server (v1.1.1 in containerd 1.6, v1.2.x in 1.7 and 2.x), since containerd reacts
//! to the codes. What a method's payload means is its service's business (see
//! [`crate::v2::task::request`] for the task service's table).
//!
//! [`decode_call`] checks, in the order of ttrpc-go 1.2 (1.1 decodes the Request before
//! checking the stream id; the codes are the same):
//!
//! | what is wrong | code | message |
//! |---|---|---|
//! | even (server-initiated) stream id | 3 InvalidArgument | `StreamID must be odd for client initiated streams` |
//! | the payload is not a `ttrpc.Request` | 3 InvalidArgument | `unmarshal request error: <why>` |
//!
//! and a service answers a name it does not serve with [`CallError::unknown_service`] or
//! [`CallError::unknown_method`] (12 Unimplemented), a payload that is not its method's message
//! with [`decode_payload`]'s error (3 InvalidArgument); the connection answers an oversized
//! frame with [`CallError::oversized`] (8 ResourceExhausted). `<why>` is prost's description,
//! not Go's. A message is cut to [`MAX_ERROR_MESSAGE`] bytes, so a peer cannot make an answer
//! that echoes its own huge service name exceed the frame limit.
//!
//! How a connection uses this with the frame decoder (`socket` stands for the non-blocking unix
//! stream; there, `WouldBlock` ends the read loop until the next readiness):
//!
//! ```
//! use std::io::Read;
//! use tinyshim::v2::ttrpc::call::{decode_call, encode_error, CallError};
//! use tinyshim::v2::ttrpc::frame::{Decoder, FrameKind, Item};
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
//!                     // A service that knows `call.service` would serve it here.
//!                     Ok(call) => {
//!                         let error = CallError::unknown_service(&call.service);
//!                         encode_error(frame.stream_id, &error, &mut answers)
//!                     }
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

use prost::Message;

use super::frame::{self, FrameKind, MAX_PAYLOAD};
use crate::v2::proto::ttrpc::{Code, Request, Response, Status};

/// Longest error message sent, in bytes; longer ones are cut at a character boundary.
pub const MAX_ERROR_MESSAGE: usize = 1024;

/// A decoded call: which method of which service, and its payload, not decoded yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The service, such as `containerd.task.v2.Task`.
    pub service: String,
    /// The method, such as `Create`.
    pub method: String,
    /// The method's request message, encoded.
    pub payload: Vec<u8>,
}

/// Decodes `payload` as the request message `M` of a method.
pub fn decode_payload<M: Message + Default>(payload: &[u8]) -> Result<M, CallError> {
    M::decode(payload).map_err(|error| {
        // ttrpc-go answers 13 Internal here; the fault is the caller's argument, which is what
        // 3 says, and containerd treats both as a failed call.
        CallError::new(
            Code::InvalidArgument,
            format!("ttrpc: error unmarshalling payload: {error}"),
        )
    })
}

/// Decodes the payload of a Request frame on stream `stream_id` into a call, or says, as
/// ttrpc-go would, why not (see the module documentation).
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
    Ok(Call {
        service: request.service,
        method: request.method,
        payload: request.payload,
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

    /// What ttrpc-go answers to a call of a service it does not serve.
    pub fn unknown_service(service: &str) -> CallError {
        CallError::new(Code::Unimplemented, format!("service {service}"))
    }

    /// What ttrpc-go answers to a method a service does not have.
    pub fn unknown_method(method: &str) -> CallError {
        CallError::new(Code::Unimplemented, format!("method {method}"))
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
