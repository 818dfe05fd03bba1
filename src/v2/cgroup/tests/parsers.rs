//! The parsers, on real file contents of this kernel and of the v2 documentation.

use super::*;

#[test]
fn a_single_value_is_a_number_or_max_and_a_negative_one_is_zero() {
    assert_eq!(parse::single_value("42\n"), Some(Limit::Value(42)));
    assert_eq!(parse::single_value("max\n"), Some(Limit::Max));
    assert_eq!(parse::single_value("-1\n"), Some(Limit::Value(0)));
    assert_eq!(
        parse::single_value("18446744073709551615"),
        Some(Limit::Value(u64::MAX))
    );
    for garbage in [
        "",
        "\n",
        "12 13",
        "0x10",
        "-",
        "maximal",
        "18446744073709551616",
    ] {
        assert_eq!(parse::single_value(garbage), None, "{garbage:?}");
    }
}

#[test]
fn max_is_u64_max_in_v2_and_zero_in_v1() {
    assert_eq!(Limit::Max.or_u64_max(), u64::MAX);
    assert_eq!(Limit::Max.or_zero(), 0);
    assert_eq!(Limit::Value(7).or_u64_max(), 7);
    assert_eq!(Limit::Value(7).or_zero(), 7);
}

#[test]
fn flat_keyed_lines_of_another_shape_are_skipped_and_the_rest_kept() {
    let text = "a 1\nbroken\nb two\nc 3 extra\n\nd -5\ne\t4\n";
    let pairs: Vec<(&str, u64)> = parse::flat_keyed(text).collect();
    assert_eq!(pairs, [("a", 1), ("d", 0), ("e", 4)]);
    assert_eq!(parse::flat_value(text, "e"), Some(4));
    assert_eq!(parse::flat_value(text, "b"), None);
}

#[test]
fn the_v1_memory_stat_of_this_kernel_fills_every_counter_by_its_key() {
    let stat = stats_v1::memory_stat(V1_MEMORY_STAT);
    assert_eq!(stat.cache, 16384);
    assert_eq!(stat.rss, 118_784);
    assert_eq!(stat.dirty, 4096);
    assert_eq!(stat.pg_pg_in, 411);
    assert_eq!(stat.pg_pg_out, 359);
    assert_eq!(stat.pg_fault, 646);
    assert_eq!(stat.pg_maj_fault, 2);
    assert_eq!(stat.inactive_file, 4096);
    assert_eq!(stat.active_file, 8192);
    assert_eq!(stat.hierarchical_memory_limit, 9_223_372_036_854_771_712);
    assert_eq!(stat.hierarchical_swap_limit, 9_223_372_036_854_771_712);
    assert_eq!(stat.total_rss, 118_784);
    assert_eq!(stat.total_pg_fault, 646);
    assert_eq!(
        stat.total_inactive_file, 12288,
        "the working set subtracts this one"
    );
    assert_eq!(stat.total_active_file, 8192);
    assert_eq!(
        stat.usage, None,
        "the usage entries come from their own files"
    );
}

#[test]
fn v1_oom_control_throttling_and_cpu_ticks_parse_from_this_kernels_files() {
    assert_eq!(
        stats_v1::oom_control(V1_OOM_CONTROL),
        v1::MemoryOomControl {
            oom_kill_disable: 0,
            under_oom: 0,
            oom_kill: 2
        }
    );
    assert_eq!(
        stats_v1::throttle(V1_CPU_STAT),
        v1::Throttle {
            periods: 10,
            throttled_periods: 4,
            throttled_time: 123_456_789
        }
    );
    let per_cpu: Vec<u64> = parse::numbers(V1_USAGE_PERCPU).collect();
    assert_eq!(per_cpu, [3_344_476, 41_653_123]);
}

#[test]
fn blkio_lines_keep_device_and_op_and_drop_the_total_line() {
    let entries = stats_v1::blkio_entries(V1_THROTTLE_IO_SERVICED);
    assert_eq!(entries.len(), 6);
    assert_eq!(
        entries[0],
        v1::BlkIoEntry {
            op: "Read".into(),
            device: String::new(),
            major: 254,
            minor: 0,
            value: 12
        }
    );
    assert_eq!(entries[5].op, "Total");
    let no_op = stats_v1::blkio_entries("8:0 1234\n8:16 5\nTotal 1239\n");
    assert_eq!(no_op.len(), 2);
    assert_eq!(
        (no_op[1].op.as_str(), no_op[1].minor, no_op[1].value),
        ("", 16, 5)
    );
}

#[test]
fn blkio_devices_are_named_after_their_first_line_in_proc_partitions() {
    let mut lists = [
        stats_v1::blkio_entries("254:0 Read 1\n7:0 Read 2\n9:9 Read 3\n"),
        Vec::new(),
    ];
    let partitions = format!("{PARTITIONS} 254        0  1 shadow\n");
    stats_v1::name_devices(lists.iter_mut(), &partitions);
    let names: Vec<&str> = lists[0].iter().map(|e| e.device.as_str()).collect();
    assert_eq!(names, ["/dev/vda", "/dev/loop0", ""]);
}

#[test]
fn pressure_lines_parse_and_a_malformed_one_is_dropped() {
    let (some, full) = parse::pressure(V2_PRESSURE);
    let some = some.expect("some");
    assert_eq!((some.avg10, some.avg60, some.avg300), (1.25, 0.5, 0.1));
    assert_eq!(some.total, 39_564_253);
    assert_eq!(full.map(|f| f.total), Some(7_421_093));
    // cpu.pressure before kernel 5.13 has no full line.
    let (some, full) = parse::pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
    assert_eq!(some.map(|s| s.total), Some(5));
    assert_eq!(full, None);
    let (some, _) = parse::pressure("some avg10=x avg60=0.00 avg300=0.00 total=5\n");
    assert_eq!(some, None);
}

#[test]
fn io_stat_lines_of_the_kernel_documentation_parse_without_discards() {
    let lines: Vec<parse::IoLine> = parse::io_stat(V2_IO_STAT).collect();
    assert_eq!(
        lines,
        [
            parse::IoLine {
                major: 8,
                minor: 16,
                rbytes: 1_459_200,
                wbytes: 314_773_504,
                rios: 192,
                wios: 353
            },
            parse::IoLine {
                major: 8,
                minor: 0,
                rbytes: 90_430_464,
                wbytes: 299_008_000,
                rios: 8950,
                wios: 1252
            },
        ]
    );
    assert_eq!(
        parse::io_stat("nodevice rbytes=1\n8:x rbytes=1\n").count(),
        0
    );
}

#[test]
fn rdma_values_of_max_are_u32_max() {
    let lines: Vec<parse::RdmaLine> = parse::rdma(RDMA_CURRENT).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0].device, lines[0].hca_handles, lines[0].hca_objects),
        ("mlx4_0", 2, 2000)
    );
    assert_eq!(lines[1].hca_objects, u32::MAX);
    assert_eq!(
        parse::rdma("dev hca_handle=1\n").count(),
        0,
        "a line needs both values"
    );
}

#[test]
fn proc_cgroup_gives_the_v1_lines_and_the_unified_one() {
    let parsed = parse::proc_cgroup(V1_PROC_CGROUP);
    assert_eq!(parsed.unified, Some("/"));
    assert_eq!(parsed.v1.len(), 9);
    assert!(parsed.v1.contains(&("memory", "/cgsample")));
    assert!(parsed.v1.contains(&("name=systemd", "/")));
    let v2 = parse::proc_cgroup("0::/kubepods/pod1/abc (deleted)\n");
    assert_eq!(v2.unified, Some("/kubepods/pod1/abc"));
    assert!(v2.v1.is_empty());
    assert_eq!(
        parse::proc_cgroup("garbage\n:\n"),
        parse::ProcCgroup::default()
    );
}

#[test]
fn mountinfo_lines_give_root_point_type_and_controllers() {
    let line = parse::mountinfo_line(
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:9 master:2 - cgroup cgroup rw,cpu,cpuacct",
    )
    .expect("a mount line");
    assert_eq!(line.root, "/");
    assert_eq!(line.mount_point, "/sys/fs/cgroup/cpu");
    assert_eq!(line.fs_type, "cgroup");
    assert_eq!(line.super_options, "rw,cpu,cpuacct");
    assert_eq!(parse::mountinfo_line("1 2 3 / /x rw"), None, "no separator");
    assert_eq!(parse::unescape_mount_path("/a\\040b\\134c"), "/a b\\c");
    assert_eq!(parse::unescape_mount_path("/odd\\9"), "/odd\\9");
}

#[test]
fn hugepage_directories_are_named_as_the_hugetlb_files_name_them() {
    assert_eq!(
        parse::hugepage_size_name("hugepages-2048kB").as_deref(),
        Some("2MB")
    );
    assert_eq!(
        parse::hugepage_size_name("hugepages-1048576kB").as_deref(),
        Some("1GB")
    );
    assert_eq!(
        parse::hugepage_size_name("hugepages-64kB").as_deref(),
        Some("64KB")
    );
    assert_eq!(parse::hugepage_size_name("hugepages-2048"), None);
    assert_eq!(parse::hugepage_size_name("other-2048kB"), None);
}

#[test]
fn a_long_file_is_read_line_by_line_keeping_only_the_lines_asked_for() {
    let fixture = Fixture::new();
    let overlong = "x".repeat(70_000);
    let content = format!("drop 1\n{overlong} keep\nkeep 2\ndrop 3\nkeep 4");
    fixture.write("mountinfo", &content);
    let kept = read::kept_lines(&fixture.dir.join("mountinfo"), |line| line.contains("keep"))
        .expect("read")
        .expect("present");
    assert_eq!(kept, "keep 2\nkeep 4", "the overlong line is skipped whole");
    assert_eq!(
        read::kept_lines(&fixture.dir.join("missing"), |_| true).expect("read"),
        None
    );
}
