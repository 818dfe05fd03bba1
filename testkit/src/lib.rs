//! tinyshim's test kit: everything the integration tests, the demo and the benchmarks need to play
//! the other side of the shim's protocols, kept out of the shim itself.
//!
//! * [`driver`] and [`relay`]: containerd v0.2.x's side of the v0.2 protocol (process directory,
//!   FIFOs, `process.json`, control messages, the exit FIFO), and a stdio relay for the demo.
//! * [`bundle`]: OCI bundles on a busybox root filesystem built from the host's busybox-static.
//! * [`harness`]: the built binaries, scratch directories, and containers run through the shim.
//! * [`fake`]: containers run by the fake runtime, with what it recorded.
//! * [`pump_path`]: running a test on both pump paths, with the proof of which one ran.
//! * [`fifos`]: a process's stdio FIFOs as containerd's client side makes them.
//! * [`procfs`]: what `/proc` says about the shim, the runtime and the container.
//! * [`containerd`], [`ctr`], [`events`] and [`pty`]: a private containerd per test for the v2
//!   shim, `ctr` commands with timeouts, a background `ctr events`, and ctr on a terminal of the
//!   test's own.
//! * [`cri`] on [`image`]: a blocking CRI client making the kubelet's calls to a CRI-enabled
//!   private containerd, and the busybox image it runs (also its pods' sandbox image).
//! * [`docker`]: a private dockerd 20.10 on a private containerd whose runc shim is the shim
//!   under test, and Debian's docker CLI for it.
//! * [`ttrpc_client`] on [`protobuf`]: a raw ttrpc client, independent of the shim's code, to call
//!   a shim's socket directly and send it what containerd never would.
//! * [`runc_wrapper`]: a script of the test's as the `runc` containerd's shim finds first.
//! * the `fake-runtime` binary: an OCI runtime stand-in for failure injection;
//! * the `shim-driver` binary: runs one container through the v0.2 shim (the demo).

#![warn(missing_docs)]

pub mod bundle;
pub mod containerd;
pub mod cri;
pub mod ctr;
pub mod docker;
pub mod driver;
pub mod events;
pub mod fake;
pub mod fifos;
pub mod harness;
pub mod image;
pub mod procfs;
pub mod protobuf;
pub mod pty;
pub mod pump_path;
pub mod relay;
pub mod runc_wrapper;
pub mod ttrpc_client;
