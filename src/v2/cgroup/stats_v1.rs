//! cgroup v1: `io.containerd.cgroups.v1.Metrics` from each controller's directory, filled as
//! containerd/cgroups' v1 `Stat` fills it.
//!
//! A controller the cgroup is not in is skipped, and so is a file it lacks, each on its own:
//! where the Go library gives up on a controller at its first missing file (no swap accounting
//! leaves the kernel memory entries at zero), this reads what is there. `cpu` with its `usage`
//! and `throttling`, and `memory` with its four usage entries, are present even when empty,
//! because dockerd and ctr dereference them unchecked.

use std::collections::HashMap;
use std::path::Path;

use super::host::Host;
use super::parse::{self, Limit};
use super::read::Files;
use super::{Controller, V1Paths};
use crate::error::Result;
use crate::v2::proto::cgroups::v1::{
    BlkIoEntry, BlkIoStat, CpuStat, CpuUsage, HugetlbStat, MemoryEntry, MemoryOomControl,
    MemoryStat, Metrics, PidsStat, RdmaEntry, RdmaStat, Throttle,
};

/// `cpuacct.stat` counts in USER_HZ ticks, which are 1/100 s in every Linux ABI whatever the
/// kernel's own HZ (the Go library hardcodes 100 as well).
const NANOS_PER_TICK: u64 = 1_000_000_000 / 100;

/// The files of the four memory usage families, in the order of [`MemoryEntry`]'s `usage`,
/// `max`, `failcnt` and `limit`, for the entries `usage`, `swap`, `kernel` and `kernel_tcp`.
const MEMORY_ENTRY_FILES: [[&str; 4]; 4] = [
    [
        "memory.usage_in_bytes",
        "memory.max_usage_in_bytes",
        "memory.failcnt",
        "memory.limit_in_bytes",
    ],
    [
        "memory.memsw.usage_in_bytes",
        "memory.memsw.max_usage_in_bytes",
        "memory.memsw.failcnt",
        "memory.memsw.limit_in_bytes",
    ],
    [
        "memory.kmem.usage_in_bytes",
        "memory.kmem.max_usage_in_bytes",
        "memory.kmem.failcnt",
        "memory.kmem.limit_in_bytes",
    ],
    [
        "memory.kmem.tcp.usage_in_bytes",
        "memory.kmem.tcp.max_usage_in_bytes",
        "memory.kmem.tcp.failcnt",
        "memory.kmem.tcp.limit_in_bytes",
    ],
];

/// The blkio files of the CFQ and BFQ schedulers, in the order of [`BlkIoStat`]'s fields.
const BLKIO_RECURSIVE: [&str; 8] = [
    "blkio.io_service_bytes_recursive",
    "blkio.io_serviced_recursive",
    "blkio.io_queued_recursive",
    "blkio.io_service_time_recursive",
    "blkio.io_wait_time_recursive",
    "blkio.io_merged_recursive",
    "blkio.time_recursive",
    "blkio.sectors_recursive",
];

/// Reads every controller of `paths` into the metrics.
pub(super) fn read(paths: &V1Paths, host: &Host, files: &mut Files) -> Result<Metrics> {
    let mut metrics = Metrics {
        cpu: Some(CpuStat {
            usage: Some(CpuUsage::default()),
            throttling: Some(Throttle::default()),
        }),
        ..Metrics::default()
    };
    if let Some(dir) = paths.get(Controller::Memory) {
        memory(dir, files, &mut metrics)?;
    }
    if let Some(dir) = paths.get(Controller::Cpu) {
        if let Some(text) = files.read(dir, "cpu.stat")? {
            let throttling = throttle(text);
            if let Some(cpu) = metrics.cpu.as_mut() {
                cpu.throttling = Some(throttling);
            }
        }
    }
    if let Some(dir) = paths.get(Controller::Cpuacct) {
        let usage = cpu_usage(dir, files)?;
        if let Some(cpu) = metrics.cpu.as_mut() {
            cpu.usage = Some(usage);
        }
    }
    if let Some(dir) = paths.get(Controller::Pids) {
        metrics.pids = pids(dir, files)?;
    }
    if let Some(dir) = paths.get(Controller::Blkio) {
        metrics.blkio = Some(blkio(dir, host, files)?);
    }
    if let Some(dir) = paths.get(Controller::Hugetlb) {
        metrics.hugetlb = hugetlb(dir, host, files)?;
    }
    if let Some(dir) = paths.get(Controller::Rdma) {
        metrics.rdma = rdma(dir, files)?;
    }
    Ok(metrics)
}

/// `memory.stat`, `memory.oom_control` and the sixteen usage files. Without `memory.stat` there
/// is no memory message, as in the Go library.
fn memory(dir: &Path, files: &mut Files, metrics: &mut Metrics) -> Result<()> {
    let Some(text) = files.read(dir, "memory.stat")? else {
        return Ok(());
    };
    let mut stat = memory_stat(text);
    if let Some(text) = files.read(dir, "memory.oom_control")? {
        metrics.memory_oom_control = Some(oom_control(text));
    }
    let mut entries: [MemoryEntry; 4] = Default::default();
    for (entry, names) in entries.iter_mut().zip(MEMORY_ENTRY_FILES) {
        let [usage, max, failcnt, limit] = names;
        for (field, name) in [
            (&mut entry.usage, usage),
            (&mut entry.max, max),
            (&mut entry.failcnt, failcnt),
            (&mut entry.limit, limit),
        ] {
            if let Some(value) = files.read(dir, name)?.and_then(parse::single_value) {
                *field = value.or_zero();
            }
        }
    }
    let [usage, swap, kernel, kernel_tcp] = entries;
    stat.usage = Some(usage);
    stat.swap = Some(swap);
    stat.kernel = Some(kernel);
    stat.kernel_tcp = Some(kernel_tcp);
    metrics.memory = Some(stat);
    Ok(())
}

/// The counters of v1 `memory.stat`; the usage entries are left out.
pub(super) fn memory_stat(text: &str) -> MemoryStat {
    let mut stat = MemoryStat::default();
    for (key, value) in parse::flat_keyed(text) {
        let field = match key {
            "cache" => &mut stat.cache,
            "rss" => &mut stat.rss,
            "rss_huge" => &mut stat.rss_huge,
            "mapped_file" => &mut stat.mapped_file,
            "dirty" => &mut stat.dirty,
            "writeback" => &mut stat.writeback,
            "pgpgin" => &mut stat.pg_pg_in,
            "pgpgout" => &mut stat.pg_pg_out,
            "pgfault" => &mut stat.pg_fault,
            "pgmajfault" => &mut stat.pg_maj_fault,
            "inactive_anon" => &mut stat.inactive_anon,
            "active_anon" => &mut stat.active_anon,
            "inactive_file" => &mut stat.inactive_file,
            "active_file" => &mut stat.active_file,
            "unevictable" => &mut stat.unevictable,
            "hierarchical_memory_limit" => &mut stat.hierarchical_memory_limit,
            "hierarchical_memsw_limit" => &mut stat.hierarchical_swap_limit,
            "total_cache" => &mut stat.total_cache,
            "total_rss" => &mut stat.total_rss,
            "total_rss_huge" => &mut stat.total_rss_huge,
            "total_mapped_file" => &mut stat.total_mapped_file,
            "total_dirty" => &mut stat.total_dirty,
            "total_writeback" => &mut stat.total_writeback,
            "total_pgpgin" => &mut stat.total_pg_pg_in,
            "total_pgpgout" => &mut stat.total_pg_pg_out,
            "total_pgfault" => &mut stat.total_pg_fault,
            "total_pgmajfault" => &mut stat.total_pg_maj_fault,
            "total_inactive_anon" => &mut stat.total_inactive_anon,
            "total_active_anon" => &mut stat.total_active_anon,
            "total_inactive_file" => &mut stat.total_inactive_file,
            "total_active_file" => &mut stat.total_active_file,
            "total_unevictable" => &mut stat.total_unevictable,
            _ => continue,
        };
        *field = value;
    }
    stat
}

/// `memory.oom_control`.
pub(super) fn oom_control(text: &str) -> MemoryOomControl {
    let mut control = MemoryOomControl::default();
    for (key, value) in parse::flat_keyed(text) {
        match key {
            "oom_kill_disable" => control.oom_kill_disable = value,
            "under_oom" => control.under_oom = value,
            "oom_kill" => control.oom_kill = value,
            _ => {}
        }
    }
    control
}

/// v1 `cpu.stat`; `throttled_time` is in nanoseconds already.
pub(super) fn throttle(text: &str) -> Throttle {
    let mut throttle = Throttle::default();
    for (key, value) in parse::flat_keyed(text) {
        match key {
            "nr_periods" => throttle.periods = value,
            "nr_throttled" => throttle.throttled_periods = value,
            "throttled_time" => throttle.throttled_time = value,
            _ => {}
        }
    }
    throttle
}

/// `cpuacct.usage`, `cpuacct.stat` (ticks, converted to nanoseconds) and
/// `cpuacct.usage_percpu`.
fn cpu_usage(dir: &Path, files: &mut Files) -> Result<CpuUsage> {
    let mut usage = CpuUsage::default();
    if let Some(total) = files
        .read(dir, "cpuacct.usage")?
        .and_then(parse::single_value)
    {
        usage.total = total.or_zero();
    }
    if let Some(text) = files.read(dir, "cpuacct.stat")? {
        let ticks = |key| parse::flat_value(text, key).unwrap_or(0);
        usage.user = ticks("user").saturating_mul(NANOS_PER_TICK);
        usage.kernel = ticks("system").saturating_mul(NANOS_PER_TICK);
    }
    if let Some(text) = files.read(dir, "cpuacct.usage_percpu")? {
        usage.per_cpu = parse::numbers(text).collect();
    }
    Ok(usage)
}

/// `pids.current` and `pids.max` (`max` is 0), present only when both are.
fn pids(dir: &Path, files: &mut Files) -> Result<Option<PidsStat>> {
    let Some(current) = files
        .read(dir, "pids.current")?
        .and_then(parse::single_value)
    else {
        return Ok(None);
    };
    let Some(limit) = files.read(dir, "pids.max")?.and_then(parse::single_value) else {
        return Ok(None);
    };
    Ok(Some(PidsStat {
        current: current.or_zero(),
        limit: limit.or_zero(),
    }))
}

/// The recursive blkio files, or where they are missing or all empty (no CFQ or BFQ on the
/// devices) the throttle files, with the devices named after `/proc/partitions`.
fn blkio(dir: &Path, host: &Host, files: &mut Files) -> Result<BlkIoStat> {
    let mut stat = BlkIoStat::default();
    // The kernel makes all eight or none: one missing means a scheduler without them.
    if files.exists(dir, BLKIO_RECURSIVE[1]) {
        for (list, name) in blkio_lists(&mut stat).into_iter().zip(BLKIO_RECURSIVE) {
            if let Some(text) = files.read(dir, name)? {
                *list = blkio_entries(text);
            }
        }
    }
    if blkio_lists(&mut stat).iter().all(|list| list.is_empty()) {
        if let Some(text) = files.read(dir, "blkio.throttle.io_serviced")? {
            stat.io_serviced_recursive = blkio_entries(text);
        }
        if let Some(text) = files.read(dir, "blkio.throttle.io_service_bytes")? {
            stat.io_service_bytes_recursive = blkio_entries(text);
        }
    }
    if blkio_lists(&mut stat).iter().any(|list| !list.is_empty()) {
        if let Some(text) = files.read_host(&host.partitions)? {
            name_devices(blkio_lists(&mut stat), text);
        }
    }
    Ok(stat)
}

/// The lists of a [`BlkIoStat`], in the order of [`BLKIO_RECURSIVE`].
fn blkio_lists(stat: &mut BlkIoStat) -> [&mut Vec<BlkIoEntry>; 8] {
    [
        &mut stat.io_service_bytes_recursive,
        &mut stat.io_serviced_recursive,
        &mut stat.io_queued_recursive,
        &mut stat.io_service_time_recursive,
        &mut stat.io_wait_time_recursive,
        &mut stat.io_merged_recursive,
        &mut stat.io_time_recursive,
        &mut stat.sectors_recursive,
    ]
}

/// The device lines of a blkio file, not yet named.
pub(super) fn blkio_entries(text: &str) -> Vec<BlkIoEntry> {
    parse::blkio(text)
        .map(|line| BlkIoEntry {
            op: line.op.to_owned(),
            device: String::new(),
            major: line.major,
            minor: line.minor,
            value: line.value,
        })
        .collect()
}

/// Names each entry's device `/dev/<name>` after its first line in `/proc/partitions`.
pub(super) fn name_devices<'a>(
    lists: impl IntoIterator<Item = &'a mut Vec<BlkIoEntry>>,
    partitions: &str,
) {
    let mut names: HashMap<(u64, u64), &str> = HashMap::new();
    for (major, minor, name) in parse::partitions(partitions) {
        names.entry((major, minor)).or_insert(name);
    }
    for entry in lists.into_iter().flatten() {
        if let Some(name) = names.get(&(entry.major, entry.minor)) {
            entry.device = format!("/dev/{name}");
        }
    }
}

/// `hugetlb.<size>.{usage_in_bytes,max_usage_in_bytes,failcnt}` for each of the host's huge
/// page sizes that has a usage file.
fn hugetlb(dir: &Path, host: &Host, files: &mut Files) -> Result<Vec<HugetlbStat>> {
    let mut stats = Vec::new();
    for size in &host.hugepage_sizes {
        let value = |files: &mut Files, what: &str| -> Result<Option<u64>> {
            let name = format!("hugetlb.{size}.{what}");
            Ok(files
                .read(dir, &name)?
                .and_then(parse::single_value)
                .map(Limit::or_zero))
        };
        let Some(usage) = value(files, "usage_in_bytes")? else {
            continue;
        };
        stats.push(HugetlbStat {
            usage,
            max: value(files, "max_usage_in_bytes")?.unwrap_or(0),
            failcnt: value(files, "failcnt")?.unwrap_or(0),
            pagesize: size.clone(),
        });
    }
    Ok(stats)
}

/// `rdma.current` and `rdma.max`; none when either is missing or they list a different number
/// of lines (a device came or went between the two reads).
fn rdma(dir: &Path, files: &mut Files) -> Result<Option<RdmaStat>> {
    let Some(text) = files.read(dir, "rdma.current")? else {
        return Ok(None);
    };
    let (current, current_lines) = (rdma_entries(text), parse::go_line_count(text));
    let Some(text) = files.read(dir, "rdma.max")? else {
        return Ok(None);
    };
    if parse::go_line_count(text) != current_lines {
        return Ok(None);
    }
    Ok(Some(RdmaStat {
        current,
        limit: rdma_entries(text),
    }))
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
