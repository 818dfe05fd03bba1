//! The demo driver (`shim-driver`, what `make demo` runs) through the real shim and a real runc,
//! on both pump paths: it relays stdio both ways and exits with the container's status.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use tinyshim_testkit::binaries::{shim_binary, workspace_binary};
use tinyshim_testkit::driver;
use tinyshim_testkit::fifo_reads::{read_to_eof_both, read_until};
use tinyshim_testkit::host::require_runc;
use tinyshim_testkit::on_both_pump_paths;
use tinyshim_testkit::procfs::children_named;
use tinyshim_testkit::pump_path::{self, PumpPath};
use tinyshim_testkit::scratch::{unique, Scratch};
use tinyshim_testkit::spec::NO_SPLICE_ENV;
use tinyshim_testkit::wait::LONG;

/// A child's pipe as a non-blocking `File`, for the test kit's FIFO readers (`fifo_reads`).
fn non_blocking(pipe: impl Into<OwnedFd>) -> File {
    let file = File::from(pipe.into());
    let flags = fcntl(&file, FcntlArg::F_GETFL).expect("F_GETFL");
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(&file, FcntlArg::F_SETFL(flags)).expect("F_SETFL");
    file
}

fn the_demo_driver_relays_stdio_and_exits_with_the_container_status(path: PumpPath) {
    require_runc();
    let driver_binary = workspace_binary("shim-driver");
    let scratch = Scratch::new("driver");
    let bundle = scratch.path().join("bundle");
    let made = Command::new(&driver_binary)
        .arg("make-bundle")
        .arg(&bundle)
        .status()
        .expect("run make-bundle");
    assert!(made.success(), "make-bundle: {made}");
    let id = format!("ts-drv-{}", unique());
    let state = scratch.path().join("state");
    let mut command = Command::new(&driver_binary);
    command
        .arg("--shim")
        .arg(shim_binary())
        .arg("--state")
        .arg(&state)
        .args(["--id", &id])
        .arg(&bundle)
        .args([
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; read x; echo \"in:$x\"; exit 7",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if path == PumpPath::Copy {
        command.env(NO_SPLICE_ENV, "1");
    }
    let mut child = command.spawn().expect("spawn shim-driver");
    let mut stdout = non_blocking(child.stdout.take().expect("stdout"));
    let mut stderr = non_blocking(child.stderr.take().expect("stderr"));
    let mut out = read_until(&mut stdout, LONG, |o| o == b"out\n");
    let mut err = read_until(&mut stderr, LONG, |e| e.starts_with(b"err\n"));
    // The driver reaps its shim, so the shim is taken now, alive, having pumped both lines.
    let shims = children_named(child.id() as i32, "containerd-shim");
    assert_eq!(shims.len(), 1, "the driver's shim: {shims:?}");
    pump_path::observe(shims[0], &state.join(&id).join("init"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"typed\n")
        .expect("write");
    let [rest_out, rest_err] = read_to_eof_both([Some(&mut stdout), Some(&mut stderr)], LONG);
    out.extend(rest_out);
    err.extend(rest_err);
    let status = child.wait().expect("wait shim-driver");
    let _ = driver::run_runtime("runc", &[], &["delete", "--force", &id]);
    let err = String::from_utf8_lossy(&err);
    assert_eq!(status.code(), Some(7), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "out\nin:typed\n");
    assert!(err.starts_with("err\n"), "{err}");
}

on_both_pump_paths!(the_demo_driver_relays_stdio_and_exits_with_the_container_status);
