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

mod location;
mod parsers;
mod v1_stats;
mod v2_stats;
