//! Real runtimes other than runc's everyday path: crun and youki read the same bundle and speak
//! the same command line, and runc restores a checkpoint through the shim (with criu) or refuses
//! one it cannot restore.
//!
//! youki (no Debian package) is installed neither here nor in CI, and `criu check` fails on this
//! host's kernel, so those two tests are ignored: `cargo test --test runtimes -- --ignored` runs
//! them where the tool works, and they fail, not skip, where it does not.

use std::io::Write;
use std::process::Command;

use serde_json::Value;
use tinyshim_testkit::checkpoint::{parse_go_rfc3339_nano_utc, write_checkpoint};
use tinyshim_testkit::container::Container;
use tinyshim_testkit::crun::crun_program;
use tinyshim_testkit::driver::{self, ProcessOptions};
use tinyshim_testkit::fifo_reads::read_until;
use tinyshim_testkit::host::{require_runc, which};
use tinyshim_testkit::process::Proc;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

/// Writes the process's last input and ends its stdin, as the daemon does when the client's
/// input ends: its own writer closed, then control message 0 for the shim's.
fn send_last_input(proc: &Proc, input: &[u8]) {
    proc.open_stdin().write_all(input).expect("write stdin");
    proc.dir.close_stdin().expect("close stdin");
}

// ---------------------------------------------------------------------------------------------
// crun and youki

/// When to run `<runtime> start`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StartWhen {
    /// As soon as the pid file parses, as containerd v0.2.x does (it polls every 15 ms).
    PidFile,
    /// Once `<runtime> state` also says `created`.
    StateCreated,
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

/// An init, a piped exec and a terminal exec through the shim with `runtime`, whose state goes
/// under a private `--root`: a real global flag, which the shim must put before every
/// subcommand.
fn init_and_execs_through(runtime: String, scratch: &Scratch, start_when: StartWhen) {
    require_runc();
    let mut spec =
        Spec::sh(r#"echo init-out; echo init-err >&2; read x; echo "init got $x"; exit 3"#);
    spec.runtime = runtime;
    spec.runtime_args = vec![
        "--root".into(),
        scratch.path().join("root").display().to_string(),
    ];
    let container = Container::new(spec);
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
    let end = exec.finish();
    assert_eq!(end.stdout, b"exec-out\n");
    assert_eq!(end.stderr, b"exec-err\n");
    assert_eq!(end.exit_status, b"4");

    let script = "tty >/dev/null && echo on-a-tty; exit 6";
    let mut exec = container.spawn_exec("e2", &["sh", "-c", script], true);
    exec.wait_pid();
    let end = exec.finish();
    assert_eq!(end.stdout, b"on-a-tty\r\n");
    assert_eq!(end.exit_status, b"6");

    send_last_input(&init, b"hello\n");
    let end = init.finish();
    assert_eq!(
        String::from_utf8_lossy(&end.stdout),
        "init-out\ninit got hello\n"
    );
    assert_eq!(end.stderr, b"init-err\n");
    assert_eq!(end.exit_status, b"3");
    assert_eq!(init.shim_log(), "");
    let spec = &container.spec;
    let state = driver::run_runtime(&spec.runtime, &spec.runtime_args, &["state", &container.id]);
    assert!(
        state.is_err(),
        "{} still knows the container: the shim's delete did not run",
        spec.runtime
    );
}

#[test]
fn crun_runs_an_init_and_execs_through_the_shim() {
    assert!(
        which("crun").is_some(),
        "crun is not installed (apt-get install crun; make deps does it)"
    );
    let scratch = Scratch::new("crun");
    init_and_execs_through(crun_program(scratch.path()), &scratch, StartWhen::PidFile);
}

#[test]
#[ignore = "youki is not installed here or in CI: on a host with youki on PATH (cargo install \
            youki), cargo test --test runtimes -- --ignored"]
fn youki_runs_an_init_and_execs_through_the_shim() {
    assert!(
        which("youki").is_some(),
        "youki is not on PATH (cargo install youki)"
    );
    // youki 0.7 writes the pid file as soon as it knows the pid, before `create` has saved the
    // container's state, so a `start` run the moment the pid file appears (what the daemon
    // does) can fail with "incorrect state Stopped". runc and crun write it last. No shim can
    // change when the runtime writes its pid file; this test waits for the state instead.
    let scratch = Scratch::new("youki");
    init_and_execs_through("youki".into(), &scratch, StartWhen::StateCreated);
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
#[ignore = "`criu check` fails on this host's kernel: where it passes, cargo test --test \
            runtimes -- --ignored"]
fn runc_checkpoint_then_restore_through_the_shim() {
    require_runc();
    if let Some(reason) = criu_unusable() {
        panic!("checkpoint/restore needs a working criu: {reason}");
    }
    // The counter lives only in the process's memory: seeing it continue proves a restore.
    let container = Container::new(Spec::sh(
        r#"i=0; while read line; do echo "got $line $i"; i=$((i+1)); done; exit 5"#,
    ));
    let (mut first, _) = container.run();
    let mut stdin = first.open_stdin();
    stdin.write_all(b"a\n").expect("write stdin");
    let stdout = first.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out == b"got a 0\n");

    let images = container.scratch().join("checkpoints").join("cp1");
    std::fs::create_dir_all(&images).expect("create image dir");
    let work = container.scratch().join("checkpoint-work");
    driver::run_runtime(
        "runc",
        &[],
        &[
            "checkpoint",
            "--image-path",
            &images.display().to_string(),
            "--work-path",
            &work.display().to_string(),
            &container.id,
        ],
    )
    .expect("runc checkpoint");
    // The checkpointed process is gone: the first shim ends as for any exit.
    first.finish();
    drop(stdin);
    first.dir.remove().expect("remove the old state");

    write_checkpoint(
        &images,
        r#"{"created":"2017-07-14T02:40:00Z","name":"cp1","tcp":false,"unixSockets":false,"shell":false,"exit":true}"#,
    );
    let options = ProcessOptions {
        checkpoint: images.display().to_string(),
        ..container.init_options()
    };
    let mut restored = container.spawn("init", &options);
    restored.wait_pid();
    send_last_input(&restored, b"b\n");
    let end = restored.finish();
    assert_eq!(String::from_utf8_lossy(&end.stdout), "got b 1\n");
    assert_eq!(end.stderr, b"");
    assert_eq!(end.exit_status, b"5");
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
    let checkpoint = write_checkpoint(&container.scratch().join("cp"), r#"{"name":"cp"}"#);
    let options = ProcessOptions {
        checkpoint: checkpoint.display().to_string(),
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
