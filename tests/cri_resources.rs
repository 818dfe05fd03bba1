//! What the kubelet changes and reads of a running container's resources through CRI
//! (containerd 1.6), with the shim under test (`TINYSHIM_V2_SHIM`) as
//! `containerd-shim-runc-v2`: UpdateContainerResources reaches the container's cgroups
//! (in-place pod resize, the CPU and memory managers).

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::api;
use tinyshim_testkit::procfs::cgroup_file;

#[test]
fn update_container_resources_sets_the_memory_limit_and_the_cpuset() {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", "");
    let id = cri.run_container(&pod, "sleeper", &["sleep", "1000"]);
    let pid = cri.container_pid(&id);
    let request = api::UpdateContainerResourcesRequest {
        container_id: id.clone(),
        linux: Some(api::LinuxContainerResources {
            memory_limit_in_bytes: 96 << 20,
            cpuset_cpus: "0".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut service = cri.runtime_service();
    cri.block_on(
        "UpdateContainerResources",
        service.update_container_resources(request),
    )
    .unwrap_or_else(|status| panic!("UpdateContainerResources: {status}"));
    assert_eq!(
        cgroup_file(pid, "memory", "memory.limit_in_bytes").as_deref(),
        Some((96u64 << 20).to_string().as_str())
    );
    assert_eq!(
        cgroup_file(pid, "cpuset", "cpuset.cpus").as_deref(),
        Some("0")
    );
}

#[test]
fn container_stats_report_a_working_set_and_cpu_time_that_rises_under_a_busy_loop() {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", "");
    let id = cri.run_container(&pod, "busy", &["sh", "-c", "while :; do :; done"]);
    let stats = || {
        let mut service = cri.runtime_service();
        let request = api::ContainerStatsRequest {
            container_id: id.clone(),
        };
        cri.block_on("ContainerStats", service.container_stats(request))
            .unwrap_or_else(|status| panic!("ContainerStats: {status}"))
            .stats
            .expect("ContainerStats has stats")
    };
    let first = stats();
    let working_set = first
        .memory
        .as_ref()
        .and_then(|m| m.working_set_bytes.as_ref())
        .map_or(0, |v| v.value);
    assert!(working_set > 0, "{first:?}");
    let cpu = |stats: &api::ContainerStats| {
        stats
            .cpu
            .as_ref()
            .and_then(|c| c.usage_core_nano_seconds.as_ref())
            .map_or(0, |v| v.value)
    };
    std::thread::sleep(std::time::Duration::from_millis(500));
    let second = stats();
    assert!(
        cpu(&second) > cpu(&first) + 50_000_000,
        "usage_core_nano_seconds from {} to {}",
        cpu(&first),
        cpu(&second)
    );
}

#[test]
fn a_container_its_memory_limit_killed_is_reported_oom_killed() {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", "");
    // Past its start: the Go shims before 2.3 watch from Start and miss an earlier kill
    // (tests/v2_oom.rs has that case for tinyshim).
    let hog = "sleep 0.3; exec dd if=/dev/zero of=/dev/null bs=64M count=1";
    let mut config = tinyshim_testkit::cri::container_config("hog", &["sh", "-c", hog]);
    config.linux = Some(api::LinuxContainerConfig {
        resources: Some(api::LinuxContainerResources {
            memory_limit_in_bytes: 16 << 20,
            ..Default::default()
        }),
        ..config.linux.unwrap_or_default()
    });
    let id = cri.run_container_with(&pod, config);
    let status = cri.wait_for_state(
        &id,
        api::ContainerState::ContainerExited,
        tinyshim_testkit::wait::LONG,
    );
    assert_eq!(
        (status.exit_code, status.reason.as_str()),
        (137, "OOMKilled"),
        "{status:?}"
    );
}
