//! `docker update` through dockerd 20.10 with the shim under test (`TINYSHIM_V2_SHIM`) as
//! `containerd-shim-runc-v2`: Docker sends the shim an Update for every update of a running or
//! paused container, a restart policy alone included, and the new limits must reach the
//! container's cgroups.

use tinyshim_testkit::docker::{Docker, Dockerd, BUSYBOX_IMAGE};
use tinyshim_testkit::procfs::cgroup_file;

/// A dockerd with the busybox image and a running container `c1`; its pid.
fn running() -> (Dockerd, Docker, i32) {
    let dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    docker.ok(&["run", "-d", "--name", "c1", BUSYBOX_IMAGE]);
    let pid = docker.pid("c1");
    (dockerd, docker, pid)
}

#[test]
fn docker_update_sets_the_memory_cpu_and_pids_limits_of_a_running_container() {
    let (_dockerd, docker, pid) = running();
    docker.ok(&[
        "update",
        "--memory",
        "64m",
        "--memory-swap",
        "128m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "50",
        "c1",
    ]);
    assert_eq!(
        cgroup_file(pid, "memory", "memory.limit_in_bytes").as_deref(),
        Some("67108864")
    );
    assert_eq!(
        cgroup_file(pid, "cpu", "cpu.cfs_quota_us").as_deref(),
        Some("50000")
    );
    assert_eq!(cgroup_file(pid, "pids", "pids.max").as_deref(), Some("50"));
    assert_eq!(docker.state("c1"), "running");
}

#[test]
fn docker_update_of_a_restart_policy_alone_and_of_a_paused_container_succeeds() {
    let (_dockerd, docker, pid) = running();
    docker.ok(&["update", "--restart=always", "c1"]);
    assert_eq!(
        docker.inspect("c1", "{{.HostConfig.RestartPolicy.Name}}"),
        "always"
    );
    docker.ok(&["pause", "c1"]);
    docker.ok(&["update", "--pids-limit", "40", "c1"]);
    assert_eq!(cgroup_file(pid, "pids", "pids.max").as_deref(), Some("40"));
    assert_eq!(docker.state("c1"), "paused");
    docker.ok(&["unpause", "c1"]);
}
