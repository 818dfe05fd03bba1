//! The containerd runtime v2 frontend: `containerd-shim-tinyshim-v2` (runtime
//! `io.containerd.tinyshim.v2`), for containerd 1.6, 1.7 and 2.x.
//!
//! * invocation: [`cli`] (the command line, `start`, `delete`), [`sha256`] (the socket's name);
//! * the wire: [`ttrpc`] (frames, calls, connections) and [`proto`] (the messages);
//! * serving: [`shim`] (the frontend of the core: the shim's life), [`server`] (the socket,
//!   connections, answers), [`task`] (the task service: its calls, policy and records),
//!   [`events`] (publishing to containerd), [`route`] (where its readiness leads), [`log`];
//! * the container: [`bundle`] (`config.json` and kept settings), [`runc`] (command lines),
//!   [`runtime_options`] (CRI's options for a runtime not named runc), [`stdio`] (FIFOs and log
//!   URIs), [`rootfs`] (mounts), [`cgroup`] (its metrics for Stats, its OOM kills).

pub mod bundle;
pub mod cgroup;
pub mod cli;
pub mod events;
pub mod log;
pub mod proto;
pub mod rootfs;
pub mod route;
pub mod runc;
pub mod runtime_options;
pub mod server;
pub mod sha256;
pub mod shim;
pub mod stdio;
pub mod task;
pub mod ttrpc;
