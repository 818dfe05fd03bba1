//! The shim's life against the daemon (issue 4), through the real binary: the exact runtime
//! command lines for every flag the daemon can set, checkpoint restore (a recording runtime, and
//! a real runc with criu where criu works), a daemon restart in the middle of the output,
//! directories removed under a draining shim, runtime faults, and crun as the runtime.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde_json::Value;
use tinyshim_testkit::driver::{self, ProcessDir, ProcessOptions};
use tinyshim_testkit::harness::*;

const LONG: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Helpers

/// Says, where the test output shows it even when the test passes, that a check did not run.
fn skip(test: &str, reason: &str) {
    // `eprintln!` is captured by the test harness; a direct write to fd 2 is not.
    let _ = writeln!(io::stderr(), "SKIP: {test}: {reason}");
}

/// A container run by the fake runtime, which records every call in `calls`, a file outside the
/// state directory so that the record survives the daemon removing that directory.
struct Recorded {
    container: Container,
    calls: PathBuf,
}

impl Recorded {
    fn new(spec: Spec) -> Recorded {
        let mut container = Container::new(spec);
        let calls = container.scratch().join("calls.jsonl");
        container
            .spec
            .env
            .push(("FAKE_RUNTIME_LOG".into(), text(&calls)));
        Recorded { container, calls }
    }

    /// Every call so far: its argv (without the program) and its working directory.
    fn calls(&self) -> Vec<(Vec<String>, String)> {
        recorded_calls(&self.calls)
            .iter()
            .map(|call| {
                let argv = call["argv"]
                    .as_array()
                    .map(|a| a.iter().map(|s| s.as_str().unwrap_or("?").to_string()))
                    .into_iter()
                    .flatten()
                    .collect();
                (argv, call["cwd"].as_str().unwrap_or_default().to_string())
            })
            .collect()
    }

    /// Every call's raw record.
    fn records(&self) -> Vec<Value> {
        recorded_calls(&self.calls)
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

fn canonical(path: &Path) -> String {
    text(&path.canonicalize().expect("canonicalize"))
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// `--log SD/log.json --log-format json`, the prefix of create, exec and restore.
fn logged(sd: &str) -> Vec<String> {
    strings(&["--log", &format!("{sd}/log.json"), "--log-format", "json"])
}

/// `--pid-file SD/pid ID`, their suffix.
fn pid_file(sd: &str, id: &str) -> Vec<String> {
    strings(&["--pid-file", &format!("{sd}/pid"), id])
}

/// Runs `proc` to its end: output to EOF, the exit FIFO's hang-up, the shim's exit 0.
fn finish(proc: &mut Proc, terminal: bool) -> (Vec<u8>, Vec<u8>) {
    let out = proc.read_stdout(LONG);
    let err = if terminal {
        Vec::new()
    } else {
        proc.read_stderr(LONG)
    };
    assert!(proc.dir.wait_exit(LONG), "exit FIFO hung up");
    let status = proc.wait_shim(LONG);
    assert!(status.success(), "shim exit status {status}");
    (out, err)
}

/// The daemon's writer on the stdin FIFO, opened once the shim holds its reader.
fn open_stdin(proc: &Proc) -> File {
    let path = proc.dir.stdin_path.as_ref().expect("stdin FIFO");
    driver::open_fifo_writer(path).expect("open stdin")
}

/// Writes the process's last input and ends its stdin, as the daemon does when the client's
/// input ends: its own writer closed, then control message 0 for the shim's.
fn send_last_input(proc: &Proc, input: &[u8]) {
    open_stdin(proc).write_all(input).expect("write stdin");
    proc.dir.close_stdin().expect("close stdin");
}

/// Reads stdout until it holds exactly `want`, while the process goes on.
fn await_stdout(proc: &mut Proc, want: &[u8]) {
    let stdout = proc.dir.stdout.as_mut().expect("stdout");
    let mut got = Vec::new();
    eventually(
        LONG,
        &format!("stdout {:?}", String::from_utf8_lossy(want)),
        || {
            let mut buffer = [0u8; 256];
            if let Ok(n) = stdout.read(&mut buffer) {
                got.extend_from_slice(&buffer[..n]);
            }
            got == want
        },
    );
}

/// The `--console-socket` argument, checked to be `$TMPDIR/tinyshim-pty.XXXXXX/pty.sock`.
fn console_socket(argv: &[String], tmpdir: &Path) -> String {
    let at = argv
        .iter()
        .position(|a| a == "--console-socket")
        .unwrap_or_else(|| panic!("no --console-socket in {argv:?}"));
    let socket = PathBuf::from(&argv[at + 1]);
    let dir = socket.parent().expect("socket dir");
    assert_eq!(
        socket.file_name().and_then(|n| n.to_str()),
        Some("pty.sock")
    );
    assert_eq!(
        dir.parent(),
        Some(tmpdir),
        "{socket:?} not under {tmpdir:?}"
    );
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    assert!(name.starts_with("tinyshim-pty."), "{socket:?}");
    text(&socket)
}

/// A `TMPDIR` for the shim, to find its console socket and check nothing is left in it.
fn private_tmpdir(container: &mut Container) -> PathBuf {
    let tmp = container.scratch().join("tmp");
    std::fs::create_dir(&tmp).expect("create TMPDIR");
    let tmp = tmp.canonicalize().expect("canonicalize TMPDIR");
    container.spec.env.push(("TMPDIR".into(), text(&tmp)));
    tmp
}

fn assert_empty_dir(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind in {dir:?}: {left:?}");
}

/// Writes a checkpoint directory holding only `config.json`.
fn checkpoint_dir(at: &Path, config: &str) -> PathBuf {
    std::fs::create_dir_all(at).expect("create checkpoint dir");
    std::fs::write(at.join("config.json"), config).expect("write checkpoint config");
    at.to_path_buf()
}

/// Parses Go's `time.RFC3339Nano` in UTC (`2006-01-02T15:04:05.999999999Z`), insisting on its
/// canonical form: the fraction's trailing zeros trimmed, no dot for a zero fraction.
fn parse_go_rfc3339_nano_utc(stamp: &str) -> Option<SystemTime> {
    let body = stamp.strip_suffix('Z')?;
    let (date_time, fraction) = match body.split_once('.') {
        Some((date_time, fraction)) => (date_time, Some(fraction)),
        None => (body, None),
    };
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            let digits = f.bytes().all(|b| b.is_ascii_digit());
            if f.is_empty() || f.len() > 9 || f.ends_with('0') || !digits {
                return None;
            }
            format!("{f:0<9}").parse::<u32>().ok()?
        }
    };
    let shape = date_time.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    if date_time.len() != 19 || !shape {
        return None;
    }
    let field = |from: usize, to: usize| date_time[from..to].parse::<i64>().ok();
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::new(u64::try_from(seconds).ok()?, nanos))
}

/// Checks the restore `--work-path`: `CP/criu.work/restore-<RFC3339Nano UTC>`, stamped between
/// `before` and `after`; returns it.
fn work_path(argv: &[String], checkpoint: &str, before: SystemTime, after: SystemTime) -> String {
    let at = argv
        .iter()
        .position(|a| a == "--work-path")
        .unwrap_or_else(|| panic!("no --work-path in {argv:?}"));
    let path = &argv[at + 1];
    let prefix = format!("{checkpoint}/criu.work/restore-");
    let stamp = path
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{path} does not start with {prefix}"));
    let time = parse_go_rfc3339_nano_utc(stamp)
        .unwrap_or_else(|| panic!("{stamp} is not Go's RFC3339Nano in UTC"));
    assert!(
        before <= time && time <= after,
        "{stamp} is not the time of the restore"
    );
    path.clone()
}

/// Whether `pid` has ended: gone, or a zombie nobody reaped yet.
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].chars().next())
            .is_some_and(|state| state == 'Z' || state == 'X'),
    }
}

/// The live processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) && !ended(pid) {
            found.push(pid);
        }
    }
    found
}

/// This test process's descriptors that refer to anything under `dir`.
fn descriptors_under(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|target| target.starts_with(dir))
        .collect()
}

/// Reads both outputs until each holds at least the wanted number of bytes.
fn read_at_least(streams: [(&mut File, &mut Vec<u8>, usize); 2], timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    let mut buffer = vec![0u8; 64 * 1024];
    let [(out, out_data, out_want), (err, err_data, err_want)] = streams;
    while out_data.len() < out_want || err_data.len() < err_want {
        for (file, data) in [(&mut *out, &mut *out_data), (&mut *err, &mut *err_data)] {
            loop {
                match file.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => data.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => panic!("read FIFO: {e}"),
                }
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            !left.is_zero(),
            "only {} of {out_want} stdout and {} of {err_want} stderr bytes within {timeout:?}",
            out_data.len(),
            err_data.len()
        );
        let mut fds = [
            PollFd::new(out.as_fd(), PollFlags::POLLIN),
            PollFd::new(err.as_fd(), PollFlags::POLLIN),
        ];
        let _ = poll(&mut fds, PollTimeout::from(100u16));
    }
}

/// `seq 1 n` as busybox prints it.
fn seq(n: u32) -> Vec<u8> {
    (1..=n).map(|i| format!("{i}\n")).collect::<String>().into()
}

// ---------------------------------------------------------------------------------------------
// Runtime command lines: every call, byte-exact, with its working directory

#[test]
fn init_calls_without_runtime_args_are_exact() {
    let rec = Recorded::new(Spec::fake("echo out; exit 3"));
    let mut init = rec.container.spawn_init();
    init.wait_pid();
    let (out, _) = finish(&mut init, false);
    assert_eq!(out, b"out\n");
    assert_eq!(init.dir.exit_status(), Some(3));

    let id = rec.container.id.as_str();
    let sd = canonical(&init.dir.dir);
    let bundle = text(&rec.container.bundle);
    let mut create = logged(&sd);
    create.extend(strings(&["create", "--bundle", &bundle]));
    create.extend(pid_file(&sd, id));
    let expected = vec![
        (create, canonical(&rec.container.bundle)),
        (strings(&["kill", "--all", id, "SIGKILL"]), sd.clone()),
        (strings(&["delete", id]), sd.clone()),
    ];
    assert_eq!(rec.calls(), expected);
}

#[test]
fn init_calls_carry_runtime_args_no_pivot_and_the_console_socket() {
    // A runtime found through the shim's PATH, as the daemon's `runc` or `docker-runc` is.
    let bin = Scratch::new("bin");
    std::os::unix::fs::symlink(fake_runtime(), bin.path().join("my-rt")).expect("symlink");
    let path = format!(
        "{}:{}",
        text(bin.path()),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut spec = Spec::fake("echo out; exit 0").tty().env("PATH", &path);
    spec.runtime = "my-rt".into();
    spec.runtime_args = strings(&["--root", "/run/my rt", "--systemd-cgroup"]);
    let mut rec = Recorded::new(spec);
    let tmp = private_tmpdir(&mut rec.container);
    let options = ProcessOptions {
        no_pivot_root: true,
        ..rec.container.init_options()
    };
    let mut init = rec.container.spawn("init", &options);
    init.wait_pid();
    let (out, _) = finish(&mut init, true);
    assert_eq!(out, b"out\r\n");

    let id = rec.container.id.as_str();
    let sd = canonical(&init.dir.dir);
    let calls = rec.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    let socket = console_socket(&calls[0].0, &tmp);
    let mut create = logged(&sd);
    create.extend(strings(&[
        "--root",
        "/run/my rt",
        "--systemd-cgroup",
        "create",
    ]));
    create.extend(strings(&["--bundle", &text(&rec.container.bundle)]));
    create.extend(strings(&["--console-socket", &socket, "--no-pivot"]));
    create.extend(pid_file(&sd, id));
    let args = ["--root", "/run/my rt", "--systemd-cgroup"];
    let kill = [&args[..], &["kill", "--all", id, "SIGKILL"]].concat();
    let delete = [&args[..], &["delete", id]].concat();
    let expected = vec![
        (create, canonical(&rec.container.bundle)),
        (strings(&kill), sd.clone()),
        (strings(&delete), sd.clone()),
    ];
    assert_eq!(calls, expected);
    assert_empty_dir(&tmp);
}

#[test]
fn exec_calls_are_exact_with_and_without_a_terminal() {
    let mut spec = Spec::fake("echo exec; exit 4");
    spec.runtime_args = strings(&["--debug", "--root", "/r"]);
    let mut rec = Recorded::new(spec);
    let tmp = private_tmpdir(&mut rec.container);
    let id = rec.container.id.clone();
    for (exec_id, terminal) in [("e-pipes", false), ("e-tty", true)] {
        // containerd copies the container's noPivotRoot into every process.json; `exec` has no
        // such flag, so it must not appear.
        let mut process = rec.container.spec.clone();
        process.terminal = terminal;
        let options = ProcessOptions {
            process: process.process(),
            exec: true,
            stdin: true,
            runtime_args: rec.container.spec.runtime_args.clone(),
            no_pivot_root: true,
            ..ProcessOptions::default()
        };
        let mut exec = rec.container.spawn(exec_id, &options);
        exec.wait_pid();
        let (out, _) = finish(&mut exec, terminal);
        let want: &[u8] = if terminal { b"exec\r\n" } else { b"exec\n" };
        assert_eq!(out, want);
        assert_eq!(exec.dir.exit_status(), Some(4));

        let sd = canonical(&exec.dir.dir);
        let calls = rec.calls();
        let (argv, cwd) = calls.last().expect("a call").clone();
        let mut expected = logged(&sd);
        expected.extend(strings(&[
            "--debug",
            "--root",
            "/r",
            "exec",
            "-d",
            "--process",
        ]));
        expected.push(format!("{sd}/process.json"));
        if terminal {
            let socket = console_socket(&argv, &tmp);
            expected.extend(strings(&["--console-socket", &socket]));
        }
        expected.extend(pid_file(&sd, &id));
        assert_eq!(argv, expected);
        assert_eq!(cwd, canonical(&rec.container.bundle));
    }
    // An exec never runs kill or delete: the container is not its to remove.
    assert_eq!(rec.calls().len(), 2, "{:?}", rec.calls());
    assert_empty_dir(&tmp);
}

#[test]
fn restore_has_every_checkpoint_flag_in_order() {
    let mut spec = Spec::fake("echo restored; exit 5").tty();
    spec.runtime_args = strings(&["--root", "/r"]);
    let mut rec = Recorded::new(spec);
    let tmp = private_tmpdir(&mut rec.container);
    let checkpoint = checkpoint_dir(
        &rec.container.scratch().join("checkpoints").join("cp1"),
        r#"{"created":"2017-07-14T02:40:00Z","name":"cp1","tcp":true,"unixSockets":true,"shell":true,"exit":false,"emptyNS":["network","ipc"]}"#,
    );
    let checkpoint = text(&checkpoint);
    let options = ProcessOptions {
        checkpoint: checkpoint.clone(),
        no_pivot_root: true,
        ..rec.container.init_options()
    };
    let before = SystemTime::now();
    let mut init = rec.container.spawn("init", &options);
    init.wait_pid();
    let after = SystemTime::now();
    let (out, _) = finish(&mut init, true);
    assert_eq!(out, b"restored\r\n");
    assert_eq!(init.dir.exit_status(), Some(5));

    let id = rec.container.id.as_str();
    let sd = canonical(&init.dir.dir);
    let calls = rec.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    let (argv, cwd) = &calls[0];
    let work = work_path(argv, &checkpoint, before, after);
    let socket = console_socket(argv, &tmp);
    let mut expected = logged(&sd);
    expected.extend(strings(&["--root", "/r", "restore", "-d"]));
    expected.extend(strings(&[
        "--image-path",
        &checkpoint,
        "--work-path",
        &work,
    ]));
    expected.extend(strings(&[
        "--shell-job",
        "--tcp-established",
        "--ext-unix-sk",
    ]));
    expected.extend(strings(&[
        "--no-pivot",
        "--empty-ns",
        "network",
        "--empty-ns",
        "ipc",
    ]));
    expected.extend(strings(&["--console-socket", &socket]));
    expected.extend(pid_file(&sd, id));
    assert_eq!(argv, &expected);
    assert_eq!(cwd, &canonical(&rec.container.bundle));
    let subcommands: Vec<&str> = calls[1..].iter().map(|(a, _)| a[2].as_str()).collect();
    assert_eq!(subcommands, ["kill", "delete"]);
    assert_empty_dir(&tmp);
}

#[test]
fn each_checkpoint_flag_maps_to_its_own_restore_option() {
    let rec = Recorded::new(Spec::fake("exit 0"));
    let cases: [(&str, &[&str]); 5] = [
        (r#"{"tcp":true}"#, &["--tcp-established"]),
        (r#"{"unixSockets":true}"#, &["--ext-unix-sk"]),
        (r#"{"shell":true}"#, &["--shell-job"]),
        (r#"{"emptyNS":["network"]}"#, &["--empty-ns", "network"]),
        (r#"{"tcp":null,"emptyNS":null,"future":{"key":[1]}}"#, &[]),
    ];
    for (n, (config, flags)) in cases.iter().enumerate() {
        let checkpoint = checkpoint_dir(&rec.container.scratch().join(format!("cp{n}")), config);
        let options = ProcessOptions {
            checkpoint: text(&checkpoint),
            ..rec.container.init_options()
        };
        let mut init = rec.container.spawn(&format!("init{n}"), &options);
        init.wait_pid();
        finish(&mut init, false);
        let calls = rec.calls();
        let (argv, _) = &calls[calls.len() - 3];
        // Between the work path and --pid-file come exactly the flags of this config.
        let work = argv
            .iter()
            .position(|a| a == "--work-path")
            .expect("work path");
        let pid = argv
            .iter()
            .position(|a| a == "--pid-file")
            .expect("pid file");
        assert_eq!(&argv[work + 2..pid], strings(flags).as_slice(), "{config}");
    }
}

#[test]
fn restore_without_flags_takes_a_relative_checkpoint_from_the_process_dir() {
    let rec = Recorded::new(Spec::fake("exit 0"));
    let checkpoint = checkpoint_dir(
        &rec.container.scratch().join("cp"),
        r#"{"created":"2017-07-14T02:40:00Z","name":"cp","tcp":false,"unixSockets":false,"shell":false,"exit":true}"#,
    );
    // SD is <scratch>/state/<id>/init: the original read config.json relative to it.
    let options = ProcessOptions {
        checkpoint: "../../../cp".into(),
        ..rec.container.init_options()
    };
    let before = SystemTime::now();
    let mut init = rec.container.spawn("init", &options);
    init.wait_pid();
    let after = SystemTime::now();
    finish(&mut init, false);

    let sd = canonical(&init.dir.dir);
    let calls = rec.calls();
    let (argv, _) = &calls[0];
    let image = format!("{sd}/../../../cp");
    assert_eq!(canonical(Path::new(&image)), canonical(&checkpoint));
    let work = work_path(argv, &image, before, after);
    let mut expected = logged(&sd);
    expected.extend(strings(&["restore", "-d", "--image-path", &image]));
    expected.extend(strings(&["--work-path", &work]));
    expected.extend(pid_file(&sd, &rec.container.id));
    assert_eq!(argv, &expected);
}

#[test]
fn an_exec_with_a_checkpoint_still_runs_exec() {
    // The original chose `exec` before looking at the checkpoint; the daemon never sets both,
    // but a drop-in must not turn an exec into a second restore of the container.
    let rec = Recorded::new(Spec::fake("exit 0"));
    let checkpoint = checkpoint_dir(&rec.container.scratch().join("cp"), "{}");
    let options = ProcessOptions {
        process: rec.container.spec.process(),
        exec: true,
        checkpoint: text(&checkpoint),
        ..ProcessOptions::default()
    };
    let mut exec = rec.container.spawn("e1", &options);
    exec.wait_pid();
    finish(&mut exec, false);
    let calls = rec.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0[4], "exec", "{:?}", calls[0].0);
}

#[test]
fn a_missing_or_malformed_checkpoint_config_is_an_error_naming_it() {
    let rec = Recorded::new(Spec::fake("exit 0"));
    let missing = rec.container.scratch().join("no-such-checkpoint");
    let malformed = checkpoint_dir(
        &rec.container.scratch().join("bad"),
        r#"{"tcp":"yes","emptyNS":"network"}"#,
    );
    let truncated = checkpoint_dir(&rec.container.scratch().join("cut"), r#"{"tcp":tr"#);
    for (n, checkpoint) in [missing, malformed, truncated].iter().enumerate() {
        let options = ProcessOptions {
            checkpoint: text(checkpoint),
            ..rec.container.init_options()
        };
        let mut init = rec.container.spawn(&format!("init{n}"), &options);
        let error = init
            .dir
            .wait_for_pid(&mut init.shim, LONG)
            .expect_err("no restore without a checkpoint config");
        let status = init.wait_shim(LONG);
        assert_eq!(status.code(), Some(1), "{error}");
        let config = text(&checkpoint.join("config.json"));
        assert!(
            error.starts_with("shim error: ") && error.contains(&config),
            "{error:?} does not name {config}"
        );
        assert_eq!(init.shim_errors().len(), 1, "{}", init.shim_log());
        assert!(init.dir.wait_exit(LONG), "exit FIFO hung up");
    }
    // Nothing was started, so there was nothing to delete.
    assert_eq!(rec.calls(), Vec::new());
}

// ---------------------------------------------------------------------------------------------
// Checkpoint and restore with a real runc

/// Why criu cannot checkpoint here, if it cannot.
fn criu_unusable() -> Option<String> {
    match Command::new("criu").arg("check").output() {
        Err(e) => Some(format!("criu not runnable: {e}")),
        Ok(out) if out.status.success() => None,
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr);
            let last = text.lines().rev().find(|l| !l.trim().is_empty());
            Some(format!(
                "`criu check` failed ({}): {}",
                out.status,
                last.unwrap_or("no output").trim()
            ))
        }
    }
}

#[test]
fn runc_checkpoint_then_restore_through_the_shim() {
    require_runc();
    if let Some(reason) = criu_unusable() {
        skip("runc_checkpoint_then_restore_through_the_shim", &reason);
        return;
    }
    // The counter lives only in the process's memory: seeing it continue proves a restore.
    let container = Container::new(Spec::sh(
        r#"i=0; while read line; do echo "got $line $i"; i=$((i+1)); done; exit 5"#,
    ));
    let (mut first, _) = container.run();
    let mut stdin = open_stdin(&first);
    stdin.write_all(b"a\n").expect("write stdin");
    await_stdout(&mut first, b"got a 0\n");

    let images = container.scratch().join("checkpoints").join("cp1");
    std::fs::create_dir_all(&images).expect("create image dir");
    let work = container.scratch().join("checkpoint-work");
    driver::run_runtime(
        "runc",
        &[],
        &[
            "checkpoint",
            "--image-path",
            &text(&images),
            "--work-path",
            &text(&work),
            &container.id,
        ],
    )
    .expect("runc checkpoint");
    // The checkpointed process is gone: the first shim ends as for any exit.
    finish(&mut first, false);
    drop(stdin);
    first.dir.remove().expect("remove the old state");

    std::fs::write(
        images.join("config.json"),
        r#"{"created":"2017-07-14T02:40:00Z","name":"cp1","tcp":false,"unixSockets":false,"shell":false,"exit":true}"#,
    )
    .expect("write checkpoint config");
    let options = ProcessOptions {
        checkpoint: text(&images),
        ..container.init_options()
    };
    let mut restored = container.spawn("init", &options);
    restored.wait_pid();
    send_last_input(&restored, b"b\n");
    let (out, err) = finish(&mut restored, false);
    assert_eq!(String::from_utf8_lossy(&out), "got b 1\n");
    assert_eq!(err, b"");
    assert_eq!(restored.dir.exit_status(), Some(5));
    let work_dirs: Vec<_> = std::fs::read_dir(images.join("criu.work"))
        .expect("criu.work")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(work_dirs.len(), 1, "{work_dirs:?}");
    let stamp = work_dirs[0]
        .strip_prefix("restore-")
        .expect("restore-<time>");
    assert!(parse_go_rfc3339_nano_utc(stamp).is_some(), "{stamp}");
}

#[test]
fn a_failed_runc_restore_reports_the_runtime_error_and_deletes() {
    require_runc();
    let container = Container::new(Spec::sh("sleep 100"));
    // A checkpoint with its config but no images: runc (or criu under it) refuses it.
    let checkpoint = checkpoint_dir(&container.scratch().join("cp"), r#"{"name":"cp"}"#);
    let options = ProcessOptions {
        checkpoint: text(&checkpoint),
        ..container.init_options()
    };
    let mut init = container.spawn("init", &options);
    let error = init
        .dir
        .wait_for_pid(&mut init.shim, LONG)
        .expect_err("nothing to restore");
    let status = init.wait_shim(LONG);
    // As the original: the runtime explained itself in log.json, so the shim adds no error.
    assert!(status.success(), "shim exit status {status}");
    assert!(error.starts_with("oci runtime error: "), "{error}");
    assert!(init.shim_errors().is_empty(), "{}", init.shim_log());
    assert!(init.dir.wait_exit(LONG), "exit FIFO hung up");
    assert!(
        driver::run_runtime("runc", &[], &["state", &container.id]).is_err(),
        "runc still knows the container: delete did not run"
    );
}

// ---------------------------------------------------------------------------------------------
// Daemon restart

/// The daemon dies: every descriptor it held on the process closes.
fn daemon_dies(dir: &mut ProcessDir, stdin: File) {
    drop(stdin);
    dir.stdout = None;
    dir.stderr = None;
    dir.exit = OwnedFd::from(File::open("/dev/null").expect("open /dev/null"));
    dir.control = File::open("/dev/null").expect("open /dev/null");
    let held = descriptors_under(&dir.container_dir);
    assert!(held.is_empty(), "the dead daemon still holds {held:?}");
}

/// A new daemon re-opens what containerd's `loadProcess` and the client re-open: `exit`
/// read-only non-blocking, `control` read-write non-blocking, and the client FIFOs.
fn daemon_restarts(dir: &mut ProcessDir) -> File {
    let exit = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(dir.dir.join("exit"))
        .expect("re-open exit");
    dir.exit = exit.into();
    dir.control = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(dir.dir.join("control"))
        .expect("re-open control");
    dir.stdout = Some(driver::open_fifo_reader(&dir.stdout_path).expect("re-open stdout"));
    dir.stderr = Some(driver::open_fifo_reader(&dir.stderr_path).expect("re-open stderr"));
    let stdin_path = dir.stdin_path.as_ref().expect("stdin FIFO");
    driver::open_fifo_writer(stdin_path).expect("re-open stdin")
}

#[test]
fn a_daemon_restart_mid_output_loses_nothing_on_the_splice_path() {
    daemon_restart_mid_output(|spec| spec);
}

#[test]
fn a_daemon_restart_mid_output_loses_nothing_on_the_copy_path() {
    daemon_restart_mid_output(Spec::copy_path);
}

/// The daemon dies while the container writes, and a new one takes over: nothing is lost or
/// reordered, the container never sees a broken pipe, control and the exit FIFO still work.
fn daemon_restart_mid_output(path: fn(Spec) -> Spec) {
    // Far more output than the pipes and FIFOs hold, so the container is still writing, or
    // blocked writing, while no daemon is there. Each writer checks its writes: a broken pipe
    // (EPIPE, or SIGPIPE killing `seq`) turns into exit status 90 or 91 instead of 7.
    const OUT: u32 = 200_000;
    const ERR: u32 = 150_000;
    let container = Container::new(path(Spec::sh(&format!(
        "seq 1 {ERR} >&2 & seq 1 {OUT} || exit 90; wait $! || exit 91; cat; exit 7"
    ))));
    let (mut init, pid) = container.run();
    let mut stdin = open_stdin(&init);
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
    let (want_out, want_err) = (seq(OUT), seq(ERR));
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
    let (rest_out, rest_err) = finish(&mut init, false);
    out.extend(rest_out);
    err.extend(rest_err);
    assert!(out.starts_with(&want_out), "stdout lost or reordered bytes");
    assert_eq!(
        String::from_utf8_lossy(&out[want_out.len()..]),
        "before\nafter\n"
    );
    assert!(err == want_err, "stderr lost or reordered bytes");
    assert_eq!(init.dir.exit_status(), Some(7), "the container saw EPIPE");
    assert_eq!(init.shim_log_entries(), Vec::<Value>::new());
}

// ---------------------------------------------------------------------------------------------
// Directories removed under the shim

#[test]
fn init_drains_and_deletes_after_its_directories_vanish() {
    let scratch = Scratch::new("gate");
    let gate = text(&scratch.path().join("gate"));
    // A background child keeps the outputs open after the process exits: the shim drains.
    let rec = Recorded::new(Spec::fake(&format!(
        "echo early; (while [ ! -e {gate} ]; do sleep 0.02; done; echo late; echo late-err >&2) & exit 3"
    )));
    let mut init = rec.container.spawn_init();
    init.wait_pid();
    eventually(LONG, "exitStatus", || init.dir.exit_status() == Some(3));
    eventually(LONG, "kill --all", || rec.calls().len() == 2);

    init.dir.remove().expect("rm -rf the container dir");
    assert!(!init.dir.container_dir.exists());
    File::create(&gate).expect("open the gate");
    let (out, err) = finish(&mut init, false);
    assert_eq!(out, b"early\nlate\n");
    assert_eq!(err, b"late-err\n");

    let calls = rec.calls();
    let subcommands: Vec<&str> = calls.iter().map(|(a, _)| a[0].as_str()).collect();
    assert_eq!(subcommands, ["--log", "kill", "delete"], "{calls:?}");
    assert_eq!(calls[2].0, strings(&["delete", &rec.container.id]));
    // The background writer may still be on its way out as the shim ends; a leak would stay.
    eventually(LONG, "no process left behind", || {
        processes_mentioning(&gate).is_empty()
    });
}

#[test]
fn an_exec_drains_after_its_directory_vanishes_before_it_exits() {
    let scratch = Scratch::new("gate");
    let gate = text(&scratch.path().join("gate"));
    let script =
        format!("echo early; while [ ! -e {gate} ]; do sleep 0.02; done; echo late; exit 4");
    let mut rec = Recorded::new(Spec::fake(&script));
    let tmp = private_tmpdir(&mut rec.container);
    let mut exec = rec.container.spawn_exec("e1", &["sh"], true);
    exec.wait_pid();
    await_stdout(&mut exec, b"early\r\n");

    // Writing exitStatus now fails: the shim must carry on regardless.
    std::fs::remove_dir_all(&exec.dir.dir).expect("rm -rf the process dir");
    File::create(&gate).expect("open the gate");
    let (out, _) = finish(&mut exec, true);
    assert_eq!(out, b"late\r\n");
    assert!(!exec.dir.dir.exists());
    assert_eq!(rec.calls().len(), 1, "an exec runs only exec");
    // The background writer may still be on its way out as the shim ends; a leak would stay.
    eventually(LONG, "no process left behind", || {
        processes_mentioning(&gate).is_empty()
    });
    assert_empty_dir(&tmp);
}

// ---------------------------------------------------------------------------------------------
// Runtime faults

#[test]
fn a_runtime_hung_in_create_dies_with_the_killed_shim() {
    let rec = Recorded::new(Spec::fake("exit 0").env("FAKE_START", "hang"));
    let mut init = rec.container.spawn_init();
    let shim = init.shim_pid();
    eventually(LONG, "the runtime's create", || rec.calls().len() == 1);
    let runtime = children(shim);
    assert_eq!(runtime.len(), 1, "{runtime:?}");
    let runtime = runtime[0].0;
    assert_eq!(rec.records()[0]["pdeathsig"], 9);

    // The daemon's start timeout: SIGKILL to the shim, nothing else.
    init.shim.kill().expect("SIGKILL the shim");
    init.shim.wait().expect("wait shim");
    eventually(LONG, "the runtime to die with the shim", || ended(runtime));
    assert!(init.dir.wait_exit(LONG), "exit FIFO hung up");
}

#[test]
fn megabytes_on_the_runtime_stderr_do_not_block_the_shim() {
    const BYTES: usize = 6 << 20;
    let spec = Spec::fake("echo started; exit 5").env("FAKE_START", &format!("stderr:{BYTES}"));
    let rec = Recorded::new(spec);
    let mut init = rec.container.spawn_init();
    // The daemon's client reads stderr while the daemon waits for the pid file.
    let mut err = Vec::new();
    let mut out = Vec::new();
    {
        let dir = &mut init.dir;
        let (Some(stdout), Some(stderr)) = (dir.stdout.as_mut(), dir.stderr.as_mut()) else {
            panic!("daemon readers");
        };
        read_at_least([(stdout, &mut out, 0), (stderr, &mut err, BYTES)], LONG);
    }
    init.wait_pid();
    let (rest_out, rest_err) = finish(&mut init, false);
    out.extend(rest_out);
    err.extend(rest_err);
    assert_eq!(out, b"started\n");
    assert_eq!(err.len(), BYTES);
    assert!(err.iter().all(|&b| b == b'E'));
    assert_eq!(init.dir.exit_status(), Some(5));
}

#[test]
fn failing_kill_and_delete_are_ignored() {
    let spec = Spec::fake("exit 6")
        .env("FAKE_KILL_EXIT", "1")
        .env("FAKE_DELETE_EXIT", "2");
    let rec = Recorded::new(spec);
    let mut init = rec.container.spawn_init();
    init.wait_pid();
    finish(&mut init, false);
    assert_eq!(init.dir.exit_status(), Some(6));
    assert!(init.shim_errors().is_empty(), "{}", init.shim_log());
    let calls = rec.calls();
    let subcommands: Vec<&str> = calls.iter().map(|(a, _)| a[0].as_str()).collect();
    assert_eq!(subcommands, ["--log", "kill", "delete"], "{calls:?}");

    // A create that fails, followed by a delete that fails: still exit 0, the runtime's error
    // is what the daemon reports.
    let rec = Recorded::new(
        Spec::fake("exit 0")
            .env("FAKE_START", "fail")
            .env("FAKE_DELETE_EXIT", "1"),
    );
    let mut init = rec.container.spawn_init();
    let error = init
        .dir
        .wait_for_pid(&mut init.shim, LONG)
        .expect_err("create failed");
    assert_eq!(error, "oci runtime error: fake runtime failed as asked");
    assert!(init.wait_shim(LONG).success());
    assert_eq!(rec.calls().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Other runtimes: crun and youki read the same bundle and speak the same command line

/// Deletes the container however the test ends.
struct Cleanup<'a>(&'a Container);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let spec = &self.0.spec;
        let args = ["delete", "--force", &self.0.id];
        let _ = driver::run_runtime(&spec.runtime, &spec.runtime_args, &args);
    }
}

/// When to run `<runtime> start`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StartWhen {
    /// As soon as the pid file parses, as containerd v0.2.x does (it polls every 15 ms).
    PidFile,
    /// Once `<runtime> state` also says `created`.
    StateCreated,
}

/// An init, a piped exec and a terminal exec through the shim with `runtime`, whose state goes
/// under a private `--root`: a real global flag, which the shim must put before every
/// subcommand.
fn init_and_execs_through(runtime: String, scratch: &Scratch, start_when: StartWhen) {
    require_runc();
    let mut spec =
        Spec::sh(r#"echo init-out; echo init-err >&2; read x; echo "init got $x"; exit 3"#);
    spec.runtime = runtime;
    spec.runtime_args = strings(&["--root", &text(&scratch.path().join("root"))]);
    let container = Container::new(spec);
    let _cleanup = Cleanup(&container);
    let mut init = container.spawn_init();
    init.wait_pid();
    if start_when == StartWhen::StateCreated {
        eventually(LONG, "state `created`", || {
            runtime_status(&container) == "created"
        });
    }
    container.start();

    let script = "echo exec-out; echo exec-err >&2; exit 4";
    let mut exec = container.spawn_exec("e1", &["sh", "-c", script], false);
    exec.wait_pid();
    let (out, err) = finish(&mut exec, false);
    assert_eq!(out, b"exec-out\n");
    assert_eq!(err, b"exec-err\n");
    assert_eq!(exec.dir.exit_status(), Some(4));

    let script = "tty >/dev/null && echo on-a-tty; exit 6";
    let mut exec = container.spawn_exec("e2", &["sh", "-c", script], true);
    exec.wait_pid();
    let (out, _) = finish(&mut exec, true);
    assert_eq!(out, b"on-a-tty\r\n");
    assert_eq!(exec.dir.exit_status(), Some(6));

    send_last_input(&init, b"hello\n");
    let (out, err) = finish(&mut init, false);
    assert_eq!(String::from_utf8_lossy(&out), "init-out\ninit got hello\n");
    assert_eq!(err, b"init-err\n");
    assert_eq!(init.dir.exit_status(), Some(3));
    assert!(init.shim_log_entries().is_empty(), "{}", init.shim_log());
    let spec = &container.spec;
    let state = driver::run_runtime(&spec.runtime, &spec.runtime_args, &["state", &container.id]);
    assert!(
        state.is_err(),
        "{} still knows the container: the shim's delete did not run",
        spec.runtime
    );
}

/// How to run crun here. crun 1.8 refuses to create anything on a hybrid cgroup layout whose v2
/// hierarchy holds a controller (`cgroups in hybrid mode not supported`), which is this machine's
/// layout. Where that is the case, a wrapper unmounts the v2 hierarchy in a private mount
/// namespace and execs crun, which then manages cgroups v1 as runc does; the wrapper keeps the
/// pid the shim spawned, so nothing else changes.
fn crun_program(bin: &Path) -> String {
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers");
    if controllers.map(|c| c.trim().is_empty()).unwrap_or(true) {
        return "crun".into();
    }
    let wrapper = bin.join("crun-cgroup-v1");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\nexec unshare --mount --propagation private \\\n  sh -c 'umount /sys/fs/cgroup/unified && exec crun \"$@\"' crun \"$@\"\n",
    )
    .expect("write crun wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod crun wrapper");
    text(&wrapper)
}

/// The `status` that `<runtime> state` reports, empty when it fails.
fn runtime_status(container: &Container) -> String {
    let output = Command::new(&container.spec.runtime)
        .args(&container.spec.runtime_args)
        .args(["state", &container.id])
        .output();
    output
        .ok()
        .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
        .and_then(|state| state["status"].as_str().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn crun_runs_an_init_and_execs_through_the_shim() {
    assert!(
        which("crun").is_some(),
        "crun is not installed (apt-get install crun)"
    );
    let scratch = Scratch::new("crun");
    init_and_execs_through(crun_program(scratch.path()), &scratch, StartWhen::PidFile);
}

#[test]
fn youki_runs_an_init_and_execs_through_the_shim() {
    // youki has no Debian package; `cargo install youki` builds it where someone wants it.
    if which("youki").is_none() {
        skip(
            "youki_runs_an_init_and_execs_through_the_shim",
            "youki is not on PATH (cargo install youki)",
        );
        return;
    }
    // youki 0.7 writes the pid file as soon as it knows the pid, before `create` has saved the
    // container's state, so a `start` run the moment the pid file appears (what the daemon
    // does) can fail with "incorrect state Stopped". runc and crun write it last. No shim can
    // change when the runtime writes its pid file; this test waits for the state instead.
    let scratch = Scratch::new("youki");
    init_and_execs_through("youki".into(), &scratch, StartWhen::StateCreated);
}
