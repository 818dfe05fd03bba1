//! Learning the host and locating a process's cgroups.

use super::*;

#[test]
fn this_hosts_mountinfo_gives_each_v1_controller_its_own_mount() {
    let host = Host::from_mountinfo(Mode::V1, V1_MOUNTINFO);
    assert_eq!(host.mode(), Mode::V1);
    assert_eq!(
        host.v1_mount(Controller::Cpu),
        Some(Path::new("/sys/fs/cgroup/cpu"))
    );
    assert_eq!(
        host.v1_mount(Controller::Cpuacct),
        Some(Path::new("/sys/fs/cgroup/cpuacct"))
    );
    assert_eq!(
        host.v1_mount(Controller::Memory),
        Some(Path::new("/sys/fs/cgroup/memory"))
    );
    assert_eq!(
        host.v1_mount(Controller::Hugetlb),
        None,
        "hugetlb is on the v2 mount here"
    );
}

#[test]
fn a_process_in_five_v1_hierarchies_gets_those_five_directories() {
    let host = Host::from_mountinfo(Mode::V1, V1_MOUNTINFO);
    let Cgroup::V1(paths) = host
        .locate(V1_PROC_CGROUP, Path::new("/proc/1/cgroup"))
        .expect("located")
    else {
        panic!("a v1 host locates v1 cgroups");
    };
    for (controller, dir) in [
        (Controller::Memory, "/sys/fs/cgroup/memory/cgsample"),
        (Controller::Cpu, "/sys/fs/cgroup/cpu/cgsample"),
        (Controller::Cpuacct, "/sys/fs/cgroup/cpuacct/cgsample"),
        (Controller::Pids, "/sys/fs/cgroup/pids/cgsample"),
        (Controller::Blkio, "/sys/fs/cgroup/blkio/cgsample"),
    ] {
        assert_eq!(
            paths.get(controller),
            Some(Path::new(dir)),
            "{controller:?}"
        );
    }
    assert_eq!(paths.get(Controller::Hugetlb), None);
    assert_eq!(paths.get(Controller::Rdma), None);
}

#[test]
fn combined_cpu_and_cpuacct_hierarchies_share_one_directory() {
    let mountinfo = "\
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
";
    let host = Host::from_mountinfo(Mode::V1, mountinfo);
    let content = "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n";
    let Ok(Cgroup::V1(paths)) = host.locate(content, Path::new("c")) else {
        panic!("v1");
    };
    let expected = Path::new("/sys/fs/cgroup/cpu,cpuacct/docker/abc");
    assert_eq!(paths.get(Controller::Cpu), Some(expected));
    assert_eq!(paths.get(Controller::Cpuacct), Some(expected));
}

#[test]
fn a_mount_of_a_subtree_takes_paths_relative_to_its_root() {
    // A shim in a container that was given only its own cgroup: the hierarchy's
    // /docker/abc is mounted at /sys/fs/cgroup/memory.
    let mountinfo = "29 25 0:26 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    let host = Host::from_mountinfo(Mode::V1, mountinfo);
    let locate = |content: &str| match host.locate(content, Path::new("c")) {
        Ok(Cgroup::V1(paths)) => paths.get(Controller::Memory).map(Path::to_path_buf),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        locate("4:memory:/docker/abc/sub\n"),
        Some(PathBuf::from("/sys/fs/cgroup/memory/sub"))
    );
    assert_eq!(
        locate("4:memory:/docker/abc\n"),
        Some(PathBuf::from("/sys/fs/cgroup/memory"))
    );
    assert_eq!(
        locate("4:memory:/docker/abcdef\n"),
        None,
        "a sibling is not below"
    );
    assert_eq!(
        locate("4:memory:/../other\n"),
        None,
        "outside the namespace"
    );
}

#[test]
fn a_unified_host_locates_the_zero_line_under_its_cgroup2_mount() {
    let host = Host::from_mountinfo(Mode::Unified, V2_MOUNTINFO);
    let content = "0::/system.slice/docker-abc.scope\n";
    assert_eq!(
        host.locate(content, Path::new("c")).expect("located"),
        Cgroup::Unified(PathBuf::from(
            "/sys/fs/cgroup/system.slice/docker-abc.scope"
        ))
    );
    let error = host
        .locate("1:name=systemd:/x\n", Path::new("/proc/9/cgroup"))
        .expect_err("no 0:: line");
    assert!(error.to_string().contains("/proc/9/cgroup"), "{error}");
}
