//! The containerd runtime v2 frontend: `containerd-shim-tinyshim-v2` (runtime
//! `io.containerd.tinyshim.v2`), for containerd 1.6, 1.7 and 2.x.
//!
//! * invocation: [`args`], [`start`] (the socket, grouping, the serving shim), [`cleanup`] (the
//!   `delete` subcommand), [`sha256`] (the socket's name);
//! * the wire: [`ttrpc`] (frames, calls, connections) and [`proto`] (the messages);
//! * serving: [`daemon`] (the loop's frontend: socket, connections, shutdown), [`service`],
//!   [`lifecycle`], [`completion`] and [`removal`] (the task service: the calls, the ones that
//!   make processes, what answers parked calls, and Delete), [`events`] (publishing to
//!   containerd);
//! * the container: [`container`], [`bundle`] (`config.json` and kept settings), [`runc`]
//!   (command lines), [`stdio`] (FIFOs and log URIs), [`rootfs`] (mounts), [`log`].

pub mod args;
pub mod bundle;
pub mod cleanup;
pub mod completion;
pub mod container;
pub mod daemon;
pub mod events;
pub mod lifecycle;
pub mod log;
pub mod proto;
pub mod removal;
pub mod rootfs;
pub mod runc;
pub mod service;
pub mod sha256;
pub mod start;
pub mod stdio;
pub mod ttrpc;
