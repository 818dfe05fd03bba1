//! The pumps (issue 2, points 5, 8, 10 and 11) through the real binary and a real runc, on both
//! pump paths: client FIFOs opened with no client reader, output that is still in the pipes when
//! the process exits, back-pressure from a client that stops reading, a client that goes away and
//! comes back, and the thread count during a transfer.

use std::fs::File;
use std::time::Duration;

use tinyshim_testkit::driver::{self, open_fifo_reader};
use tinyshim_testkit::harness::*;
use tinyshim_testkit::on_both_pump_paths;

const LONG: Duration = Duration::from_secs(60);

/// The shim's memory ceiling while a container writes into a client that does not read: a few
/// times what the shim needs, far below the 64 MiB a buffering shim would take.
const RSS_CEILING_KIB: u64 = 16 * 1024;

/// The most the container pipe and the client FIFO of one output stream hold together: a stream
/// enlarges both to `STREAMING_CAPACITY` (see tests/pipe_capacity.rs).
const STREAM_BUFFERED: usize = 2 * tinyshim::io::pipe::STREAMING_CAPACITY;

/// Busybox `seq 1 <last>` output, built without formatting each number.
fn seq_text(last: u64) -> Vec<u8> {
    let mut text = Vec::new();
    let mut digits = vec![b'0'];
    for _ in 0..last {
        // Increment the decimal digits in place.
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
        text.extend_from_slice(&digits);
        text.push(b'\n');
    }
    text
}

/// Asserts `got == expected`, naming the first difference rather than printing megabytes.
fn assert_same_bytes(got: &[u8], expected: &[u8]) {
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        let around = |bytes: &[u8]| {
            String::from_utf8_lossy(&bytes[at.saturating_sub(20)..(at + 20).min(bytes.len())])
                .into_owned()
        };
        panic!(
            "{} bytes instead of {}; first difference at byte {at}: {:?} instead of {:?}",
            got.len(),
            expected.len(),
            around(got),
            around(expected)
        );
    }
}

/// Whether `pid` is blocked in the system call `number` (`/proc/<pid>/syscall`).
fn in_syscall(pid: i32, number: nix::libc::c_long) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|s| s.split(' ').next() == Some(number.to_string().as_str()))
}

/// A counter of `/proc/<pid>/io`, e.g. `wchar` (bytes passed to write-like calls).
fn io_counter(pid: i32, name: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).expect("read /proc/pid/io");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .and_then(|v| v.parse().ok())
        .expect("io counter")
}

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: i32) -> u64 {
    let field = proc_status(pid, "VmRSS").expect("VmRSS");
    field
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmRSS in kB")
}

fn threads(pid: i32) -> String {
    proc_status(pid, "Threads").unwrap_or_default()
}

fn stdout_of(proc: &mut Proc) -> &mut File {
    proc.dir.stdout.as_mut().expect("stdout reader")
}

// ----------------------------------------------------------------------------------------------

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
    assert_eq!(init.read_stdout(LONG), b"late\n");
    assert_eq!(init.read_stderr(LONG), b"");
    assert_eq!(init.finish(LONG), b"0");
}

fn two_mib_written_just_before_exit_arrive_completely(path: PumpPath) {
    let container = Container::new(Spec::sh("seq 1 300000; exit 5").no_stdin().on(path));
    let (mut init, _) = container.run();
    assert_same_bytes(&init.read_stdout(LONG), &seq_text(300_000));
    assert_eq!(init.finish(LONG), b"5");
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
    assert_same_bytes(&init.read_stdout(LONG), &seq_text(200_000));
    assert_eq!(init.finish(LONG), b"6");
}

fn a_client_that_stops_reading_stops_the_container_not_the_shims_memory(path: PumpPath) {
    // 62888896 bytes.
    const LAST: u64 = 8_000_000;
    let container = Container::new(Spec::command(&["seq", "1", "8000000"]).no_stdin().on(path));
    let (mut init, pid) = container.run();
    let shim = init.shim_pid();
    eventually(LONG, "the container blocked writing", || {
        in_syscall(pid, nix::libc::SYS_write)
    });
    driver::pause(Duration::from_millis(200));
    assert!(in_syscall(pid, nix::libc::SYS_write), "still blocked");
    assert_eq!(init.dir.exit_status(), None);
    let written = io_counter(pid, "wchar") as usize;
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
    assert_eq!(init.finish(LONG), b"0");
}

fn a_client_that_goes_away_and_comes_back_loses_nothing(path: PumpPath) {
    // 4088895 bytes: after the first 256 KiB, more than the stream's pipes hold, so the
    // container blocks while the client is away.
    assert!(seq_text(600_000).len() > STREAM_BUFFERED + (256 << 10));
    let container = Container::new(Spec::command(&["seq", "1", "600000"]).no_stdin().on(path));
    let (mut init, pid) = container.run();
    let first = read_until(stdout_of(&mut init), LONG, |out| out.len() >= 256 << 10);
    // The daemon restarts: its reader closes mid-stream.
    init.dir.stdout = None;
    eventually(LONG, "the container blocked writing", || {
        in_syscall(pid, nix::libc::SYS_write)
    });
    assert!(matches!(init.shim.try_wait(), Ok(None)));
    assert_eq!(init.dir.exit_status(), None);
    init.dir.stdout = Some(open_fifo_reader(&init.dir.stdout_path).expect("reopen stdout"));
    let mut all = first;
    all.extend(init.read_stdout(LONG));
    assert_same_bytes(&all, &seq_text(600_000));
    assert_eq!(init.finish(LONG), b"0");
}

on_both_pump_paths!(
    client_fifos_open_without_a_client_reader_and_output_waits_for_one,
    two_mib_written_just_before_exit_arrive_completely,
    output_still_in_the_pipes_when_the_target_is_reaped_is_drained,
    a_client_that_stops_reading_stops_the_container_not_the_shims_memory,
    a_client_that_goes_away_and_comes_back_loses_nothing,
);
