//! tinyshim's test kit: everything the integration tests, the demo and the benchmarks need to play
//! the other side of the shim's protocols, kept out of the shim itself.
//!
//! * [`driver`] and [`relay`]: containerd v0.2.x's side of the v0.2 protocol (process directory,
//!   FIFOs, `process.json`, control messages, the exit FIFO), and a stdio relay for the demo.
//! * [`bundle`]: OCI bundles on a busybox root filesystem built from the host's busybox-static,
//!   and the one the tests share.
//! * [`spec`], [`container`] and [`process`]: containers run through the v0.2 shim the way the
//!   daemon runs them: what to run, the container's bundle and state, and one process with its
//!   shim and `shim-log.json`.
//! * [`fifo_reads`]: the daemon's ends of a process's FIFOs read to EOF or until enough came,
//!   with deadlines.
//! * [`fake`]: containers run by the fake runtime, with what it recorded.
//! * [`pump_path`]: running a test on both pump paths, with the proof of which one ran.
//! * [`fifos`]: a process's stdio FIFOs as containerd's client side makes them.
//! * [`procfs`]: what `/proc` says about the shim, the runtime and the container.
//! * [`mounts`]: the host's mount table: cgroup hierarchies, mounts under a directory.
//! * [`binaries`], [`host`] and [`scratch`]: the workspace's built binaries, what the host must
//!   have (`which`, the check for root, runc and busybox-static), and where tests write (cargo's
//!   `target/tmp`, scratch directories, unique names).
//! * [`wait`] and [`assertions`]: waiting with a deadline ([`wait::LONG`], `eventually`), and
//!   comparisons that fail readably (`assert_same_bytes`, the expected `seq` text).
//! * [`script`], [`crun`] and [`checkpoint`]: executable scripts a test writes, crun as a runtime
//!   on this host's cgroup layout, and checkpoints to restore from (with the Go timestamp of the
//!   restore's work path).
//! * [`containerd`], [`ctr`], [`events`] and [`pty`]: a private containerd per test for the v2
//!   shim, `ctr` commands with timeouts, a background `ctr events`, and ctr on a terminal of the
//!   test's own.
//! * [`footprint`]: what a private containerd's shims may leave on the host, noted by its clients
//!   for the clean-up.
//! * [`cri`] on [`image`]: a blocking CRI client making the kubelet's calls to a CRI-enabled
//!   private containerd, and the busybox image it runs (also its pods' sandbox image).
//! * [`docker`]: a private dockerd 20.10 on a private containerd whose runc shim is the shim
//!   under test, and Debian's docker CLI for it.
//! * [`ttrpc_client`] on [`protobuf`]: a raw ttrpc client, independent of the shim's code, to call
//!   a shim's socket directly and send it what containerd never would.
//! * [`runc_wrapper`]: a script of the test's as the `runc` containerd's shim finds first.
//! * the `fake-runtime` binary: an OCI runtime stand-in for failure injection;
//! * the `shim-driver` binary: runs one container through the v0.2 shim (the demo).
//!
//! The modules depend on one another without circles: the low-level ones (`binaries`,
//! `scratch`, `procfs`, `mounts`, `footprint`, `wait`) depend on no module above them.

#![warn(missing_docs)]

pub mod assertions;
pub mod binaries;
pub mod bundle;
pub mod checkpoint;
pub mod container;
pub mod containerd;
pub mod cri;
pub mod crun;
pub mod ctr;
pub mod docker;
pub mod driver;
pub mod events;
pub mod fake;
pub mod fifo_reads;
pub mod fifos;
pub mod footprint;
pub mod host;
pub mod image;
pub mod mounts;
pub mod process;
pub mod procfs;
pub mod protobuf;
pub mod pty;
pub mod pump_path;
pub mod relay;
pub mod runc_wrapper;
pub mod scratch;
pub mod script;
pub mod spec;
pub mod ttrpc_client;
pub mod wait;
