//! tinyshim: container shims on one thread and one epoll loop, for containerd v0.2.x
//! (`containerd-shim`) and for containerd 1.6 and later (`containerd-shim-tinyshim-v2`).
//!
//! * the loop: [`event_loop`] (readiness, yields, deadlines; it routes, it owns nothing) and
//!   [`supervisor`], the core: it boots a shim and runs the loop for a
//!   [`Frontend`](supervisor::Frontend), whose routes and call tags are its own types;
//! * the process: [`process`] (its phase machine, stdio, drain), generic over the core's routes;
//! * the mechanisms: [`io`] (pumps, FIFOs, pipes, console socket, legacy PTY), [`reaper`]
//!   (signals and wait statuses), [`runtime`] (runtime calls as children of the loop);
//! * the frontends: [`v02`] and [`v2`];
//! * [`config`] (the environment, read once) and [`error`].
//!
//! Everything that reads untrusted input is a pure function of its bytes (the v0.2 control
//! parser, `process.json`, pid files, ttrpc frames and calls, the task service's method table),
//! so that it can be unit-tested and fuzzed without a running shim; so is every decision that
//! can be (a process's phase, the drain, the v2 call policy).
//!
//! What to imitate when adding to it: [`event_loop`] (a small thing that owns nothing and says
//! so), [`process::phase`] with its tests (a pure transition function, tested transition by
//! transition), [`io::pump`] (one mechanism whose docs state its back-pressure and fallbacks),
//! the ttrpc frame decoder ([`v2::ttrpc::frame`]: incremental, bounded, fuzzed) and [`error`]
//! (what failed, on which path or syscall). Every descriptor has exactly one owner, which
//! deregisters it before closing it; every `unsafe` carries a `SAFETY:` note.

#![warn(missing_docs)]

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
