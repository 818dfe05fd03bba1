//! The core shim through the real binary, a real runc and real FIFOs: non-terminal init and exec
//! processes, on both pump paths.

mod common;

use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(30);

fn output_and_status(spec: Spec) -> (Vec<u8>, Vec<u8>, Option<u32>) {
    let container = Container::new(spec);
    let (mut init, _) = container.run();
    let out = init.read_stdout(LONG);
    let err = init.read_stderr(LONG);
    assert!(init.dir.wait_exit(LONG), "exit FIFO hung up");
    let status = init.wait_shim(LONG);
    assert!(status.success(), "shim exit status {status}");
    (out, err, init.dir.exit_status())
}

#[test]
fn init_output_and_exit_status_arrive_on_the_splice_path() {
    let (out, err, status) = output_and_status(Spec::sh("echo out; echo err >&2; exit 3"));
    assert_eq!(out, b"out\n");
    assert_eq!(err, b"err\n");
    assert_eq!(status, Some(3));
}

#[test]
fn init_output_and_exit_status_arrive_on_the_copy_path() {
    let (out, err, status) =
        output_and_status(Spec::sh("echo out; echo err >&2; exit 4").copy_path());
    assert_eq!(out, b"out\n");
    assert_eq!(err, b"err\n");
    assert_eq!(status, Some(4));
}

#[test]
fn the_running_shim_has_exactly_one_thread() {
    let container = Container::new(Spec::sh("sleep 30").no_stdin());
    let (init, _) = container.run();
    assert_eq!(
        proc_status(init.shim_pid(), "Threads").as_deref(),
        Some("1")
    );
}
