//! The protobuf messages the v2 shim exchanges with containerd, derived by hand from
//! containerd v1.6.20's `.proto` files (field numbers checked one by one; the v3 task API of
//! containerd 2.x has the same messages and numbers).
//!
//! Why prost: the shim decodes protobuf from anyone who can reach its socket, and prost's derived
//! decoders are total (a malformed input is a `DecodeError`, never a panic) and allocate no more
//! than the input's own length. The derive needs neither protoc nor a build script, so these
//! files are the whole schema, reviewed as code.
//!
//! Conventions kept from the Go side: a `string` field left empty and a field left out are the
//! same thing on the wire, `exec_id` empty means the container's init process, and a message
//! field that Go declares non-nullable (every `exited_at`) may be left `None`, which Go decodes
//! as its zero time (see [`google::Timestamp::GO_ZERO_TIME`]).

pub mod cgroups;
pub mod events;
pub mod google;
pub mod runc;
pub mod runtimeoptions;
pub mod task;
pub mod ttrpc;
pub mod types;

#[cfg(test)]
mod tests;
