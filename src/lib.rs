//! tinyshim: container shims on one thread and one epoll loop, for containerd v0.2.x
//! (`containerd-shim`) and for containerd 1.6 and later (`containerd-shim-tinyshim-v2`).
//!
//! * the loop: [`event_loop`] (readiness, yields, deadlines; it routes, it owns nothing) and
//!   [`supervisor`], the core both frontends drive;
//! * the process: [`process`] (its phase machine, stdio, drain);
//! * the mechanisms: [`io`] (pumps, FIFOs, pipes, console socket, legacy PTY), [`reaper`]
//!   (signals and wait statuses), [`runtime`] (runtime calls as children of the loop),
//!   [`cgroup`] (a container's cgroup: its metrics for Stats, its OOM kills);
//! * the frontends: [`v02`] and [`v2`];
//! * [`config`] (the environment, read once) and [`error`].
//!
//! Everything that reads untrusted input is a pure function of its bytes (the v0.2 control
//! parser, `process.json`, pid files, ttrpc frames and messages), so that it can be unit-tested
//! and fuzzed without a running shim.

#![warn(missing_docs)]

pub mod cgroup;
pub mod config;
pub mod error;
pub mod event_loop;
pub mod io;
pub mod process;
pub mod reaper;
pub mod rfc3339;
pub mod runtime;
pub mod supervisor;
pub mod v02;
pub mod v2;
