//! What a shim learns about the host's cgroups once: the mode, where each hierarchy is mounted,
//! the huge page sizes; and from it, where a process's cgroup is.

use std::path::{Path, PathBuf};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};

use super::parse::{self, MountLine};
use super::read::{self, Files};
use super::{Cgroup, Controller, V1Paths};
use crate::error::{Error, Result};

/// Where cgroup filesystems are mounted on a standard host; its type decides the mode.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

const MOUNTINFO: &str = "/proc/self/mountinfo";
const HUGEPAGES: &str = "/sys/kernel/mm/hugepages";
const PARTITIONS: &str = "/proc/partitions";

/// Which cgroup API the host's containers are under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/sys/fs/cgroup` is a cgroup2 filesystem: one hierarchy, one directory per cgroup.
    Unified,
    /// `/sys/fs/cgroup` holds v1 hierarchies, one per controller or group of controllers. A
    /// host with a cgroup2 mount beside them ("hybrid", such as `/sys/fs/cgroup/unified`) is
    /// this too: containerd's Go shim treats it as v1, and so do runc's cgroup paths.
    V1,
}

/// A mounted cgroup hierarchy: the directory it shows, and which cgroup that directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    point: PathBuf,
    /// The hierarchy's own path of the mounted directory: `/` on a host, the container's
    /// cgroup when this shim runs in a container that sees only its own subtree.
    root: String,
}

impl Mount {
    fn from_line(line: &MountLine<'_>) -> Mount {
        Mount {
            point: PathBuf::from(parse::unescape_mount_path(line.mount_point).into_owned()),
            root: parse::unescape_mount_path(line.root).into_owned(),
        }
    }

    /// The directory of the cgroup at `path` (as `/proc/<pid>/cgroup` names it) under this
    /// mount, or `None` when it is outside the mounted subtree.
    fn directory(&self, path: &str) -> Option<PathBuf> {
        let root = self.root.trim_end_matches('/');
        let below = path.strip_prefix(root)?;
        if !below.is_empty() && !below.starts_with('/') {
            return None;
        }
        let below = below.trim_start_matches('/');
        if below.split('/').any(|part| part == "..") {
            return None;
        }
        Some(if below.is_empty() {
            self.point.clone()
        } else {
            self.point.join(below)
        })
    }
}

/// The host's cgroup layout, learnt once per shim ([`Host::detect`]) and kept: every
/// container's [`Cgroup`] and every Stats call consult it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    mode: Mode,
    /// The cgroup2 mount at [`CGROUP_ROOT`], on a unified host.
    unified: Option<Mount>,
    /// The v1 mount of each controller the shim reads.
    v1: Vec<(Controller, Mount)>,
    /// Huge page sizes as hugetlb file names spell them (`2MB`, `1GB`).
    pub(super) hugepage_sizes: Vec<String>,
    /// Where block device names come from, for v1 blkio entries.
    pub(super) partitions: PathBuf,
}

impl Host {
    /// Learns the host's layout: the mode from the type of [`CGROUP_ROOT`] (as containerd's
    /// `cgroups.Mode` does), the mounts from `/proc/self/mountinfo`, the huge page sizes from
    /// `/sys/kernel/mm/hugepages`. A host without cgroups at all is [`Mode::V1`] without
    /// controllers, where every cgroup reads as gone.
    pub fn detect() -> Result<Host> {
        let mode = match statfs(CGROUP_ROOT) {
            Ok(fs) if fs.filesystem_type() == CGROUP2_SUPER_MAGIC => Mode::Unified,
            Ok(_) => Mode::V1,
            Err(nix::errno::Errno::ENOENT) => Mode::V1,
            Err(e) => return Err(Error::os(format!("statfs {CGROUP_ROOT}"), e)),
        };
        let cgroup_mounts = read::kept_lines(Path::new(MOUNTINFO), |line| {
            parse::mountinfo_line(line).is_some_and(|m| m.fs_type.starts_with("cgroup"))
        })?
        .ok_or_else(|| Error::invalid(MOUNTINFO, "missing: is /proc mounted?"))?;
        let mut host = Host::from_mountinfo(mode, &cgroup_mounts);
        host.hugepage_sizes = hugepage_sizes()?;
        Ok(host)
    }

    /// The layout that `mountinfo` describes for a host in `mode`, without huge pages.
    pub fn from_mountinfo(mode: Mode, mountinfo: &str) -> Host {
        let mut host = Host {
            mode,
            unified: None,
            v1: Vec::new(),
            hugepage_sizes: Vec::new(),
            partitions: PathBuf::from(PARTITIONS),
        };
        for line in mountinfo.lines().filter_map(parse::mountinfo_line) {
            match line.fs_type {
                "cgroup2" if parse::unescape_mount_path(line.mount_point) == CGROUP_ROOT => {
                    host.unified = Some(Mount::from_line(&line));
                }
                "cgroup" => {
                    for option in line.super_options.split(',') {
                        let Some(controller) = Controller::named(option) else {
                            continue;
                        };
                        // A hierarchy can be mounted twice (a bind mount elsewhere); the one
                        // under /sys/fs/cgroup is the one runc and the Go shim use.
                        let mount = Mount::from_line(&line);
                        let standard = mount.point.starts_with(CGROUP_ROOT);
                        match host.v1.iter_mut().find(|(c, _)| *c == controller) {
                            None => host.v1.push((controller, mount)),
                            Some((_, known))
                                if standard && !known.point.starts_with(CGROUP_ROOT) =>
                            {
                                *known = mount
                            }
                            Some(_) => {}
                        }
                    }
                }
                _ => {}
            }
        }
        host
    }

    /// The host's mode, which decides the Stats type URL.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Where the v1 hierarchy of `controller` is mounted, if it is.
    pub fn v1_mount(&self, controller: Controller) -> Option<&Path> {
        self.v1
            .iter()
            .find(|(c, _)| *c == controller)
            .map(|(_, mount)| mount.point.as_path())
    }

    /// Reads `/proc/<pid>/cgroup` once and says where the process's cgroup is. The shim does
    /// this right after `runc create`, while the init is sure to exist, and keeps the answer.
    pub fn cgroup_of(&self, pid: i32) -> Result<Cgroup> {
        let path = PathBuf::from(format!("/proc/{pid}/cgroup"));
        let mut files = Files::new();
        match files.read_host(&path)? {
            Some(content) => self.locate(content, &path),
            None => Err(Error::os(
                format!("open {}", path.display()),
                nix::errno::Errno::ESRCH,
            )),
        }
    }

    /// Where the cgroup that the `/proc/<pid>/cgroup` content `content` names is; `source`
    /// names that file in errors.
    pub fn locate(&self, content: &str, source: &Path) -> Result<Cgroup> {
        let parsed = parse::proc_cgroup(content);
        match self.mode {
            Mode::Unified => {
                let path = parsed
                    .unified
                    .ok_or_else(|| Error::invalid(source.display().to_string(), "no 0:: line"))?;
                let mount = self.unified.as_ref().ok_or_else(|| {
                    Error::invalid(MOUNTINFO, format!("no cgroup2 mount at {CGROUP_ROOT}"))
                })?;
                let dir = mount.directory(path).ok_or_else(|| {
                    Error::invalid(
                        source.display().to_string(),
                        format!("cgroup {path} is outside the mounted {}", mount.root),
                    )
                })?;
                Ok(Cgroup::Unified(dir))
            }
            Mode::V1 => {
                let mut paths = V1Paths::default();
                for (controller, mount) in &self.v1 {
                    let line = parsed.v1.iter().find(|(controllers, _)| {
                        controllers.split(',').any(|c| c == controller.name())
                    });
                    if let Some(dir) = line.and_then(|(_, path)| mount.directory(path)) {
                        paths.set(*controller, dir);
                    }
                }
                Ok(Cgroup::V1(paths))
            }
        }
    }
}

/// The huge page sizes the kernel offers; none when it has no huge pages.
fn hugepage_sizes() -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(HUGEPAGES) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::os(format!("opendir {HUGEPAGES}"), e)),
    };
    let mut sizes = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::os(format!("readdir {HUGEPAGES}"), e))?;
        if let Some(size) = entry
            .file_name()
            .to_str()
            .and_then(parse::hugepage_size_name)
        {
            sizes.push(size);
        }
    }
    sizes.sort();
    Ok(sizes)
}
