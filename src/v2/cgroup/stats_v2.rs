//! cgroup v2: `io.containerd.cgroups.v2.Metrics` from one directory, filled as
//! containerd/cgroups' `cgroup2` `Stat` fills it, values in the files' own units.
//!
//! `pids`, `cpu`, `memory`, `io` and `rdma` are always present, empty where their files are
//! missing; `memory_events` only when `memory.events` has a counter; a huge page size only when
//! its `.current` file exists (newer Go releases send zeros for every size the host has, older
//! ones only the sizes with files). `max` limits are `u64::MAX`.

use std::path::Path;

use super::host::Host;
use super::parse::{self, Limit, Pressure};
use super::read::Files;
use crate::error::Result;
use crate::v2::proto::cgroups::v2::{
    CpuStat, HugeTlbStat, IoEntry, IoStat, MemoryEvents, MemoryStat, Metrics, PidsStat, PsiData,
    PsiStats, RdmaEntry, RdmaStat,
};

/// Reads the cgroup at `dir` into the metrics.
pub(super) fn read(dir: &Path, host: &Host, files: &mut Files) -> Result<Metrics> {
    let limit = |files: &mut Files, name: &str| -> Result<u64> {
        Ok(files
            .read(dir, name)?
            .and_then(parse::single_value)
            .map_or(0, Limit::or_u64_max))
    };
    let pids = PidsStat {
        current: limit(files, "pids.current")?,
        limit: limit(files, "pids.max")?,
    };
    let mut cpu = files
        .read(dir, "cpu.stat")?
        .map(cpu_stat)
        .unwrap_or_default();
    cpu.psi = files.read(dir, "cpu.pressure")?.map(psi);
    let mut memory = files
        .read(dir, "memory.stat")?
        .map(memory_stat)
        .unwrap_or_default();
    memory.usage = limit(files, "memory.current")?;
    memory.usage_limit = limit(files, "memory.max")?;
    memory.swap_usage = limit(files, "memory.swap.current")?;
    memory.swap_limit = limit(files, "memory.swap.max")?;
    memory.max_usage = limit(files, "memory.peak")?;
    memory.swap_max_usage = limit(files, "memory.swap.peak")?;
    memory.psi = files.read(dir, "memory.pressure")?.map(psi);
    let memory_events = files.read(dir, "memory.events")?.and_then(memory_events);
    let io = IoStat {
        usage: files
            .read(dir, "io.stat")?
            .map(io_entries)
            .unwrap_or_default(),
        psi: files.read(dir, "io.pressure")?.map(psi),
    };
    let rdma = RdmaStat {
        current: files
            .read(dir, "rdma.current")?
            .map(rdma_entries)
            .unwrap_or_default(),
        limit: files
            .read(dir, "rdma.max")?
            .map(rdma_entries)
            .unwrap_or_default(),
    };
    let hugetlb = hugetlb(dir, host, files)?;
    Ok(Metrics {
        pids: Some(pids),
        cpu: Some(cpu),
        memory: Some(memory),
        rdma: Some(rdma),
        io: Some(io),
        hugetlb,
        memory_events,
        network: Vec::new(),
    })
}

/// v2 `cpu.stat`; PSI is another file's.
pub(super) fn cpu_stat(text: &str) -> CpuStat {
    let mut stat = CpuStat::default();
    for (key, value) in parse::flat_keyed(text) {
        let field = match key {
            "usage_usec" => &mut stat.usage_usec,
            "user_usec" => &mut stat.user_usec,
            "system_usec" => &mut stat.system_usec,
            "nr_periods" => &mut stat.nr_periods,
            "nr_throttled" => &mut stat.nr_throttled,
            "throttled_usec" => &mut stat.throttled_usec,
            "nr_bursts" => &mut stat.nr_bursts,
            "burst_usec" => &mut stat.burst_usec,
            _ => continue,
        };
        *field = value;
    }
    stat
}

/// The counters of v2 `memory.stat`; the single-value files and PSI are left out.
pub(super) fn memory_stat(text: &str) -> MemoryStat {
    let mut stat = MemoryStat::default();
    for (key, value) in parse::flat_keyed(text) {
        let field = match key {
            "anon" => &mut stat.anon,
            "file" => &mut stat.file,
            "kernel_stack" => &mut stat.kernel_stack,
            "slab" => &mut stat.slab,
            "sock" => &mut stat.sock,
            "shmem" => &mut stat.shmem,
            "file_mapped" => &mut stat.file_mapped,
            "file_dirty" => &mut stat.file_dirty,
            "file_writeback" => &mut stat.file_writeback,
            "anon_thp" => &mut stat.anon_thp,
            "inactive_anon" => &mut stat.inactive_anon,
            "active_anon" => &mut stat.active_anon,
            "inactive_file" => &mut stat.inactive_file,
            "active_file" => &mut stat.active_file,
            "unevictable" => &mut stat.unevictable,
            "slab_reclaimable" => &mut stat.slab_reclaimable,
            "slab_unreclaimable" => &mut stat.slab_unreclaimable,
            "pgfault" => &mut stat.pgfault,
            "pgmajfault" => &mut stat.pgmajfault,
            "workingset_refault" => &mut stat.workingset_refault,
            "workingset_activate" => &mut stat.workingset_activate,
            "workingset_nodereclaim" => &mut stat.workingset_nodereclaim,
            "pgrefill" => &mut stat.pgrefill,
            "pgscan" => &mut stat.pgscan,
            "pgsteal" => &mut stat.pgsteal,
            "pgactivate" => &mut stat.pgactivate,
            "pgdeactivate" => &mut stat.pgdeactivate,
            "pglazyfree" => &mut stat.pglazyfree,
            "pglazyfreed" => &mut stat.pglazyfreed,
            "thp_fault_alloc" => &mut stat.thp_fault_alloc,
            "thp_collapse_alloc" => &mut stat.thp_collapse_alloc,
            "workingset_refault_anon" => &mut stat.workingset_refault_anon,
            "workingset_refault_file" => &mut stat.workingset_refault_file,
            "workingset_activate_anon" => &mut stat.workingset_activate_anon,
            "workingset_activate_file" => &mut stat.workingset_activate_file,
            _ => continue,
        };
        *field = value;
    }
    stat
}

/// `memory.events`, or none when it holds no counter.
pub(super) fn memory_events(text: &str) -> Option<MemoryEvents> {
    let mut events = MemoryEvents::default();
    let mut any = false;
    for (key, value) in parse::flat_keyed(text) {
        let field = match key {
            "low" => &mut events.low,
            "high" => &mut events.high,
            "max" => &mut events.max,
            "oom" => &mut events.oom,
            "oom_kill" => &mut events.oom_kill,
            "oom_group_kill" => &mut events.oom_group_kill,
            _ => continue,
        };
        *field = value;
        any = true;
    }
    any.then_some(events)
}

/// A pressure file.
pub(super) fn psi(text: &str) -> PsiStats {
    let data = |line: Pressure| PsiData {
        avg10: line.avg10,
        avg60: line.avg60,
        avg300: line.avg300,
        total: line.total,
    };
    let (some, full) = parse::pressure(text);
    PsiStats {
        some: some.map(data),
        full: full.map(data),
    }
}

fn io_entries(text: &str) -> Vec<IoEntry> {
    parse::io_stat(text)
        .map(|line| IoEntry {
            major: line.major,
            minor: line.minor,
            rbytes: line.rbytes,
            wbytes: line.wbytes,
            rios: line.rios,
            wios: line.wios,
        })
        .collect()
}

fn rdma_entries(text: &str) -> Vec<RdmaEntry> {
    parse::rdma(text)
        .map(|line| RdmaEntry {
            device: line.device.to_owned(),
            hca_handles: line.hca_handles,
            hca_objects: line.hca_objects,
        })
        .collect()
}

/// `hugetlb.<size>.{current,max,events}` for each of the host's huge page sizes that has a
/// `.current` file; the failure count is the `max` line of `.events`.
fn hugetlb(dir: &Path, host: &Host, files: &mut Files) -> Result<Vec<HugeTlbStat>> {
    let mut stats = Vec::new();
    for size in &host.hugepage_sizes {
        let name = |what: &str| format!("hugetlb.{size}.{what}");
        let Some(current) = files
            .read(dir, &name("current"))?
            .and_then(parse::single_value)
        else {
            continue;
        };
        let max = files.read(dir, &name("max"))?.and_then(parse::single_value);
        let failcnt = files
            .read(dir, &name("events"))?
            .and_then(|text| parse::flat_value(text, "max"));
        stats.push(HugeTlbStat {
            current: current.or_u64_max(),
            max: max.map_or(0, Limit::or_u64_max),
            pagesize: size.clone(),
            failcnt: failcnt.unwrap_or(0),
        });
    }
    Ok(stats)
}
