//! ExecSync (the kubelet's exec probes and `kubectl exec` without a terminal) through the shim
//! under test (`TINYSHIM_V2_SHIM`): output and exit code on both routes, an exec killed by a
//! real-time signal, and CRI's own timeout, after which CRI kills the exec.
//!
//! CRI answers ExecSync only once the exec's stdout and stderr reached EOF: a shim that keeps
//! their FIFOs open after the exec exited makes the call hang, which the client's deadline turns
//! into a failure naming the call.

use std::path::PathBuf;

use tinyshim_testkit::containerd::options::{Options, CRI_TINYSHIM_HANDLER};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::{Code, Cri, Pod};
use tinyshim_testkit::mounts::cgroup_hierarchies;
use tinyshim_testkit::wait::LONG;

/// A CRI daemon, a pod through `runtime_handler` and a container in it that sleeps.
fn sleeper(runtime_handler: &str) -> (Containerd, Cri, Pod, String) {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", runtime_handler);
    let id = cri.run_container(&pod, "sleeper", &["sh", "-c", "echo up; exec sleep 1000"]);
    cri.wait_for_output(&id, "up\n", LONG);
    (containerd, cri, pod, id)
}

fn output_and_exit_code_through(runtime_handler: &str) {
    let (_containerd, cri, _pod, id) = sleeper(runtime_handler);
    let reply = cri.exec_sync(&id, &["sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(
        (
            String::from_utf8_lossy(&reply.stdout).as_ref(),
            String::from_utf8_lossy(&reply.stderr).as_ref(),
            reply.exit_code
        ),
        ("out\n", "err\n", 3)
    );
}

#[test]
fn exec_sync_through_the_shim_installed_as_runc_v2_returns_stdout_stderr_and_the_exit_code() {
    output_and_exit_code_through("");
}

#[test]
fn exec_sync_through_the_shim_under_its_own_name_returns_stdout_stderr_and_the_exit_code() {
    output_and_exit_code_through(CRI_TINYSHIM_HANDLER);
}

#[test]
fn exec_sync_of_a_process_killed_by_a_real_time_signal_reports_128_plus_the_signal() {
    let (_containerd, cri, _pod, id) = sleeper("");
    let reply = cri.exec_sync(&id, &["sh", "-c", "echo before; kill -40 $$; echo after"]);
    assert_eq!(
        (
            String::from_utf8_lossy(&reply.stdout).as_ref(),
            reply.exit_code
        ),
        ("before\n", 168)
    );
}

/// The pids in the container's cgroup (cgroupfs driver: `<pod cgroup parent>/<id>`), from the
/// pids controller.
fn cgroup_pids(pod: &Pod, id: &str) -> Vec<i32> {
    let pids_hierarchy: PathBuf = cgroup_hierarchies()
        .into_iter()
        .find(|h| h.ends_with("pids"))
        .expect("a pids cgroup hierarchy");
    let procs = pids_hierarchy
        .join(pod.cgroup_parent().trim_start_matches('/'))
        .join(id)
        .join("cgroup.procs");
    std::fs::read_to_string(&procs)
        .unwrap_or_else(|e| panic!("read {}: {e}", procs.display()))
        .split_whitespace()
        .map(|pid| pid.parse().expect("a pid"))
        .collect()
}

#[test]
fn exec_sync_past_its_timeout_fails_with_deadline_exceeded_and_the_exec_is_killed() {
    let (_containerd, cri, pod, id) = sleeper("");
    let before = cgroup_pids(&pod, &id);
    let error = cri
        .try_exec_sync(&id, &["sh", "-c", "echo started; exec sleep 1000"], 1)
        .expect_err("an exec that outlives its timeout");
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error:?}");
    assert!(error.message().contains("timeout 1s exceeded"), "{error:?}");
    assert_eq!(
        cgroup_pids(&pod, &id),
        before,
        "the container's processes after the exec was killed"
    );
}
