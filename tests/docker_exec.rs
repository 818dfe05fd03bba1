//! `docker exec` and `docker top` in a detached container through dockerd 20.10 with the shim
//! under test (`TINYSHIM_V2_SHIM`) as `containerd-shim-runc-v2`: an exec's stdin, its terminal
//! size, its death by a real-time signal, and the container's processes.
//!
//! dockerd learns an exec's end only from the shim's TaskExit event, then deletes the exec.

use tinyshim_testkit::docker::{Docker, Dockerd, BUSYBOX_IMAGE};
use tinyshim_testkit::pty::PRINT_TERMINAL_SIZE;
use tinyshim_testkit::wait::LONG;

/// A dockerd and a detached container `c1` running the image's sleep.
fn detached() -> (Dockerd, Docker) {
    let dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    docker.ok(&["run", "-d", "--name", "c1", BUSYBOX_IMAGE]);
    (dockerd, docker)
}

#[test]
fn docker_exec_i_gives_the_exec_its_stdin_and_keeps_stdout_and_stderr_apart() {
    let (_dockerd, docker) = detached();
    let output = docker.with_stdin(
        &[
            "exec",
            "-i",
            "c1",
            "sh",
            "-c",
            "cat; echo to-stderr >&2; exit 4",
        ],
        b"typed in\n",
    );
    assert_eq!(
        (
            output.code(),
            output.stdout_text().as_str(),
            output.stderr_text().as_str()
        ),
        (Some(4), "typed in\n", "to-stderr\n"),
        "{output}"
    );
}

#[test]
fn docker_exec_it_gives_the_exec_a_terminal_of_the_clients_size() {
    let (_dockerd, docker) = detached();
    let script = format!("{PRINT_TERMINAL_SIZE}; tty");
    let terminal = docker.terminal(&["exec", "-it", "c1", "sh", "-c", &script], 27, 93);
    assert_eq!(
        terminal.finish(LONG).success_text(),
        "size=27 93\r\n/dev/pts/0\r\n"
    );
}

#[test]
fn docker_exec_of_a_process_killed_by_signal_40_exits_168_and_the_container_runs_on() {
    let (_dockerd, docker) = detached();
    let output = docker.output(&["exec", "c1", "sh", "-c", "kill -40 $$"]);
    assert_eq!(output.code(), Some(168), "{output}");
    assert_eq!(docker.state("c1"), "running");
}

#[test]
fn docker_top_lists_the_containers_init_and_a_running_exec() {
    let (_dockerd, docker) = detached();
    docker.ok(&["exec", "-d", "c1", "sleep", "777"]);
    let pid = docker.pid("c1");
    let deadline = std::time::Instant::now() + LONG;
    let top = loop {
        let top = docker.ok(&["top", "c1", "-o", "pid,args"]).stdout_text();
        if top.contains("sleep 777") || std::time::Instant::now() > deadline {
            break top;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let rows: Vec<(i32, String)> = top
        .lines()
        .skip(1)
        .map(|line| {
            let (pid, args) = line.trim().split_once(' ').expect("pid and args");
            (pid.parse().expect("a pid"), args.trim().to_string())
        })
        .collect();
    assert_eq!(rows.len(), 2, "{top}");
    assert_eq!(rows[0], (pid, "sleep 2147483647".to_string()), "{top}");
    assert_eq!(rows[1].1, "sleep 777", "{top}");
}
