//! Unit tests of [`super`]: the parsers against real file contents (v1 from a Debian host's
//! kernel 6.18, v2 in the formats of `Documentation/admin-guide/cgroup-v2.rst`), and Stats
//! read from fixture directories the tests write.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::parse::{self, Limit};
use super::*;
use crate::v2::proto::cgroups::{v1, v2};

// ----------------------------------------------------------------------------------------------
// Real contents

/// `memory.stat` of a v1 cgroup holding a shell, read on this kernel.
const V1_MEMORY_STAT: &str = "\
cache 16384
rss 118784
rss_huge 0
shmem 0
mapped_file 0
dirty 4096
writeback 0
workingset_refault_anon 0
workingset_refault_file 3
swap 0
swapcached 0
pgpgin 411
pgpgout 359
pgfault 646
pgmajfault 2
inactive_anon 4096
active_anon 0
inactive_file 4096
active_file 8192
unevictable 0
hierarchical_memory_limit 9223372036854771712
hierarchical_memsw_limit 9223372036854771712
total_cache 16384
total_rss 118784
total_rss_huge 0
total_shmem 0
total_mapped_file 0
total_dirty 4096
total_writeback 0
total_workingset_refault_anon 0
total_workingset_refault_file 3
total_swap 0
total_swapcached 0
total_pgpgin 411
total_pgpgout 359
total_pgfault 646
total_pgmajfault 2
total_inactive_anon 4096
total_active_anon 0
total_inactive_file 12288
total_active_file 8192
total_unevictable 0
";

const V1_OOM_CONTROL: &str = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
const V1_CPU_STAT: &str =
    "nr_periods 10\nnr_throttled 4\nthrottled_time 123456789\nnr_bursts 0\nburst_time 0\n";
const V1_CPUACCT_STAT: &str = "user 3\nsystem 1\n";
/// With the kernel's trailing space.
const V1_USAGE_PERCPU: &str = "3344476 41653123 \n";
/// `blkio.throttle.io_serviced` after direct reads from the host's disk.
const V1_THROTTLE_IO_SERVICED: &str = "\
254:0 Read 12
254:0 Write 0
254:0 Sync 12
254:0 Async 0
254:0 Discard 0
254:0 Total 12
Total 12
";
const PARTITIONS: &str = "\
major minor  #blocks  name

 254        0  268435456 vda
   7        0      65536 loop0
";

/// `/proc/self/mountinfo` of this host, its cgroup lines and a few others.
const V1_MOUNTINFO: &str = "\
23 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

/// `/proc/<pid>/cgroup` of a process moved into `/cgsample` of five hierarchies on this host.
const V1_PROC_CGROUP: &str = "\
9:name=systemd:/
8:pids:/cgsample
7:blkio:/cgsample
6:freezer:/
5:devices:/
4:memory:/cgsample
3:cpuset:/
2:cpuacct:/cgsample
1:cpu:/cgsample
0::/
";

/// A unified host's cgroup2 mount, as systemd makes it.
const V2_MOUNTINFO: &str = "\
25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

const V2_CPU_STAT: &str = "\
usage_usec 2378000
user_usec 1287000
system_usec 1091000
core_sched.force_idle_usec 0
nice_usec 0
nr_periods 12
nr_throttled 3
throttled_usec 4567
nr_bursts 1
burst_usec 89
";

/// A container's v2 `memory.stat` of kernel 6.x, new keys in the middle included; every value
/// the message carries is distinct.
const V2_MEMORY_STAT: &str = "\
anon 1048576
file 20480
kernel 163840
kernel_stack 16384
pagetables 40960
sec_pagetables 0
percpu 0
sock 512
vmalloc 0
shmem 4096
zswap 0
zswapped 0
file_mapped 8192
file_dirty 1024
file_writeback 2048
swapcached 0
anon_thp 2097152
file_thp 0
shmem_thp 0
inactive_anon 1044480
active_anon 4096
inactive_file 12288
active_file 8193
unevictable 7
slab_reclaimable 6816
slab_unreclaimable 90208
slab 97024
workingset_refault_anon 31
workingset_refault_file 32
workingset_activate_anon 33
workingset_activate_file 34
workingset_restore_anon 0
workingset_restore_file 0
workingset_nodereclaim 35
pgscan 36
pgsteal 37
pgscan_kswapd 0
pgscan_direct 0
pgsteal_kswapd 0
pgsteal_direct 0
pgfault 1151
pgmajfault 3
pgrefill 38
pgactivate 39
pgdeactivate 40
pglazyfree 41
pglazyfreed 42
zswpin 0
zswpout 0
thp_fault_alloc 43
thp_collapse_alloc 44
";

const V2_MEMORY_EVENTS: &str = "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n";
const V2_PRESSURE: &str = "\
some avg10=1.25 avg60=0.50 avg300=0.10 total=39564253
full avg10=0.00 avg60=0.00 avg300=0.00 total=7421093
";
/// The example of the kernel's documentation.
const V2_IO_STAT: &str = "\
8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0
8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021
";
const RDMA_CURRENT: &str =
    "mlx4_0 hca_handle=2 hca_object=2000\nocrdma1 hca_handle=3 hca_object=max\n";
const RDMA_MAX: &str =
    "mlx4_0 hca_handle=max hca_object=max\nocrdma1 hca_handle=10 hca_object=20\n";

// ----------------------------------------------------------------------------------------------
// Fixture directories

static FIXTURES: AtomicUsize = AtomicUsize::new(0);

/// A directory of cgroup-like files under the temporary directory, removed on drop.
struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let n = FIXTURES.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tinyshim-cgroup-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fixture directory");
        Fixture { dir }
    }

    fn sub(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).expect("create a fixture subdirectory");
        dir
    }

    fn write(&self, name: &str, content: &str) -> &Fixture {
        write(&self.dir, name, content);
        self
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).expect("write a fixture file");
}

/// A host with the given huge page sizes and block devices.
fn host(mode: Mode, hugepage_sizes: &[&str], partitions: &Path) -> Host {
    let mut host = Host::from_mountinfo(mode, "");
    host.hugepage_sizes = hugepage_sizes.iter().map(|s| s.to_string()).collect();
    host.partitions = partitions.to_path_buf();
    host
}

fn v2_metrics(dir: &Path, host: &Host) -> v2::Metrics {
    match Cgroup::unified(dir).metrics(host).expect("v2 metrics") {
        Metrics::V2(metrics) => metrics,
        other => panic!("a unified cgroup gave {other:?}"),
    }
}

fn v1_metrics(paths: &V1Paths, host: &Host) -> v1::Metrics {
    match Cgroup::V1(paths.clone()).metrics(host).expect("v1 metrics") {
        Metrics::V1(metrics) => metrics,
        other => panic!("a v1 cgroup gave {other:?}"),
    }
}

// ----------------------------------------------------------------------------------------------
// Parsers

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

// ----------------------------------------------------------------------------------------------
// Host and location

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

// ----------------------------------------------------------------------------------------------
// v2 Stats from fixture directories

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

// ----------------------------------------------------------------------------------------------
// v1 Stats from fixture directories

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
