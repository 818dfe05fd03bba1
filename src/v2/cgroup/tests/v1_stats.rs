//! v1 Stats from fixture directories.

use super::*;

/// v1 controller directories holding this kernel's files of a small cgroup.
fn v1_fixture(fixture: &Fixture) -> V1Paths {
    let mut paths = V1Paths::default();
    let memory = fixture.sub("memory");
    for (name, content) in [
        ("memory.stat", V1_MEMORY_STAT),
        ("memory.oom_control", V1_OOM_CONTROL),
        ("memory.usage_in_bytes", "28672\n"),
        ("memory.max_usage_in_bytes", "5898240\n"),
        ("memory.failcnt", "569\n"),
        ("memory.limit_in_bytes", "16777216\n"),
        // No memory.memsw.* files: a kernel without swap accounting.
        ("memory.kmem.usage_in_bytes", "16384\n"),
        ("memory.kmem.max_usage_in_bytes", "778240\n"),
        ("memory.kmem.failcnt", "0\n"),
        ("memory.kmem.limit_in_bytes", "9223372036854771712\n"),
        ("memory.kmem.tcp.usage_in_bytes", "0\n"),
        ("memory.kmem.tcp.max_usage_in_bytes", "0\n"),
        ("memory.kmem.tcp.failcnt", "0\n"),
        ("memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n"),
    ] {
        write(&memory, name, content);
    }
    paths.set(Controller::Memory, memory);
    let cpu = fixture.sub("cpu");
    write(&cpu, "cpu.stat", V1_CPU_STAT);
    paths.set(Controller::Cpu, cpu);
    let cpuacct = fixture.sub("cpuacct");
    write(&cpuacct, "cpuacct.usage", "43623005\n");
    write(&cpuacct, "cpuacct.stat", V1_CPUACCT_STAT);
    write(&cpuacct, "cpuacct.usage_percpu", V1_USAGE_PERCPU);
    paths.set(Controller::Cpuacct, cpuacct);
    let pids = fixture.sub("pids");
    write(&pids, "pids.current", "2\n");
    write(&pids, "pids.max", "max\n");
    paths.set(Controller::Pids, pids);
    let blkio = fixture.sub("blkio");
    write(
        &blkio,
        "blkio.throttle.io_serviced",
        V1_THROTTLE_IO_SERVICED,
    );
    write(
        &blkio,
        "blkio.throttle.io_service_bytes",
        "254:0 Read 49152\nTotal 49152\n",
    );
    paths.set(Controller::Blkio, blkio);
    let hugetlb = fixture.sub("hugetlb");
    write(&hugetlb, "hugetlb.2MB.usage_in_bytes", "2097152\n");
    write(&hugetlb, "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
    write(&hugetlb, "hugetlb.2MB.failcnt", "1\n");
    paths.set(Controller::Hugetlb, hugetlb);
    paths
}

#[test]
fn every_v1_controller_lands_in_its_message() {
    let fixture = Fixture::new();
    fixture.write("partitions", PARTITIONS);
    let paths = v1_fixture(&fixture);
    let host = host(Mode::V1, &["1GB", "2MB"], &fixture.dir.join("partitions"));
    let metrics = v1_metrics(&paths, &host);

    let memory = metrics.memory.expect("memory");
    assert_eq!(memory.total_inactive_file, 12288);
    assert_eq!(
        memory.usage,
        Some(v1::MemoryEntry {
            limit: 16_777_216,
            usage: 28672,
            max: 5_898_240,
            failcnt: 569
        })
    );
    assert_eq!(
        memory.swap,
        Some(v1::MemoryEntry::default()),
        "present though its files are missing"
    );
    assert_eq!(
        memory.kernel.map(|k| (k.usage, k.max)),
        Some((16384, 778_240)),
        "read although the swap files before them are missing"
    );
    assert_eq!(
        memory.kernel_tcp.map(|k| k.limit),
        Some(9_223_372_036_854_771_712)
    );
    assert_eq!(metrics.memory_oom_control.map(|o| o.oom_kill), Some(2));

    let cpu = metrics.cpu.expect("cpu");
    let usage = cpu.usage.expect("usage");
    assert_eq!(usage.total, 43_623_005);
    assert_eq!(usage.user, 30_000_000, "3 ticks of 10 ms, in nanoseconds");
    assert_eq!(usage.kernel, 10_000_000);
    assert_eq!(usage.per_cpu, [3_344_476, 41_653_123]);
    assert_eq!(cpu.throttling.map(|t| t.throttled_time), Some(123_456_789));

    assert_eq!(
        metrics.pids,
        Some(v1::PidsStat {
            current: 2,
            limit: 0
        }),
        "max is 0 in v1"
    );

    let blkio = metrics.blkio.expect("blkio");
    assert_eq!(
        blkio.io_serviced_recursive.len(),
        6,
        "the throttle files stand in"
    );
    assert_eq!(blkio.io_serviced_recursive[0].device, "/dev/vda");
    assert_eq!(blkio.io_service_bytes_recursive[0].value, 49152);
    assert!(blkio.sectors_recursive.is_empty());

    assert_eq!(
        metrics.hugetlb,
        [v1::HugetlbStat {
            usage: 2_097_152,
            max: 4_194_304,
            failcnt: 1,
            pagesize: "2MB".into()
        }]
    );
    assert_eq!(metrics.rdma, None);
}

#[test]
fn the_recursive_blkio_files_win_over_the_throttle_ones_when_they_have_lines() {
    let fixture = Fixture::new();
    let blkio = fixture.sub("blkio");
    for name in [
        "blkio.io_service_bytes_recursive",
        "blkio.io_serviced_recursive",
        "blkio.io_queued_recursive",
        "blkio.io_service_time_recursive",
        "blkio.io_wait_time_recursive",
        "blkio.io_merged_recursive",
        "blkio.time_recursive",
    ] {
        write(&blkio, name, "Total 0\n");
    }
    write(&blkio, "blkio.sectors_recursive", "8:0 96\n");
    write(&blkio, "blkio.throttle.io_serviced", "8:0 Read 1\n");
    let mut paths = V1Paths::default();
    paths.set(Controller::Blkio, blkio.clone());
    let host = host(Mode::V1, &[], Path::new("/nonexistent"));
    let stat = v1_metrics(&paths, &host).blkio.expect("blkio");
    assert_eq!(stat.sectors_recursive.len(), 1);
    assert!(stat.io_serviced_recursive.is_empty());

    write(&blkio, "blkio.sectors_recursive", "Total 0\n");
    let stat = v1_metrics(&paths, &host).blkio.expect("blkio");
    assert_eq!(
        stat.io_serviced_recursive.len(),
        1,
        "all empty: the throttle files"
    );
}

#[test]
fn v1_always_sends_cpu_with_usage_and_throttling_even_without_controllers() {
    let fixture = Fixture::new();
    let mut paths = V1Paths::default();
    paths.set(Controller::Pids, fixture.sub("pids"));
    let host = host(Mode::V1, &[], Path::new("/nonexistent"));
    let metrics = v1_metrics(&paths, &host);
    assert_eq!(
        metrics.cpu,
        Some(v1::CpuStat {
            usage: Some(v1::CpuUsage::default()),
            throttling: Some(v1::Throttle::default())
        })
    );
    assert_eq!(metrics.pids, None, "pids without its files");
    assert_eq!(metrics.memory, None, "no memory.stat, no memory");
}

#[test]
fn v1_rdma_is_dropped_when_its_two_files_list_different_devices() {
    let fixture = Fixture::new();
    let rdma = fixture.sub("rdma");
    write(&rdma, "rdma.current", RDMA_CURRENT);
    write(&rdma, "rdma.max", RDMA_MAX);
    let mut paths = V1Paths::default();
    paths.set(Controller::Rdma, rdma.clone());
    let host = host(Mode::V1, &[], Path::new("/nonexistent"));
    let stat = v1_metrics(&paths, &host).rdma.expect("rdma");
    assert_eq!(stat.current[1].device, "ocrdma1");
    assert_eq!(stat.limit[0].hca_objects, u32::MAX);
    write(&rdma, "rdma.max", "mlx4_0 hca_handle=max hca_object=max\n");
    assert_eq!(v1_metrics(&paths, &host).rdma, None);
}

#[test]
fn a_v1_cgroup_whose_directories_are_all_removed_is_gone() {
    let fixture = Fixture::new();
    let mut paths = V1Paths::default();
    paths.set(Controller::Memory, fixture.dir.join("memory-removed"));
    paths.set(Controller::Cpu, fixture.dir.join("cpu-removed"));
    let host = host(Mode::V1, &[], Path::new("/nonexistent"));
    let error = Cgroup::V1(paths.clone()).stats(&host).expect_err("gone");
    assert!(matches!(error, StatsError::Gone { .. }), "{error:?}");
    assert!(error.to_string().contains("memory-removed"), "{error}");
    assert!(
        matches!(
            Cgroup::V1(V1Paths::default()).stats(&host),
            Err(StatsError::Gone { .. })
        ),
        "a process in no hierarchy the shim reads has no cgroup either"
    );
}

#[test]
fn an_unreadable_file_fails_the_call_naming_the_syscall_and_the_path() {
    let fixture = Fixture::new();
    let cpu_stat = fixture.sub("cpu.stat");
    let host = host(Mode::Unified, &[], Path::new("/nonexistent"));
    let error = Cgroup::unified(&fixture.dir)
        .stats(&host)
        .expect_err("EISDIR");
    let message = error.to_string();
    assert!(matches!(error, StatsError::Failed(_)), "{message}");
    assert!(
        message.starts_with(&format!("read {}", cpu_stat.display())),
        "{message}"
    );
}

#[test]
fn a_file_over_the_bound_fails_the_call_instead_of_being_held() {
    let fixture = Fixture::new();
    fixture.write("memory.stat", &"x".repeat(MAX_FILE + 1));
    let host = host(Mode::Unified, &[], Path::new("/nonexistent"));
    let error = Cgroup::unified(&fixture.dir)
        .stats(&host)
        .expect_err("too large");
    let message = error.to_string();
    assert!(message.contains("memory.stat"), "{message}");
    assert!(message.contains("larger than"), "{message}");
}

#[test]
fn the_stats_any_of_a_v1_cgroup_carries_the_v1_type_and_decodes() {
    let fixture = Fixture::new();
    let paths = v1_fixture(&fixture);
    let host = host(Mode::V1, &["2MB"], Path::new("/nonexistent"));
    let any = Cgroup::V1(paths).stats(&host).expect("stats");
    assert_eq!(any.type_url, "io.containerd.cgroups.v1.Metrics");
    let metrics: v1::Metrics = any.unpack().expect("decodes");
    assert_eq!(metrics.pids.map(|p| p.current), Some(2));
    assert!(metrics
        .blkio
        .is_some_and(|b| b.io_serviced_recursive[0].device.is_empty()));
}
