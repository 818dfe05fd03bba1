//! What a supervisor costs, read from `/proc`. Every probe takes all the supervisor's processes
//! and sums over them, so a supervisor made of several processes is charged for all of them; a
//! probe that cannot read a process gives NaN, which the report prints as `n/a`.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

use tinyshim_testkit::procfs;

/// `smaps_rollup` fields, in kB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident pages, shared ones counted in full.
    pub rss: f64,
    /// Resident pages, each shared one divided by the processes sharing it.
    pub pss: f64,
    /// Pages this process wrote and alone holds: what one more container really costs.
    pub private_dirty: f64,
}

/// The summed `smaps_rollup` of `pids`.
pub fn memory(pids: &[i32]) -> Memory {
    pids.iter()
        .map(|&pid| smaps_rollup(pid))
        .fold(Memory::default(), |sum, one| Memory {
            rss: sum.rss + one.rss,
            pss: sum.pss + one.pss,
            private_dirty: sum.private_dirty + one.private_dirty,
        })
}

fn smaps_rollup(pid: i32) -> Memory {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    Memory {
        rss: field("Rss:"),
        pss: field("Pss:"),
        private_dirty: field("Private_Dirty:"),
    }
}

/// Writes back dirty page-cache pages before a memory probe: pages the supervisor or the runtime
/// just wrote to files would otherwise count as its dirty memory.
pub fn sync_page_cache() {
    let _ = Command::new("sync").status();
}

/// CPU seconds (utime + stime) of `pids` from `/proc/<pid>/stat`.
pub fn cpu_seconds(pids: &[i32]) -> f64 {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    pids.iter()
        .map(|&pid| clock_ticks(pid).map_or(f64::NAN, |t| t / ticks))
        .sum()
}

fn clock_ticks(pid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which may contain spaces, start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The summed peak resident set (`VmHWM`) of `pids`, in kB.
pub fn peak_rss_kb(pids: &[i32]) -> f64 {
    pids.iter()
        .map(|&pid| {
            procfs::proc_status(pid, "VmHWM")
                .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(f64::NAN)
        })
        .sum()
}

/// Voluntary and involuntary context switches of every thread of `pids`: a supervisor that
/// sleeps in one `epoll_wait` adds none while its container is idle.
pub fn context_switches(pids: &[i32]) -> u64 {
    switches_by_thread(pids).values().sum()
}

/// The context switches of each thread of `pids`, by thread id.
pub fn switches_by_thread(pids: &[i32]) -> BTreeMap<i32, u64> {
    let mut found = BTreeMap::new();
    for &pid in pids {
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
            let mut total = 0;
            for line in status.lines() {
                if let Some(v) = line
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
                {
                    total += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
            found.insert(tid, total);
        }
    }
    found
}

/// The context switches the threads of `pids` made since [`switches_by_thread`] gave
/// `before`: a thread started since counts in full. A thread that ended since took its count
/// with it, which is why the threads are compared one by one rather than as a sum (that would
/// go down).
pub fn switches_since(before: &BTreeMap<i32, u64>, pids: &[i32]) -> u64 {
    switches_by_thread(pids)
        .into_iter()
        .map(|(tid, now)| now.saturating_sub(before.get(&tid).copied().unwrap_or(0)))
        .sum()
}

/// The processes other than `pids` that run the executable of `pids`' first (the same file,
/// whatever link to it they ran): they share its code pages, which lowers the Pss of `pids`.
pub fn others_running_the_same_binary(pids: &[i32]) -> Vec<i32> {
    let exe = |pid: i32| {
        std::fs::metadata(format!("/proc/{pid}/exe"))
            .ok()
            .map(|m| (m.dev(), m.ino()))
    };
    let Some(binary) = pids.first().and_then(|&pid| exe(pid)) else {
        return Vec::new();
    };
    procfs::pids()
        .into_iter()
        .filter(|pid| !pids.contains(pid) && exe(*pid).as_ref() == Some(&binary))
        .collect()
}

/// Descriptors open in `pids`.
pub fn descriptors(pids: &[i32]) -> usize {
    pids.iter().map(|&pid| procfs::open_fds(pid).len()).sum()
}

/// Threads of `pids`.
pub fn threads(pids: &[i32]) -> f64 {
    pids.iter()
        .map(|&pid| {
            procfs::proc_status(pid, "Threads")
                .and_then(|t| t.parse().ok())
                .unwrap_or(f64::NAN)
        })
        .sum()
}
