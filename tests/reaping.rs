//! The shim as a subreaper and the end of a process, through the real binary: orphans are
//! reaped, signals do not end the shim, the exit status and the exit FIFO come when the target
//! ends and not before, and the exit sequence runs even when its directories vanish.

use std::fs::File;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tinyshim_testkit::assertions::assert_empty_dir;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver;
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::fifo_reads::read_until;
use tinyshim_testkit::procfs::{
    alive, children, children_named, comm, fds_on, in_syscall, open_fds, pipes_of, proc_status,
    processes_mentioning, threads,
};
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

#[test]
fn orphans_reparented_to_the_shim_are_reaped_whatever_signal_killed_them() {
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
        orphans = children_named(shim, "sleep");
        orphans.len() == 8
    });
    // Real-time signals, SIGTERM and SIGKILL while the shim is stopped, so that one SIGCHLD
    // stands for all of them when it goes on: reaping must not stop at any of them.
    send_signal(shim, nix::libc::SIGSTOP);
    let signals = [34, 37, 64, 15, 40, 9, 50, 15];
    for (orphan, signal) in orphans.iter().zip(signals) {
        send_signal(*orphan, signal);
    }
    eventually(LONG, "the orphans died", || {
        children(shim)
            .iter()
            .filter(|(pid, state)| orphans.contains(pid) && *state == 'Z')
            .count()
            == orphans.len()
    });
    send_signal(shim, nix::libc::SIGCONT);
    eventually(LONG, "the shim reaped its dead orphans", || {
        let left: Vec<i32> = children(shim).into_iter().map(|(pid, _)| pid).collect();
        orphans.iter().all(|orphan| !left.contains(orphan))
    });
    assert!(matches!(init.shim.try_wait(), Ok(None)));
    init.type_in(b"x\n");
    let end = init.finish();
    assert_eq!(end.stdout, b"bye\n");
    assert_eq!(end.exit_status, b"0");
}

#[test]
fn an_exec_shim_keeps_reaping_and_taking_control_while_background_children_hold_its_output() {
    let mut spec = Spec::sh("read x");
    spec.pid_namespace = false;
    let container = Container::new(spec);
    let (mut init, _) = container.run();
    let mut exec = container.spawn_exec(
        "bg",
        &["sh", "-c", "sleep 1000 & sleep 1000 & echo started"],
        false,
    );
    exec.wait_pid();
    let stdout = exec.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"started\n"));
    // The exec's shell is reaped; its two sleeps, now the shim's children, hold stdout.
    eventually(LONG, "the exec's target reaped", || {
        exec.dir.exit_status() == Some(0)
    });
    let shim = exec.shim_pid();
    let mut sleepers = Vec::new();
    eventually(LONG, "two sleeps reparented to the exec shim", || {
        sleepers = children_named(shim, "sleep");
        sleepers.len() == 2
    });
    kill(Pid::from_raw(sleepers[0]), Signal::SIGKILL).expect("kill");
    eventually(LONG, "the draining shim reaped the killed sleep", || {
        !children(shim).iter().any(|&(pid, _)| pid == sleepers[0])
    });
    assert!(matches!(exec.shim.try_wait(), Ok(None)), "still draining");
    let stdin = exec.dir.stdin_path.clone().expect("stdin FIFO");
    assert_eq!(
        fds_on(shim, &stdin),
        2,
        "the stdin pump's reader and the closer"
    );
    exec.dir.close_stdin().expect("control");
    eventually(LONG, "the draining shim handled 0 0 0", || {
        fds_on(shim, &stdin) == 0
    });
    kill(Pid::from_raw(sleepers[1]), Signal::SIGKILL).expect("kill");
    let end = exec.finish();
    assert_eq!(end.stdout, b"");
    assert_eq!(end.exit_status, b"0");
    init.type_in(b"x\n");
    assert_eq!(init.finish().exit_status, b"0");
}

/// SIGRTMIN+3, systemd's stop signal: `docker stop` sends it to systemd-based images.
const SIGRTMIN_3: i32 = 37;

/// Sends any signal by number, real-time ones included (nix's `Signal` has none of them).
fn send_signal(pid: i32, signal: i32) {
    // SAFETY: kill takes no pointers; the pid belongs to this test's container.
    assert_eq!(
        unsafe { nix::libc::kill(pid, signal) },
        0,
        "kill -{signal} {pid}"
    );
}

#[test]
fn a_killed_process_reports_128_plus_the_signal_real_time_signals_included() {
    let container = Container::new(Spec::sh("read x"));
    let (mut init, pid) = container.run();
    let mut exec = container.spawn_exec("rt-killed", &["sleep", "600"], false);
    send_signal(exec.wait_pid(), SIGRTMIN_3);
    assert_eq!(exec.finish().exit_status, b"165");
    // The same from inside: the process kills itself with SIGRTMIN.
    let mut exec = container.spawn_exec("rt-self", &["sh", "-c", "kill -34 $$"], false);
    exec.wait_pid();
    assert_eq!(exec.finish().exit_status, b"162");
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill the container");
    assert_eq!(init.finish().exit_status, b"137");

    // An init that is no pid namespace's init can be killed by any signal.
    let mut spec = Spec::sh("sleep 600");
    spec.pid_namespace = false;
    let container = Container::new(spec);
    let (mut init, pid) = container.run();
    send_signal(pid, SIGRTMIN_3);
    assert_eq!(init.finish().exit_status, b"165");
}

#[test]
fn the_shim_does_not_exit_while_its_target_lives_even_with_every_output_closed() {
    let container = Container::new(Spec::sh("exec >&- 2>&-; read x; exit 4"));
    let (mut init, pid) = container.run();
    eventually(LONG, "the container closed stdout and stderr", || {
        open_fds(pid) == vec![0]
    });
    let shim = init.shim_pid();
    eventually(LONG, "the shim's output pumps ended", || {
        pipes_of(shim).len() == 1
    });
    // Both outputs ended; an exit now would leave the daemon an orphan to kill.
    driver::pause(Duration::from_millis(300));
    assert!(alive(pid));
    assert!(matches!(init.shim.try_wait(), Ok(None)), "the shim exited");
    assert!(!init.dir.wait_exit(Duration::ZERO), "the exit FIFO hung up");
    assert_eq!(init.dir.exit_status(), None);
    init.type_in(b"x\n");
    let end = init.finish();
    assert_eq!(end.stdout, b"");
    assert_eq!(end.exit_status, b"4");
}

#[test]
fn catchable_signals_do_not_kill_the_shim_and_the_container_finishes_normally() {
    let container = Container::new(Spec::sh("read x; echo \"got $x\"; exit 6"));
    let (mut init, _) = container.run();
    let shim = init.shim_pid();
    for signal in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGPIPE,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGALRM,
    ] {
        kill(Pid::from_raw(shim), signal).expect("signal the shim");
    }
    // Blocked signals stay pending until the shim reads them from its signalfd.
    let mut died = false;
    eventually(LONG, "the shim took its signals", || {
        died = !matches!(init.shim.try_wait(), Ok(None));
        let empty =
            |field| proc_status(shim, field).is_some_and(|m| m.trim_matches('0').is_empty());
        died || (empty("SigPnd") && empty("ShdPnd"))
    });
    assert!(!died, "a signal killed the shim");
    assert_eq!(threads(shim), "1");
    init.type_in(b"hello\n");
    let end = init.finish();
    assert_eq!(end.stdout, b"got hello\n");
    assert_eq!(end.exit_status, b"6");
}

#[test]
fn the_container_process_starts_with_no_blocked_signal() {
    // The shim blocks nearly every signal for its signalfd; none of that may reach the container.
    let container = Container::new(Spec::command(&["grep", "SigBlk", "/proc/self/status"]));
    let (mut init, _) = container.run();
    let end = init.finish();
    assert_eq!(
        String::from_utf8_lossy(&end.stdout),
        "SigBlk:\t0000000000000000\n"
    );
    assert_eq!(end.exit_status, b"0");
    assert_eq!(init.shim_log(), "");
}

#[test]
fn the_exit_fifo_hangs_up_only_when_the_process_ended_and_never_carries_a_byte() {
    let container = Container::new(Spec::sh("read x; exit 2"));
    let (mut init, _) = container.run();
    let mut byte = [0u8; 1];
    let mut fds = [PollFd::new(init.dir.exit.as_fd(), PollFlags::POLLIN)];
    assert_eq!(
        poll(&mut fds, PollTimeout::ZERO),
        Ok(0),
        "no event while it runs"
    );
    assert_eq!(
        nix::unistd::read(init.dir.exit.as_fd(), &mut byte),
        Err(Errno::EAGAIN)
    );
    init.type_in(b"x\n");
    assert_eq!(init.finish().exit_status, b"2");
    assert_eq!(
        nix::unistd::read(init.dir.exit.as_fd(), &mut byte),
        Ok(0),
        "EOF, not a byte"
    );
}

// ----------------------------------------------------------------------------------------------
// Directories removed under the shim

#[test]
fn init_drains_and_deletes_after_its_directories_vanish() {
    let scratch = Scratch::new("gate");
    let gate = scratch.path().join("gate").display().to_string();
    // A background child keeps the outputs open after the process exits: the shim drains.
    let fake = Fake::sh(&format!(
        "echo early; (while [ ! -e {gate} ]; do sleep 0.02; done; echo late; echo late-err >&2) & exit 3"
    ));
    let mut init = fake.container.spawn_init();
    init.wait_pid();
    eventually(LONG, "exitStatus", || init.dir.exit_status() == Some(3));
    eventually(LONG, "kill --all", || fake.calls().len() == 2);

    init.dir.remove().expect("rm -rf the container dir");
    assert!(!init.dir.container_dir.exists());
    File::create(&gate).expect("open the gate");
    let end = init.finish();
    assert_eq!(end.stdout, b"early\nlate\n");
    assert_eq!(end.stderr, b"late-err\n");

    assert_eq!(fake.subcommands(), ["create", "kill", "delete"]);
    fake.assert_deleted_last("after the directories vanished");
    // The background writer may still be on its way out as the shim ends; a leak would stay.
    eventually(LONG, "no process left behind", || {
        processes_mentioning(&gate).is_empty()
    });
}

#[test]
fn an_exec_drains_after_its_directory_vanishes_before_it_exits() {
    let scratch = Scratch::new("gate");
    let gate = scratch.path().join("gate").display().to_string();
    let fake = Fake::sh(&format!(
        "echo early; while [ ! -e {gate} ]; do sleep 0.02; done; echo late; exit 4"
    ));
    let mut exec = fake.container.spawn_exec("e1", &["sh"], true);
    exec.wait_pid();
    let stdout = exec.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out == b"early\r\n");
    // The shim reads the pid file once the runtime's exec has returned, which a loaded host
    // may delay past the file's appearance: the directory may go only once the runtime is
    // reaped and the shim is back waiting.
    let shim = exec.shim_pid();
    eventually(LONG, "the shim to take in the exec's pid", || {
        let waiting = in_syscall(shim, nix::libc::SYS_epoll_wait)
            || in_syscall(shim, nix::libc::SYS_epoll_pwait);
        waiting
            && children(shim)
                .iter()
                .all(|&(child, _)| comm(child) != "fake-runtime")
    });

    // Writing exitStatus now fails: the shim must carry on regardless.
    std::fs::remove_dir_all(&exec.dir.dir).expect("rm -rf the process dir");
    File::create(&gate).expect("open the gate");
    let end = exec.finish();
    assert_eq!(end.stdout, b"late\r\n");
    assert_eq!(end.exit_status, b"", "no exitStatus without a directory");
    assert!(!exec.dir.dir.exists());
    assert_eq!(fake.subcommands(), ["exec"], "an exec runs only exec");
    // The background writer may still be on its way out as the shim ends; a leak would stay.
    eventually(LONG, "no process left behind", || {
        processes_mentioning(&gate).is_empty()
    });
    assert_empty_dir(fake.tmpdir(), "after the exec");
}
