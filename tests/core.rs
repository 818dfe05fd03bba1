//! The core shim (issue 2) through the real binary, a real runc and real FIFOs: invocation,
//! start-up, `process.json`, stdio, reaping, the exit sequence, the control FIFO, the thread count
//! and the demo driver, for non-terminal init and exec processes. Pumping tests run on both pump
//! paths. Failure injection with the fake runtime is in `core_runtime.rs`; flow control of the
//! pumps (back-pressure, a client that goes away) in `core_pumps.rs`.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Map, Value};
use tinyshim_testkit::driver::{self, open_fifo_writer, ProcessDir};
use tinyshim_testkit::harness::*;
use tinyshim_testkit::on_both_pump_paths;

const LONG: Duration = Duration::from_secs(30);

/// The access mode bits and the close-on-exec bit of an open file's flags (`fdinfo`, octal).
const O_ACCMODE: u32 = nix::libc::O_ACCMODE as u32;
const O_CLOEXEC: u32 = nix::libc::O_CLOEXEC as u32;

// ----------------------------------------------------------------------------------------------
// Helpers

/// The `flags` of `/proc/<pid>/fdinfo/<fd>`.
fn fd_flags(pid: i32, fd: i32) -> u32 {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).expect("read fdinfo");
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .expect("fdinfo has flags");
    u32::from_str_radix(flags.trim(), 8).expect("octal flags")
}

/// What descriptor `fd` of `pid` refers to: a path, `pipe:[inode]`, `anon_inode:...`.
fn fd_target(pid: i32, fd: i32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap_or_default()
}

/// The descriptors of `pid` on anonymous pipes: for the shim, its ends of the container's pipes.
fn shim_pipes(pid: i32) -> Vec<i32> {
    open_fds(pid)
        .into_iter()
        .filter(|&fd| fd_target(pid, fd).to_string_lossy().starts_with("pipe:"))
        .collect()
}

/// How many descriptors of `pid` refer to `path`.
fn fds_on(pid: i32, path: &Path) -> usize {
    let path = std::fs::canonicalize(path).expect("canonical path");
    open_fds(pid)
        .into_iter()
        .filter(|&fd| fd_target(pid, fd) == path)
        .count()
}

/// The command name of `pid`.
fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The children of `pid` running `name`.
fn children_named(pid: i32, name: &str) -> Vec<i32> {
    children(pid)
        .into_iter()
        .filter(|&(child, state)| state != 'Z' && comm(child) == name)
        .map(|(child, _)| child)
        .collect()
}

/// Bytes waiting in the pipe or FIFO behind `file`.
fn queued_bytes(file: &File) -> i32 {
    let mut count: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to a live local; the
    // descriptor is borrowed from `file` for the duration of the call.
    let result = unsafe {
        nix::libc::ioctl(
            file.as_raw_fd(),
            nix::libc::FIONREAD,
            &mut count as *mut nix::libc::c_int,
        )
    };
    assert_eq!(result, 0, "FIONREAD: {}", Errno::last());
    count
}

/// Rewrites the `process.json` the driver wrote, as another daemon version would have written it.
fn rewrite_process_json(dir: &ProcessDir, edit: impl FnOnce(&mut Map<String, Value>)) {
    let path = dir.dir.join("process.json");
    let mut state: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read process.json")).expect("JSON");
    edit(state.as_object_mut().expect("process.json is an object"));
    std::fs::write(&path, serde_json::to_vec(&state).expect("encode")).expect("write");
}

/// Waits until `pid` runs `name` (runc's init has exec'd the process).
fn wait_comm(pid: i32, name: &str) {
    eventually(LONG, &format!("process {pid} runs {name}"), || {
        comm(pid) == name
    });
}

// ----------------------------------------------------------------------------------------------
// Invocation

fn run_shim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(shim_binary())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run the shim")
}

#[test]
fn version_and_help_print_and_exit_0_without_writing_a_log() {
    let scratch = Scratch::new("version");
    for (flag, start) in [
        ("--version", "containerd-shim"),
        ("--help", "usage: containerd-shim <id> <bundle> <runtime>"),
    ] {
        let output = run_shim_in(scratch.path(), &[flag]);
        assert!(output.status.success(), "{flag}: {}", output.status);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.starts_with(start), "{flag} printed {text:?}");
    }
    assert!(!scratch.path().join("shim-log.json").exists());
}

#[test]
fn a_wrong_argument_count_is_one_error_entry_naming_it_and_exit_1() {
    let calls: [&[&str]; 3] = [&[], &["id", "/bundle"], &["id", "/bundle", "runc", "extra"]];
    for args in calls {
        let scratch = Scratch::new("argc");
        let output = run_shim_in(scratch.path(), args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let log = std::fs::read_to_string(scratch.path().join("shim-log.json")).expect("log");
        let entries = parse_shim_log(&log);
        assert_eq!(entries.len(), 1, "{args:?}: {log}");
        assert_eq!(entries[0]["level"], "error");
        let msg = entries[0]["msg"].as_str().unwrap_or_default();
        assert!(
            msg.contains("expected <id> <bundle> <runtime>")
                && msg.contains(&format!("got {} argument(s)", args.len())),
            "{args:?}: {msg}"
        );
    }
}

// ----------------------------------------------------------------------------------------------
// Start-up, signals, the exit and control FIFOs

/// Runs `spec` as init, returning stdout, stderr and the raw `exitStatus`; checks that the shim
/// exits 0 and leaves `shim-log.json` created and empty.
fn init_output(spec: Spec) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let container = Container::new(spec);
    let (mut init, _) = container.run();
    let out = init.read_stdout(LONG);
    let err = init.read_stderr(LONG);
    let status = init.finish(LONG);
    let log = init.dir.dir.join("shim-log.json");
    assert!(log.exists(), "shim-log.json is created at start-up");
    assert_eq!(init.shim_log(), "", "nothing logged on success");
    (out, err, status)
}

fn init_output_and_exit_status_arrive(path: PumpPath) {
    let (out, err, status) = init_output(Spec::sh("echo out; echo err >&2; exit 3").on(path));
    assert_eq!(out, b"out\n");
    assert_eq!(err, b"err\n");
    assert_eq!(status, b"3", "decimal, no newline");
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
    assert_eq!(proc_status(shim, "Threads").as_deref(), Some("1"));
    init.type_in(b"hello\n");
    assert_eq!(init.read_stdout(LONG), b"got hello\n");
    assert_eq!(init.finish(LONG), b"6");
}

#[test]
fn the_container_process_starts_with_no_blocked_signal() {
    // The shim blocks nearly every signal for its signalfd; none of that may reach the container.
    let (out, _, status) = init_output(Spec::command(&["grep", "SigBlk", "/proc/self/status"]));
    assert_eq!(String::from_utf8_lossy(&out), "SigBlk:\t0000000000000000\n");
    assert_eq!(status, b"0");
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
    assert_eq!(init.finish(LONG), b"2");
    assert_eq!(
        nix::unistd::read(init.dir.exit.as_fd(), &mut byte),
        Ok(0),
        "EOF, not a byte"
    );
}

#[test]
fn control_is_read_write_exit_write_only_and_every_shim_descriptor_close_on_exec() {
    let container = Container::new(Spec::sh("read x"));
    let (mut init, _) = container.run();
    let shim = init.shim_pid();
    let dir = std::fs::canonicalize(&init.dir.dir).expect("canonical process dir");
    let (mut control, mut exit) = (None, None);
    for fd in open_fds(shim) {
        let target = fd_target(shim, fd);
        let flags = fd_flags(shim, fd);
        if fd > 2 {
            assert_ne!(
                flags & O_CLOEXEC,
                0,
                "fd {fd} ({target:?}) leaks into children"
            );
        }
        if target == dir.join("control") {
            control = Some(flags & O_ACCMODE);
        } else if target == dir.join("exit") {
            exit = Some(flags & O_ACCMODE);
        }
    }
    assert_eq!(control, Some(nix::libc::O_RDWR as u32), "control");
    assert_eq!(exit, Some(nix::libc::O_WRONLY as u32), "exit");
    init.type_in(b"x\n");
    assert_eq!(init.finish(LONG), b"0");
}

// ----------------------------------------------------------------------------------------------
// process.json as each daemon version wrote it

/// Runs a container whose `process.json` was rewritten by `edit`: the shim must decode it and
/// treat the process as a non-terminal one (stdout and stderr apart).
fn runs_with_process_json(edit: impl FnOnce(&mut Map<String, Value>)) {
    let container = Container::new(Spec::sh("echo out; echo err >&2; exit 5").no_stdin());
    let mut init = container.spawn_prepared("init", &container.init_options(), |dir| {
        rewrite_process_json(dir, edit)
    });
    init.wait_pid();
    container.start();
    assert_eq!(init.read_stdout(LONG), b"out\n");
    assert_eq!(init.read_stderr(LONG), b"err\n");
    assert_eq!(init.finish(LONG), b"5");
    assert_eq!(init.shim_log(), "");
}

#[test]
fn process_json_of_v0_2_3_decodes() {
    runs_with_process_json(|p| {
        p.insert("capabilities".into(), json!(["CAP_KILL", "CAP_CHOWN"]));
        p.insert("runtimeArgs".into(), Value::Null);
        p.insert("terminal".into(), json!(false));
        p.remove("consoleSize");
    });
}

#[test]
fn process_json_of_the_branch_head_decodes() {
    runs_with_process_json(|p| {
        assert!(p["capabilities"].is_object());
        p.remove("terminal");
        p.remove("consoleSize");
        p.insert("oomScoreAdj".into(), json!(0));
        p.insert(
            "user".into(),
            json!({"uid": 0, "gid": 0, "additionalGids": [10]}),
        );
    });
}

#[test]
fn process_json_with_a_console_size_decodes() {
    runs_with_process_json(|p| {
        p.insert("consoleSize".into(), json!({"height": 24, "width": 80}));
    });
}

#[test]
fn process_json_with_unknown_keys_decodes() {
    runs_with_process_json(|p| {
        p.insert(
            "aFutureKey".into(),
            json!({"nested": [1, {"deep": null}], "s": "x"}),
        );
        p.insert("apparmorProfile".into(), json!("docker-default"));
        p.insert("selinuxLabel".into(), json!(""));
        p.insert(
            "rlimits".into(),
            json!([{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]),
        );
    });
}

// ----------------------------------------------------------------------------------------------
// Stdio

fn dev_null_and_empty_stdio_paths_work(path: PumpPath) {
    // A broken stdout or stderr would kill `echo` with SIGPIPE or fail it; a stdin that never
    // ends would leave `cat` waiting.
    let script = "cat; echo out || exit 8; echo err >&2 || exit 9; exit 7";
    for (stdin, stdout, stderr) in [("", "/dev/null", ""), ("/dev/null", "", "/dev/null")] {
        let container = Container::new(Spec::sh(script).on(path));
        let mut init = container.spawn_prepared("init", &container.init_options(), |dir| {
            rewrite_process_json(dir, |p| {
                p.insert("containerdStdin".into(), json!(stdin));
                p.insert("containerdStdout".into(), json!(stdout));
                p.insert("containerdStderr".into(), json!(stderr));
            })
        });
        init.wait_pid();
        container.start();
        assert_eq!(init.finish(LONG), b"7", "{stdin:?} {stdout:?} {stderr:?}");
        assert_eq!(init.shim_log(), "");
    }
}

#[test]
fn the_container_init_holds_only_0_1_2_the_shims_three_pipes_with_root_gid() {
    let container = Container::new(Spec::command(&["cat"]));
    let mut options = container.init_options();
    options.root_ids = (1000, 1001);
    let mut init = container.spawn("init", &options);
    let pid = init.wait_pid();
    container.start();
    wait_comm(pid, "cat");
    assert_eq!(open_fds(pid), vec![0, 1, 2]);
    // runc hands the uid of init's stdio to the container's user (root here) and keeps the gid;
    // the uid the shim set is checked through the fake runtime (core_runtime.rs).
    let pipe_inodes = |pid: i32, fds: Vec<i32>| {
        let mut inodes: Vec<u64> = fds
            .into_iter()
            .map(|fd| {
                let meta = std::fs::metadata(format!("/proc/{pid}/fd/{fd}")).expect("stat");
                assert!(meta.file_type().is_fifo(), "{pid} fd {fd} is a pipe");
                assert_eq!(meta.gid(), 1001, "{pid} fd {fd}");
                meta.ino()
            })
            .collect();
        inodes.sort_unstable();
        inodes
    };
    let shim = init.shim_pid();
    assert_eq!(
        pipe_inodes(pid, vec![0, 1, 2]),
        pipe_inodes(shim, shim_pipes(shim))
    );
    init.dir.close_stdin().expect("control");
    assert_eq!(init.finish(LONG), b"0");
}

// ----------------------------------------------------------------------------------------------
// Exec processes

fn exec_output_and_status_arrive_and_the_container_runs_on(path: PumpPath) {
    let container = Container::new(Spec::sh("read x; exit 0").on(path));
    let (mut init, pid) = container.run();
    let mut exec = container.spawn_exec(
        "exec1",
        &["sh", "-c", "echo eout; echo eerr >&2; exit 9"],
        false,
    );
    exec.wait_pid();
    assert_eq!(exec.read_stdout(LONG), b"eout\n");
    assert_eq!(exec.read_stderr(LONG), b"eerr\n");
    assert_eq!(exec.finish(LONG), b"9");
    assert_eq!(exec.shim_log(), "");
    assert!(alive(pid) && matches!(init.shim.try_wait(), Ok(None)));
    init.type_in(b"x\n");
    assert_eq!(init.finish(LONG), b"0");
}

#[test]
fn an_exec_process_holds_only_0_1_2() {
    let container = Container::new(Spec::command(&["sleep", "1000"]).no_stdin());
    let (mut init, _) = container.run();
    let mut exec = container.spawn_exec("cat", &["cat"], false);
    let pid = exec.wait_pid();
    wait_comm(pid, "cat");
    assert_eq!(open_fds(pid), vec![0, 1, 2]);
    exec.dir.close_stdin().expect("control");
    assert_eq!(exec.finish(LONG), b"0");
    driver::run_runtime("runc", &[], &["kill", &container.id, "KILL"]).expect("runc kill");
    assert_eq!(init.finish(LONG), b"137");
}

// ----------------------------------------------------------------------------------------------
// Reaping and exit status

#[test]
fn orphans_reparented_to_the_shim_are_reaped_while_the_container_runs() {
    // Without a pid namespace, orphans of the container go to the nearest subreaper: the shim.
    let mut spec = Spec::sh(
        "(sleep 1000 </dev/null >/dev/null 2>&1 &); (sleep 1000 </dev/null >/dev/null 2>&1 &); \
         echo spawned; read x; echo bye",
    );
    spec.pid_namespace = false;
    let container = Container::new(spec);
    let (mut init, _) = container.run();
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"spawned\n"));
    let shim = init.shim_pid();
    let mut orphans = Vec::new();
    eventually(LONG, "two orphans reparented to the shim", || {
        orphans = children_named(shim, "sleep");
        orphans.len() == 2
    });
    for &orphan in &orphans {
        kill(Pid::from_raw(orphan), Signal::SIGKILL).expect("kill orphan");
    }
    eventually(LONG, "the shim reaped its dead orphans", || {
        let left: Vec<i32> = children(shim).into_iter().map(|(pid, _)| pid).collect();
        orphans.iter().all(|orphan| !left.contains(orphan))
    });
    assert!(matches!(init.shim.try_wait(), Ok(None)));
    init.type_in(b"x\n");
    assert_eq!(init.read_stdout(LONG), b"bye\n");
    assert_eq!(init.finish(LONG), b"0");
}

#[test]
fn a_sigkilled_container_reports_137() {
    let container = Container::new(Spec::sh("read x"));
    let (mut init, pid) = container.run();
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill the container");
    assert_eq!(init.finish(LONG), b"137");
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
        shim_pipes(shim).len() == 1
    });
    // Both outputs ended; an exit now would leave the daemon an orphan to kill.
    driver::pause(Duration::from_millis(300));
    assert!(alive(pid));
    assert!(matches!(init.shim.try_wait(), Ok(None)), "the shim exited");
    assert!(!init.dir.wait_exit(Duration::ZERO), "the exit FIFO hung up");
    assert_eq!(init.dir.exit_status(), None);
    init.type_in(b"x\n");
    assert_eq!(init.read_stdout(LONG), b"");
    assert_eq!(init.finish(LONG), b"4");
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
    assert_eq!(exec.read_stdout(LONG), b"");
    assert_eq!(exec.finish(LONG), b"0");
    init.type_in(b"x\n");
    assert_eq!(init.finish(LONG), b"0");
}

// ----------------------------------------------------------------------------------------------
// The control FIFO

fn close_stdin_is_no_eof_while_the_client_still_writes(path: PumpPath) {
    let container = Container::new(Spec::command(&["cat"]).on(path));
    let (mut init, _) = container.run();
    let stdin = init.dir.stdin_path.clone().expect("stdin FIFO");
    let mut writer = open_fifo_writer(&stdin).expect("stdin writer");
    writer.write_all(b"one\n").expect("write");
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"one\n"));
    init.dir.close_stdin().expect("control");
    let shim = init.shim_pid();
    eventually(LONG, "the shim dropped its stdin writer", || {
        fds_on(shim, &stdin) == 1
    });
    // The client's writer is still open: cat still takes input.
    writer.write_all(b"two\n").expect("write");
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"two\n"));
    drop(writer);
    assert_eq!(
        init.read_stdout(LONG),
        b"",
        "EOF once the client closed too"
    );
    assert_eq!(init.finish(LONG), b"0");
}

fn a_closed_client_writer_is_no_eof_until_close_stdin(path: PumpPath) {
    let container = Container::new(Spec::command(&["cat"]).on(path));
    let (mut init, _) = container.run();
    for line in [&b"one\n"[..], b"two\n"] {
        // Each writer is closed at once; the shim's own writer keeps the FIFO from EOF.
        init.type_in(line);
        let stdout = init.dir.stdout.as_mut().expect("stdout");
        read_until(stdout, LONG, |out| out.ends_with(line));
    }
    init.dir.close_stdin().expect("control");
    assert_eq!(init.read_stdout(LONG), b"", "EOF");
    assert_eq!(init.finish(LONG), b"0");
}

#[test]
fn malformed_control_lines_are_skipped_and_the_shim_keeps_working() {
    let container = Container::new(Spec::command(&["cat"]));
    let (mut init, _) = container.run();
    let mut long = vec![b'9'; 200];
    long.extend_from_slice(b" 0 0 0\n");
    let garbage: [&[u8]; 8] = [
        b"garbage\n",
        b"0 0\n",
        b"\xff\xfe\x00\x01\n",
        b"1 80\n",
        b"x 0 0\n",
        &long,
        b"1 80 24\n",
        b"   \n",
    ];
    for line in garbage {
        (&init.dir.control).write_all(line).expect("write control");
    }
    eventually(LONG, "the shim read the control FIFO", || {
        queued_bytes(&init.dir.control) == 0
    });
    // None of it closed stdin: after the client's writer closes, cat still takes input.
    init.type_in(b"still here\n");
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"still here\n"));
    assert_eq!(
        proc_status(init.shim_pid(), "Threads").as_deref(),
        Some("1")
    );
    init.dir.close_stdin().expect("control");
    assert_eq!(init.read_stdout(LONG), b"");
    assert_eq!(init.finish(LONG), b"0");
}

// ----------------------------------------------------------------------------------------------
// One thread

#[test]
fn the_running_shim_has_exactly_one_thread() {
    let container = Container::new(Spec::sh("sleep 30").no_stdin());
    let (init, _) = container.run();
    assert_eq!(
        proc_status(init.shim_pid(), "Threads").as_deref(),
        Some("1")
    );
}

// ----------------------------------------------------------------------------------------------
// The demo driver

fn the_demo_driver_relays_stdio_and_exits_with_the_container_status(path: PumpPath) {
    require_runc();
    let driver = workspace_binary("shim-driver");
    let scratch = Scratch::new("driver");
    let bundle = scratch.path().join("bundle");
    let made = Command::new(&driver)
        .arg("make-bundle")
        .arg(&bundle)
        .status()
        .expect("run make-bundle");
    assert!(made.success(), "make-bundle: {made}");
    let id = format!("ts-drv-{}", unique());
    let mut command = Command::new(&driver);
    command
        .arg("--state")
        .arg(scratch.path().join("state"))
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
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"typed\n")
        .expect("write");
    let output = child.wait_with_output().expect("wait shim-driver");
    let _ = driver::run_runtime("runc", &[], &["delete", "--force", &id]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\nin:typed\n");
    assert!(stderr.starts_with("err\n"), "{stderr}");
}

on_both_pump_paths!(
    init_output_and_exit_status_arrive,
    dev_null_and_empty_stdio_paths_work,
    exec_output_and_status_arrive_and_the_container_runs_on,
    close_stdin_is_no_eof_while_the_client_still_writes,
    a_closed_client_writer_is_no_eof_until_close_stdin,
    the_demo_driver_relays_stdio_and_exits_with_the_container_status,
);
