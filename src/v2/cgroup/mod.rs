//! A container's cgroup: where it is, its metrics for Stats, and the OOM kills it counts.
//!
//! * [`Host`] is learnt once per shim ([`Host::detect`]): the mode (unified v2, or v1, hybrid
//!   hosts included), where each v1 controller is mounted, the huge page sizes.
//! * [`Cgroup`] is where one container's cgroup is, read once from `/proc/<pid>/cgroup` right
//!   after `runc create` ([`Host::cgroup_of`]) and kept by the shim: a v2 directory, or one
//!   directory per v1 controller. It holds paths, not directory descriptors: an idle container
//!   then costs no descriptor but its OOM watch, and a Stats call, which opens each file by its
//!   path, still takes under 0.1 ms (v1, five controllers: 26 files, 79 syscalls, 76 to 97 µs
//!   on a loaded 2-core host; `examples/cgroup_stats.rs` measures it).
//! * [`Cgroup::stats`] reads the cgroup's files into `io.containerd.cgroups.v1.Metrics` or
//!   `.v2.Metrics`, the way containerd/cgroups fills them (see [`crate::v2::proto::cgroups`]),
//!   and answers [`StatsError::Gone`] once the cgroup is removed, which the shim turns into
//!   NotFound: containerd skips those silently, and logs any other error on every poll.
//! * [`OomWatcher`] watches any number of cgroups for OOM kills on the shim's loop, with one
//!   route of the caller's: on v1 an eventfd per cgroup, on v2 one inotify descriptor for all.
//!   See [`oom`] for when it reports.
//!
//! How a frontend uses it:
//!
//! | when | call |
//! |---|---|
//! | the first Create | [`Host::detect`], kept for the shim's life |
//! | Create, once the init's pid is read | [`Host::cgroup_of`], kept with the container; [`OomWatcher::watch`] |
//! | Stats | [`Cgroup::stats`]: the `Any` to answer, or NotFound for [`StatsError::Gone`] |
//! | the watcher's route is ready | [`OomWatcher::on_ready`]: publish TaskOOM for each key it gives |
//! | the init is reaped | [`OomWatcher::check`] before TaskExit is queued and Wait answered |
//! | Delete | [`OomWatcher::unwatch`] |
//!
//! Everything the kernel writes goes through [`parse`], pure functions of the text, unit-tested
//! and fuzzed; the files are read with a size bound ([`MAX_FILE`]).

mod host;
pub mod oom;
pub mod parse;
mod read;
mod stats_v1;
mod stats_v2;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::v2::proto::cgroups::{v1, v2};
use crate::v2::proto::google::Any;

pub use host::{Host, Mode, CGROUP_ROOT};
pub use oom::{OomWatcher, WatchId};
pub use read::MAX_FILE;

use read::Files;

/// The v1 controllers whose files the shim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Controller {
    /// `memory`: memory stats and the OOM watch.
    Memory,
    /// `cpu`: throttling.
    Cpu,
    /// `cpuacct`: CPU time.
    Cpuacct,
    /// `pids`.
    Pids,
    /// `blkio`.
    Blkio,
    /// `hugetlb`.
    Hugetlb,
    /// `rdma`.
    Rdma,
}

impl Controller {
    /// Every controller the shim reads.
    pub const ALL: [Controller; 7] = [
        Controller::Memory,
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Pids,
        Controller::Blkio,
        Controller::Hugetlb,
        Controller::Rdma,
    ];

    /// The kernel's name for it, as in `/proc/<pid>/cgroup` and mount options.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Pids => "pids",
            Controller::Blkio => "blkio",
            Controller::Hugetlb => "hugetlb",
            Controller::Rdma => "rdma",
        }
    }

    /// The controller the kernel calls `name`, if the shim reads it.
    pub fn named(name: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One directory per v1 controller, for those the cgroup is in and the host mounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Paths {
    dirs: [Option<PathBuf>; Controller::ALL.len()],
}

impl V1Paths {
    /// The directory of `controller`, if there is one.
    pub fn get(&self, controller: Controller) -> Option<&Path> {
        self.dirs[controller.index()].as_deref()
    }

    /// Sets the directory of `controller`.
    pub fn set(&mut self, controller: Controller, dir: PathBuf) {
        self.dirs[controller.index()] = Some(dir);
    }

    /// The directories there are.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.dirs.iter().flatten().map(PathBuf::as_path)
    }
}

/// Where one container's cgroup is: a small value kept per container, holding no descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cgroup {
    /// A cgroup v2 directory.
    Unified(PathBuf),
    /// cgroup v1 directories.
    V1(V1Paths),
}

/// The metrics of a cgroup, as the message of its API.
#[derive(Debug, Clone, PartialEq)]
pub enum Metrics {
    /// `io.containerd.cgroups.v1.Metrics`.
    V1(v1::Metrics),
    /// `io.containerd.cgroups.v2.Metrics`.
    V2(v2::Metrics),
}

impl Metrics {
    /// The message packed under its type URL, as StatsResponse carries it.
    pub fn to_any(&self) -> Any {
        match self {
            Metrics::V1(metrics) => Any::pack(metrics),
            Metrics::V2(metrics) => Any::pack(metrics),
        }
    }
}

/// Why a Stats call has no metrics.
#[derive(Debug)]
pub enum StatsError {
    /// None of the cgroup's directories exists any more (the container's init exited and the
    /// cgroup was removed): the shim answers NotFound, as containerd expects.
    Gone {
        /// The cgroup's first directory, for the message.
        path: PathBuf,
    },
    /// A file exists but could not be read, or is larger than [`MAX_FILE`].
    Failed(Error),
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::Gone { path } => write!(f, "cgroup {} does not exist", path.display()),
            StatsError::Failed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StatsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StatsError::Gone { .. } => None,
            StatsError::Failed(e) => Some(e),
        }
    }
}

impl From<Error> for StatsError {
    fn from(e: Error) -> StatsError {
        StatsError::Failed(e)
    }
}

impl Cgroup {
    /// The cgroup v2 directory `dir`, for a cgroup whose place is known otherwise.
    pub fn unified(dir: impl Into<PathBuf>) -> Cgroup {
        Cgroup::Unified(dir.into())
    }

    /// Reads the cgroup's files into its metrics.
    pub fn metrics(&self, host: &Host) -> Result<Metrics, StatsError> {
        let mut files = Files::new();
        let metrics = match self {
            Cgroup::V1(paths) => Metrics::V1(stats_v1::read(paths, host, &mut files)?),
            Cgroup::Unified(dir) => Metrics::V2(stats_v2::read(dir, host, &mut files)?),
        };
        if files.found == 0 && !self.exists() {
            return Err(StatsError::Gone {
                path: self.first_dir(),
            });
        }
        Ok(metrics)
    }

    /// The answer to Stats: the metrics packed in an `Any`.
    pub fn stats(&self, host: &Host) -> Result<Any, StatsError> {
        self.metrics(host).map(|metrics| metrics.to_any())
    }

    /// Whether any of the cgroup's directories still exists.
    fn exists(&self) -> bool {
        match self {
            Cgroup::Unified(dir) => dir.symlink_metadata().is_ok(),
            Cgroup::V1(paths) => paths.dirs().any(|dir| dir.symlink_metadata().is_ok()),
        }
    }

    /// The directory a message about the cgroup names.
    fn first_dir(&self) -> PathBuf {
        match self {
            Cgroup::Unified(dir) => dir.clone(),
            Cgroup::V1(paths) => paths
                .dirs()
                .next()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests;
