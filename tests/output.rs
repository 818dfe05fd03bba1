//! The output pumps through the real binary and a real runc, each test on both pump paths: what
//! the process writes arrives whole and in order, whether the client reads late, stops reading,
//! goes away and comes back, or the daemon restarts; output left in the pipes at exit is drained.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver::{self, open_fifo_reader, ProcessDir};
use tinyshim_testkit::fifo_reads::{read_at_least, read_fifo, read_to_eof, read_until};
use tinyshim_testkit::on_both_pump_paths;
use tinyshim_testkit::process::Proc;
use tinyshim_testkit::procfs::{
    alive, children, ended, fd_targets, in_syscall, io_counter, rss_kib, threads,
};
use tinyshim_testkit::pump_path::PumpPath;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

/// The shim's memory ceiling while a container writes into a client that does not read: a few
/// times what the shim needs, far below the 64 MiB a buffering shim would take.
const RSS_CEILING_KIB: u64 = 16 * 1024;

/// The most the container pipe and the client FIFO of one output stream hold together: a stream
/// enlarges both to `STREAMING_CAPACITY` (see `pipe_capacity.rs`).
const STREAM_BUFFERED: usize = 2 * tinyshim::io::pipe::STREAMING_CAPACITY;

fn stdout_of(proc: &mut Proc) -> &mut File {
    proc.dir.stdout.as_mut().expect("stdout reader")
}

fn init_output_and_exit_status_arrive(path: PumpPath) {
    let container = Container::new(Spec::sh("echo out; echo err >&2; exit 3").on(path));
    let (mut init, _) = container.run();
    let end = init.finish();
    assert_eq!(end.stdout, b"out\n");
    assert_eq!(end.stderr, b"err\n");
    assert_eq!(end.exit_status, b"3", "decimal, no newline");
    assert!(
        init.dir.dir.join("shim-log.json").exists(),
        "shim-log.json is created at start-up"
    );
    assert_eq!(init.shim_log(), "", "nothing logged on success");
}

fn exec_output_and_status_arrive_and_the_container_runs_on(path: PumpPath) {
    let container = Container::new(Spec::sh("read x; exit 0").on(path));
    let (mut init, pid) = container.run();
    let mut exec = container.spawn_exec(
        "exec1",
        &["sh", "-c", "echo eout; echo eerr >&2; exit 9"],
        false,
    );
    exec.wait_pid();
    let end = exec.finish();
    assert_eq!(end.stdout, b"eout\n");
    assert_eq!(end.stderr, b"eerr\n");
    assert_eq!(end.exit_status, b"9");
    assert_eq!(exec.shim_log(), "");
    assert!(alive(pid) && matches!(init.shim.try_wait(), Ok(None)));
    init.type_in(b"x\n");
    assert_eq!(init.finish().exit_status, b"0");
}

fn client_fifos_open_without_a_client_reader_and_output_waits_for_one(path: PumpPath) {
    let container = Container::new(Spec::sh("echo early; echo e2 >&2; read x; echo late").on(path));
    let mut init = container.spawn_prepared("init", &container.init_options(), |dir| {
        // A daemon slow to open its readers: the shim must not wait for them.
        dir.stdout = None;
        dir.stderr = None;
    });
    let pid = init.wait_pid();
    container.start();
    // "early\n" and "e2\n", written while no client reader exists.
    eventually(LONG, "the container wrote its first lines", || {
        io_counter(pid, "wchar") >= 9
    });
    init.dir.stdout = Some(open_fifo_reader(&init.dir.stdout_path).expect("open stdout"));
    init.dir.stderr = Some(open_fifo_reader(&init.dir.stderr_path).expect("open stderr"));
    read_until(stdout_of(&mut init), LONG, |out| out == b"early\n");
    let stderr = init.dir.stderr.as_mut().expect("stderr");
    read_until(stderr, LONG, |out| out == b"e2\n");
    init.type_in(b"x\n");
    let end = init.finish();
    assert_eq!(end.stdout, b"late\n");
    assert_eq!(end.stderr, b"");
    assert_eq!(end.exit_status, b"0");
}

fn two_mib_written_just_before_exit_arrive_completely(path: PumpPath) {
    let container = Container::new(Spec::sh("seq 1 300000; exit 5").no_stdin().on(path));
    let (mut init, _) = container.run();
    let end = init.finish();
    assert_same_bytes(&end.stdout, &seq_text(300_000));
    assert_eq!(end.exit_status, b"5");
}

fn output_still_in_the_pipes_when_the_target_is_reaped_is_drained(path: PumpPath) {
    // 1288895 bytes: more than the FIFO holds, less than the container pipe and the FIFO hold
    // together, so the process can write it all and exit while the client has read nothing,
    // and part of it is still in the container's pipe when the target is reaped.
    assert!((STREAM_BUFFERED / 2..STREAM_BUFFERED).contains(&seq_text(200_000).len()));
    let container = Container::new(Spec::sh("seq 1 200000; exit 6").no_stdin().on(path));
    let (mut init, _) = container.run();
    eventually(LONG, "the target reaped", || {
        init.dir.exit_status() == Some(6)
    });
    let shim = init.shim_pid();
    eventually(LONG, "kill --all done", || children(shim).is_empty());
    // The rest of the output is in the pipes: the shim must wait for the client, however long.
    assert!(
        !init.dir.wait_exit(Duration::from_millis(500)),
        "the shim ended before the client read the output"
    );
    let end = init.finish();
    assert_same_bytes(&end.stdout, &seq_text(200_000));
    assert_eq!(end.exit_status, b"6");
}

fn a_client_that_stops_reading_stops_the_container_not_the_shims_memory(path: PumpPath) {
    // 62888896 bytes.
    const LAST: u64 = 8_000_000;
    let container = Container::new(Spec::command(&["seq", "1", "8000000"]).no_stdin().on(path));
    let (mut init, pid) = container.run();
    let shim = init.shim_pid();
    // Blocked for good: on a loaded machine the first block may come before the shim has
    // enlarged the pipes, so it is the count of bytes written that must stop growing.
    let mut written = io_counter(pid, "wchar");
    eventually(LONG, "the container blocked writing for good", || {
        driver::pause(Duration::from_millis(200));
        let now = io_counter(pid, "wchar");
        let stopped = now == written && in_syscall(pid, nix::libc::SYS_write);
        written = now;
        stopped
    });
    assert_eq!(init.dir.exit_status(), None);
    let written = written as usize;
    assert!(
        written < STREAM_BUFFERED + (1 << 20),
        "the container wrote {written} bytes while nobody read"
    );
    assert!(
        rss_kib(shim) < RSS_CEILING_KIB,
        "shim RSS {} KiB",
        rss_kib(shim)
    );
    assert_eq!(threads(shim), "1");
    // Reading resumes: check the shim at a few points of the transfer.
    let mut next_check = 8 << 20;
    let mut peak_rss = 0;
    let (out, eof) = read_fifo(stdout_of(&mut init), LONG, |out| {
        if out.len() >= next_check {
            next_check += 8 << 20;
            assert_eq!(threads(shim), "1", "during the transfer");
            peak_rss = peak_rss.max(rss_kib(shim));
            // The copy path reads every byte into the shim; splice reads none of them.
            let read = io_counter(shim, "rchar");
            match path {
                PumpPath::Copy => assert!(read as usize >= out.len() - (1 << 20), "{read}"),
                PumpPath::Splice => assert!(read < 4 << 20, "splice path read {read} bytes"),
            }
        }
        false
    });
    assert!(eof);
    assert!(peak_rss < RSS_CEILING_KIB, "shim RSS {peak_rss} KiB");
    assert_same_bytes(&out, &seq_text(LAST));
    assert_eq!(init.finish().exit_status, b"0");
}

fn a_client_that_goes_away_and_comes_back_loses_nothing(path: PumpPath) {
    // 4088895 bytes: after the first 256 KiB, more than the stream's pipes hold, so the
    // container blocks while the client is away.
    assert!(seq_text(600_000).len() > STREAM_BUFFERED + (256 << 10));
    let container = Container::new(Spec::command(&["seq", "1", "600000"]).no_stdin().on(path));
    let (mut init, pid) = container.run();
    let first = read_until(stdout_of(&mut init), LONG, |out| out.len() >= 256 << 10);
    // The client goes: its reader closes mid-stream.
    init.dir.stdout = None;
    eventually(LONG, "the container blocked writing", || {
        in_syscall(pid, nix::libc::SYS_write)
    });
    assert!(matches!(init.shim.try_wait(), Ok(None)));
    assert_eq!(init.dir.exit_status(), None);
    init.dir.stdout = Some(open_fifo_reader(&init.dir.stdout_path).expect("reopen stdout"));
    let mut all = first;
    let end = init.finish();
    all.extend(end.stdout);
    assert_same_bytes(&all, &seq_text(600_000));
    assert_eq!(end.exit_status, b"0");
}

/// The daemon dies: every descriptor it held on the process closes.
fn daemon_dies(dir: &mut ProcessDir, stdin: File) {
    drop(stdin);
    dir.stdout = None;
    dir.stderr = None;
    dir.exit = OwnedFd::from(File::open("/dev/null").expect("open /dev/null"));
    dir.control = File::open("/dev/null").expect("open /dev/null");
    let held: Vec<_> = fd_targets(std::process::id() as i32)
        .into_iter()
        .filter(|target| target.starts_with(&dir.container_dir))
        .collect();
    assert!(held.is_empty(), "the dead daemon still holds {held:?}");
}

/// A new daemon re-opens what containerd's `loadProcess` and the client re-open: `exit`
/// read-only non-blocking, `control` read-write non-blocking, and the client FIFOs; the stdin
/// writer it returns needs a shim still reading.
fn daemon_restarts(dir: &mut ProcessDir) -> File {
    daemon_reopens_outputs(dir);
    let stdin_path = dir.stdin_path.as_ref().expect("stdin FIFO");
    driver::open_fifo_writer(stdin_path).expect("re-open stdin")
}

/// What a new daemon re-opens whether or not the process still runs: `exit`, `control` and the
/// output FIFOs.
fn daemon_reopens_outputs(dir: &mut ProcessDir) {
    let exit = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(dir.dir.join("exit"))
        .expect("re-open exit");
    dir.exit = exit.into();
    dir.control = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(dir.dir.join("control"))
        .expect("re-open control");
    dir.stdout = Some(open_fifo_reader(&dir.stdout_path).expect("re-open stdout"));
    dir.stderr = Some(open_fifo_reader(&dir.stderr_path).expect("re-open stderr"));
}

/// The daemon dies while the container writes, and a new one takes over: nothing is lost or
/// reordered, the container never sees a broken pipe, control and the exit FIFO still work.
fn a_daemon_restart_mid_output_loses_nothing(path: PumpPath) {
    // Far more output than the pipes and FIFOs hold, so the container is still writing, or
    // blocked writing, while no daemon is there. Each writer checks its writes: a broken pipe
    // (EPIPE, or SIGPIPE killing `seq`) turns into exit status 90 or 91 instead of 7.
    const OUT: u64 = 200_000;
    const ERR: u64 = 150_000;
    let container = Container::new(
        Spec::sh(&format!(
            "seq 1 {ERR} >&2 & seq 1 {OUT} || exit 90; wait $! || exit 91; cat; exit 7"
        ))
        .on(path),
    );
    let (mut init, pid) = container.run();
    let mut stdin = init.open_stdin();
    stdin.write_all(b"before\n").expect("write stdin");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    {
        let dir = &mut init.dir;
        let (Some(stdout), Some(stderr)) = (dir.stdout.as_mut(), dir.stderr.as_mut()) else {
            panic!("daemon readers");
        };
        read_at_least([(stdout, &mut out, 4096), (stderr, &mut err, 0)], LONG);
    }

    daemon_dies(&mut init.dir, stdin);
    driver::pause(Duration::from_millis(500));
    assert!(
        init.shim.try_wait().expect("try_wait").is_none(),
        "shim died"
    );
    assert!(!ended(pid), "the container died with the daemon");
    assert_eq!(init.dir.exit_status(), None);

    let mut stdin = daemon_restarts(&mut init.dir);
    assert!(
        !init.dir.wait_exit(Duration::ZERO),
        "hang-up on the new exit reader while the shim runs"
    );
    let (want_out, want_err) = (seq_text(OUT), seq_text(ERR));
    {
        let dir = &mut init.dir;
        let (Some(stdout), Some(stderr)) = (dir.stdout.as_mut(), dir.stderr.as_mut()) else {
            panic!("daemon readers");
        };
        read_at_least(
            [
                (stdout, &mut out, want_out.len()),
                (stderr, &mut err, want_err.len()),
            ],
            LONG,
        );
    }
    // Control works through the new descriptor: stdin ends once the new writer and the shim's
    // own writer are both gone.
    stdin.write_all(b"after\n").expect("write stdin");
    drop(stdin);
    init.dir.close_stdin().expect("close stdin");
    let end = init.finish();
    out.extend(end.stdout);
    err.extend(end.stderr);
    assert!(out.starts_with(&want_out), "stdout lost or reordered bytes");
    assert_eq!(
        String::from_utf8_lossy(&out[want_out.len()..]),
        "before\nafter\n"
    );
    assert!(err == want_err, "stderr lost or reordered bytes");
    assert_eq!(end.exit_status, b"7", "the container saw EPIPE");
    assert_eq!(init.shim_log(), "");
}

/// The daemon is away (live-restore) while the container writes its last output and exits;
/// it comes back after 3 s, reopens the FIFOs and reads every byte.
fn the_last_output_waits_for_a_daemon_that_is_away(path: PumpPath) {
    for size in [48 << 10, 200 << 10, 800 << 10] {
        let container = Container::new(
            Spec::sh(&format!("sleep 2; seq 1 1000000 | head -c {size}; exit 3")).on(path),
        );
        let (mut init, _) = container.run();
        let stdin = init.open_stdin();
        daemon_dies(&mut init.dir, stdin);
        driver::pause(Duration::from_secs(5));
        daemon_reopens_outputs(&mut init.dir);
        let stdout = init.dir.stdout.as_mut().expect("the new daemon's reader");
        assert_same_bytes(&read_to_eof(stdout, LONG), &seq_text(1_000_000)[..size]);
        assert_eq!(init.finish().exit_status, b"3", "{size} bytes");
    }
}

#[test]
fn a_daemon_that_never_comes_back_lets_the_shim_exit_after_the_linger() {
    let container = Container::new(Spec::sh("sleep 2; seq 1 1000000 | head -c 49152"));
    let (mut init, _) = container.run();
    let stdin = init.open_stdin();
    daemon_dies(&mut init.dir, stdin);
    let started = std::time::Instant::now();
    let status = init.wait_shim(LONG);
    let waited = started.elapsed();
    assert!(status.success(), "{status}");
    // The container exits about 2 s in; the shim waits CLIENT_LINGER for a reader, then gives up.
    let linger = tinyshim::v02::CLIENT_LINGER;
    assert!(
        waited >= linger && waited < linger + Duration::from_secs(15),
        "the shim exited after {waited:?}"
    );
    assert_eq!(init.dir.exit_status(), Some(0));
    let warnings: Vec<String> = init
        .shim_log_entries()
        .into_iter()
        .filter(|e| e["level"] == "warn")
        .map(|e| e["msg"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "gave up the last output after {} s (no reader): 49152 byte(s) unread",
            linger.as_secs()
        )]
    );
}

on_both_pump_paths!(
    the_last_output_waits_for_a_daemon_that_is_away,
    init_output_and_exit_status_arrive,
    exec_output_and_status_arrive_and_the_container_runs_on,
    client_fifos_open_without_a_client_reader_and_output_waits_for_one,
    two_mib_written_just_before_exit_arrive_completely,
    output_still_in_the_pipes_when_the_target_is_reaped_is_drained,
    a_client_that_stops_reading_stops_the_container_not_the_shims_memory,
    a_client_that_goes_away_and_comes_back_loses_nothing,
    a_daemon_restart_mid_output_loses_nothing,
);
