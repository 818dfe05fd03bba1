//! What a supervisor costs, read from `/proc`. Every probe takes all the supervisor's processes
//! and sums over them, so a supervisor made of several processes is charged for all of them; a
//! probe that cannot read a process gives NaN, which the report prints as `n/a`.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

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

/// Where every thread of some processes stood in CPU time at one moment, to the nanosecond:
/// the first field of each thread's `/proc/<pid>/task/<tid>/schedstat`, the scheduler's
/// `sum_exec_runtime`. `utime` and `stime` count clock ticks (10 ms here) and are sampled at
/// the tick, far too coarse for one call that costs a shim tens of microseconds.
///
/// A thread's count is brought up to date when it is switched out, so [`ThreadCpu::since`] is
/// exact only once the threads sleep again (callers leave them a few milliseconds after the
/// work they measure); a thread that ends takes its count with it, which `since` reports.
#[derive(Debug, Clone)]
pub struct ThreadCpu {
    pids: Vec<i32>,
    by_thread: BTreeMap<i32, u64>,
}

impl ThreadCpu {
    /// The threads of `pids` now; an error where a process has no thread to read (it is gone).
    pub fn now(pids: &[i32]) -> Result<ThreadCpu, String> {
        Ok(ThreadCpu {
            pids: pids.to_vec(),
            by_thread: run_time_by_thread(pids)?,
        })
    }

    /// The CPU time the same processes' threads ran since this snapshot, new threads counted
    /// in full; an error where a thread of the snapshot ended meanwhile (the figure would be
    /// short by whatever it ran).
    pub fn since(&self) -> Result<Duration, String> {
        let now = run_time_by_thread(&self.pids)?;
        let ended: Vec<&i32> = self
            .by_thread
            .keys()
            .filter(|tid| !now.contains_key(tid))
            .collect();
        if !ended.is_empty() {
            return Err(format!(
                "threads {ended:?} of {:?} ended while measured: their CPU time went with them",
                self.pids
            ));
        }
        let nanoseconds = now
            .iter()
            .map(|(tid, &ran)| ran.saturating_sub(self.by_thread.get(tid).copied().unwrap_or(0)))
            .sum();
        Ok(Duration::from_nanos(nanoseconds))
    }
}

/// Nanoseconds each thread of `pids` has run, by thread id.
fn run_time_by_thread(pids: &[i32]) -> Result<BTreeMap<i32, u64>, String> {
    let mut found = BTreeMap::new();
    for &pid in pids {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map_err(|e| format!("the threads of process {pid}: {e}"))?;
        let before = found.len();
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            // A thread that ends between the listing and the read is not counted.
            let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
                continue;
            };
            let ran = text
                .split_whitespace()
                .next()
                .and_then(|field| field.parse().ok())
                .ok_or_else(|| format!("not a schedstat line in thread {tid}: {text:?}"))?;
            found.insert(tid, ran);
        }
        if found.len() == before {
            return Err(format!("process {pid} has no thread left to read"));
        }
    }
    Ok(found)
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
