//! What the v2 shim knows of each container it serves: its bundle, runc settings, init process,
//! exec processes (added, then started), whether it is paused, and how each looks to State.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::process::phase::Phase;
use crate::process::ProcessKey;
use crate::runtime::Runtime;
use crate::v2::proto::types::{Mount, Status};
use crate::v2::runc::Settings;

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
    /// Waiters that came before the start, by reply id.
    pub early_waiters: Vec<u64>,
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
}

/// How a process looks to State.
pub fn status(phase: Option<Phase>, paused: bool) -> Status {
    match phase {
        None | Some(Phase::Launching | Phase::Created { .. } | Phase::Starting { .. }) => {
            Status::Created
        }
        Some(Phase::Running { .. }) if paused => Status::Paused,
        Some(Phase::Running { .. }) => Status::Running,
        Some(Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed) => Status::Stopped,
    }
}

/// The pid the protocol reports for a process: 0 before its runtime call has given one.
pub fn pid(phase: Option<Phase>) -> u32 {
    phase
        .and_then(|p| p.pid())
        .map_or(0, |pid| pid.as_raw() as u32)
}

/// The exit status State and Wait report: the code of a reaped process, 255 for one that
/// never ran, 0 before the exit.
pub fn exit_status(phase: Option<Phase>) -> u32 {
    match phase {
        Some(Phase::Exiting { status, .. } | Phase::Exited { status, .. }) => {
            u32::try_from(status.code()).unwrap_or(255)
        }
        Some(Phase::Failed) => 255,
        _ => 0,
    }
}

/// When a process exited, for State and Wait; `None` before the exit.
pub fn exited_at(phase: Option<Phase>, reaped_at: Option<SystemTime>) -> Option<SystemTime> {
    match phase {
        Some(Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed) => {
            Some(reaped_at.unwrap_or_else(SystemTime::now))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
