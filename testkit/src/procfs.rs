//! What `/proc` says about the shim, the runtime and the container: the tests' only window on
//! processes they did not start themselves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::mounts::cgroup_hierarchies;
use crate::scratch::canonical;

/// A field of `/proc/<pid>/status`, e.g. `Threads`.
pub fn proc_status(pid: i32, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

/// `Threads` of `pid`, empty if it is gone.
pub fn threads(pid: i32) -> String {
    proc_status(pid, "Threads").unwrap_or_default()
}

/// `VmRSS` of `pid` in KiB.
pub fn rss_kib(pid: i32) -> u64 {
    let field = proc_status(pid, "VmRSS").expect("VmRSS");
    field
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmRSS in kB")
}

/// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces): the state
/// letter first, then the parent pid, and so on (`stat(5)` field 3 onwards).
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split(' ').map(str::to_string).collect())
}

/// Every process's pid, as `/proc` lists them now.
pub fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// The children of `pid` with their state letter (`Z` for a zombie).
pub fn children(pid: i32) -> Vec<(i32, char)> {
    let mut found = Vec::new();
    for child in pids() {
        let Some(fields) = stat_fields(child) else {
            continue;
        };
        let state = fields[0].chars().next().unwrap_or('?');
        if fields.get(1).and_then(|p| p.parse::<i32>().ok()) == Some(pid) {
            found.push((child, state));
        }
    }
    found
}

/// The command name of `pid`.
pub fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `/proc/<pid>/cmdline` split at its NULs.
pub fn cmdline(pid: i32) -> Option<Vec<String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        bytes
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect(),
    )
}

/// The live (not zombie) children of `pid` running `name`.
pub fn children_named(pid: i32, name: &str) -> Vec<i32> {
    children(pid)
        .into_iter()
        .filter(|&(child, state)| state != 'Z' && comm(child) == name)
        .map(|(child, _)| child)
        .collect()
}

/// Whether a process exists (a zombie counts).
pub fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether `pid` has ended: gone, or a zombie nobody reaped yet.
pub fn ended(pid: i32) -> bool {
    match stat_fields(pid) {
        None => true,
        Some(fields) => fields[0] == "Z" || fields[0] == "X",
    }
}

/// The live processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for pid in pids() {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) && !ended(pid) {
            found.push(pid);
        }
    }
    found
}

/// User plus system CPU time of `pid`, in clock ticks.
pub fn cpu_ticks(pid: i32) -> u64 {
    let fields = stat_fields(pid).expect("read stat");
    // utime and stime are fields 14 and 15 of stat(5).
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// Whether `pid` is blocked in the system call `number` (`/proc/<pid>/syscall`).
pub fn in_syscall(pid: i32, number: nix::libc::c_long) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|s| s.split(' ').next() == Some(number.to_string().as_str()))
}

/// An I/O counter of `pid`'s main thread, e.g. `wchar` (bytes passed to `write`-like calls):
/// for a single-threaded process, what it did itself. (`/proc/<pid>/io` also counts what every
/// child it reaped did, which for the shim includes the runtime and the container.)
pub fn io_counter(pid: i32, name: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/io"))
        .expect("read /proc/pid/task/pid/io");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .and_then(|v| v.parse().ok())
        .expect("io counter")
}

/// The descriptors open in `pid`.
pub fn open_fds(pid: i32) -> Vec<i32> {
    let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    fds.sort_unstable();
    fds
}

/// What descriptor `fd` of `pid` refers to: a path, `pipe:[inode]`, `anon_inode:...`.
pub fn fd_target(pid: i32, fd: i32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap_or_default()
}

/// What each descriptor of `pid` refers to.
pub fn fd_targets(pid: i32) -> Vec<PathBuf> {
    open_fds(pid)
        .into_iter()
        .map(|fd| fd_target(pid, fd))
        .collect()
}

/// The `flags` of `/proc/<pid>/fdinfo/<fd>`.
pub fn fd_flags(pid: i32, fd: i32) -> u32 {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).expect("read fdinfo");
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .expect("fdinfo has flags");
    u32::from_str_radix(flags.trim(), 8).expect("octal flags")
}

/// The descriptors of `pid` on anonymous pipes: for the shim, its ends of the container's pipes.
pub fn pipes_of(pid: i32) -> Vec<i32> {
    open_fds(pid)
        .into_iter()
        .filter(|&fd| fd_target(pid, fd).to_string_lossy().starts_with("pipe:"))
        .collect()
}

/// The paths of the unix sockets `pid` listens on, from its descriptors and `/proc/net/unix`.
pub fn listening_unix_sockets(pid: i32) -> Vec<PathBuf> {
    /// `__SO_ACCEPTCON` in `/proc/net/unix`'s flags column: a listening socket.
    const ACCEPTING: u32 = 1 << 16;
    let inodes: BTreeSet<u64> = fd_targets(pid)
        .into_iter()
        .filter_map(|target| {
            let text = target.to_str()?;
            text.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Num RefCount Protocol Flags Type St Inode Path
            let columns: Vec<&str> = line.split_whitespace().collect();
            let flags = u32::from_str_radix(columns.get(3)?, 16).ok()?;
            let inode: u64 = columns.get(6)?.parse().ok()?;
            let path = columns.get(7)?;
            (flags & ACCEPTING != 0 && inodes.contains(&inode) && path.starts_with('/'))
                .then(|| PathBuf::from(path))
        })
        .collect()
}

/// How many descriptors of `pid` refer to `path`.
pub fn fds_on(pid: i32, path: &Path) -> usize {
    let path = canonical(path);
    fd_targets(pid)
        .into_iter()
        .filter(|target| *target == path)
        .count()
}

/// The content of `file` in the cgroup of `pid` in the v1 hierarchy of `controller` (or in its
/// unified cgroup, on a cgroup v2 host), trimmed; `None` when there is no such file.
pub fn cgroup_file(pid: i32, controller: &str, file: &str) -> Option<String> {
    let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let hierarchies = cgroup_hierarchies();
    table.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let mount = hierarchies.iter().find(|mount| {
            let name = mount.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if controllers.is_empty() {
                // The unified hierarchy of a cgroup v2 host (on a hybrid one it holds no
                // controller worth reading).
                mount.as_path() == Path::new("/sys/fs/cgroup")
            } else {
                controllers.split(',').any(|c| c == controller)
                    && name.split(',').any(|c| c == controller)
            }
        })?;
        let dir = mount.join(path.trim_start_matches('/'));
        std::fs::read_to_string(dir.join(file))
            .ok()
            .map(|text| text.trim().to_string())
    })
}
