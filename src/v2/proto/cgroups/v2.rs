//! `io.containerd.cgroups.v2.Metrics` and its parts (package `io.containerd.cgroups.v2`), for
//! unified cgroup v2 hosts. Values keep the units of the files they come from: CPU times in
//! microseconds, memory in bytes. A field marked *newer* is not in the cgroups v1.0.4 that
//! containerd 1.6 vendors: 1.6 skips it, 1.7 and 2.x read it.

use super::super::google::TypeUrl;

/// The metrics of one container's cgroup. There is no field 3.
///
/// `pids`, `cpu`, `memory`, `rdma` and `io` are always sent (empty where the files are
/// missing), as the Go library does; `memory_events` only when `memory.events` has something.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metrics {
    /// `pids.current` and `pids.max`.
    #[prost(message, optional, tag = "1")]
    pub pids: Option<PidsStat>,
    /// `cpu.stat` and `cpu.pressure`.
    #[prost(message, optional, tag = "2")]
    pub cpu: Option<CpuStat>,
    /// `memory.stat`, the memory usage and limit files, `memory.pressure`.
    #[prost(message, optional, tag = "4")]
    pub memory: Option<MemoryStat>,
    /// `rdma.current` and `rdma.max`.
    #[prost(message, optional, tag = "5")]
    pub rdma: Option<RdmaStat>,
    /// `io.stat` and `io.pressure`.
    #[prost(message, optional, tag = "6")]
    pub io: Option<IoStat>,
    /// One entry per huge page size the cgroup has files for.
    #[prost(message, repeated, tag = "7")]
    pub hugetlb: Vec<HugeTlbStat>,
    /// `memory.events`.
    #[prost(message, optional, tag = "8")]
    pub memory_events: Option<MemoryEvents>,
    /// Network interfaces (*newer*); no shim fills it.
    #[prost(message, repeated, tag = "9")]
    pub network: Vec<NetworkStat>,
}

impl TypeUrl for Metrics {
    const TYPE_URL: &'static str = "io.containerd.cgroups.v2.Metrics";
}

/// One line of a pressure file (`some` or `full`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PsiData {
    /// `avg10`, percent of the last 10 seconds.
    #[prost(double, tag = "1")]
    pub avg10: f64,
    /// `avg60`.
    #[prost(double, tag = "2")]
    pub avg60: f64,
    /// `avg300`.
    #[prost(double, tag = "3")]
    pub avg300: f64,
    /// `total`, stalled time in microseconds.
    #[prost(uint64, tag = "4")]
    pub total: u64,
}

/// A pressure file (`cpu.pressure`, `memory.pressure`, `io.pressure`; *newer*).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PsiStats {
    /// Some tasks stalled.
    #[prost(message, optional, tag = "1")]
    pub some: Option<PsiData>,
    /// All non-idle tasks stalled (not in `cpu.pressure` before kernel 5.13).
    #[prost(message, optional, tag = "2")]
    pub full: Option<PsiData>,
}

/// `pids.current` and `pids.max`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PidsStat {
    /// `pids.current`.
    #[prost(uint64, tag = "1")]
    pub current: u64,
    /// `pids.max`; `u64::MAX` when it is `max`.
    #[prost(uint64, tag = "2")]
    pub limit: u64,
}

/// `cpu.stat`, in microseconds and counts.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CpuStat {
    /// `usage_usec`.
    #[prost(uint64, tag = "1")]
    pub usage_usec: u64,
    /// `user_usec`.
    #[prost(uint64, tag = "2")]
    pub user_usec: u64,
    /// `system_usec`.
    #[prost(uint64, tag = "3")]
    pub system_usec: u64,
    /// `nr_periods`.
    #[prost(uint64, tag = "4")]
    pub nr_periods: u64,
    /// `nr_throttled`.
    #[prost(uint64, tag = "5")]
    pub nr_throttled: u64,
    /// `throttled_usec`.
    #[prost(uint64, tag = "6")]
    pub throttled_usec: u64,
    /// `cpu.pressure` (*newer*).
    #[prost(message, optional, tag = "7")]
    pub psi: Option<PsiStats>,
    /// `nr_bursts` (*newer*).
    #[prost(uint64, tag = "8")]
    pub nr_bursts: u64,
    /// `burst_usec` (*newer*).
    #[prost(uint64, tag = "9")]
    pub burst_usec: u64,
}

/// `memory.stat` (each field the key of the same name) and the single-value memory files.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MemoryStat {
    /// `anon`.
    #[prost(uint64, tag = "1")]
    pub anon: u64,
    /// `file`.
    #[prost(uint64, tag = "2")]
    pub file: u64,
    /// `kernel_stack`.
    #[prost(uint64, tag = "3")]
    pub kernel_stack: u64,
    /// `slab`.
    #[prost(uint64, tag = "4")]
    pub slab: u64,
    /// `sock`.
    #[prost(uint64, tag = "5")]
    pub sock: u64,
    /// `shmem`.
    #[prost(uint64, tag = "6")]
    pub shmem: u64,
    /// `file_mapped`.
    #[prost(uint64, tag = "7")]
    pub file_mapped: u64,
    /// `file_dirty`.
    #[prost(uint64, tag = "8")]
    pub file_dirty: u64,
    /// `file_writeback`.
    #[prost(uint64, tag = "9")]
    pub file_writeback: u64,
    /// `anon_thp`.
    #[prost(uint64, tag = "10")]
    pub anon_thp: u64,
    /// `inactive_anon`.
    #[prost(uint64, tag = "11")]
    pub inactive_anon: u64,
    /// `active_anon`.
    #[prost(uint64, tag = "12")]
    pub active_anon: u64,
    /// `inactive_file`, which the CRI subtracts from `usage` to get the working set.
    #[prost(uint64, tag = "13")]
    pub inactive_file: u64,
    /// `active_file`.
    #[prost(uint64, tag = "14")]
    pub active_file: u64,
    /// `unevictable`.
    #[prost(uint64, tag = "15")]
    pub unevictable: u64,
    /// `slab_reclaimable`.
    #[prost(uint64, tag = "16")]
    pub slab_reclaimable: u64,
    /// `slab_unreclaimable`.
    #[prost(uint64, tag = "17")]
    pub slab_unreclaimable: u64,
    /// `pgfault`.
    #[prost(uint64, tag = "18")]
    pub pgfault: u64,
    /// `pgmajfault`.
    #[prost(uint64, tag = "19")]
    pub pgmajfault: u64,
    /// `workingset_refault` (kernels before 5.9 only; later ones split it, fields 39 and 40).
    #[prost(uint64, tag = "20")]
    pub workingset_refault: u64,
    /// `workingset_activate` (kernels before 5.9 only; later ones split it, fields 41 and 42).
    #[prost(uint64, tag = "21")]
    pub workingset_activate: u64,
    /// `workingset_nodereclaim`.
    #[prost(uint64, tag = "22")]
    pub workingset_nodereclaim: u64,
    /// `pgrefill`.
    #[prost(uint64, tag = "23")]
    pub pgrefill: u64,
    /// `pgscan`.
    #[prost(uint64, tag = "24")]
    pub pgscan: u64,
    /// `pgsteal`.
    #[prost(uint64, tag = "25")]
    pub pgsteal: u64,
    /// `pgactivate`.
    #[prost(uint64, tag = "26")]
    pub pgactivate: u64,
    /// `pgdeactivate`.
    #[prost(uint64, tag = "27")]
    pub pgdeactivate: u64,
    /// `pglazyfree`.
    #[prost(uint64, tag = "28")]
    pub pglazyfree: u64,
    /// `pglazyfreed`.
    #[prost(uint64, tag = "29")]
    pub pglazyfreed: u64,
    /// `thp_fault_alloc`.
    #[prost(uint64, tag = "30")]
    pub thp_fault_alloc: u64,
    /// `thp_collapse_alloc`.
    #[prost(uint64, tag = "31")]
    pub thp_collapse_alloc: u64,
    /// `memory.current`.
    #[prost(uint64, tag = "32")]
    pub usage: u64,
    /// `memory.max`; `u64::MAX` when it is `max`.
    #[prost(uint64, tag = "33")]
    pub usage_limit: u64,
    /// `memory.swap.current`.
    #[prost(uint64, tag = "34")]
    pub swap_usage: u64,
    /// `memory.swap.max`; `u64::MAX` when it is `max`.
    #[prost(uint64, tag = "35")]
    pub swap_limit: u64,
    /// `memory.peak` (*newer*; kernel 5.19 and later).
    #[prost(uint64, tag = "36")]
    pub max_usage: u64,
    /// `memory.swap.peak` (*newer*).
    #[prost(uint64, tag = "37")]
    pub swap_max_usage: u64,
    /// `memory.pressure` (*newer*).
    #[prost(message, optional, tag = "38")]
    pub psi: Option<PsiStats>,
    /// `workingset_refault_anon` (*newer*).
    #[prost(uint64, tag = "39")]
    pub workingset_refault_anon: u64,
    /// `workingset_refault_file` (*newer*).
    #[prost(uint64, tag = "40")]
    pub workingset_refault_file: u64,
    /// `workingset_activate_anon` (*newer*).
    #[prost(uint64, tag = "41")]
    pub workingset_activate_anon: u64,
    /// `workingset_activate_file` (*newer*).
    #[prost(uint64, tag = "42")]
    pub workingset_activate_file: u64,
}

/// `memory.events`: how often each memory boundary was hit, this cgroup and its descendants.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MemoryEvents {
    /// `low`.
    #[prost(uint64, tag = "1")]
    pub low: u64,
    /// `high`.
    #[prost(uint64, tag = "2")]
    pub high: u64,
    /// `max`.
    #[prost(uint64, tag = "3")]
    pub max: u64,
    /// `oom`: the cgroup hit its limit and the OOM killer was invoked.
    #[prost(uint64, tag = "4")]
    pub oom: u64,
    /// `oom_kill`: processes the OOM killer killed (docker shows `oom` as its failcnt).
    #[prost(uint64, tag = "5")]
    pub oom_kill: u64,
    /// `oom_group_kill` (*newer*).
    #[prost(uint64, tag = "6")]
    pub oom_group_kill: u64,
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

/// `io.stat` and `io.pressure`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IoStat {
    /// One entry per device line of `io.stat`.
    #[prost(message, repeated, tag = "1")]
    pub usage: Vec<IoEntry>,
    /// `io.pressure` (*newer*).
    #[prost(message, optional, tag = "2")]
    pub psi: Option<PsiStats>,
}

/// One device line of `io.stat`: `MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=..`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct IoEntry {
    /// Device major number.
    #[prost(uint64, tag = "1")]
    pub major: u64,
    /// Device minor number.
    #[prost(uint64, tag = "2")]
    pub minor: u64,
    /// `rbytes`.
    #[prost(uint64, tag = "3")]
    pub rbytes: u64,
    /// `wbytes`.
    #[prost(uint64, tag = "4")]
    pub wbytes: u64,
    /// `rios`.
    #[prost(uint64, tag = "5")]
    pub rios: u64,
    /// `wios`.
    #[prost(uint64, tag = "6")]
    pub wios: u64,
}

/// `hugetlb.<pagesize>.*` for one page size.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct HugeTlbStat {
    /// `.current`.
    #[prost(uint64, tag = "1")]
    pub current: u64,
    /// `.max`; `u64::MAX` when it is `max`.
    #[prost(uint64, tag = "2")]
    pub max: u64,
    /// The page size as the file names spell it, such as `2MB`.
    #[prost(string, tag = "3")]
    pub pagesize: String,
    /// `max` of `.events`: allocations refused by the limit (*newer*).
    #[prost(uint64, tag = "4")]
    pub failcnt: u64,
}

/// One network interface's counters (*newer*).
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
