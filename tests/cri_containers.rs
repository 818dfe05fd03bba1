//! Containers of a CRI pod through the shim under test (`TINYSHIM_V2_SHIM`), installed as
//! `containerd-shim-runc-v2`: StopContainer's stop signal and grace period, the SIGKILL after
//! it, and the exit code and reason ContainerStatus reports for each way a container ends.

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::api::ContainerState;
use tinyshim_testkit::cri::{container_config, in_host_pid_namespace, Cri, Pod};
use tinyshim_testkit::wait::LONG;

/// A CRI daemon and a pod on the default runtime.
fn pod() -> (Containerd, Cri, Pod) {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", "");
    (containerd, cri, pod)
}

#[test]
fn stop_container_sends_sigterm_and_waits_for_the_container_to_exit_by_itself() {
    let (_containerd, cri, pod) = pod();
    // A grace period far beyond what the exit takes: a container that only died once it ran
    // out would show 137, not its own 0.
    let script = "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
    let id = cri.run_container(&pod, "obeys", &["sh", "-c", script]);
    cri.wait_for_output(&id, "ready\n", LONG);
    cri.stop_container(&id, 60);
    let status = cri.container_status(&id);
    assert_eq!(status.state, ContainerState::ContainerExited as i32);
    assert_eq!(
        (status.exit_code, status.reason.as_str()),
        (0, "Completed"),
        "{status:?}"
    );
    assert_eq!(
        cri.wait_for_output(&id, "got-term\n", LONG),
        "ready\ngot-term\n"
    );
}

#[test]
fn stop_container_kills_a_container_that_ignores_sigterm_once_the_grace_period_is_over() {
    let (_containerd, cri, pod) = pod();
    let script = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    let id = cri.run_container(&pod, "ignores", &["sh", "-c", script]);
    cri.wait_for_output(&id, "ready\n", LONG);
    cri.stop_container(&id, 1);
    let status = cri.container_status(&id);
    assert_eq!(status.state, ContainerState::ContainerExited as i32);
    assert_eq!(
        (status.exit_code, status.reason.as_str()),
        (137, "Error"),
        "{status:?}"
    );
}

#[test]
fn container_status_reports_a_clean_exit_an_exit_code_and_death_by_a_signal() {
    let (_containerd, cri, pod) = pod();
    // In its own pid namespace the container's init would ignore a signal it has no handler
    // for, so the one that kills itself runs in the host's.
    let killed = in_host_pid_namespace(container_config("killed", &["sh", "-c", "kill -USR1 $$"]));
    let ids = [
        cri.run_container(&pod, "clean", &["true"]),
        cri.run_container(&pod, "code", &["sh", "-c", "exit 7"]),
        cri.run_container_with(&pod, killed),
    ];
    let ends: Vec<(i32, String)> = ids
        .iter()
        .map(|id| {
            let status = cri.wait_for_state(id, ContainerState::ContainerExited, LONG);
            (status.exit_code, status.reason)
        })
        .collect();
    // 128 + SIGUSR1 (10).
    assert_eq!(
        ends,
        [
            (0, "Completed".to_string()),
            (7, "Error".to_string()),
            (138, "Error".to_string())
        ]
    );
}
