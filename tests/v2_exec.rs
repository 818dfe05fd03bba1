//! `ctr task exec` through the v2 shim under test (`TINYSHIM_V2_SHIM`): an exec's pipes, its
//! terminal, bulk output, and its exit code beside an init that keeps running.

use std::time::Duration;

use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::Ctr;
use tinyshim_testkit::fifo_reads::read_to_eof_both;
use tinyshim_testkit::fifos::fifo_reader;
use tinyshim_testkit::procfs::alive;
use tinyshim_testkit::pty::PRINT_TERMINAL_SIZE;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::ttrpc_client::{
    code, exec_request, process_request, Client, Request, TASK_SERVICE,
};
use tinyshim_testkit::wait::LONG;

/// Starts a daemon and a detached container `c1` that sleeps until it is killed.
fn daemon_with_sleeper() -> (Containerd, Ctr) {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    ctr.run("c1", &["sleep", "1000"]).detached().ok();
    ctr.wait_for_status("c1", "RUNNING", LONG);
    (containerd, ctr)
}

#[test]
fn an_exec_without_a_terminal_gets_its_stdin_and_keeps_stdout_and_stderr_apart() {
    let (_containerd, ctr) = daemon_with_sleeper();
    let output = ctr
        .exec("c1", "e1", &["sh", "-c", "cat; echo to-stderr >&2"])
        .stdin(b"typed in\n")
        .attached();
    assert_eq!(output.code(), Some(0), "{output}");
    assert_eq!(output.stdout_text(), "typed in\n", "{output}");
    assert_eq!(output.stderr_text(), "to-stderr\n", "{output}");
}

#[test]
fn an_exec_on_a_terminal_sees_the_size_of_ctrs_terminal() {
    let (_containerd, ctr) = daemon_with_sleeper();
    // The terminal is 0 x 0 until ctr's first ResizePty, which follows Start.
    let script = format!("{PRINT_TERMINAL_SIZE}; tty");
    let terminal = ctr
        .exec("c1", "e1", &["sh", "-c", &script])
        .terminal(33, 101);
    // The container's terminal turns each newline into CR LF.
    assert_eq!(
        terminal.finish(LONG).success_text(),
        "size=33 101\r\n/dev/pts/0\r\n"
    );
}

#[test]
fn an_exec_with_large_output_delivers_all_of_it() {
    let (_containerd, ctr) = daemon_with_sleeper();
    let lines = 400_000;
    let output = ctr
        .exec("c1", "e1", &["seq", "1", &lines.to_string()])
        .attached();
    assert_eq!(output.code(), Some(0), "{output}");
    assert_same_bytes(&output.stdout, &seq_text(lines));
}

#[test]
fn an_exec_returns_its_exit_code_while_the_init_keeps_running() {
    let (_containerd, ctr) = daemon_with_sleeper();
    let init = ctr.task("c1").expect("c1 is listed");
    for (exec_id, code) in [("e1", 42), ("e2", 0), ("e3", 3)] {
        let output = ctr
            .exec("c1", exec_id, &["sh", "-c", &format!("exit {code}")])
            .attached();
        assert_eq!(output.code(), Some(code), "{output}");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        ctr.task("c1"),
        Some(init.clone()),
        "the init after the execs"
    );
    assert!(alive(init.pid as i32), "the init died with an exec");
    assert_eq!(
        ctr.pids("c1"),
        [init.pid],
        "the execs are gone from ctr task ps"
    );
}

#[test]
fn an_exec_that_cannot_start_fails_at_once_with_the_runtimes_reason_and_the_container_runs_on() {
    let (_containerd, ctr) = daemon_with_sleeper();
    let missing = "executable file not found";
    // ctr waits for the end of an exec's outputs before it deletes the exec: outputs left open
    // after a failed start would hang it, with and without a terminal.
    let output = ctr.exec("c1", "e1", &["no-such-binary"]).attached();
    assert_ne!(output.code(), Some(0), "{output}");
    assert!(output.stderr_text().contains(missing), "{output}");
    let terminal = ctr
        .exec("c1", "e2", &["no-such-binary"])
        .terminal(24, 80)
        .finish(LONG);
    assert!(!terminal.status.success(), "{}", terminal.text());
    assert!(terminal.text().contains(missing), "{}", terminal.text());
    let after = ctr.exec("c1", "e3", &["echo", "still here"]).attached();
    assert_eq!(after.stdout_text(), "still here\n", "{after}");
}

#[test]
fn an_execs_outputs_reach_eof_when_it_exits_before_anyone_deletes_it() {
    // What CRI's ExecSync does, on the shim's socket: Exec with two FIFOs, Wait before Start,
    // then read both outputs to EOF, which must come with the exit, and only then Delete.
    let (containerd, _ctr) = daemon_with_sleeper();
    let scratch = Scratch::new("exec-fifos");
    let (stdout, stderr) = (scratch.path().join("out"), scratch.path().join("err"));
    let mut readers = [fifo_reader(&stdout), fifo_reader(&stderr)];
    let (out_path, err_path) = (stdout.display().to_string(), stderr.display().to_string());
    let exec = exec_request(
        "c1",
        "probe",
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
        ["", &out_path, &err_path],
    );
    let mut client = Client::connect(&containerd.task_socket("c1")).expect("connect");
    let added = client.call(TASK_SERVICE, "Exec", &exec).expect("Exec");
    assert_eq!(added.code, code::OK, "{added:?}");
    let probe = process_request("c1", "probe");
    let wait = client
        .send(&Request::new(TASK_SERVICE, "Wait", &probe))
        .expect("send Wait");
    let started = client.call(TASK_SERVICE, "Start", &probe).expect("Start");
    assert_eq!(started.code, code::OK, "{started:?}");
    let [out, err] = {
        let [out, err] = &mut readers;
        read_to_eof_both([Some(out), Some(err)], LONG)
    };
    assert_eq!((&out[..], &err[..]), (&b"out\n"[..], &b"err\n"[..]));
    let waited = client.reply(wait).expect("the Wait answered");
    assert_eq!(waited.code, code::OK, "{waited:?}");
    assert_eq!(waited.fields().expect("a WaitResponse").uint(1), Some(3));
    let deleted = client.call(TASK_SERVICE, "Delete", &probe).expect("Delete");
    assert_eq!(deleted.code, code::OK, "{deleted:?}");
}
