//! dockerd 20.10 with `--live-restore` stopped and started again under a running container
//! whose shim is the shim under test (`TINYSHIM_V2_SHIM`, as `containerd-shim-runc-v2`): the
//! container and its shim run on, and the new dockerd reconnects to them, collects what the
//! container wrote while it was away, execs in it and stops it.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tinyshim_testkit::docker::{Dockerd, BUSYBOX_IMAGE};
use tinyshim_testkit::wait::LONG;

#[test]
fn a_container_outlives_a_dockerd_restart_and_the_new_dockerd_controls_it() {
    let mut dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    let script = "trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done";
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
    let pid = docker.pid("c1");
    let shims = dockerd.containerd().shim_pids();

    assert!(dockerd.stop(), "dockerd exited on SIGTERM");
    // Output while nobody reads the container's FIFOs: the shim must keep it for the next
    // dockerd.
    kill(Pid::from_raw(pid), Signal::SIGUSR1).expect("signal the container's init");
    dockerd.restart();

    assert_eq!(
        docker.inspect("c1", "{{.State.Status}} {{.State.Pid}}"),
        format!("running {pid}")
    );
    assert_eq!(
        dockerd.containerd().shim_pids(),
        shims,
        "c1's shim across the restart"
    );
    assert_eq!(
        docker.wait_for_output("c1", "got-usr1\n", LONG),
        "ready\ngot-usr1\n"
    );
    let exec = docker.ok(&["exec", "c1", "echo", "reconnected"]);
    assert_eq!(exec.stdout_text(), "reconnected\n");
    docker.ok(&["stop", "-t", "1", "c1"]);
    assert_eq!(
        docker.inspect("c1", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
}
