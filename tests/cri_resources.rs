//! What the kubelet changes and reads of a running container's resources through CRI
//! (containerd 1.6), with the shim under test (`TINYSHIM_V2_SHIM`) as
//! `containerd-shim-runc-v2`: UpdateContainerResources reaches the container's cgroups
//! (in-place pod resize, the CPU and memory managers).

use tinyshim_testkit::containerd::{Containerd, Options};
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
