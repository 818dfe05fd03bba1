//! v2 Stats from fixture directories.

use super::*;

#[test]
fn every_v2_file_lands_in_its_field_with_max_as_u64_max() {
    let fixture = Fixture::new();
    fixture
        .write(
            "cgroup.controllers",
            "cpuset cpu io memory hugetlb pids rdma misc\n",
        )
        .write("cpu.stat", V2_CPU_STAT)
        .write("cpu.pressure", V2_PRESSURE)
        .write("memory.stat", V2_MEMORY_STAT)
        .write("memory.current", "2101248\n")
        .write("memory.max", "max\n")
        .write("memory.swap.current", "0\n")
        .write("memory.swap.max", "max\n")
        .write("memory.peak", "3145728\n")
        .write("memory.swap.peak", "4096\n")
        .write("memory.events", V2_MEMORY_EVENTS)
        .write("memory.pressure", V2_PRESSURE)
        .write("pids.current", "3\n")
        .write("pids.max", "max\n")
        .write("io.stat", V2_IO_STAT)
        .write("io.pressure", V2_PRESSURE)
        .write("hugetlb.2MB.current", "4194304\n")
        .write("hugetlb.2MB.max", "max\n")
        .write("hugetlb.2MB.events", "max 7\n")
        .write("rdma.current", RDMA_CURRENT)
        .write("rdma.max", RDMA_MAX);
    let host = host(Mode::Unified, &["1GB", "2MB"], Path::new("/nonexistent"));
    let metrics = v2_metrics(&fixture.dir, &host);

    assert_eq!(
        metrics.pids,
        Some(v2::PidsStat {
            current: 3,
            limit: u64::MAX
        })
    );
    let cpu = metrics.cpu.expect("cpu");
    assert_eq!(
        (cpu.usage_usec, cpu.user_usec, cpu.system_usec),
        (2_378_000, 1_287_000, 1_091_000),
        "microseconds, as the message declares"
    );
    assert_eq!(
        (cpu.nr_periods, cpu.nr_throttled, cpu.throttled_usec),
        (12, 3, 4567)
    );
    assert_eq!((cpu.nr_bursts, cpu.burst_usec), (1, 89));
    let psi = cpu.psi.expect("cpu.pressure");
    assert_eq!(psi.some.as_ref().map(|s| s.avg10), Some(1.25));
    assert_eq!(psi.full.as_ref().map(|f| f.total), Some(7_421_093));

    let memory = metrics.memory.expect("memory");
    let expected = v2::MemoryStat {
        anon: 1_048_576,
        file: 20480,
        kernel_stack: 16384,
        slab: 97024,
        sock: 512,
        shmem: 4096,
        file_mapped: 8192,
        file_dirty: 1024,
        file_writeback: 2048,
        anon_thp: 2_097_152,
        inactive_anon: 1_044_480,
        active_anon: 4096,
        inactive_file: 12288,
        active_file: 8193,
        unevictable: 7,
        slab_reclaimable: 6816,
        slab_unreclaimable: 90208,
        pgfault: 1151,
        pgmajfault: 3,
        workingset_refault: 0,
        workingset_activate: 0,
        workingset_nodereclaim: 35,
        pgrefill: 38,
        pgscan: 36,
        pgsteal: 37,
        pgactivate: 39,
        pgdeactivate: 40,
        pglazyfree: 41,
        pglazyfreed: 42,
        thp_fault_alloc: 43,
        thp_collapse_alloc: 44,
        usage: 2_101_248,
        usage_limit: u64::MAX,
        swap_usage: 0,
        swap_limit: u64::MAX,
        max_usage: 3_145_728,
        swap_max_usage: 4096,
        psi: memory.psi.clone(),
        workingset_refault_anon: 31,
        workingset_refault_file: 32,
        workingset_activate_anon: 33,
        workingset_activate_file: 34,
    };
    assert_eq!(memory, expected);
    assert!(memory.psi.is_some());

    assert_eq!(
        metrics.memory_events,
        Some(v2::MemoryEvents {
            low: 1,
            high: 2,
            max: 3,
            oom: 4,
            oom_kill: 5,
            oom_group_kill: 6
        })
    );
    let io = metrics.io.expect("io");
    assert_eq!(io.usage.len(), 2);
    assert_eq!((io.usage[1].major, io.usage[1].rios), (8, 8950));
    assert!(io.psi.is_some());
    assert_eq!(
        metrics.hugetlb,
        [v2::HugeTlbStat {
            current: 4_194_304,
            max: u64::MAX,
            pagesize: "2MB".into(),
            failcnt: 7
        }],
        "1GB has no files here, so it has no entry"
    );
    let rdma = metrics.rdma.expect("rdma");
    assert_eq!(rdma.current.len(), 2);
    assert_eq!(rdma.limit[0].hca_handles, u32::MAX);
    assert_eq!(rdma.limit[1].hca_objects, 20);
}

#[test]
fn a_v2_cgroup_without_memory_files_has_no_memory_events_but_the_other_messages() {
    let fixture = Fixture::new();
    fixture.write("cpu.stat", V2_CPU_STAT);
    let host = host(Mode::Unified, &["2MB"], Path::new("/nonexistent"));
    let metrics = v2_metrics(&fixture.dir, &host);
    assert_eq!(metrics.memory_events, None);
    assert_eq!(metrics.pids, Some(v2::PidsStat::default()));
    assert_eq!(metrics.cpu.as_ref().map(|c| c.usage_usec), Some(2_378_000));
    assert_eq!(metrics.cpu.as_ref().and_then(|c| c.psi.clone()), None);
    assert_eq!(metrics.memory, Some(v2::MemoryStat::default()));
    assert_eq!(metrics.io, Some(v2::IoStat::default()));
    assert_eq!(metrics.rdma, Some(v2::RdmaStat::default()));
    assert!(metrics.hugetlb.is_empty());
    // On the wire: pids, cpu, memory, rdma and io present, the empty ones as length 0.
    let any = Metrics::V2(metrics).to_any();
    assert_eq!(any.type_url, "io.containerd.cgroups.v2.Metrics");
    let keys: Vec<u8> = top_level_keys(&any.value);
    assert_eq!(keys, [0x0a, 0x12, 0x22, 0x2a, 0x32]);
}

/// The key bytes of the top-level fields of a message whose fields are all length-delimited
/// with keys and lengths of one byte.
fn top_level_keys(mut wire: &[u8]) -> Vec<u8> {
    let mut keys = Vec::new();
    while let [key, length, rest @ ..] = wire {
        assert!(*key < 0x80 && *length < 0x80, "one-byte key and length");
        keys.push(*key);
        wire = &rest[usize::from(*length)..];
    }
    assert!(wire.is_empty());
    keys
}

#[test]
fn an_empty_memory_events_file_is_left_out_too() {
    let fixture = Fixture::new();
    fixture
        .write("memory.events", "")
        .write("memory.current", "1\n");
    let host = host(Mode::Unified, &[], Path::new("/nonexistent"));
    let metrics = v2_metrics(&fixture.dir, &host);
    assert_eq!(metrics.memory_events, None);
    assert_eq!(metrics.memory.map(|m| m.usage), Some(1));
}

#[test]
fn a_removed_v2_cgroup_is_gone_and_an_empty_one_is_not() {
    let fixture = Fixture::new();
    let host = host(Mode::Unified, &[], Path::new("/nonexistent"));
    let empty = Cgroup::unified(fixture.sub("empty"));
    assert!(
        empty.metrics(&host).is_ok(),
        "a directory without files still exists"
    );
    let removed = fixture.dir.join("removed");
    match Cgroup::unified(&removed).stats(&host) {
        Err(StatsError::Gone { path }) => assert_eq!(path, removed),
        other => panic!("expected Gone, got {other:?}"),
    }
}
