//! The shim's side of the runtime (issue 2, points 5 and 6) through the fake runtime, which
//! records every call and fails on demand: byte-exact command lines, the runtime child's
//! descriptors, signal mask and pdeathsig, the exit sequence's order, and every start failure.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use tinyshim_testkit::driver::ProcessOptions;
use tinyshim_testkit::harness::*;

const LONG: Duration = Duration::from_secs(30);

/// A container run by the fake runtime, with the files it reports through.
struct Fake {
    container: Container,
    /// One JSON line per runtime call.
    calls: PathBuf,
    /// `<id>` holds the pid of the process the fake started.
    started: PathBuf,
}

impl Fake {
    /// The fake runtime starting `/bin/sh -c <child>` on the host, with `env` for the shim and
    /// `runtime_args` as `runtimeArgs`.
    fn new(child: &str, env: &[(&str, &str)], runtime_args: &[&str]) -> Fake {
        let mut spec = Spec::fake(child);
        spec.runtime_args = runtime_args.iter().map(|a| a.to_string()).collect();
        for (name, value) in env {
            spec = spec.env(name, value);
        }
        let mut container = Container::new(spec);
        let calls = container.scratch().join("runtime-calls.json");
        let started = container.scratch().join("started");
        std::fs::create_dir(&started).expect("mkdir");
        for (name, path) in [
            ("FAKE_RUNTIME_LOG", &calls),
            ("FAKE_RUNTIME_STATE", &started),
        ] {
            let value = path.display().to_string();
            container.spec.env.push((name.into(), value));
        }
        Fake {
            container,
            calls,
            started,
        }
    }

    /// An exec process's options: `no_pivot_root` set, which exec must not pass on.
    fn exec_options(&self) -> ProcessOptions {
        ProcessOptions {
            process: self.container.spec.process(),
            exec: true,
            stdin: true,
            runtime_args: self.container.spec.runtime_args.clone(),
            no_pivot_root: true,
            ..ProcessOptions::default()
        }
    }

    /// The runtime calls so far, as argv lists.
    fn argvs(&self) -> Vec<Vec<String>> {
        recorded_calls(&self.calls).iter().map(argv).collect()
    }

    /// The process the fake runtime started, if it started one.
    fn child(&self) -> Option<i32> {
        std::fs::read_to_string(self.started.join(&self.container.id))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The subcommand of each call, in order.
    fn subcommands(&self) -> Vec<String> {
        let args = &self.container.spec.runtime_args;
        self.argvs()
            .into_iter()
            .map(|argv| {
                let skip = if argv.first().map(String::as_str) == Some("--log") {
                    4 + args.len()
                } else {
                    args.len()
                };
                argv.get(skip).cloned().unwrap_or_default()
            })
            .collect()
    }
}

impl Drop for Fake {
    /// A failed test must not leave the fake's child running. The pid is checked to still be that
    /// child (its environment names this fake's call log) before anything is killed.
    fn drop(&mut self) {
        let Some(child) = self.child() else {
            return;
        };
        let environ = std::fs::read(format!("/proc/{child}/environ")).unwrap_or_default();
        let ours = format!("FAKE_RUNTIME_LOG={}", self.calls.display());
        if environ
            .split(|&b| b == 0)
            .any(|entry| entry == ours.as_bytes())
        {
            let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
        }
    }
}

fn argv(call: &Value) -> Vec<String> {
    call["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|a| a.as_str().expect("string").to_string())
        .collect()
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).expect("canonical path")
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every runtime child starts with no blocked signal, SIGKILL as its parent-death signal, and
/// only the three descriptors it was given.
fn assert_clean_children(fake: &Fake) {
    let calls = recorded_calls(&fake.calls);
    assert!(!calls.is_empty());
    for call in calls {
        assert_eq!(call["sigblk"], "0000000000000000", "{call}");
        assert_eq!(call["pdeathsig"], Signal::SIGKILL as i32, "{call}");
        assert_eq!(call["fds"], serde_json::json!([0, 1, 2]), "{call}");
    }
}

/// The shim exits 1 with exactly one `error` entry, which is returned.
fn one_error(proc: &mut Proc) -> String {
    let status = proc.wait_shim(LONG);
    assert_eq!(status.code(), Some(1), "shim exit status {status}");
    let entries = proc.shim_log_entries();
    assert_eq!(entries.len(), 1, "{}", proc.shim_log());
    assert_eq!(entries[0]["level"], "error");
    entries[0]["msg"].as_str().expect("msg").to_string()
}

/// The fake runtime with `FAKE_START=<start>`, starting a child even when it fails.
fn leaving_a_child(start: &str) -> Fake {
    let keep = if start == "fail" {
        "FAKE_FAIL_CHILD"
    } else {
        "FAKE_PID_CHILD"
    };
    Fake::new(
        "exec sleep 1000",
        &[("FAKE_START", start), (keep, "1")],
        &[],
    )
}

/// The child the fake runtime started is gone: the shim killed what the runtime left.
fn assert_child_gone(fake: &Fake) {
    let child = fake.child().expect("the fake started a child");
    assert!(!alive(child), "the runtime's leftover {child} still runs");
}

// ----------------------------------------------------------------------------------------------
// Command lines and the exit sequence

#[test]
fn init_runs_create_kill_all_and_delete_in_order_with_byte_exact_command_lines() {
    let runtime_args = ["--root", "/run/fake root", "--debug"];
    let fake = Fake::new("echo hi; exit 3", &[], &runtime_args);
    let mut options = fake.container.init_options();
    options.no_pivot_root = true;
    let mut init = fake.container.spawn("init", &options);
    init.wait_pid();
    assert_eq!(init.read_stdout(LONG), b"hi\n");
    assert_eq!(init.finish(LONG), b"3");
    assert_eq!(init.shim_log(), "");

    let dir = canonical(&init.dir.dir);
    let id = fake.container.id.as_str();
    let at = |name: &str| dir.join(name).display().to_string();
    let bundle = fake.container.bundle.display().to_string();
    let mut create = words(&["--log", &at("log.json"), "--log-format", "json"]);
    create.extend(words(&runtime_args));
    create.extend(words(&["create", "--bundle", &bundle, "--no-pivot"]));
    create.extend(words(&["--pid-file", &at("pid"), id]));
    let mut kill_all = words(&runtime_args);
    kill_all.extend(words(&["kill", "--all", id, "SIGKILL"]));
    let mut delete = words(&runtime_args);
    delete.extend(words(&["delete", id]));
    assert_eq!(fake.argvs(), vec![create, kill_all, delete]);

    let cwds: Vec<PathBuf> = recorded_calls(&fake.calls)
        .iter()
        .map(|c| PathBuf::from(c["cwd"].as_str().expect("cwd")))
        .collect();
    let bundle = canonical(&fake.container.bundle);
    assert_eq!(cwds, vec![bundle, dir.clone(), dir]);
    assert_clean_children(&fake);
}

#[test]
fn exec_runs_only_exec_d_with_a_byte_exact_command_line() {
    let runtime_args = ["--root", "/r"];
    let fake = Fake::new("echo exec-out; exit 5", &[], &runtime_args);
    let mut exec = fake.container.spawn("exec1", &fake.exec_options());
    exec.wait_pid();
    assert_eq!(exec.read_stdout(LONG), b"exec-out\n");
    assert_eq!(exec.finish(LONG), b"5");
    assert_eq!(exec.shim_log(), "");

    let dir = canonical(&exec.dir.dir);
    let at = |name: &str| dir.join(name).display().to_string();
    let mut expected = words(&["--log", &at("log.json"), "--log-format", "json"]);
    expected.extend(words(&runtime_args));
    expected.extend(words(&["exec", "-d", "--process", &at("process.json")]));
    expected.extend(words(&["--pid-file", &at("pid"), &fake.container.id]));
    assert_eq!(fake.argvs(), vec![expected]);
    let calls = recorded_calls(&fake.calls);
    assert_eq!(
        PathBuf::from(calls[0]["cwd"].as_str().expect("cwd")),
        canonical(&fake.container.bundle)
    );
    assert_clean_children(&fake);
}

#[test]
fn all_six_pipe_ends_belong_to_root_uid_and_gid_and_the_process_holds_only_0_1_2() {
    let fake = Fake::new("exec sleep 1000", &[], &[]);
    let mut options = fake.container.init_options();
    options.root_ids = (1000, 1001);
    let mut init = fake.container.spawn("init", &options);
    let pid = init.wait_pid();
    // The fake runtime, unlike runc, leaves the pipes as the shim made them.
    let mut inodes = Vec::new();
    for fd in 0..3 {
        let meta = std::fs::metadata(format!("/proc/{pid}/fd/{fd}")).expect("stat");
        assert!(meta.file_type().is_fifo(), "fd {fd} is a pipe");
        assert_eq!((meta.uid(), meta.gid()), (1000, 1001), "fd {fd}");
        inodes.push(meta.ino());
    }
    inodes.dedup();
    assert_eq!(inodes.len(), 3, "three distinct pipes");
    assert_eq!(open_fds(pid), vec![0, 1, 2]);
    assert_clean_children(&fake);
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill");
    assert_eq!(init.finish(LONG), b"137");
}

#[test]
fn descriptors_inherited_from_a_leaky_parent_are_closed_at_start() {
    use std::os::fd::AsFd;
    let fake = Fake::new("exec sleep 1000", &[], &[]);
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
    let mut fds = [nix::poll::PollFd::new(
        read.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let ready = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(10_000u16)).expect("poll");
    assert_eq!(ready, 1, "the inherited write end is still open somewhere");
    let mut byte = [0u8; 1];
    assert_eq!(nix::unistd::read(&read, &mut byte).expect("read"), 0, "EOF");
    assert_clean_children(&fake);
    let child = fake.child().expect("the fake started a child");
    kill(Pid::from_raw(child), Signal::SIGKILL).expect("kill");
    assert_eq!(init.finish(LONG), b"137");
}

// ----------------------------------------------------------------------------------------------
// Start failures

#[test]
fn a_missing_runtime_is_the_originals_error_and_exit_1() {
    let original =
        r#"{"level": "error","msg": "tinyshim-no-such-runtime not installed on system"}"#;
    for (runtime, log) in [
        ("tinyshim-no-such-runtime", original),
        (
            "/nonexistent/\"quoted\" runtime",
            r#"{"level": "error","msg": "/nonexistent/\"quoted\" runtime not installed on system"}"#,
        ),
    ] {
        let mut spec = Spec::sh("true");
        spec.runtime = runtime.into();
        let container = Container::new(spec);
        let mut init = container.spawn_init();
        let msg = one_error(&mut init);
        assert_eq!(msg, format!("{runtime} not installed on system"));
        assert_eq!(init.shim_log(), log);
    }
}

#[test]
fn a_failing_create_is_deleted_and_exits_0_without_an_error_entry_leaving_nothing_running() {
    let fake = leaving_a_child("fail");
    let mut init = fake.container.spawn_init();
    let error = init
        .dir
        .wait_for_pid(&mut init.shim, LONG)
        .expect_err("no pid");
    // With no shim error, the daemon reports the runtime's own log.json.
    assert_eq!(error, "oci runtime error: fake runtime failed as asked");
    assert!(init.wait_shim(LONG).success());
    assert_eq!(init.shim_log(), "");
    assert_eq!(fake.subcommands(), ["create", "delete"]);
    assert_child_gone(&fake);
}

#[test]
fn a_failing_exec_exits_0_without_an_error_entry_or_a_delete() {
    let fake = leaving_a_child("fail");
    let mut exec = fake.container.spawn("exec1", &fake.exec_options());
    assert!(exec.wait_shim(LONG).success());
    assert_eq!(exec.shim_log(), "");
    assert_eq!(fake.subcommands(), ["exec"]);
    assert_child_gone(&fake);
}

/// Pid file contents the shim must refuse, and a word of the message each must give.
const BAD_PID_FILES: [(&str, &str); 4] = [
    ("nopid", "No such file or directory"),
    ("pid:abc", "\"abc\" is not a bare decimal pid"),
    ("pid:1", "process 1 is not a child of the shim"),
    ("pid:\"12\"\n", r#""\"12\"\n" is not a bare decimal pid"#),
];

#[test]
fn an_unreadable_or_malformed_pid_file_is_one_error_exit_1_and_nothing_left_running() {
    for (mode, reason) in BAD_PID_FILES {
        let fake = leaving_a_child(mode);
        let mut init = fake.container.spawn_init();
        let msg = one_error(&mut init);
        let pid_file = canonical(&init.dir.dir).join("pid");
        assert!(
            msg.contains(&pid_file.display().to_string()) && msg.contains(reason),
            "{mode}: {msg}"
        );
        assert_eq!(fake.subcommands(), ["create", "delete"], "{mode}");
        if mode == "nopid" {
            assert_eq!(fake.child(), None, "nopid starts nothing");
        } else {
            assert_child_gone(&fake);
        }
    }
}

#[test]
fn a_malformed_exec_pid_file_is_one_error_exit_1_without_a_delete() {
    let fake = leaving_a_child("pid:x");
    let mut exec = fake.container.spawn("exec1", &fake.exec_options());
    let msg = one_error(&mut exec);
    assert!(msg.contains("is not a bare decimal pid"), "{msg}");
    assert_eq!(fake.subcommands(), ["exec"]);
    assert_child_gone(&fake);
}
