//! Exit statuses of every kind, real-time signals included, through a real runc.
//!
//! systemd-based images stop with `STOPSIGNAL SIGRTMIN+3`, so `docker stop` sends signal 37: a
//! process killed by any of 34..64 must be reported as 128 + the signal like any other.

use std::time::Duration;

use tinyshim_testkit::harness::*;

const LONG: Duration = Duration::from_secs(30);

/// SIGRTMIN+3, systemd's stop signal.
const SIGRTMIN_3: i32 = 37;

fn send(pid: i32, signal: i32) {
    // SAFETY: kill takes no pointers; the pid belongs to this test's container.
    assert_eq!(
        unsafe { nix::libc::kill(pid, signal) },
        0,
        "kill -{signal} {pid}"
    );
}

#[test]
fn an_exec_killed_by_a_real_time_signal_reports_128_plus_it_and_the_shim_exits() {
    let container = Container::new(Spec::sh("sleep 600"));
    let (_init, _) = container.run();
    let mut exec = container.spawn_exec("rt-killed", &["sleep", "600"], false);
    let pid = exec.wait_pid();
    send(pid, SIGRTMIN_3);
    assert_eq!(exec.finish(LONG), b"165");

    // The same from inside: the process kills itself with SIGRTMIN.
    let mut exec = container.spawn_exec("rt-self", &["sh", "-c", "kill -34 $$"], false);
    exec.wait_pid();
    assert_eq!(exec.finish(LONG), b"162");
}

#[test]
fn an_init_without_a_pid_namespace_killed_by_a_real_time_signal_reports_it() {
    let mut spec = Spec::sh("sleep 600");
    spec.pid_namespace = false;
    let container = Container::new(spec);
    let (mut init, pid) = container.run();
    send(pid, SIGRTMIN_3);
    assert_eq!(init.finish(LONG), b"165");
}

#[test]
fn a_runtime_killed_by_a_real_time_signal_ends_the_start() {
    let container = Container::new(Spec::fake("sleep 600").env("FAKE_START", "hang"));
    let mut init = container.spawn_init();
    let shim = init.shim_pid();
    let mut runtime = None;
    eventually(LONG, "the runtime runs", || {
        runtime = children(shim).first().map(|(pid, _)| *pid);
        runtime.is_some()
    });
    send(runtime.expect("the runtime's pid"), 40);
    let status = init.wait_shim(LONG);
    // A runtime that failed explains itself in log.json: no error entry, exit 0.
    assert!(status.success(), "{status}");
    assert_eq!(init.shim_errors(), Vec::<String>::new());
}

#[test]
fn orphans_killed_by_any_signals_under_one_sigchld_are_all_reaped() {
    // Without a pid namespace, orphans of the container go to the nearest subreaper: the shim.
    let mut spec = Spec::sh(
        "for i in 1 2 3 4 5 6 7 8; do (sleep 1000 </dev/null >/dev/null 2>&1 &); done; \
         echo spawned; read x; echo bye",
    );
    spec.pid_namespace = false;
    let container = Container::new(spec);
    let (mut init, _) = container.run();
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"spawned\n"));
    let shim = init.shim_pid();
    let mut orphans = Vec::new();
    eventually(LONG, "eight orphans reparented to the shim", || {
        orphans = children(shim)
            .into_iter()
            .map(|(pid, _)| pid)
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
            .collect();
        orphans.len() == 8
    });
    // Real-time signals and SIGTERM while the shim is stopped, so that one SIGCHLD stands for
    // all of them when it goes on.
    send(shim, nix::libc::SIGSTOP);
    let signals = [34, 37, 64, 15, 40, 15, 50, 15];
    for (orphan, signal) in orphans.iter().zip(signals) {
        send(*orphan, signal);
    }
    eventually(LONG, "the orphans died", || {
        children(shim)
            .iter()
            .filter(|(pid, state)| orphans.contains(pid) && *state == 'Z')
            .count()
            == orphans.len()
    });
    send(shim, nix::libc::SIGCONT);
    eventually(LONG, "the shim reaped every dead orphan", || {
        let left: Vec<i32> = children(shim).into_iter().map(|(pid, _)| pid).collect();
        orphans.iter().all(|orphan| !left.contains(orphan))
    });
    assert!(matches!(init.shim.try_wait(), Ok(None)));
    init.type_in(b"x\n");
    assert_eq!(init.read_stdout(LONG), b"bye\n");
    assert_eq!(init.finish(LONG), b"0");
}
