//! The shim's side of the runtime, through the fake runtime, which records every call and fails
//! on demand: byte-exact `create`, `exec`, `restore`, `kill` and `delete` command lines with
//! their working directories and the state each runtime child starts in; what the shim does when
//! the runtime fails, hangs or floods its stderr, and what it leaves running then.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tinyshim_testkit::assertions::assert_empty_dir;
use tinyshim_testkit::binaries::fake_runtime;
use tinyshim_testkit::checkpoint::{parse_go_rfc3339_nano_utc, write_checkpoint};
use tinyshim_testkit::driver::ProcessOptions;
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::fifo_reads::read_at_least;
use tinyshim_testkit::procfs::{children, ended};
use tinyshim_testkit::scratch::canonical;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// `--log SD/log.json --log-format json`, the prefix of create, exec and restore.
fn logged(sd: &str) -> Vec<String> {
    words(&["--log", &format!("{sd}/log.json"), "--log-format", "json"])
}

/// `--pid-file SD/pid ID`, their suffix.
fn pid_file(sd: &str, id: &str) -> Vec<String> {
    words(&["--pid-file", &format!("{sd}/pid"), id])
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

// ----------------------------------------------------------------------------------------------
// Command lines

/// One way the daemon can start an init.
struct InitCase {
    what: &'static str,
    runtime_args: &'static [&'static str],
    no_pivot_root: bool,
    terminal: bool,
    /// The runtime named by a bare name that the shim's `PATH` resolves, as the daemon's `runc`
    /// or `docker-runc` is.
    found_in_path: bool,
    child: &'static str,
    stdout: &'static [u8],
    exit_status: &'static [u8],
}

#[test]
fn init_runs_create_kill_all_and_delete_in_order_with_byte_exact_command_lines() {
    let cases = [
        InitCase {
            what: "no runtimeArgs",
            runtime_args: &[],
            no_pivot_root: false,
            terminal: false,
            found_in_path: false,
            child: "echo out; exit 3",
            stdout: b"out\n",
            exit_status: b"3",
        },
        InitCase {
            what: "runtimeArgs with a space, noPivotRoot",
            runtime_args: &["--root", "/run/fake root", "--debug"],
            no_pivot_root: true,
            terminal: false,
            found_in_path: false,
            child: "echo hi; exit 3",
            stdout: b"hi\n",
            exit_status: b"3",
        },
        InitCase {
            what: "a terminal, runtimeArgs, noPivotRoot, a runtime found in PATH",
            runtime_args: &["--root", "/run/my rt", "--systemd-cgroup"],
            no_pivot_root: true,
            terminal: true,
            found_in_path: true,
            child: "echo out; exit 0",
            stdout: b"out\r\n",
            exit_status: b"0",
        },
    ];
    for case in cases {
        let what = case.what;
        let mut spec = Spec::fake(case.child);
        spec.terminal = case.terminal;
        spec.runtime_args = words(case.runtime_args);
        if case.found_in_path {
            spec.runtime = "my-rt".into();
        }
        let mut fake = Fake::new(spec);
        if case.found_in_path {
            let bin = fake.container.scratch().join("bin");
            std::fs::create_dir(&bin).expect("mkdir bin");
            std::os::unix::fs::symlink(fake_runtime(), bin.join("my-rt")).expect("symlink");
            let path = format!(
                "{}:{}",
                text(&bin),
                std::env::var("PATH").unwrap_or_default()
            );
            fake.container.spec.env.push(("PATH".into(), path));
        }
        let mut options = fake.container.init_options();
        options.no_pivot_root = case.no_pivot_root;
        let mut init = fake.container.spawn("init", &options);
        init.wait_pid();
        let end = init.finish();
        assert_eq!(end.stdout, case.stdout, "{what}");
        assert_eq!(end.exit_status, case.exit_status, "{what}");
        assert_eq!(init.shim_log(), "", "{what}");

        let id = fake.container.id.as_str();
        let sd = text(&canonical(&init.dir.dir));
        let calls = fake.calls();
        assert_eq!(calls.len(), 3, "{what}: {calls:?}");
        let mut create = logged(&sd);
        create.extend(words(case.runtime_args));
        create.extend(words(&[
            "create",
            "--bundle",
            &text(&fake.container.bundle),
        ]));
        if case.terminal {
            let socket = console_socket(&calls[0].argv, fake.tmpdir());
            create.extend(words(&["--console-socket", &socket]));
        }
        if case.no_pivot_root {
            create.push("--no-pivot".into());
        }
        create.extend(pid_file(&sd, id));
        let kill_all = [case.runtime_args, &["kill", "--all", id, "SIGKILL"]].concat();
        let delete = [case.runtime_args, &["delete", id]].concat();
        assert_eq!(
            fake.argvs(),
            vec![create, words(&kill_all), words(&delete)],
            "{what}"
        );
        let cwds: Vec<PathBuf> = calls.iter().map(|call| call.cwd.clone()).collect();
        let sd = PathBuf::from(sd);
        let bundle = canonical(&fake.container.bundle);
        assert_eq!(cwds, vec![bundle, sd.clone(), sd], "{what}");
        fake.assert_calls_started_clean();
        assert_empty_dir(fake.tmpdir(), what);
    }
}

#[test]
fn exec_runs_only_exec_d_with_a_byte_exact_command_line() {
    let runtime_args = ["--debug", "--root", "/r"];
    let mut spec = Spec::fake("echo exec; exit 4");
    spec.runtime_args = words(&runtime_args);
    let fake = Fake::new(spec);
    let id = fake.container.id.clone();
    for (exec_id, terminal) in [("e-pipes", false), ("e-tty", true)] {
        // containerd copies the container's noPivotRoot into every process.json; `exec` has no
        // such flag, so it must not appear.
        let mut options = fake.container.exec_options(&["sh"], terminal);
        options.no_pivot_root = true;
        let mut exec = fake.container.spawn(exec_id, &options);
        exec.wait_pid();
        let end = exec.finish();
        let want: &[u8] = if terminal { b"exec\r\n" } else { b"exec\n" };
        assert_eq!(end.stdout, want, "{exec_id}");
        assert_eq!(end.exit_status, b"4", "{exec_id}");
        assert_eq!(exec.shim_log(), "", "{exec_id}");

        let sd = text(&canonical(&exec.dir.dir));
        let call = fake.calls().pop().expect("a call");
        let mut expected = logged(&sd);
        expected.extend(words(&runtime_args));
        expected.extend(words(&["exec", "-d", "--process"]));
        expected.push(format!("{sd}/process.json"));
        if terminal {
            let socket = console_socket(&call.argv, fake.tmpdir());
            expected.extend(words(&["--console-socket", &socket]));
        }
        expected.extend(pid_file(&sd, &id));
        assert_eq!(call.argv, expected, "{exec_id}");
        assert_eq!(call.cwd, canonical(&fake.container.bundle), "{exec_id}");
    }
    // An exec never runs kill or delete: the container is not its to remove.
    assert_eq!(fake.subcommands(), ["exec", "exec"]);
    fake.assert_calls_started_clean();
    assert_empty_dir(fake.tmpdir(), "after the execs");
}

#[test]
fn restore_of_a_terminal_init_has_every_checkpoint_flag_in_order_and_the_console_socket() {
    let mut spec = Spec::fake("echo restored; exit 5").tty();
    spec.runtime_args = words(&["--root", "/r"]);
    let fake = Fake::new(spec);
    let checkpoint = write_checkpoint(
        &fake.container.scratch().join("checkpoints").join("cp1"),
        r#"{"created":"2017-07-14T02:40:00Z","name":"cp1","tcp":true,"unixSockets":true,"shell":true,"exit":false,"emptyNS":["network","ipc"]}"#,
    );
    let checkpoint = text(&checkpoint);
    let options = ProcessOptions {
        checkpoint: checkpoint.clone(),
        no_pivot_root: true,
        ..fake.container.init_options()
    };
    let before = SystemTime::now();
    let mut init = fake.container.spawn("init", &options);
    init.wait_pid();
    let after = SystemTime::now();
    let end = init.finish();
    assert_eq!(end.stdout, b"restored\r\n");
    assert_eq!(end.exit_status, b"5");

    let id = fake.container.id.as_str();
    let sd = text(&canonical(&init.dir.dir));
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    let argv = &calls[0].argv;
    let work = work_path(argv, &checkpoint, before, after);
    let socket = console_socket(argv, fake.tmpdir());
    let mut expected = logged(&sd);
    expected.extend(words(&["--root", "/r", "restore", "-d"]));
    expected.extend(words(&["--image-path", &checkpoint, "--work-path", &work]));
    expected.extend(words(&[
        "--shell-job",
        "--tcp-established",
        "--ext-unix-sk",
    ]));
    expected.extend(words(&[
        "--no-pivot",
        "--empty-ns",
        "network",
        "--empty-ns",
        "ipc",
    ]));
    expected.extend(words(&["--console-socket", &socket]));
    expected.extend(pid_file(&sd, id));
    assert_eq!(argv, &expected);
    assert_eq!(calls[0].cwd, canonical(&fake.container.bundle));
    assert_eq!(fake.subcommands(), ["restore", "kill", "delete"]);
    assert_empty_dir(fake.tmpdir(), "after the restore");
}

#[test]
fn each_checkpoint_flag_maps_to_its_own_restore_option() {
    let fake = Fake::sh("exit 0");
    let cases: [(&str, &[&str]); 5] = [
        (r#"{"tcp":true}"#, &["--tcp-established"]),
        (r#"{"unixSockets":true}"#, &["--ext-unix-sk"]),
        (r#"{"shell":true}"#, &["--shell-job"]),
        (r#"{"emptyNS":["network"]}"#, &["--empty-ns", "network"]),
        (r#"{"tcp":null,"emptyNS":null,"future":{"key":[1]}}"#, &[]),
    ];
    for (n, (config, flags)) in cases.iter().enumerate() {
        let checkpoint = write_checkpoint(&fake.container.scratch().join(format!("cp{n}")), config);
        let options = ProcessOptions {
            checkpoint: text(&checkpoint),
            ..fake.container.init_options()
        };
        let mut init = fake.container.spawn(&format!("init{n}"), &options);
        init.wait_pid();
        init.finish();
        let argvs = fake.argvs();
        let argv = &argvs[argvs.len() - 3];
        // Between the work path and --pid-file come exactly the flags of this config.
        let work = argv
            .iter()
            .position(|a| a == "--work-path")
            .expect("work path");
        let pid = argv
            .iter()
            .position(|a| a == "--pid-file")
            .expect("pid file");
        assert_eq!(&argv[work + 2..pid], words(flags).as_slice(), "{config}");
    }
}

#[test]
fn restore_without_flags_takes_a_relative_checkpoint_from_the_process_dir() {
    let fake = Fake::sh("exit 0");
    let checkpoint = write_checkpoint(
        &fake.container.scratch().join("cp"),
        r#"{"created":"2017-07-14T02:40:00Z","name":"cp","tcp":false,"unixSockets":false,"shell":false,"exit":true}"#,
    );
    // SD is <scratch>/state/<id>/init: the original read config.json relative to it.
    let options = ProcessOptions {
        checkpoint: "../../../cp".into(),
        ..fake.container.init_options()
    };
    let before = SystemTime::now();
    let mut init = fake.container.spawn("init", &options);
    init.wait_pid();
    let after = SystemTime::now();
    init.finish();

    let sd = text(&canonical(&init.dir.dir));
    let argv = fake.argvs().remove(0);
    let image = format!("{sd}/../../../cp");
    assert_eq!(canonical(Path::new(&image)), canonical(&checkpoint));
    let work = work_path(&argv, &image, before, after);
    let mut expected = logged(&sd);
    expected.extend(words(&["restore", "-d", "--image-path", &image]));
    expected.extend(words(&["--work-path", &work]));
    expected.extend(pid_file(&sd, &fake.container.id));
    assert_eq!(argv, expected);
}

#[test]
fn an_exec_with_a_checkpoint_still_runs_exec() {
    // The original chose `exec` before looking at the checkpoint; the daemon never sets both,
    // but a drop-in must not turn an exec into a second restore of the container.
    let fake = Fake::sh("exit 0");
    let checkpoint = write_checkpoint(&fake.container.scratch().join("cp"), "{}");
    let options = ProcessOptions {
        process: fake.container.spec.process(),
        exec: true,
        checkpoint: text(&checkpoint),
        ..ProcessOptions::default()
    };
    let mut exec = fake.container.spawn("e1", &options);
    exec.wait_pid();
    exec.finish();
    assert_eq!(fake.subcommands(), ["exec"]);
}

// ----------------------------------------------------------------------------------------------
// Runtime failures

#[test]
fn a_runtime_killed_by_a_real_time_signal_fails_the_start_like_any_failing_runtime() {
    let fake = Fake::new(Spec::fake("exec sleep 1000").env("FAKE_START", "hang"));
    let mut init = fake.container.spawn_init();
    let shim = init.shim_pid();
    eventually(LONG, "the runtime hangs in create", || {
        fake.subcommands() == ["create"]
    });
    let runtime = children(shim);
    // SAFETY: kill takes no pointers; the pid is the shim's runtime child.
    assert_eq!(unsafe { nix::libc::kill(runtime[0].0, 40) }, 0);
    assert!(init.wait_shim(LONG).success());
    assert_eq!(init.shim_log(), "");
    assert_eq!(fake.subcommands(), ["create", "delete"]);
}

#[test]
fn a_failing_create_is_deleted_and_exits_0_without_an_error_entry_leaving_nothing_running() {
    // The runtime fails half-way, after starting the process; the delete that follows succeeds,
    // or fails too, which is ignored.
    for delete_exit in ["0", "1"] {
        let what = format!("FAKE_DELETE_EXIT={delete_exit}");
        let fake = Fake::new(
            Spec::fake("exec sleep 1000")
                .env("FAKE_START", "fail")
                .env("FAKE_FAIL_CHILD", "1")
                .env("FAKE_DELETE_EXIT", delete_exit),
        );
        let mut init = fake.container.spawn_init();
        let error = init
            .dir
            .wait_for_pid(&mut init.shim, LONG)
            .expect_err("no pid");
        // With no shim error, the daemon reports the runtime's own log.json.
        assert_eq!(
            error, "oci runtime error: fake runtime failed as asked",
            "{what}"
        );
        assert!(init.wait_shim(LONG).success(), "{what}");
        assert_eq!(init.shim_log(), "", "{what}");
        assert_eq!(fake.subcommands(), ["create", "delete"], "{what}");
        fake.assert_child_killed(&what);
    }
}

#[test]
fn a_failing_exec_exits_0_without_an_error_entry_or_a_delete() {
    let fake = Fake::new(
        Spec::fake("exec sleep 1000")
            .env("FAKE_START", "fail")
            .env("FAKE_FAIL_CHILD", "1"),
    );
    let mut options = fake.container.exec_options(&["sh"], false);
    options.no_pivot_root = true;
    let mut exec = fake.container.spawn("exec1", &options);
    assert!(exec.wait_shim(LONG).success());
    assert_eq!(exec.shim_log(), "");
    assert_eq!(fake.subcommands(), ["exec"]);
    fake.assert_child_killed("failed exec");
}

#[test]
fn failing_kill_and_delete_are_ignored() {
    let fake = Fake::new(
        Spec::fake("exit 6")
            .env("FAKE_KILL_EXIT", "1")
            .env("FAKE_DELETE_EXIT", "2"),
    );
    let mut init = fake.container.spawn_init();
    init.wait_pid();
    assert_eq!(init.finish().exit_status, b"6");
    assert_eq!(fake.subcommands(), ["create", "kill", "delete"]);
}

#[test]
fn a_runtime_hung_in_create_dies_with_the_killed_shim() {
    let fake = Fake::new(Spec::fake("exit 0").env("FAKE_START", "hang"));
    let mut init = fake.container.spawn_init();
    let shim = init.shim_pid();
    eventually(LONG, "the runtime's create", || fake.calls().len() == 1);
    let runtime = children(shim);
    assert_eq!(runtime.len(), 1, "{runtime:?}");
    let runtime = runtime[0].0;
    assert_eq!(fake.calls()[0].pdeathsig, 9);

    // The daemon's start timeout: SIGKILL to the shim, nothing else.
    init.shim.kill().expect("SIGKILL the shim");
    init.shim.wait().expect("wait shim");
    eventually(LONG, "the runtime to die with the shim", || ended(runtime));
    assert!(init.dir.wait_exit(LONG), "exit FIFO hung up");
}

#[test]
fn megabytes_on_the_runtime_stderr_reach_the_client_and_do_not_block_the_shim() {
    const BYTES: usize = 6 << 20;
    let fake =
        Fake::new(Spec::fake("echo started; exit 5").env("FAKE_START", &format!("stderr:{BYTES}")));
    let mut init = fake.container.spawn_init();
    // The runtime's stderr is the container's: the runtime cannot finish, nor write the pid
    // file, unless the client reads it, which the daemon's client does while the daemon waits.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    {
        let dir = &mut init.dir;
        let (Some(stdout), Some(stderr)) = (dir.stdout.as_mut(), dir.stderr.as_mut()) else {
            panic!("daemon readers");
        };
        read_at_least([(stdout, &mut out, 0), (stderr, &mut err, BYTES)], LONG);
    }
    init.wait_pid();
    let end = init.finish();
    out.extend(end.stdout);
    err.extend(end.stderr);
    assert_eq!(out, b"started\n");
    assert_eq!(err.len(), BYTES);
    assert!(err.iter().all(|&b| b == b'E'));
    assert_eq!(end.exit_status, b"5");
    fake.assert_nothing_left("stderr flood");
}
