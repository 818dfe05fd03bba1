//! A CRI-enabled containerd restarted under running pods (a node's containerd upgrade or
//! crash): the new daemon finds the pod's shim (`TINYSHIM_V2_SHIM`), reports its container
//! running, execs in it and stops it.

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::api::ContainerState;
use tinyshim_testkit::wait::LONG;

#[test]
fn after_a_containerd_restart_cri_still_reports_execs_in_and_stops_a_running_container() {
    let mut containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", "");
    let id = cri.run_container(&pod, "sleeper", &["sh", "-c", "echo up; exec sleep 1000"]);
    cri.wait_for_output(&id, "up\n", LONG);
    let shims = containerd.shim_pids();
    drop(cri);

    containerd.kill();
    containerd.restart();
    let cri = containerd.cri();
    assert_eq!(
        containerd.shim_pids(),
        shims,
        "the pod's shim across the restart"
    );
    let status = cri.container_status(&id);
    assert_eq!(
        status.state,
        ContainerState::ContainerRunning as i32,
        "{status:?}"
    );
    let reply = cri.exec_sync(&id, &["echo", "still here"]);
    assert_eq!(
        (
            String::from_utf8_lossy(&reply.stdout).as_ref(),
            reply.exit_code
        ),
        ("still here\n", 0)
    );
    cri.stop_container(&id, 0);
    let status = cri.container_status(&id);
    assert_eq!(
        (status.state, status.exit_code),
        (ContainerState::ContainerExited as i32, 137),
        "{status:?}"
    );
}
