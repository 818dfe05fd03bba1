//! Pods through containerd 1.6's CRI plugin, driven with the kubelet's calls, on both routes to
//! the shim under test (`TINYSHIM_V2_SHIM`): installed as `containerd-shim-runc-v2` (the
//! default runtime, `io.containerd.runc.v2`) and under its own name (runtime handler
//! `tinyshim`, `io.containerd.tinyshim.v2`). A pod's containers share one shim, which exits
//! once the pod is removed.

use tinyshim_testkit::containerd::options::{Options, ShimUnderTest, CRI_TINYSHIM_HANDLER};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::api::{ContainerState, PodSandboxState};
use tinyshim_testkit::wait::{eventually, LONG};

/// Runs a pod with two containers through `runtime_handler`, checks that one shim serves the
/// whole pod and that the containers ran and exited through it, then stops and removes the
/// pod and checks that the shim exited and nothing of the pod is left.
fn pod_life_through(runtime_handler: &str) {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", runtime_handler);
    assert_eq!(
        cri.pod_status(&pod.id).state,
        PodSandboxState::SandboxReady as i32
    );
    let sleeper = cri.run_container(&pod, "sleeper", &["sleep", "1000"]);
    let quitter = cri.run_container(&pod, "quitter", &["sh", "-c", "exit 5"]);
    let exited = cri.wait_for_state(&quitter, ContainerState::ContainerExited, LONG);
    assert_eq!(exited.exit_code, 5, "{exited:?}");
    assert_eq!(
        cri.container_status(&sleeper).state,
        ContainerState::ContainerRunning as i32
    );
    let shims = containerd.shim_pids();
    assert_eq!(shims.len(), 1, "one shim for the pod: {shims:?}");
    let binary = std::fs::canonicalize(ShimUnderTest::selected().binary()).expect("the shim");
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/exe", shims[0])).ok(),
        Some(binary),
        "the pod's shim is the shim under test"
    );
    for id in [&pod.id, &sleeper] {
        assert_eq!(
            containerd.find_shim_pid(id),
            Some(shims[0]),
            "the shim serving {id}"
        );
    }

    cri.stop_pod(&pod.id);
    let stopped = cri.container_status(&sleeper);
    assert_eq!(stopped.state, ContainerState::ContainerExited as i32);
    assert_eq!(stopped.exit_code, 137, "{stopped:?}");
    assert_eq!(
        cri.pod_status(&pod.id).state,
        PodSandboxState::SandboxNotready as i32
    );
    cri.remove_pod(&pod.id);
    eventually(LONG, "the pod's shim exits once the pod is removed", || {
        containerd.shim_pids().is_empty()
    });
    assert_eq!(
        containerd.leftovers(),
        Vec::<String>::new(),
        "what the removed pod left"
    );
}

#[test]
fn a_pod_through_the_shim_installed_as_runc_v2_shares_one_shim_that_exits_with_the_pod() {
    pod_life_through("");
}

#[test]
fn a_pod_through_the_shim_under_its_own_name_shares_one_shim_that_exits_with_the_pod() {
    pod_life_through(CRI_TINYSHIM_HANDLER);
}

mod tinyshim_only {
    use super::*;
    use tinyshim_testkit::containerd::options::{require_tinyshim, CRI_NAMESPACE};

    /// The container ids `runc --root <root>` lists.
    fn runc_list(root: &std::path::Path) -> Vec<String> {
        let output = std::process::Command::new("runc")
            .arg("--root")
            .arg(root)
            .args(["list", "-q"])
            .output()
            .expect("runc list");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn under_its_own_name_the_shim_takes_runc_options_from_the_runtimes_config_path() {
        require_tinyshim("runtimeoptions.v1.Options read");
        let containerd = Containerd::start(Options::cri());
        let cri = containerd.cri();
        // The daemon's ConfigPath file says `Root = <its own runc root>`.
        let pod = cri.run_pod("pod1", CRI_TINYSHIM_HANDLER);
        let root = containerd.own_name_runc_root().join(CRI_NAMESPACE);
        assert_eq!(
            runc_list(&root),
            std::slice::from_ref(&pod.id),
            "runc's containers under {root:?}"
        );
        assert!(
            !runc_list(&containerd.runc_root()).contains(&pod.id),
            "the pod also under the default root"
        );
        cri.stop_pod(&pod.id);
        cri.remove_pod(&pod.id);
        assert_eq!(runc_list(&root), Vec::<String>::new());
    }
}
