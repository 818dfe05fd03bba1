//! `io.containerd.cgroups.v1.Metrics` and its parts (package `io.containerd.cgroups.v1`), for
//! cgroup v1 and hybrid hosts. Every value is a plain count or byte size unless its doc says
//! otherwise; a file the cgroup lacks leaves its fields at zero or its message out.

use super::super::google::TypeUrl;

/// The metrics of one container's v1 cgroups.
///
/// Readers dereference `cpu`, `cpu.usage`, `cpu.throttling` and `memory.usage` without a check
/// (dockerd's stats collector, `ctr task metrics`), so those are always sent, empty if need be.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metrics {
    /// One entry per huge page size, from the hugetlb controller.
    #[prost(message, repeated, tag = "1")]
    pub hugetlb: Vec<HugetlbStat>,
    /// The pids controller.
    #[prost(message, optional, tag = "2")]
    pub pids: Option<PidsStat>,
    /// The cpu and cpuacct controllers.
    #[prost(message, optional, tag = "3")]
    pub cpu: Option<CpuStat>,
    /// The memory controller.
    #[prost(message, optional, tag = "4")]
    pub memory: Option<MemoryStat>,
    /// The blkio controller.
    #[prost(message, optional, tag = "5")]
    pub blkio: Option<BlkIoStat>,
    /// The rdma controller.
    #[prost(message, optional, tag = "6")]
    pub rdma: Option<RdmaStat>,
    /// Network interfaces; no shim fills it.
    #[prost(message, repeated, tag = "7")]
    pub network: Vec<NetworkStat>,
    /// Task states; no shim fills it.
    #[prost(message, optional, tag = "8")]
    pub cgroup_stats: Option<CgroupStats>,
    /// `memory.oom_control`.
    #[prost(message, optional, tag = "9")]
    pub memory_oom_control: Option<MemoryOomControl>,
}

impl TypeUrl for Metrics {
    const TYPE_URL: &'static str = "io.containerd.cgroups.v1.Metrics";
}

/// `hugetlb.<pagesize>.*` for one page size.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct HugetlbStat {
    /// `usage_in_bytes`.
    #[prost(uint64, tag = "1")]
    pub usage: u64,
    /// `max_usage_in_bytes`.
    #[prost(uint64, tag = "2")]
    pub max: u64,
    /// `failcnt`.
    #[prost(uint64, tag = "3")]
    pub failcnt: u64,
    /// The page size as the file names spell it, such as `2MB`.
    #[prost(string, tag = "4")]
    pub pagesize: String,
}

/// `pids.current` and `pids.max`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PidsStat {
    /// `pids.current`.
    #[prost(uint64, tag = "1")]
    pub current: u64,
    /// `pids.max`; 0 when it is `max` (no limit).
    #[prost(uint64, tag = "2")]
    pub limit: u64,
}

/// CPU time and throttling.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CpuStat {
    /// From the cpuacct controller.
    #[prost(message, optional, tag = "1")]
    pub usage: Option<CpuUsage>,
    /// `cpu.stat` of the cpu controller.
    #[prost(message, optional, tag = "2")]
    pub throttling: Option<Throttle>,
}

/// CPU time in nanoseconds.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CpuUsage {
    /// `cpuacct.usage`.
    #[prost(uint64, tag = "1")]
    pub total: u64,
    /// `cpuacct.stat` `system`, converted from clock ticks.
    #[prost(uint64, tag = "2")]
    pub kernel: u64,
    /// `cpuacct.stat` `user`, converted from clock ticks.
    #[prost(uint64, tag = "3")]
    pub user: u64,
    /// `cpuacct.usage_percpu`, one value per possible CPU (packed on the wire).
    #[prost(uint64, repeated, tag = "4")]
    pub per_cpu: Vec<u64>,
}

/// CFS bandwidth throttling, from `cpu.stat`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Throttle {
    /// `nr_periods`.
    #[prost(uint64, tag = "1")]
    pub periods: u64,
    /// `nr_throttled`.
    #[prost(uint64, tag = "2")]
    pub throttled_periods: u64,
    /// `throttled_time`, in nanoseconds.
    #[prost(uint64, tag = "3")]
    pub throttled_time: u64,
}

/// `memory.stat` (fields 1 to 32, each the key of the same name, `pg_pg_in` being `pgpgin` and
/// so on) and the usage files (33 to 36).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MemoryStat {
    /// `cache`.
    #[prost(uint64, tag = "1")]
    pub cache: u64,
    /// `rss`.
    #[prost(uint64, tag = "2")]
    pub rss: u64,
    /// `rss_huge`.
    #[prost(uint64, tag = "3")]
    pub rss_huge: u64,
    /// `mapped_file`.
    #[prost(uint64, tag = "4")]
    pub mapped_file: u64,
    /// `dirty`.
    #[prost(uint64, tag = "5")]
    pub dirty: u64,
    /// `writeback`.
    #[prost(uint64, tag = "6")]
    pub writeback: u64,
    /// `pgpgin`.
    #[prost(uint64, tag = "7")]
    pub pg_pg_in: u64,
    /// `pgpgout`.
    #[prost(uint64, tag = "8")]
    pub pg_pg_out: u64,
    /// `pgfault`.
    #[prost(uint64, tag = "9")]
    pub pg_fault: u64,
    /// `pgmajfault`.
    #[prost(uint64, tag = "10")]
    pub pg_maj_fault: u64,
    /// `inactive_anon`.
    #[prost(uint64, tag = "11")]
    pub inactive_anon: u64,
    /// `active_anon`.
    #[prost(uint64, tag = "12")]
    pub active_anon: u64,
    /// `inactive_file`.
    #[prost(uint64, tag = "13")]
    pub inactive_file: u64,
    /// `active_file`.
    #[prost(uint64, tag = "14")]
    pub active_file: u64,
    /// `unevictable`.
    #[prost(uint64, tag = "15")]
    pub unevictable: u64,
    /// `hierarchical_memory_limit`.
    #[prost(uint64, tag = "16")]
    pub hierarchical_memory_limit: u64,
    /// `hierarchical_memsw_limit`.
    #[prost(uint64, tag = "17")]
    pub hierarchical_swap_limit: u64,
    /// `total_cache`.
    #[prost(uint64, tag = "18")]
    pub total_cache: u64,
    /// `total_rss`.
    #[prost(uint64, tag = "19")]
    pub total_rss: u64,
    /// `total_rss_huge`.
    #[prost(uint64, tag = "20")]
    pub total_rss_huge: u64,
    /// `total_mapped_file`.
    #[prost(uint64, tag = "21")]
    pub total_mapped_file: u64,
    /// `total_dirty`.
    #[prost(uint64, tag = "22")]
    pub total_dirty: u64,
    /// `total_writeback`.
    #[prost(uint64, tag = "23")]
    pub total_writeback: u64,
    /// `total_pgpgin`.
    #[prost(uint64, tag = "24")]
    pub total_pg_pg_in: u64,
    /// `total_pgpgout`.
    #[prost(uint64, tag = "25")]
    pub total_pg_pg_out: u64,
    /// `total_pgfault`.
    #[prost(uint64, tag = "26")]
    pub total_pg_fault: u64,
    /// `total_pgmajfault`.
    #[prost(uint64, tag = "27")]
    pub total_pg_maj_fault: u64,
    /// `total_inactive_anon`.
    #[prost(uint64, tag = "28")]
    pub total_inactive_anon: u64,
    /// `total_active_anon`.
    #[prost(uint64, tag = "29")]
    pub total_active_anon: u64,
    /// `total_inactive_file`, which the CRI and the docker CLI subtract from the usage to get the
    /// working set.
    #[prost(uint64, tag = "30")]
    pub total_inactive_file: u64,
    /// `total_active_file`.
    #[prost(uint64, tag = "31")]
    pub total_active_file: u64,
    /// `total_unevictable`.
    #[prost(uint64, tag = "32")]
    pub total_unevictable: u64,
    /// `memory.{usage_in_bytes,max_usage_in_bytes,limit_in_bytes,failcnt}`.
    #[prost(message, optional, tag = "33")]
    pub usage: Option<MemoryEntry>,
    /// The same four files under `memory.memsw.` (memory plus swap).
    #[prost(message, optional, tag = "34")]
    pub swap: Option<MemoryEntry>,
    /// The same four files under `memory.kmem.`.
    #[prost(message, optional, tag = "35")]
    pub kernel: Option<MemoryEntry>,
    /// The same four files under `memory.kmem.tcp.`.
    #[prost(message, optional, tag = "36")]
    pub kernel_tcp: Option<MemoryEntry>,
}

/// One family of memory usage files.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MemoryEntry {
    /// `limit_in_bytes` (a huge number, not `max`, when unlimited).
    #[prost(uint64, tag = "1")]
    pub limit: u64,
    /// `usage_in_bytes`.
    #[prost(uint64, tag = "2")]
    pub usage: u64,
    /// `max_usage_in_bytes`.
    #[prost(uint64, tag = "3")]
    pub max: u64,
    /// `failcnt`.
    #[prost(uint64, tag = "4")]
    pub failcnt: u64,
}

/// `memory.oom_control`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MemoryOomControl {
    /// `oom_kill_disable`.
    #[prost(uint64, tag = "1")]
    pub oom_kill_disable: u64,
    /// `under_oom`.
    #[prost(uint64, tag = "2")]
    pub under_oom: u64,
    /// `oom_kill` (kernel 4.13 and later).
    #[prost(uint64, tag = "3")]
    pub oom_kill: u64,
}

/// The blkio controller's per-device counters: the `*_recursive` files, or where they are all
/// empty (no CFQ or BFQ scheduler) `throttle.io_serviced` and `throttle.io_service_bytes` in
/// fields 2 and 1.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct BlkIoStat {
    /// `blkio.io_service_bytes_recursive`.
    #[prost(message, repeated, tag = "1")]
    pub io_service_bytes_recursive: Vec<BlkIoEntry>,
    /// `blkio.io_serviced_recursive`.
    #[prost(message, repeated, tag = "2")]
    pub io_serviced_recursive: Vec<BlkIoEntry>,
    /// `blkio.io_queued_recursive`.
    #[prost(message, repeated, tag = "3")]
    pub io_queued_recursive: Vec<BlkIoEntry>,
    /// `blkio.io_service_time_recursive`.
    #[prost(message, repeated, tag = "4")]
    pub io_service_time_recursive: Vec<BlkIoEntry>,
    /// `blkio.io_wait_time_recursive`.
    #[prost(message, repeated, tag = "5")]
    pub io_wait_time_recursive: Vec<BlkIoEntry>,
    /// `blkio.io_merged_recursive`.
    #[prost(message, repeated, tag = "6")]
    pub io_merged_recursive: Vec<BlkIoEntry>,
    /// `blkio.time_recursive`.
    #[prost(message, repeated, tag = "7")]
    pub io_time_recursive: Vec<BlkIoEntry>,
    /// `blkio.sectors_recursive`.
    #[prost(message, repeated, tag = "8")]
    pub sectors_recursive: Vec<BlkIoEntry>,
}

/// One line of a blkio file: `MAJ:MIN [OP] VALUE`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct BlkIoEntry {
    /// `Read`, `Write`, `Sync`, `Async`, `Discard` or `Total`; empty in files without one.
    #[prost(string, tag = "1")]
    pub op: String,
    /// `/dev/<name>` from `/proc/partitions`; empty for a device it does not list.
    #[prost(string, tag = "2")]
    pub device: String,
    /// Device major number.
    #[prost(uint64, tag = "3")]
    pub major: u64,
    /// Device minor number.
    #[prost(uint64, tag = "4")]
    pub minor: u64,
    /// The count.
    #[prost(uint64, tag = "5")]
    pub value: u64,
}

/// `rdma.current` and `rdma.max`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RdmaStat {
    /// `rdma.current`.
    #[prost(message, repeated, tag = "1")]
    pub current: Vec<RdmaEntry>,
    /// `rdma.max`.
    #[prost(message, repeated, tag = "2")]
    pub limit: Vec<RdmaEntry>,
}

/// One device line of an rdma file.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RdmaEntry {
    /// The device name.
    #[prost(string, tag = "1")]
    pub device: String,
    /// `hca_handle`; `u32::MAX` for `max`.
    #[prost(uint32, tag = "2")]
    pub hca_handles: u32,
    /// `hca_object`; `u32::MAX` for `max`.
    #[prost(uint32, tag = "3")]
    pub hca_objects: u32,
}

/// One network interface's counters.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct NetworkStat {
    /// Interface name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Bytes received.
    #[prost(uint64, tag = "2")]
    pub rx_bytes: u64,
    /// Packets received.
    #[prost(uint64, tag = "3")]
    pub rx_packets: u64,
    /// Receive errors.
    #[prost(uint64, tag = "4")]
    pub rx_errors: u64,
    /// Received packets dropped.
    #[prost(uint64, tag = "5")]
    pub rx_dropped: u64,
    /// Bytes sent.
    #[prost(uint64, tag = "6")]
    pub tx_bytes: u64,
    /// Packets sent.
    #[prost(uint64, tag = "7")]
    pub tx_packets: u64,
    /// Send errors.
    #[prost(uint64, tag = "8")]
    pub tx_errors: u64,
    /// Sent packets dropped.
    #[prost(uint64, tag = "9")]
    pub tx_dropped: u64,
}

/// How many of the cgroup's tasks are in each state.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CgroupStats {
    /// Sleeping.
    #[prost(uint64, tag = "1")]
    pub nr_sleeping: u64,
    /// Running.
    #[prost(uint64, tag = "2")]
    pub nr_running: u64,
    /// Stopped.
    #[prost(uint64, tag = "3")]
    pub nr_stopped: u64,
    /// In uninterruptible sleep.
    #[prost(uint64, tag = "4")]
    pub nr_uninterruptible: u64,
    /// Waiting on I/O.
    #[prost(uint64, tag = "5")]
    pub nr_io_wait: u64,
}
