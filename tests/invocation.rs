//! How the shim is started, through the real binary: its arguments, its working directory, the
//! descriptors it inherits and opens, the runtime and bundle it is given, and the one thread it
//! runs on.

use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tinyshim_testkit::binaries::{fake_runtime, shim_binary};
use tinyshim_testkit::container::Container;
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::process::the_one_error;
use tinyshim_testkit::procfs::{fd_flags, fd_target, open_fds, threads};
use tinyshim_testkit::scratch::{canonical, Scratch};
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

/// The access mode bits and the close-on-exec bit of an open file's flags (`fdinfo`, octal).
const O_ACCMODE: u32 = nix::libc::O_ACCMODE as u32;
const O_CLOEXEC: u32 = nix::libc::O_CLOEXEC as u32;

/// Runs the shim with `args` in `dir`, with `/dev/null` for stdin and stderr; returns its exit
/// status and what it printed.
fn run_shim_in(dir: &Path, args: &[&str]) -> (ExitStatus, String) {
    let mut shim = Command::new(shim_binary())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the shim");
    let mut status = None;
    eventually(LONG, "the shim exits", || {
        status = shim.try_wait().expect("try_wait");
        status.is_some()
    });
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut shim.stdout.take().expect("stdout"), &mut printed)
        .expect("read what the shim printed");
    (status.expect("exited"), printed)
}

/// `<dir>/shim-log.json`.
fn shim_log_in(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("shim-log.json")).unwrap_or_default()
}

#[test]
fn version_and_help_print_and_exit_0_without_writing_a_log() {
    let scratch = Scratch::new("version");
    for (flag, start) in [
        ("--version", "containerd-shim"),
        ("--help", "usage: containerd-shim <id> <bundle> <runtime>"),
    ] {
        let (status, text) = run_shim_in(scratch.path(), &[flag]);
        assert!(status.success(), "{flag}: {status}");
        assert!(text.starts_with(start), "{flag} printed {text:?}");
    }
    assert!(!scratch.path().join("shim-log.json").exists());
}

#[test]
fn a_bad_argv_is_one_error_naming_it_and_exit_1() {
    let scratch = Scratch::new("argv");
    let count = |n: usize| {
        format!("containerd-shim arguments: expected <id> <bundle> <runtime>, got {n} argument(s)")
    };
    let cases: [(&[&str], String); 7] = [
        (&[], count(0)),
        (&["id"], count(1)),
        (&["id", "/bundle"], count(2)),
        (&["id", "/bundle", "runc", "extra"], count(4)),
        (&["id", "/bundle", "runc", "x", "y"], count(5)),
        (
            &["", "/bundle", "runc"],
            "id must be non-empty UTF-8".into(),
        ),
        (
            &["id", "/bundle", ""],
            "runtime must be non-empty UTF-8".into(),
        ),
    ];
    for (i, (args, needle)) in cases.iter().enumerate() {
        let cwd = scratch.path().join(i.to_string());
        std::fs::create_dir(&cwd).expect("mkdir");
        let (status, _) = run_shim_in(&cwd, args);
        assert_eq!(status.code(), Some(1), "{args:?}");
        let message = the_one_error(&shim_log_in(&cwd));
        assert!(
            message.starts_with("containerd-shim arguments: ") && message.contains(needle),
            "{args:?}: {message:?}"
        );
    }
}

#[test]
fn a_working_directory_without_the_exit_fifo_is_one_error_naming_it_and_exit_1() {
    // The arguments are right, but the working directory is not a process directory.
    let scratch = Scratch::new("cwd");
    let (status, _) = run_shim_in(scratch.path(), &["id", "/bundle", "runc"]);
    assert_eq!(status.code(), Some(1));
    let message = the_one_error(&shim_log_in(scratch.path()));
    let exit = scratch.path().join("exit");
    assert!(
        message.contains(&format!("open {}", exit.display())),
        "{message:?}"
    );
}

#[test]
fn descriptors_inherited_from_a_leaky_parent_are_closed_at_start() {
    let fake = Fake::sh("exec sleep 1000");
    let dir = fake
        .container
        .process_dir("init", &fake.container.init_options());
    // A pipe without close-on-exec, as a careless parent would leave it: the shim inherits the
    // write end. (A shim spawned by another test meanwhile inherits it too, and must close it.)
    let (read, write) = nix::unistd::pipe().expect("pipe");
    let mut init = fake.container.spawn_in(dir);
    drop(write);
    init.wait_pid();
    // EOF on the read end means no process holds the write end: not the shim, not the runtime,
    // not the process the runtime started.
    let mut fds = [PollFd::new(read.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::from(10_000u16)).expect("poll");
    assert_eq!(ready, 1, "the inherited write end is still open somewhere");
    let mut byte = [0u8; 1];
    assert_eq!(nix::unistd::read(&read, &mut byte).expect("read"), 0, "EOF");
    fake.assert_calls_started_clean();
    let child = fake.child().expect("the fake started a child");
    kill(Pid::from_raw(child), Signal::SIGKILL).expect("kill");
    assert_eq!(init.finish().exit_status, b"137");
}

#[test]
fn control_is_read_write_exit_write_only_and_every_shim_descriptor_close_on_exec() {
    let container = Container::new(Spec::sh("read x"));
    let (mut init, _) = container.run();
    let shim = init.shim_pid();
    let dir = canonical(&init.dir.dir);
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
    assert_eq!(init.finish().exit_status, b"0");
}

#[test]
fn the_running_shim_has_exactly_one_thread() {
    let container = Container::new(Spec::sh("sleep 30").no_stdin());
    let (init, _) = container.run();
    assert_eq!(threads(init.shim_pid()), "1");
}

#[test]
fn a_missing_runtime_is_refused_in_the_originals_words() {
    for (runtime, log) in [
        (
            "tinyshim-no-such-runtime",
            r#"{"level": "error","msg": "tinyshim-no-such-runtime not installed on system"}"#,
        ),
        (
            "/nonexistent/\"quoted\" runtime",
            r#"{"level": "error","msg": "/nonexistent/\"quoted\" runtime not installed on system"}"#,
        ),
    ] {
        let mut spec = Spec::fake("echo never");
        spec.runtime = runtime.into();
        let fake = Fake::new(spec);
        let mut init = fake.container.spawn_init();
        let message = fake.assert_refused(&mut init, runtime, "not installed on system");
        assert_eq!(message, format!("{runtime} not installed on system"));
        assert_eq!(init.shim_log(), log, "byte for byte the original's entry");
    }
}

#[test]
fn a_missing_bundle_is_one_error_naming_the_failed_spawn() {
    let fake = Fake::sh("echo never");
    std::fs::remove_dir_all(&fake.container.bundle).expect("remove bundle");
    let mut init = fake.container.spawn_init();
    let needle = format!("spawn {} create: No such file or directory", fake_runtime());
    fake.assert_refused(&mut init, "bundle", &needle);
    assert_eq!(fake.calls(), Vec::new(), "the runtime ran");
}
