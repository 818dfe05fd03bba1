//! `ctr run` through the v2 shim under test (`TINYSHIM_V2_SHIM`, see the kit's
//! `ShimUnderTest`): attached runs and their stdio, a detached task's life through `ctr task`,
//! what `run --rm` leaves, pause and resume, and a detached container nobody reads.

use std::time::Duration;

use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::procfs::{alive, children, ended, in_syscall};
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::wait::{eventually, LONG};

/// A container init that lives until it is killed. As pid 1 of its namespace it ignores
/// SIGTERM unless it handles it.
const SLEEPER: [&str; 2] = ["sleep", "1000"];

fn daemon() -> Containerd {
    Containerd::start(Options::under_test())
}

#[test]
fn an_attached_run_gets_its_stdin_keeps_stdout_and_stderr_apart_and_returns_the_exit_code() {
    let containerd = daemon();
    let input = seq_text(20_000);
    let output = containerd
        .ctr()
        .run("c1", &["sh", "-c", "cat; echo to-stderr >&2; exit 7"])
        .rm()
        .stdin(&input)
        .attached();
    assert_eq!(output.code(), Some(7), "{output}");
    assert_same_bytes(&output.stdout, &input);
    assert_eq!(output.stderr_text(), "to-stderr\n", "{output}");
}

#[test]
fn a_detached_task_is_listed_running_killed_with_sigkill_stopped_with_137_and_deleted() {
    let containerd = daemon();
    let ctr = containerd.ctr();
    ctr.run("c1", &SLEEPER).detached().ok();
    let task = ctr.task("c1").expect("c1 is listed");
    assert_eq!(task.status, "RUNNING", "{task:?}");
    assert!(
        alive(task.pid as i32),
        "the listed pid {} is not alive",
        task.pid
    );
    assert_eq!(ctr.pids("c1"), [task.pid], "ctr task ps");

    ctr.kill("c1", "SIGKILL").ok();
    ctr.wait_for_status("c1", "STOPPED", LONG);
    assert!(
        ended(task.pid as i32),
        "the init {} outlived SIGKILL",
        task.pid
    );
    assert_eq!(ctr.delete_task_status("c1"), 137);
    assert_eq!(ctr.task("c1"), None, "the task is gone after delete");
    ctr.delete_container("c1").ok();
    assert_eq!(ctr.try_container_ids(), Ok(Vec::new()));
}

#[test]
fn a_task_killed_with_sigterm_stops_with_the_status_its_handler_chose() {
    let containerd = daemon();
    let ctr = containerd.ctr();
    let script = "trap 'exit 23' TERM; while :; do sleep 0.05; done";
    ctr.run("c1", &["sh", "-c", script]).detached().ok();
    let task = ctr.wait_for_status("c1", "RUNNING", LONG);
    // The trap must be set before the signal: the shell sets it before its first sleep.
    eventually(LONG, "the shell runs its first sleep", || {
        !children(task.pid as i32).is_empty()
    });
    ctr.kill("c1", "SIGTERM").ok();
    ctr.wait_for_status("c1", "STOPPED", LONG);
    assert_eq!(ctr.delete_task_status("c1"), 23);
}

#[test]
fn run_rm_leaves_no_task_no_shim_and_nothing_on_the_host() {
    let containerd = daemon();
    let ctr = containerd.ctr();
    let output = ctr.run("c1", &["echo", "hello"]).rm().attached().ok();
    assert_eq!(output.stdout_text(), "hello\n");
    assert_eq!(ctr.tasks(), Vec::new(), "tasks after run --rm");
    assert_eq!(ctr.try_container_ids(), Ok(Vec::new()));
    // The shim exits after Shutdown, which containerd sends once the task is deleted; ctr
    // may return before it is gone.
    eventually(
        Duration::from_secs(10),
        "the shim exits after its last task",
        || containerd.shim_pids().is_empty(),
    );
    assert_eq!(containerd.leftovers(), Vec::<String>::new());
}

#[test]
fn a_paused_task_makes_no_progress_until_it_is_resumed() {
    let containerd = daemon();
    let ctr = containerd.ctr();
    let out = Scratch::new("ticks");
    let ticks = out.path().join("ticks");
    let count = || {
        std::fs::read_to_string(&ticks)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    };
    let script = "while :; do echo tick >> /tmp/out/ticks; sleep 0.01; done";
    ctr.run("c1", &["sh", "-c", script])
        .bind(out.path(), "/tmp/out")
        .detached()
        .ok();
    eventually(LONG, "the container ticks", || count() > 3);

    ctr.pause("c1").ok();
    assert_eq!(ctr.task("c1").map(|t| t.status), Some("PAUSED".into()));
    // A write already in the kernel when the freeze came may still land.
    std::thread::sleep(Duration::from_millis(100));
    let frozen = count();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(), frozen, "the container ticked while paused");

    ctr.resume("c1").ok();
    assert_eq!(ctr.task("c1").map(|t| t.status), Some("RUNNING".into()));
    eventually(LONG, "the container ticks again after resume", || {
        count() > frozen + 3
    });
    ctr.kill("c1", "SIGKILL").ok();
    ctr.wait_for_status("c1", "STOPPED", LONG);
    ctr.delete_task("c1");
}

#[test]
fn a_detached_container_nobody_reads_blocks_and_a_later_attach_gets_all_its_output() {
    // Far more than a FIFO and the pipe behind it hold, even grown to their largest.
    const LINES: u64 = 600_000;
    let containerd = daemon();
    let ctr = containerd.ctr();
    // ctr run -d copies the FIFOs to its own stdout until it exits, and drops what it read
    // last: the container waits for the test's word, given once ctr is gone.
    let steer = Scratch::new("steer");
    let script =
        format!("while [ ! -e /tmp/steer/go ]; do sleep 0.01; done; seq 1 {LINES}; echo done >&2");
    let detached = ctr
        .run("c1", &["sh", "-c", &script])
        .bind(steer.path(), "/tmp/steer")
        .detached()
        .ok();
    assert_eq!(detached.stdout, b"", "{detached}");
    std::fs::write(steer.path().join("go"), "").expect("write the go file");
    let init = ctr.wait_for_status("c1", "RUNNING", LONG).pid as i32;
    // seq stops in write(2) once everything between it and the FIFO is full; dying of EPIPE
    // instead would end the task.
    let blocked_seq = || {
        children(init)
            .into_iter()
            .any(|(pid, state)| state != 'Z' && in_syscall(pid, nix::libc::SYS_write))
    };
    eventually(LONG, "seq blocks in write with nobody reading", blocked_seq);
    std::thread::sleep(Duration::from_millis(200));
    assert!(blocked_seq(), "seq did not stay blocked");
    assert_eq!(ctr.task("c1").map(|t| t.status), Some("RUNNING".into()));

    // ctr task attach returns the exit status once the task exited, and deletes the task.
    let attached = ctr.output(&["tasks", "attach", "c1"]);
    assert_eq!(attached.code(), Some(0), "{attached}");
    assert_same_bytes(&attached.stdout, &seq_text(LINES));
    assert_eq!(attached.stderr_text(), "done\n", "{attached}");
    assert_eq!(ctr.task("c1"), None, "ctr task attach deletes the task");
}
