//! Hostile input through the real binary: a flood of random bytes into the control FIFO of a
//! running terminal container, then every bad input of `docs/INPUTS.md` with its documented
//! outcome. The outcome is either normal operation, or exactly one `error` entry in
//! `shim-log.json` naming the file or syscall, exit status 1, the exit FIFO hung up, and nothing
//! left running: no process the runtime started, no console-socket directory.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde_json::Value;
use tinyshim::io::input::MAX_INPUT_BYTES as MAX_SPEC_BYTES;
use tinyshim_testkit::driver::{self, open_fifo_writer, ProcessDir};
use tinyshim_testkit::harness::*;

const LONG: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The control FIFO flood.

/// xorshift64*: bytes nobody chose, reproducible from the seed the test prints.
struct Noise(u64);

impl Noise {
    fn seeded() -> Noise {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        let seed = nanos | 1;
        eprintln!("flood seed: {seed}");
        Noise(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `len` bytes drawn from `alphabet`, or from all 256 values.
    fn bytes(&mut self, len: usize, alphabet: Option<&[u8]>) -> Vec<u8> {
        (0..len)
            .map(|_| match alphabet {
                Some(set) => set[self.below(set.len() as u64) as usize],
                None => self.next() as u8,
            })
            .collect()
    }
}

/// What the flood wrote.
#[derive(Debug, Default)]
struct Flooded {
    bytes: usize,
    resizes: usize,
}

/// Writes all of `bytes` into the non-blocking control FIFO, waiting while it is full; a shim
/// that stops reading fails the test instead of hanging it.
fn write_control(control: &File, bytes: &[u8]) {
    let mut rest = bytes;
    let mut stalled_since = Instant::now();
    while !rest.is_empty() {
        match (&*control).write(rest) {
            Ok(n) => {
                rest = &rest[n..];
                stalled_since = Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    stalled_since.elapsed() < LONG,
                    "the shim stopped reading its control FIFO"
                );
                driver::pause(Duration::from_millis(1));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("write control: {e}"),
        }
    }
}

/// Writes hostile control traffic for `duration`: random bytes, near-valid lines (which may
/// well hold valid messages, close-stdin included), megabyte lines, NUL runs, and valid resizes.
fn flood(noise: &mut Noise, control: &File, duration: Duration) -> Flooded {
    const LINE_BYTES: &[u8] = b"0123456789 +-\t\r\n";
    let mut flooded = Flooded::default();
    let deadline = Instant::now() + duration;
    // The first round goes through every kind once, whatever the draw.
    let mut kind = 0;
    while kind < 5 || Instant::now() < deadline {
        let chunk = match if kind < 5 { kind } else { noise.below(5) } {
            0 => noise.bytes(4096, None),
            1 => noise.bytes(4096, Some(LINE_BYTES)),
            2 => {
                // One line of a megabyte, written in pieces, never stored by the parser.
                for _ in 0..16 {
                    let piece = noise.bytes(64 * 1024, Some(b"0123456789 "));
                    write_control(control, &piece);
                    flooded.bytes += piece.len();
                }
                Vec::new()
            }
            3 => vec![0; 4096],
            _ => {
                flooded.resizes += 1;
                let (width, height) = (noise.below(1 << 16), noise.below(1 << 16));
                format!("\n1 {width} {height}\n").into_bytes()
            }
        };
        write_control(control, &chunk);
        flooded.bytes += chunk.len();
        kind += 1;
    }
    flooded
}

/// Bytes written into the FIFO and not read yet.
fn backlog(fifo: &File) -> usize {
    let mut pending: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to a live local; the
    // descriptor is borrowed from `fifo` for the call only.
    let rc = unsafe { nix::libc::ioctl(fifo.as_raw_fd(), nix::libc::FIONREAD, &mut pending) };
    assert_eq!(rc, 0, "FIONREAD: {}", io::Error::last_os_error());
    pending as usize
}

/// Waits until the shim has read every byte written into its control FIFO. It feeds each read
/// to the parser before it returns to its loop, so by then every message has been acted on.
fn wait_drained(control: &File) {
    eventually(LONG, "the shim reads the whole control FIFO", || {
        backlog(control) == 0
    });
}

fn rss_kib(pid: i32) -> u64 {
    let text = proc_status(pid, "VmRSS").expect("VmRSS of the shim");
    text.trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmRSS in kB")
}

#[test]
fn a_control_flood_leaves_the_shim_up_bounded_and_with_the_last_resize() {
    let container = Container::new(Spec::sh("read line; stty size").tty());
    let (mut init, _) = container.run();
    let shim = init.shim_pid();
    // The client stays attached, as the daemon is: a close-stdin drawn by the flood then only
    // drops the shim's own writer, and stdin keeps flowing.
    let stdin_path = init.dir.stdin_path.clone().expect("stdin FIFO");
    let stdin = open_fifo_writer(&stdin_path).expect("open stdin FIFO");
    let mut noise = Noise::seeded();
    // Every parser path once, so that the pages they touch are in the baseline.
    flood(&mut noise, &init.dir.control, Duration::ZERO);
    wait_drained(&init.dir.control);
    let before = rss_kib(shim);
    let flooded = flood(&mut noise, &init.dir.control, Duration::from_secs(4));
    // The newline ends whatever partial garbage line came last, so this resize is the last
    // message parsed.
    write_control(&init.dir.control, b"\n1 123 45\n");
    wait_drained(&init.dir.control);
    let after = rss_kib(shim);
    eprintln!(
        "flood: {} bytes, {} valid resizes; shim VmRSS {before} kB before, {after} kB after",
        flooded.bytes, flooded.resizes
    );
    assert!(
        init.shim.try_wait().expect("try_wait shim").is_none(),
        "the shim died in the flood"
    );
    assert_eq!(proc_status(shim, "Threads").as_deref(), Some("1"));
    assert!(
        after < before + 256,
        "VmRSS grew from {before} kB to {after} kB"
    );
    (&stdin).write_all(b"go\n").expect("write stdin");
    let out = String::from_utf8_lossy(&init.read_stdout(LONG)).into_owned();
    assert!(out.contains("45 123"), "stty size printed {out:?}");
    assert!(init.wait_shim(LONG).success());
    assert_eq!(init.shim_errors(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Bad inputs.

/// A container on the fake runtime, which records its calls and its children's pids, with the
/// shim's temp directory private to the test.
struct Fake {
    container: Container,
    scratch: Scratch,
}

impl Fake {
    fn new(spec: Spec) -> Fake {
        let scratch = Scratch::new("hostile");
        for sub in ["tmp", "children"] {
            std::fs::create_dir(scratch.path().join(sub)).expect("scratch dir");
        }
        let path = |sub: &str| scratch.path().join(sub).display().to_string();
        let mut spec = spec
            .env("FAKE_RUNTIME_LOG", &path("calls.jsonl"))
            .env("FAKE_RUNTIME_STATE", &path("children"));
        if !spec.env.iter().any(|(name, _)| name == "TMPDIR") {
            spec = spec.env("TMPDIR", &path("tmp"));
        }
        Fake {
            container: Container::new(spec),
            scratch,
        }
    }

    fn calls(&self) -> Vec<String> {
        recorded_calls(&self.scratch.path().join("calls.jsonl"))
            .iter()
            .map(argv_text)
            .collect()
    }

    /// Spawns the init's shim after `prepare` changed its process directory.
    fn spawn(&self, prepare: impl FnOnce(&ProcessDir)) -> Proc {
        self.container
            .spawn_prepared("init", &self.container.init_options(), |dir| prepare(dir))
    }

    /// The shim's children are all gone and its temp directory is empty.
    fn assert_nothing_left(&self, case: &str) {
        for entry in std::fs::read_dir(self.scratch.path().join("children")).expect("children") {
            let path = entry.expect("entry").path();
            let pid: i32 = std::fs::read_to_string(&path)
                .expect("child pid")
                .parse()
                .expect("pid");
            assert!(
                !alive(pid),
                "{case}: the runtime's child {pid} outlived the shim"
            );
        }
        let left: Vec<_> = std::fs::read_dir(self.scratch.path().join("tmp"))
            .expect("tmp")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{case}: temp files left: {left:?}");
    }

    /// The documented refusal: exit 1, one error entry containing `needle`, the exit FIFO hung
    /// up, nothing left running.
    fn assert_refused(&self, mut proc: Proc, case: &str, needle: &str) -> String {
        let status = proc.wait_shim(LONG);
        assert_eq!(status.code(), Some(1), "{case}: shim exit status");
        let errors = proc.shim_errors();
        assert_eq!(errors.len(), 1, "{case}: error entries {errors:?}");
        assert!(
            errors[0].contains(needle),
            "{case}: {:?} does not name {needle:?}",
            errors[0]
        );
        assert!(proc.dir.wait_exit(LONG), "{case}: exit FIFO still open");
        self.assert_nothing_left(case);
        errors[0].clone()
    }
}

/// Runs a started process to its end: its output and exit status, with no error entry.
fn run_to_end(mut proc: Proc, container: &Container) -> (Vec<u8>, Option<u32>) {
    proc.wait_pid();
    container.start();
    let out = proc.read_stdout(LONG);
    assert!(proc.dir.wait_exit(LONG), "exit FIFO hung up");
    assert!(proc.wait_shim(LONG).success(), "shim exit status");
    assert_eq!(proc.shim_errors(), Vec::<String>::new());
    (out, proc.dir.exit_status())
}

fn process_json(dir: &ProcessDir) -> PathBuf {
    dir.dir.join("process.json")
}

/// Rewrites `process.json` through `edit` on its JSON value.
fn edit_process_json(dir: &ProcessDir, edit: impl FnOnce(&mut Value)) {
    let path = process_json(dir);
    let mut value: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read process.json")).expect("JSON");
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec(&value).expect("encode")).expect("write");
}

/// `process.json` with an `env` padded with entries of 64 KiB up to `bytes` in all.
fn pad_env(dir: &ProcessDir, bytes: usize) {
    edit_process_json(dir, |value| {
        let env = value["env"].as_array_mut().expect("env");
        let entry = "x".repeat(64 * 1024);
        for i in 0..bytes / entry.len() + 1 {
            env.push(Value::from(format!("PAD{i}={entry}")));
        }
    });
}

/// `[[[...]]]` nested `depth` levels deep.
fn nested(depth: usize) -> String {
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    text
}

/// Puts `"key": <raw JSON>` first in `process.json`.
fn prepend_key(dir: &ProcessDir, key: &str, raw: &str) {
    let path = process_json(dir);
    let text = std::fs::read_to_string(&path).expect("read process.json");
    let rest = text.strip_prefix('{').expect("an object");
    std::fs::write(&path, format!("{{\"{key}\":{raw},{rest}")).expect("write");
}

#[test]
fn bad_process_json_is_one_error_naming_it() {
    type Prepare = fn(&ProcessDir);
    let cases: &[(&str, Prepare, &str)] = &[
        (
            "missing",
            |d| std::fs::remove_file(process_json(d)).expect("remove"),
            "open ",
        ),
        ("empty", |d| write(&process_json(d), b""), "decode "),
        (
            "wrong types",
            |d| write(&process_json(d), br#"{"terminal":"yes","rootUID":-1}"#),
            "decode ",
        ),
        (
            "not UTF-8",
            |d| {
                write(
                    &process_json(d),
                    b"{\"containerdStdout\":\"/tmp/\xff\xfe\"}",
                )
            },
            "decode ",
        ),
        (
            "nested 100 000 levels where a list is expected",
            |d| prepend_key(d, "runtimeArgs", &nested(100_000)),
            "decode ",
        ),
        (
            "over 16 MiB",
            |d| pad_env(d, MAX_SPEC_BYTES as usize),
            "larger than 16777216 bytes",
        ),
        (
            "a directory",
            |d| {
                std::fs::remove_file(process_json(d)).expect("remove");
                std::fs::create_dir(process_json(d)).expect("mkdir");
            },
            "not a regular file",
        ),
        (
            "a FIFO nobody writes",
            |d| {
                std::fs::remove_file(process_json(d)).expect("remove");
                nix::unistd::mkfifo(&process_json(d), nix::sys::stat::Mode::S_IRWXU)
                    .expect("mkfifo");
            },
            "not a regular file",
        ),
    ];
    let fake = Fake::new(Spec::fake("echo never"));
    for (i, (case, prepare, needle)) in cases.iter().enumerate() {
        let proc = fake.container.spawn_prepared(
            &format!("p{i}"),
            &fake.container.init_options(),
            |dir| prepare(dir),
        );
        let path = process_json(&proc.dir).display().to_string();
        let error = fake.assert_refused(proc, case, needle);
        assert!(
            error.contains(&path),
            "{case}: {error:?} does not name {path}"
        );
    }
    assert_eq!(fake.calls(), Vec::<String>::new(), "the runtime ran");
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn a_ten_megabyte_process_json_runs_normally() {
    let container = Container::new(Spec::sh("echo ok"));
    let proc = container.spawn_prepared("init", &container.init_options(), |d| {
        pad_env(d, 10 << 20);
    });
    let size = std::fs::metadata(process_json(&proc.dir))
        .expect("stat")
        .len();
    assert!(size > 10 << 20, "process.json is {size} bytes");
    assert_eq!(run_to_end(proc, &container), (b"ok\n".to_vec(), Some(0)));
}

#[test]
fn a_value_nested_100_000_levels_where_the_shim_skips_it_runs_normally() {
    let fake = Fake::new(Spec::fake("echo ok; exit 3"));
    let proc = fake.spawn(|d| prepend_key(d, "future", &nested(100_000)));
    assert_eq!(
        run_to_end(proc, &fake.container),
        (b"ok\n".to_vec(), Some(3))
    );
    fake.assert_nothing_left("deep unknown key");
}

#[test]
fn client_fifo_paths_that_are_not_fifos_are_one_error_naming_them() {
    let fake = Fake::new(Spec::fake("echo never"));
    let dir = fake.scratch.path();
    let file = dir.join("regular");
    write(&file, b"");
    let missing = dir.join("no-such-fifo");
    let to_file = dir.join("link-to-regular");
    symlink(&file, &to_file).expect("symlink");
    let cases = [
        ("containerdStdout", &missing, "No such file or directory"),
        ("containerdStdout", &dir.to_path_buf(), "not a FIFO"),
        ("containerdStdin", &file, "not a FIFO"),
        ("containerdStderr", &file, "not a FIFO"),
        ("containerdStdout", &to_file, "not a FIFO"),
    ];
    for (i, (key, path, reason)) in cases.iter().enumerate() {
        let proc =
            fake.container
                .spawn_prepared(&format!("p{i}"), &fake.container.init_options(), |d| {
                    edit_process_json(d, |v| v[*key] = Value::from(path.display().to_string()))
                });
        let case = format!("{key} = {}", path.display());
        let error = fake.assert_refused(
            proc,
            &case,
            &format!("containerd-shim: opening {} failed", path.display()),
        );
        assert!(error.contains(reason), "{case}: {error:?}");
    }
    assert_eq!(fake.calls(), Vec::<String>::new(), "the runtime ran");
}

#[test]
fn a_symlink_to_the_stdout_fifo_works() {
    let container = Container::new(Spec::sh("echo through the link; exit 6"));
    let link = container.scratch().join("stdout-link");
    let proc = container.spawn_prepared("init", &container.init_options(), |d| {
        symlink(&d.stdout_path, &link).expect("symlink");
        edit_process_json(d, |v| {
            v["containerdStdout"] = Value::from(link.display().to_string())
        });
    });
    assert_eq!(
        run_to_end(proc, &container),
        (b"through the link\n".to_vec(), Some(6))
    );
}

#[test]
fn dev_null_as_every_client_fifo_works() {
    let container = Container::new(Spec::sh("cat; echo out; echo err >&2; exit 7"));
    let proc = container.spawn_prepared("init", &container.init_options(), |d| {
        edit_process_json(d, |v| {
            for key in ["containerdStdin", "containerdStdout", "containerdStderr"] {
                v[key] = Value::from("/dev/null");
            }
        });
    });
    // Nothing reaches the daemon's stdout FIFO, which no one opened for writing.
    assert_eq!(run_to_end(proc, &container), (Vec::new(), Some(7)));
}

#[test]
fn bad_pid_files_are_one_error_and_the_runtime_child_is_killed() {
    // The fake runtime's FAKE_START, and the error, where PID stands for the pid file's path.
    let cases = [
        ("pid:", "pid file PID: file is empty"),
        (
            "pid:abc",
            "pid file PID: content \"abc\" is not a bare decimal pid",
        ),
        (
            "pid:123\n",
            "pid file PID: content \"123\\n\" is not a bare decimal pid",
        ),
        (
            "pid:-5",
            "pid file PID: content \"-5\" is not a bare decimal pid",
        ),
        (
            "pid:99999999999999999999",
            "pid file PID: content \"99999999999999999999\" is not a pid in 1..=4194304",
        ),
        (
            "pid:1",
            "pid file PID: process 1 is not a child of the shim",
        ),
        ("nopid", "open PID: No such file or directory"),
    ];
    for terminal in [false, true] {
        for (start, expected) in cases {
            let mut spec = Spec::fake("sleep 3600")
                .env("FAKE_START", start)
                .env("FAKE_PID_CHILD", "1");
            if terminal {
                spec = spec.tty();
            }
            let fake = Fake::new(spec);
            let proc = fake.spawn(|_| {});
            // A runtime that wrote no pid file also never connected to the console socket; the
            // shim reports the terminal first, the more likely cause.
            let expected = if terminal && start == "nopid" {
                "exited without sending a terminal".to_string()
            } else {
                expected.replace("PID", &proc.dir.dir.join("pid").display().to_string())
            };
            let case = format!("FAKE_START={start:?}, terminal {terminal}");
            fake.assert_refused(proc, &case, &expected);
            let calls = fake.calls();
            assert_eq!(calls.len(), 2, "{case}: {calls:?}");
            assert!(calls[0].contains(" create "), "{case}: {calls:?}");
            assert!(calls[1].ends_with(&format!("delete {}", fake.container.id)));
        }
    }
}

#[test]
fn a_missing_or_garbage_checkpoint_config_is_one_error_naming_it() {
    let fake = Fake::new(Spec::fake("echo never"));
    let checkpoint = fake.scratch.path().join("checkpoint");
    std::fs::create_dir(&checkpoint).expect("mkdir checkpoint");
    let config = checkpoint.join("config.json");
    let mut options = fake.container.init_options();
    options.checkpoint = checkpoint.display().to_string();
    for (case, content, needle) in [
        ("missing", None, format!("open {}", config.display())),
        (
            "garbage",
            Some(&b"{\"tcp\":tru\x00"[..]),
            format!("decode {}", config.display()),
        ),
        (
            "wrong types",
            Some(br#"{"emptyNS":"network"}"#),
            format!("decode {}", config.display()),
        ),
    ] {
        match content {
            Some(bytes) => write(&config, bytes),
            None => {
                let _ = std::fs::remove_file(&config);
            }
        }
        let proc = fake.container.spawn_prepared(case, &options, |_| {});
        fake.assert_refused(proc, case, &needle);
    }
    assert_eq!(fake.calls(), Vec::<String>::new(), "the runtime ran");
}

#[test]
fn a_runtime_writing_megabytes_to_stderr_runs_normally() {
    const BYTES: usize = 4 << 20;
    let fake = Fake::new(Spec::fake("echo started").env("FAKE_START", &format!("stderr:{BYTES}")));
    let mut proc = fake.spawn(|_| {});
    // The runtime's stderr is the container's: the client must read it for the runtime to
    // finish, as the daemon does. Until a writer comes, the FIFO reads as EOF.
    let reader = proc.dir.stderr.as_ref().expect("stderr reader");
    let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::try_from(LONG).expect("timeout")).expect("poll");
    assert_eq!(ready, 1, "no stderr from the runtime");
    let err = proc.read_stderr(LONG);
    assert_eq!(err.len(), BYTES);
    assert!(err.iter().all(|&b| b == b'E'));
    assert_eq!(
        run_to_end(proc, &fake.container),
        (b"started\n".to_vec(), Some(0))
    );
    fake.assert_nothing_left("stderr flood");
}

#[test]
fn a_bad_argv_or_cwd_is_one_error_and_exit_1() {
    let scratch = Scratch::new("argv");
    let cases: &[(&[&str], &str)] = &[
        (&[], "got 0 argument(s)"),
        (&["id"], "got 1 argument(s)"),
        (&["id", "/bundle"], "got 2 argument(s)"),
        (&["id", "/bundle", "runc", "extra"], "got 4 argument(s)"),
        (&["id", "/bundle", "runc", "x", "y"], "got 5 argument(s)"),
        (&["", "/bundle", "runc"], "id must be non-empty UTF-8"),
        (&["id", "/bundle", ""], "runtime must be non-empty UTF-8"),
        // The arguments are right, but the working directory is not a process directory.
        (&["id", "/bundle", "runc"], "open "),
    ];
    for (i, (args, needle)) in cases.iter().enumerate() {
        let cwd = scratch.path().join(i.to_string());
        std::fs::create_dir(&cwd).expect("mkdir");
        let mut shim = Command::new(shim_binary())
            .args(*args)
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn shim");
        let mut status = None;
        eventually(LONG, "the shim exits", || {
            status = shim.try_wait().expect("try_wait");
            status.is_some()
        });
        assert_eq!(status.and_then(|s| s.code()), Some(1), "{args:?}");
        let log = std::fs::read_to_string(cwd.join("shim-log.json")).unwrap_or_default();
        let entries: Vec<Value> = serde_json::Deserializer::from_str(&log)
            .into_iter::<Value>()
            .map(|e| e.expect("valid JSON entry"))
            .collect();
        assert_eq!(entries.len(), 1, "{args:?}: {log}");
        assert_eq!(entries[0]["level"], "error");
        let message = entries[0]["msg"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{args:?}: {message:?}");
        if *needle == "open " {
            assert!(message.contains(&cwd.join("exit").display().to_string()));
        } else {
            assert!(message.starts_with("containerd-shim arguments: "));
        }
    }
}

#[test]
fn a_missing_runtime_bundle_or_tmpdir_is_one_error_naming_it() {
    let mut spec = Spec::fake("echo never");
    spec.runtime = "no-such-runtime".into();
    let fake = Fake::new(spec);
    let proc = fake.spawn(|_| {});
    fake.assert_refused(proc, "runtime", "no-such-runtime not installed on system");

    let fake = Fake::new(Spec::fake("echo never"));
    std::fs::remove_dir_all(&fake.container.bundle).expect("remove bundle");
    let proc = fake.spawn(|_| {});
    let needle = format!("spawn {} create: No such file or directory", fake_runtime());
    fake.assert_refused(proc, "bundle", &needle);
    assert_eq!(fake.calls(), Vec::<String>::new(), "the runtime ran");

    let dangling = "/nonexistent-tinyshim-tmpdir";
    let fake = Fake::new(Spec::fake("echo never").tty().env("TMPDIR", dangling));
    let proc = fake.spawn(|_| {});
    let needle = format!("mkdtemp {dangling}/tinyshim-pty.XXXXXX: No such file or directory");
    fake.assert_refused(proc, "TMPDIR", &needle);
    assert_eq!(fake.calls(), Vec::<String>::new(), "the runtime ran");
}
