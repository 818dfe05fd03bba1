//! Hostile input through the real binary: a flood of random bytes into the control FIFO of a
//! running terminal container, then the bad inputs of `docs/INPUTS.md` other than `process.json`
//! (in `process_json.rs`) with their documented outcome: client FIFO paths, pid files and
//! checkpoint configs. A refusal is exactly one `error` entry in `shim-log.json` naming the file,
//! exit status 1, the exit FIFO hung up, and nothing left running: no process the runtime
//! started, no console-socket directory.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver::{self, open_fifo_writer};
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::process::{edit_process_json, wait_control_read};
use tinyshim_testkit::procfs::{rss_kib, threads};
use tinyshim_testkit::scratch::canonical;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::LONG;

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
    wait_control_read(&init.dir);
    let before = rss_kib(shim);
    let flooded = flood(&mut noise, &init.dir.control, Duration::from_secs(4));
    // The newline ends whatever partial garbage line came last, so this resize is the last
    // message parsed.
    write_control(&init.dir.control, b"\n1 123 45\n");
    wait_control_read(&init.dir);
    let after = rss_kib(shim);
    eprintln!(
        "flood: {} bytes, {} valid resizes; shim VmRSS {before} kB before, {after} kB after",
        flooded.bytes, flooded.resizes
    );
    assert!(
        init.shim.try_wait().expect("try_wait shim").is_none(),
        "the shim died in the flood"
    );
    assert_eq!(threads(shim), "1");
    assert!(
        after < before + 256,
        "VmRSS grew from {before} kB to {after} kB"
    );
    (&stdin).write_all(b"go\n").expect("write stdin");
    let out = String::from_utf8_lossy(&init.finish().stdout).into_owned();
    assert!(out.contains("45 123"), "stty size printed {out:?}");
}

// ---------------------------------------------------------------------------------------------
// Client FIFO paths

#[test]
fn client_fifo_paths_that_are_not_fifos_are_one_error_naming_them() {
    let fake = Fake::sh("echo never");
    let dir = fake.container.scratch().join("paths");
    std::fs::create_dir(&dir).expect("mkdir");
    let file = dir.join("regular");
    std::fs::write(&file, b"").expect("write");
    let missing = dir.join("no-such-fifo");
    let to_file = dir.join("link-to-regular");
    symlink(&file, &to_file).expect("symlink");
    let cases = [
        ("containerdStdout", &missing, "No such file or directory"),
        ("containerdStdout", &dir, "not a FIFO"),
        ("containerdStdin", &file, "not a FIFO"),
        ("containerdStderr", &file, "not a FIFO"),
        ("containerdStdout", &to_file, "not a FIFO"),
    ];
    for (i, (key, path, reason)) in cases.iter().enumerate() {
        let mut proc =
            fake.container
                .spawn_prepared(&format!("p{i}"), &fake.container.init_options(), |d| {
                    edit_process_json(d, |v| v[*key] = Value::from(path.display().to_string()))
                });
        let case = format!("{key} = {}", path.display());
        let error = fake.assert_refused(
            &mut proc,
            &case,
            &format!("containerd-shim: opening {} failed", path.display()),
        );
        assert!(error.contains(reason), "{case}: {error:?}");
    }
    assert_eq!(fake.calls(), Vec::new(), "the runtime ran");
}

// ---------------------------------------------------------------------------------------------
// Pid files

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
            "pid:\"12\"\n",
            r#"pid file PID: content "\"12\"\n" is not a bare decimal pid"#,
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
            let mut spec = Spec::fake("exec sleep 1000")
                .env("FAKE_START", start)
                .env("FAKE_PID_CHILD", "1");
            spec.terminal = terminal;
            let fake = Fake::new(spec);
            let mut init = fake.container.spawn_init();
            // A runtime that wrote no pid file also never connected to the console socket; the
            // shim reports the terminal first, the more likely cause.
            let expected = if terminal && start == "nopid" {
                "exited without sending a terminal".to_string()
            } else {
                let pid_file = canonical(&init.dir.dir).join("pid");
                expected.replace("PID", &pid_file.display().to_string())
            };
            let what = format!("FAKE_START={start:?}, terminal {terminal}");
            fake.assert_refused(&mut init, &what, &expected);
            assert_eq!(fake.subcommands(), ["create", "delete"], "{what}");
            fake.assert_deleted_last(&what);
            if start == "nopid" {
                assert_eq!(fake.child(), None, "{what}: nopid starts nothing");
            } else {
                fake.assert_child_killed(&what);
            }
        }
    }
}

#[test]
fn a_malformed_exec_pid_file_is_one_error_exit_1_without_a_delete() {
    let fake = Fake::new(
        Spec::fake("exec sleep 1000")
            .env("FAKE_START", "pid:x")
            .env("FAKE_PID_CHILD", "1"),
    );
    let mut options = fake.container.exec_options(&["sh"], false);
    options.no_pivot_root = true;
    let mut exec = fake.container.spawn("exec1", &options);
    fake.assert_refused(&mut exec, "exec", "is not a bare decimal pid");
    assert_eq!(fake.subcommands(), ["exec"]);
    fake.assert_child_killed("exec");
}

// ---------------------------------------------------------------------------------------------
// Checkpoint configs

#[test]
fn a_missing_or_malformed_checkpoint_config_is_one_error_naming_it() {
    let fake = Fake::sh("echo never");
    let cases: [(&str, Option<&[u8]>, &str); 6] = [
        ("missing", None, "open"),
        ("no checkpoint directory", None, "open"),
        ("garbage", Some(b"{\"tcp\":tru\x00"), "decode"),
        ("truncated", Some(br#"{"tcp":tr"#), "decode"),
        (
            "emptyNS not a list",
            Some(br#"{"emptyNS":"network"}"#),
            "decode",
        ),
        (
            "wrong types",
            Some(br#"{"tcp":"yes","emptyNS":"network"}"#),
            "decode",
        ),
    ];
    for (n, (case, content, verb)) in cases.into_iter().enumerate() {
        let checkpoint: PathBuf = fake.container.scratch().join(format!("cp{n}"));
        if case != "no checkpoint directory" {
            std::fs::create_dir(&checkpoint).expect("mkdir checkpoint");
        }
        let config = checkpoint.join("config.json");
        if let Some(bytes) = content {
            std::fs::write(&config, bytes).expect("write config");
        }
        let mut options = fake.container.init_options();
        options.checkpoint = checkpoint.display().to_string();
        let mut init = fake.container.spawn(&format!("init{n}"), &options);
        let error = init
            .dir
            .wait_for_pid(&mut init.shim, LONG)
            .expect_err("no restore without a checkpoint config");
        let needle = format!("{verb} {}", config.display());
        assert!(
            error.starts_with("shim error: ") && error.contains(&needle),
            "{case}: the daemon reports {error:?}"
        );
        fake.assert_refused(&mut init, case, &needle);
    }
    // Nothing was started, so there was nothing to delete.
    assert_eq!(fake.calls(), Vec::new(), "the runtime ran");
}
