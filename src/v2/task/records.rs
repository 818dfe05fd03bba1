//! What the task service keeps: a record per container (its bundle, runc settings, init, exec
//! processes, whether it is paused) and a record per served process (which container and exec
//! it is, the answer it owes, its logger's ready pipe, the Waits parked on its exit).
//!
//! Everything a process leaves behind is in its one [`Served`] record, so forgetting it is one
//! `remove`; a connection that closes takes back what it parked with [`Served::drop_lost`].

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::process::ProcessKey;
use crate::runtime::Runtime;
use crate::v2::cgroup::{Cgroup, WatchId};
use crate::v2::proto::types::Mount;
use crate::v2::runc::Settings;
use crate::v2::server::{Lost, Reply};

/// Longest container or exec id containerd accepts (its identifiers package).
pub const MAX_ID: usize = 76;

/// Whether `id` is an identifier containerd could have made: the shim puts ids in file names
/// and command lines, so anything else is refused rather than interpreted.
pub fn valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    id.len() <= MAX_ID
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The stdio a process was given, as State reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Io {
    /// Stdin FIFO or empty.
    pub stdin: String,
    /// Stdout FIFO or log URI, or empty.
    pub stdout: String,
    /// Stderr FIFO or empty.
    pub stderr: String,
    /// Whether it has a terminal.
    pub terminal: bool,
}

/// An exec process: added by Exec, launched by Start.
#[derive(Debug)]
pub struct Exec {
    /// Its stdio.
    pub io: Io,
    /// Its process in the core, once started.
    pub process: Option<ProcessKey>,
    /// Waits that came before the start; they move to its [`Served`] record then.
    pub waits: Vec<Reply>,
}

/// A container.
#[derive(Debug)]
pub struct Container {
    /// Its id.
    pub id: String,
    /// Its bundle.
    pub bundle: PathBuf,
    /// Its runc settings.
    pub settings: Settings,
    /// The runtime binary.
    pub runtime: Runtime,
    /// The init process in the core.
    pub init: ProcessKey,
    /// The init's stdio.
    pub io: Io,
    /// Exec processes by exec id.
    pub execs: BTreeMap<String, Exec>,
    /// `runc pause` succeeded and no resume since.
    pub paused: bool,
    /// A Delete is under way.
    pub deleting: bool,
    /// The mounts Create was given, for the TaskCreate event; the shim mounted them and
    /// unmounts them at Delete.
    pub rootfs: Vec<Mount>,
    /// The checkpoint it is restored from; empty for a container made afresh.
    pub checkpoint: String,
    /// Its cgroup, found once `runc create` returned, for Stats.
    pub cgroup: Option<Cgroup>,
    /// Its OOM watch.
    pub oom: Option<WatchId>,
}

/// A process the service serves, by its key in the core.
#[derive(Debug)]
pub struct Served {
    /// Its container.
    pub id: String,
    /// Its exec id; `None` for the init.
    pub exec_id: Option<String>,
    /// The call its launch or start answers (Create, Start), while it waits.
    pub owes: Option<Reply>,
    /// The read end of its `binary://` logger's ready pipe, held for the process's life: a
    /// logger writing its ready byte to a pipe nobody holds would die of SIGPIPE.
    pub logger: Option<OwnedFd>,
    /// The Waits answered once its exit is final.
    pub waits: Vec<Reply>,
}

impl Served {
    /// A process of container `id` (and exec `exec_id`), its logger's ready pipe `logger`.
    pub fn new(id: &str, exec_id: Option<&str>, logger: Option<OwnedFd>) -> Served {
        Served {
            id: id.to_string(),
            exec_id: exec_id.map(str::to_string),
            owes: None,
            logger,
            waits: Vec::new(),
        }
    }

    /// How calls name it: its exec id, or its container's for the init.
    pub fn name(&self) -> &str {
        self.exec_id.as_deref().unwrap_or(&self.id)
    }

    /// Drops what it holds for a connection that was `lost`.
    pub fn drop_lost(&mut self, lost: Lost) {
        if self.owes.as_ref().is_some_and(|reply| reply.came_on(lost)) {
            self.owes = None;
        }
        self.waits.retain(|reply| !reply.came_on(lost));
    }
}

#[cfg(test)]
mod tests;
