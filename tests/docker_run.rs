//! `docker run` through dockerd 20.10 with the shim under test (`TINYSHIM_V2_SHIM`) installed as
//! `containerd-shim-runc-v2`: exit codes, stdin, a terminal's size, the whole of a large log,
//! and `rm -f` of a running container, after which its shim is gone.

use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
use tinyshim_testkit::docker::{Docker, Dockerd, BUSYBOX_IMAGE};
use tinyshim_testkit::pty::PRINT_TERMINAL_SIZE;
use tinyshim_testkit::wait::{eventually, LONG};

/// A dockerd with the busybox image.
fn dockerd() -> (Dockerd, Docker) {
    let dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    (dockerd, docker)
}

#[test]
fn docker_run_exits_with_the_containers_code_or_128_plus_the_signal_that_killed_it() {
    let (_dockerd, docker) = dockerd();
    let run = |extra: &[&str], script: &str| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[BUSYBOX_IMAGE, "sh", "-c", script]);
        docker.output(&args)
    };
    let clean = run(&[], "echo out; echo err >&2");
    assert_eq!(
        (
            clean.code(),
            clean.stdout_text().as_str(),
            clean.stderr_text().as_str()
        ),
        (Some(0), "out\n", "err\n"),
        "{clean}"
    );
    let code = run(&[], "exit 3");
    assert_eq!(code.code(), Some(3), "{code}");
    // Pid 1 of its own namespace would ignore the signal: this one runs in the host's.
    let killed = run(&["--pid", "host"], "kill -USR1 $$");
    assert_eq!(killed.code(), Some(138), "{killed}");
}

#[test]
fn docker_run_i_gives_the_container_its_stdin_and_then_eof() {
    let (_dockerd, docker) = dockerd();
    let output = docker.with_stdin(
        &[
            "run",
            "--rm",
            "-i",
            BUSYBOX_IMAGE,
            "sh",
            "-c",
            "cat; echo done",
        ],
        b"typed in\n",
    );
    assert_eq!(
        (output.code(), output.stdout_text().as_str()),
        (Some(0), "typed in\ndone\n"),
        "{output}"
    );
}

#[test]
fn docker_run_it_gives_the_container_a_terminal_of_the_clients_size() {
    let (_dockerd, docker) = dockerd();
    let script = format!("{PRINT_TERMINAL_SIZE}; tty");
    let terminal = docker.terminal(
        &["run", "--rm", "-it", BUSYBOX_IMAGE, "sh", "-c", &script],
        33,
        101,
    );
    assert_eq!(
        terminal.finish(LONG).success_text(),
        "size=33 101\r\n/dev/pts/0\r\n"
    );
}

#[test]
fn docker_logs_of_a_container_that_wrote_100000_lines_and_exited_holds_all_of_them() {
    let (_dockerd, docker) = dockerd();
    let lines = 100_000;
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "seq",
        BUSYBOX_IMAGE,
        "seq",
        "1",
        &lines.to_string(),
    ]);
    assert_eq!(docker.ok(&["wait", "seq"]).stdout_text(), "0\n");
    let logs = docker.ok(&["logs", "seq"]);
    assert_same_bytes(&logs.stdout, &seq_text(lines));
}

#[test]
fn docker_rm_f_of_a_running_container_leaves_no_shim_and_nothing_of_the_task() {
    let (dockerd, docker) = dockerd();
    docker.ok(&["run", "-d", "--name", "c1", BUSYBOX_IMAGE]);
    assert_eq!(docker.state("c1"), "running");
    let containerd = dockerd.containerd();
    assert_eq!(containerd.shim_pids().len(), 1, "one shim for c1");
    docker.ok(&["rm", "-f", "c1"]);
    assert_eq!(docker.ok(&["ps", "-aq"]).stdout_text(), "");
    eventually(LONG, "c1's shim exits", || {
        containerd.shim_pids().is_empty()
    });
    assert_eq!(containerd.leftovers(), Vec::<String>::new());
}
