//! Controlling a running container through dockerd 20.10 with the shim under test
//! (`TINYSHIM_V2_SHIM`) as `containerd-shim-runc-v2`: pause and unpause, `stop -t` of a
//! container that ignores SIGTERM, a signal from `docker kill -s`, and `docker restart`.

use std::path::PathBuf;

use tinyshim_testkit::docker::{Docker, Dockerd, BUSYBOX_IMAGE};
use tinyshim_testkit::mounts::cgroup_hierarchies;
use tinyshim_testkit::wait::LONG;

/// A dockerd with the busybox image.
fn dockerd() -> (Dockerd, Docker) {
    let dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    (dockerd, docker)
}

/// Runs `script` detached as container `c1` and waits until it printed `ready`.
fn run_ready(docker: &Docker, script: &str) {
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "c1",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        script,
    ]);
    docker.wait_for_output("c1", "ready\n", LONG);
}

/// The freezer state of container `id` (`FROZEN` or `THAWED`), from its v1 freezer cgroup
/// under dockerd's cgroup parent.
fn freezer_state(dockerd: &Dockerd, docker: &Docker, id: &str) -> String {
    let freezer: PathBuf = cgroup_hierarchies()
        .into_iter()
        .find(|h| h.ends_with("freezer"))
        .expect("a freezer cgroup hierarchy");
    let full_id = docker.inspect(id, "{{.Id}}");
    let path = freezer
        .join(dockerd.containerd().cgroup_root().trim_start_matches('/'))
        .join(full_id)
        .join("freezer.state");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

#[test]
fn docker_pause_freezes_the_container_and_unpause_thaws_it() {
    let (dockerd, docker) = dockerd();
    docker.ok(&["run", "-d", "--name", "c1", BUSYBOX_IMAGE]);
    docker.ok(&["pause", "c1"]);
    assert_eq!(docker.state("c1"), "paused");
    assert_eq!(freezer_state(&dockerd, &docker, "c1"), "FROZEN");
    docker.ok(&["unpause", "c1"]);
    assert_eq!(docker.state("c1"), "running");
    assert_eq!(freezer_state(&dockerd, &docker, "c1"), "THAWED");
    let exec = docker.ok(&["exec", "c1", "echo", "awake"]);
    assert_eq!(exec.stdout_text(), "awake\n");
}

#[test]
fn docker_stop_t_1_kills_a_container_that_ignores_sigterm() {
    let (_dockerd, docker) = dockerd();
    run_ready(
        &docker,
        "trap '' TERM; echo ready; while :; do sleep 0.05; done",
    );
    docker.ok(&["stop", "-t", "1", "c1"]);
    assert_eq!(
        docker.inspect("c1", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
}

#[test]
fn docker_kill_s_usr1_reaches_the_containers_trap_and_it_runs_on() {
    let (_dockerd, docker) = dockerd();
    run_ready(
        &docker,
        "trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done",
    );
    docker.ok(&["kill", "-s", "USR1", "c1"]);
    assert_eq!(
        docker.wait_for_output("c1", "got-usr1\n", LONG),
        "ready\ngot-usr1\n"
    );
    assert_eq!(docker.state("c1"), "running");
}

#[test]
fn docker_restart_runs_the_container_again_as_a_new_process() {
    let (_dockerd, docker) = dockerd();
    run_ready(&docker, "echo ready; exec sleep 1000");
    let first = docker.pid("c1");
    docker.ok(&["restart", "-t", "1", "c1"]);
    assert_eq!(docker.state("c1"), "running");
    assert_ne!(docker.pid("c1"), first, "the init after the restart");
    assert_eq!(
        docker.wait_for_output("c1", "ready\nready\n", LONG),
        "ready\nready\n"
    );
    let exec = docker.ok(&["exec", "c1", "echo", "again"]);
    assert_eq!(exec.stdout_text(), "again\n");
}
