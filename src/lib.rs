//! tinyshim: a single-threaded, event-driven drop-in replacement for the `containerd-shim` of
//! containerd v0.2.x.
//!
//! The shim binary (`src/main.rs`) is a thin wrapper around [`lifecycle::run`]. Everything that
//! reads untrusted input ([`control`], [`pidfile`], [`spec`]) is a pure function of its bytes so
//! that it can be unit-tested and fuzzed without a running shim. [`driver`] plays the daemon's side
//! of the protocol; the demo, the integration tests and the benchmarks share it.

#![warn(missing_docs)]

pub mod console;
pub mod control;
pub mod error;
pub mod lifecycle;
pub mod log;
pub mod pidfile;
pub mod pump;
pub mod reactor;
pub mod reaper;
pub mod runtime;
pub mod spec;
pub mod stdio;
pub mod v2;
