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

#[test]
fn docker_stats_shows_the_memory_in_use_and_the_cpu_of_a_busy_container() {
    let dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    let stats = docker.ok(&["stats", "--no-stream", "--format", "{{json .}}", "busy"]);
    let line: serde_json::Value =
        serde_json::from_slice(&stats.stdout).unwrap_or_else(|e| panic!("{stats}: {e}"));
    let memory = line["MemUsage"].as_str().unwrap_or("");
    assert!(
        !memory.is_empty() && !memory.starts_with("0B"),
        "MemUsage {memory:?}"
    );
    let cpu: f64 = line["CPUPerc"]
        .as_str()
        .and_then(|p| p.trim_end_matches('%').parse().ok())
        .unwrap_or(0.0);
    assert!(cpu > 0.0, "CPUPerc {:?}", line["CPUPerc"]);
}

#[test]
fn docker_inspect_says_oom_killed_of_a_container_its_memory_limit_killed() {
    let dockerd = Dockerd::start();
    let docker = dockerd.docker();
    docker.import_busybox();
    let run = docker.output(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "16m",
        "--memory-swap",
        "16m",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        // Past its start: the Go shims before 2.3 watch from Start and miss an earlier kill
        // (tests/v2_oom.rs has that case for tinyshim).
        "sleep 0.3; exec dd if=/dev/zero of=/dev/null bs=64M count=1",
    ]);
    assert_eq!(run.code(), Some(137), "{run}");
    assert_eq!(docker.inspect("hog", "{{.State.OOMKilled}}"), "true");
}
