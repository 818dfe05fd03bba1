//! Terminal processes through the real binary: a real runc and a real PTY for what the container
//! sees (sizes, bulk output and input, close-stdin, hang-up, an exec beside the init), each on
//! both pump paths where bytes move; the fake runtime for the console socket and its failures,
//! the legacy `--console` protocol, and a process gone before its terminal was attached.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tinyshim_testkit::assertions::assert_empty_dir;
use tinyshim_testkit::binaries::fake_runtime;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver::{open_fifo_writer, pause, run_runtime};
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::fifo_reads::read_to_eof;
use tinyshim_testkit::on_both_pump_paths;
use tinyshim_testkit::process::{wait_control_read, Proc};
use tinyshim_testkit::procfs::{alive, children, cpu_ticks, fd_targets};
use tinyshim_testkit::pump_path::PumpPath;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::spec::{Spec, LEGACY_CONSOLE_ENV};
use tinyshim_testkit::wait::{eventually, LONG};

/// 64 MiB, the size of the bulk-output check.
const BULK: usize = 64 << 20;

/// Waits until `fd` is ready for `flags` or `deadline` passes; false on timeout.
fn wait_ready(fd: &File, flags: PollFlags, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return false;
    }
    let mut fds = [PollFd::new(fd.as_fd(), flags)];
    let _ = poll(
        &mut fds,
        PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
    );
    true
}

/// The client's side of a terminal process: the stdin FIFO writer, the stdout FIFO reader and
/// everything read so far.
struct Term {
    stdin_path: Option<PathBuf>,
    /// Opened at the first input: a process that takes none may be gone before.
    stdin: Option<File>,
    stdout: File,
    seen: Vec<u8>,
    /// Where [`Term::expect`] starts looking: the output since the last input.
    mark: usize,
}

impl Term {
    /// Takes the daemon's stdout reader.
    fn attach(proc: &mut Proc) -> Term {
        Term {
            stdin_path: proc.dir.stdin_path.clone(),
            stdin: None,
            stdout: proc.dir.stdout.take().expect("stdout reader"),
            seen: Vec::new(),
            mark: 0,
        }
    }

    /// Reads until `needle` has come since the last input; fails on EOF or timeout.
    fn expect(&mut self, needle: &[u8]) {
        let deadline = Instant::now() + LONG;
        let mut buffer = [0u8; 4096];
        while !self.seen[self.mark..]
            .windows(needle.len())
            .any(|w| w == needle)
        {
            let text = String::from_utf8_lossy(&self.seen);
            let wanted = String::from_utf8_lossy(needle);
            match self.stdout.read(&mut buffer) {
                Ok(0) => panic!("EOF before {wanted:?}; read: {text:?}"),
                Ok(n) => self.seen.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => assert!(
                    wait_ready(&self.stdout, PollFlags::POLLIN, deadline),
                    "no {wanted:?} within {LONG:?}; read: {text:?}"
                ),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("read stdout FIFO: {e}"),
            }
        }
    }

    /// Writes `bytes` to the stdin FIFO, waiting while it is full.
    fn send(&mut self, mut bytes: &[u8]) {
        self.mark = self.seen.len();
        let path = self.stdin_path.as_ref().expect("a stdin FIFO");
        let stdin = match &mut self.stdin {
            Some(stdin) => stdin,
            None => self
                .stdin
                .insert(open_fifo_writer(path).expect("open stdin FIFO")),
        };
        let deadline = Instant::now() + LONG;
        while !bytes.is_empty() {
            match stdin.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => assert!(
                    wait_ready(stdin, PollFlags::POLLOUT, deadline),
                    "{} bytes of input not taken",
                    bytes.len()
                ),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("write stdin FIFO: {e}"),
            }
        }
    }

    /// Closes the client's stdin writer.
    fn close_stdin(&mut self) {
        self.stdin_path = None;
        self.stdin = None;
    }

    /// Reads to EOF, finishes the process ([`Proc::finish`]) checking `exit_status`, and returns
    /// everything the process wrote.
    fn finish(mut self, proc: &mut Proc, exit_status: &[u8]) -> String {
        self.seen.extend(read_to_eof(&mut self.stdout, LONG));
        assert_eq!(proc.finish().exit_status, exit_status, "exitStatus");
        String::from_utf8_lossy(&self.seen).into_owned()
    }
}

/// How many descriptors of `pid` are PTY masters.
fn masters(pid: i32) -> usize {
    fd_targets(pid)
        .iter()
        .filter(|t| t.ends_with("ptmx"))
        .count()
}

/// The entries of a directory, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read directory")
        .map(|e| e.expect("directory entry").path())
        .collect();
    found.sort();
    found
}

// ----------------------------------------------------------------------------------------------
// What the container sees, through runc

fn stty_sees_a_resize_sent_before_start_and_one_after_and_ignores_out_of_range_sizes(
    path: PumpPath,
) {
    let script = "stty size; read a; stty size; read b; stty size; read c; stty size";
    let mut container = Container::new(Spec::sh(script).tty().on(path));
    let tmp = container.private_tmpdir();
    let dir = container.process_dir("init", &container.init_options());
    // Written before the shim exists, so it is read before any master can have come.
    dir.resize(100, 30).expect("resize");
    let mut init = container.spawn_in(dir);
    init.wait_pid();
    container.start();
    let mut term = Term::attach(&mut init);
    term.expect(b"30 100\r\n");

    // While it runs: the socket directory is gone, and the stderr FIFO was never opened.
    assert_empty_dir(&tmp, "while it runs");
    let targets = fd_targets(init.shim_pid());
    assert!(
        targets.contains(&init.dir.stdout_path),
        "the shim holds the stdout FIFO: {targets:?}"
    );
    assert!(
        !targets.contains(&init.dir.stderr_path),
        "the shim opened the stderr FIFO: {targets:?}"
    );
    // The master kept for resizes, and one for each pump.
    assert_eq!(masters(init.shim_pid()), 3, "{targets:?}");

    init.dir.resize(132, 43).expect("resize");
    wait_control_read(&init.dir);
    term.send(b"a\n");
    term.expect(b"43 132\r\n");

    // Truncated to 16 bits these would be sizes (65536 is 0, -1 is 65535): all are ignored.
    for (width, height) in [(65536, 50), (-1, 20), (80, -1), (70000, 70000)] {
        init.dir.send_control(1, width, height).expect("resize");
    }
    wait_control_read(&init.dir);
    term.send(b"b\n");
    term.expect(b"b\r\n43 132\r\n");
    term.send(b"c\n");

    let text = term.finish(&mut init, b"0");
    assert_eq!(
        text,
        "30 100\r\na\r\n43 132\r\nb\r\n43 132\r\nc\r\n43 132\r\n"
    );
    assert_empty_dir(&tmp, "after the exit");
}

#[test]
fn tty_names_a_pts_device() {
    let container = Container::new(Spec::sh("tty").tty().no_stdin());
    let (mut init, _) = container.run();
    let text = Term::attach(&mut init).finish(&mut init, b"0");
    let number = text
        .strip_prefix("/dev/pts/")
        .and_then(|rest| rest.strip_suffix("\r\n"))
        .unwrap_or_default();
    assert!(
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        "tty printed {text:?}"
    );
}

fn sixty_four_mib_written_to_the_terminal_arrive_complete(path: PumpPath) {
    let spec = Spec::sh(&format!("head -c {BULK} /dev/zero"))
        .tty()
        .no_stdin();
    let container = Container::new(spec.on(path));
    let (mut init, _) = container.run();
    let end = init.finish();
    assert_eq!(end.exit_status, b"0");
    assert_eq!(end.stdout.len(), BULK, "bytes received");
    assert!(
        end.stdout.iter().all(|&b| b == 0),
        "only zeros were written"
    );
}

fn input_larger_than_every_buffer_reaches_the_terminal_complete(path: PumpPath) {
    const INPUT: usize = 8 << 20;
    let script = format!("stty raw -echo; echo ready; head -c {INPUT} | wc -c");
    let container = Container::new(Spec::sh(&script).tty().on(path));
    let (mut init, _) = container.run();
    let mut term = Term::attach(&mut init);
    // Raw mode is on once the container says so; earlier input would be echoed.
    term.expect(b"ready\n");
    term.send(&vec![b'x'; INPUT]);
    let text = term.finish(&mut init, b"0");
    assert_eq!(text.trim_end(), format!("ready\n{INPUT}"));
}

#[test]
fn a_terminal_exec_runs_beside_a_terminal_init() {
    let mut container = Container::new(Spec::sh("tty; read x; echo init-$x").tty());
    let tmp = container.private_tmpdir();
    let (mut init, _) = container.run();
    let mut init_term = Term::attach(&mut init);
    init_term.expect(b"\r\n");
    let init_tty = String::from_utf8_lossy(&init_term.seen)
        .trim_end()
        .to_string();

    let script = "tty; read x; stty size; read y; echo got-$y; exit 5";
    let mut exec = container.spawn_exec("exec1", &["sh", "-c", script], true);
    exec.wait_pid();
    let mut term = Term::attach(&mut exec);
    term.expect(b"\r\n");
    exec.dir.resize(90, 20).expect("resize");
    wait_control_read(&exec.dir);
    term.send(b"x\n");
    term.expect(b"20 90\r\n");
    term.send(b"hello\n");
    let text = term.finish(&mut exec, b"5");
    let exec_tty = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_string();
    assert!(init_tty.starts_with("/dev/pts/"), "init tty {init_tty:?}");
    assert!(exec_tty.starts_with("/dev/pts/"), "exec tty {exec_tty:?}");
    assert_ne!(init_tty, exec_tty, "the exec has its own terminal");
    assert_eq!(
        text,
        format!("{exec_tty}\r\nx\r\n20 90\r\nhello\r\ngot-hello\r\n")
    );
    assert_empty_dir(&tmp, "after the exec");

    // The init was not disturbed.
    init_term.send(b"still\n");
    let text = init_term.finish(&mut init, b"0");
    assert_eq!(text, format!("{init_tty}\r\nstill\r\ninit-still\r\n"));
}

fn close_stdin_in_terminal_mode_neither_hangs_up_nor_blocks_input(path: PumpPath) {
    let script = "while read l; do echo got-$l; done; echo eof-seen";
    let container = Container::new(Spec::sh(script).tty().on(path));
    let (mut init, pid) = container.run();
    let stdin_path = init.dir.stdin_path.clone().expect("stdin FIFO");
    let mut term = Term::attach(&mut init);
    term.send(b"one\n");
    term.expect(b"got-one\r\n");

    init.dir.close_stdin().expect("0 0 0");
    wait_control_read(&init.dir);
    term.send(b"two\n");
    term.expect(b"got-two\r\n");

    // With the shim's own writer gone, the client's close ends the stdin pump, and only
    // that: a terminal has no end-of-file, the container keeps its terminal and runs on.
    term.close_stdin();
    eventually(LONG, "the shim lets go of the stdin FIFO", || {
        !fd_targets(init.shim_pid()).contains(&stdin_path)
    });
    // Room for a wrong hang-up to show before the container is killed.
    pause(Duration::from_millis(300));
    assert!(alive(pid), "the container runs on");
    run_runtime("runc", &[], &["kill", &container.id, "KILL"]).expect("runc kill");
    let text = term.finish(&mut init, b"137");
    assert_eq!(text, "one\r\ngot-one\r\ntwo\r\ngot-two\r\n");
}

fn a_hung_up_terminal_ends_output_without_spinning(path: PumpPath) {
    let script = "echo closing; exec 0<&- 1>&- 2>&-; exec sleep 60";
    let container = Container::new(Spec::sh(script).tty().on(path));
    let (mut init, pid) = container.run();
    let shim = init.shim_pid();
    let mut term = Term::attach(&mut init);
    term.expect(b"closing\r\n");
    // The master reports EIO once the last slave is closed: the output pump drops its
    // master; the one kept for resizes and the stdin pump's remain.
    eventually(LONG, "the output pump ends on the hang-up", || {
        masters(shim) == 2
    });
    // Input for a hung-up terminal goes nowhere; it must not make the loop spin either.
    term.send(b"lost\n");
    let before = cpu_ticks(shim);
    pause(Duration::from_secs(1));
    let spent = cpu_ticks(shim) - before;
    assert!(alive(pid), "the container still runs");
    // A loop spinning on the hang-up would spend about the whole second.
    assert!(spent <= 20, "the shim used {spent} ticks in an idle second");
    init.dir.resize(10, 10).expect("resize a hung-up terminal");
    run_runtime("runc", &[], &["kill", &container.id, "KILL"]).expect("runc kill");
    let text = term.finish(&mut init, b"137");
    assert_eq!(text, "closing\r\n");
    assert_eq!(init.shim_log(), "", "the hang-up is no error");
}

// ----------------------------------------------------------------------------------------------
// The console socket, through the fake runtime

/// One way of failing to hand over a terminal: whatever the runtime did, the shim writes one
/// error entry naming the console socket and the reason, runs `delete`, exits 1, hangs up the
/// exit FIFO, removes the socket directory and leaves nothing running.
fn console_failure(mode: &str, reason: &str, child_started: bool) {
    let what = format!("FAKE_CONSOLE={mode} FAKE_CONSOLE_CHILD={child_started}");
    let mut spec = Spec::fake("exec sleep 60").tty().env("FAKE_CONSOLE", mode);
    if child_started {
        spec = spec.env("FAKE_CONSOLE_CHILD", "1");
    }
    let fake = Fake::new(spec);
    let mut init = fake.container.spawn_init();
    let error = init.refused();
    let socket = fake
        .flag_value("--console-socket")
        .expect("--console-socket");
    assert_eq!(
        error,
        format!("console socket {socket}: {reason}"),
        "{what}"
    );
    fake.assert_deleted_last(&what);
    match (child_started, init.dir.read_pid()) {
        (true, Some(pid)) => eventually(LONG, "the started child is killed", || !alive(pid)),
        (true, None) => panic!("{what}: the fake runtime wrote no pid"),
        (false, _) => {}
    }
    fake.assert_nothing_left(&what);
}

#[test]
fn every_failure_to_hand_over_a_terminal_is_one_clear_error() {
    let exited = format!("{} exited without sending a terminal", fake_runtime());
    let cases = [
        ("nofd", "message carried no descriptor"),
        (
            "close",
            "the runtime closed the connection without sending a terminal",
        ),
        ("two", "received 2 descriptors, expected exactly one"),
        ("notty", "the received descriptor is not a terminal"),
        ("none", exited.as_str()),
    ];
    for (mode, reason) in cases {
        for child_started in [false, true] {
            console_failure(mode, reason, child_started);
        }
    }
}

#[test]
fn the_console_socket_directory_is_private_and_removed_when_the_runtime_dies() {
    let fake = Fake::new(
        Spec::fake("exec sleep 60")
            .tty()
            .env("FAKE_CONSOLE", "none")
            .env("FAKE_START", "hang"),
    );
    let mut init = fake.container.spawn_init();
    eventually(LONG, "the runtime's create call", || {
        fake.flag_value("--console-socket").is_some()
    });
    let socket = PathBuf::from(fake.flag_value("--console-socket").expect("socket"));
    let dir = socket.parent().expect("socket directory").to_path_buf();
    assert_eq!(
        entries(fake.tmpdir()),
        vec![dir.clone()],
        "made under TMPDIR"
    );
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    assert!(name.starts_with("tinyshim-pty."), "directory name {name}");
    let meta = std::fs::symlink_metadata(&dir).expect("stat socket directory");
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o700, "directory mode");
    let socket_meta = std::fs::symlink_metadata(&socket).expect("stat socket");
    assert!(socket_meta.file_type().is_socket(), "{}", socket.display());
    assert_eq!(entries(&dir), vec![socket.clone()]);

    // The hanging runtime is the shim's only child.
    let runtime: Vec<i32> = children(init.shim_pid()).iter().map(|c| c.0).collect();
    assert_eq!(runtime.len(), 1, "the runtime runs: {runtime:?}");
    kill(Pid::from_raw(runtime[0]), Signal::SIGKILL).expect("kill the hanging runtime");
    let status = init.wait_shim(LONG);
    // A failed runtime speaks for itself in its log.json: no error entry from the shim.
    assert!(status.success(), "shim exit {status}: {}", init.shim_log());
    assert!(init.shim_errors().is_empty(), "{}", init.shim_log());
    assert_empty_dir(fake.tmpdir(), "after the runtime died");
    fake.assert_deleted_last("after the runtime died");
}

#[test]
fn a_console_socket_that_cannot_be_bound_leaves_no_directory() {
    // sun_path holds 108 bytes: this TMPDIR leaves no room for the socket's name.
    let scratch = Scratch::new("tmpdir");
    let deep = scratch.path().join("d".repeat(100));
    std::fs::create_dir(&deep).expect("deep TMPDIR");
    let fake = Fake::new(
        Spec::fake("exec sleep 60")
            .tty()
            .env("TMPDIR", &deep.display().to_string()),
    );
    let mut init = fake.container.spawn_init();
    let error = init.refused();
    let prefix = format!("console socket {}/tinyshim-pty.", deep.display());
    assert!(error.starts_with(&prefix), "{error:?}");
    assert_eq!(entries(&deep), Vec::<PathBuf>::new(), "TMPDIR");
    assert_eq!(fake.calls(), Vec::new(), "the runtime never ran");
}

#[test]
fn a_missing_tmpdir_is_one_error_naming_mkdtemp() {
    let dangling = "/nonexistent-tinyshim-tmpdir";
    let fake = Fake::new(Spec::fake("echo never").tty().env("TMPDIR", dangling));
    let mut init = fake.container.spawn_init();
    let needle = format!("mkdtemp {dangling}/tinyshim-pty.XXXXXX: No such file or directory");
    fake.assert_refused(&mut init, "TMPDIR", &needle);
    assert_eq!(fake.calls(), Vec::new(), "the runtime ran");

    // A relative one is named as the absolute path the shim tried.
    let fake = Fake::new(Spec::fake("echo never").tty().env("TMPDIR", "missing"));
    let mut init = fake.container.spawn_init();
    let needle = format!(
        "mkdtemp {}/missing/tinyshim-pty.XXXXXX: No such file or directory",
        init.dir.dir.display()
    );
    fake.assert_refused(&mut init, "relative TMPDIR", &needle);
    assert_eq!(fake.calls(), Vec::new(), "the runtime ran");
}

#[test]
fn a_relative_tmpdir_is_taken_from_the_process_directory() {
    // The runtime runs in the bundle: the console socket it is given must not be relative.
    for tmpdir in [".", "sub"] {
        let container = Container::new(Spec::sh("tty").tty().no_stdin().env("TMPDIR", tmpdir));
        let mut init = container.spawn_prepared("init", &container.init_options(), |dir| {
            std::fs::create_dir_all(dir.dir.join(tmpdir)).expect("make TMPDIR");
        });
        init.wait_pid();
        container.start();
        let text = Term::attach(&mut init).finish(&mut init, b"0");
        assert!(text.starts_with("/dev/pts/"), "TMPDIR={tmpdir}: {text:?}");
        let left: Vec<_> = std::fs::read_dir(init.dir.dir.join(tmpdir))
            .expect("list TMPDIR")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("tinyshim-pty."))
            .collect();
        assert!(left.is_empty(), "TMPDIR={tmpdir}: {left:?} left behind");
    }
}

#[test]
fn a_terminal_exec_the_runtime_refuses_leaves_no_socket_directory() {
    let mut container = Container::new(Spec::sh("exec sleep 60").no_stdin());
    let tmp = container.private_tmpdir();
    let (_init, pid) = container.run();
    let mut exec = container.spawn_exec("bad", &["/no/such/program"], true);
    let status = exec.wait_shim(LONG);
    // The runtime's failure is for its own log.json to explain, as for any runtime error.
    assert!(status.success(), "shim exit {status}: {}", exec.shim_log());
    assert!(exec.shim_errors().is_empty(), "{}", exec.shim_log());
    let reported = exec.dir.start_error().unwrap_or_default();
    assert!(
        reported.starts_with("oci runtime error: ") && reported.contains("/no/such/program"),
        "{reported:?}"
    );
    assert!(exec.dir.wait_exit(LONG), "exit FIFO hung up");
    assert_empty_dir(&tmp, "after the refused exec");
    assert!(alive(pid), "the init runs on");
}

// ----------------------------------------------------------------------------------------------
// The legacy console, and a process gone before its terminal was attached

fn a_legacy_console_is_a_private_pty_that_resizes_apply_to(path: PumpPath) {
    let script = "read a; stty size; read b; stty size; read c; stty size; printf done";
    let fake = Fake::new(
        Spec::fake(script)
            .tty()
            .env(LEGACY_CONSOLE_ENV, "1")
            .on(path),
    );
    let mut options = fake.container.init_options();
    options.root_ids = (4242, 4343);
    let dir = fake.container.process_dir("init", &options);
    dir.resize(100, 30).expect("resize");
    let mut init = fake.container.spawn_in(dir);
    init.wait_pid();

    let slave = PathBuf::from(fake.flag_value("--console").expect("--console"));
    assert!(slave.starts_with("/dev/pts/"), "{}", slave.display());
    assert_eq!(fake.flag_value("--console-socket"), None);
    let meta = std::fs::metadata(&slave).expect("stat the slave");
    assert!(meta.file_type().is_char_device());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600, "mode");
    assert_eq!((meta.uid(), meta.gid()), (4242, 4343), "owner");
    assert_empty_dir(fake.tmpdir(), "with a legacy console");

    // The fake runtime's child runs at once: it waits for input, which reaches it only
    // through the attached master, after the pending size was applied.
    let mut term = Term::attach(&mut init);
    term.send(b"a\n");
    term.expect(b"30 100\r\n");
    init.dir.resize(132, 43).expect("resize");
    wait_control_read(&init.dir);
    term.send(b"b\n");
    term.expect(b"43 132\r\n");
    // The ends of the accepted range, which the host's stty prints as they are.
    init.dir.send_control(1, 65535, 0).expect("resize");
    init.dir.send_control(1, 65536, 7).expect("resize");
    wait_control_read(&init.dir);
    term.send(b"c\n");

    let text = term.finish(&mut init, b"0");
    assert_eq!(text, "a\r\n30 100\r\nb\r\n43 132\r\nc\r\n0 65535\r\ndone");
    fake.assert_deleted_last("legacy console");
}

fn output_of_a_process_gone_before_its_master_was_attached_arrives(path: PumpPath) {
    let spec = Spec::fake("echo early; exit 7").tty().on(path);
    for (what, spec) in [
        ("legacy", spec.clone().env(LEGACY_CONSOLE_ENV, "1")),
        ("console socket", spec),
    ] {
        let fake = Fake::new(spec.env("FAKE_CHILD_EXITS_FIRST", "1"));
        let mut init = fake.container.spawn_init();
        init.wait_pid();
        let text = Term::attach(&mut init).finish(&mut init, b"7");
        assert_eq!(text, "early\r\n", "{what}");
        assert_eq!(init.shim_log(), "", "{what}");
        fake.assert_deleted_last(what);
        assert_empty_dir(fake.tmpdir(), what);
    }
}

/// Not on both pump paths: with nobody on the slave, no byte can move either way (the master
/// reads and writes EIO), so nothing could show which path ran. The copy path's handling of a
/// master's EIO is proven by `a_hung_up_terminal_ends_output_without_spinning::copy`.
#[test]
fn a_legacy_terminal_nobody_opened_does_not_keep_the_shim_alive() {
    let fake = Fake::new(
        Spec::fake("exit 3")
            .tty()
            .env(LEGACY_CONSOLE_ENV, "1")
            .env("FAKE_CONSOLE", "none"),
    );
    let mut init = fake.container.spawn_init();
    init.wait_pid();
    let text = Term::attach(&mut init).finish(&mut init, b"3");
    assert_eq!(text, "");
    fake.assert_deleted_last("nobody opened the terminal");
}

on_both_pump_paths!(
    stty_sees_a_resize_sent_before_start_and_one_after_and_ignores_out_of_range_sizes,
    sixty_four_mib_written_to_the_terminal_arrive_complete,
    input_larger_than_every_buffer_reaches_the_terminal_complete,
    close_stdin_in_terminal_mode_neither_hangs_up_nor_blocks_input,
    a_hung_up_terminal_ends_output_without_spinning,
    a_legacy_console_is_a_private_pty_that_resizes_apply_to,
    output_of_a_process_gone_before_its_master_was_attached_arrives,
);
