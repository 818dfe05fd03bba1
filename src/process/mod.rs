//! One supervised process: what it is, where it is in its life, its stdio, and who waits for its
//! exit. A shim holds one (v0.2) or many (a v2 container's init and its exec processes).

pub mod drain;
pub mod output;
pub mod phase;
pub mod stdio;
pub mod terminal;

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use crate::event_loop::TimerId;
use crate::process::drain::{Drain, DrainEnd, DrainPolicy};
use crate::process::phase::{Phase, Rules};
use crate::process::stdio::ProcessStdio;
use crate::runtime::{CommandLine, Runtime};

/// A process's key in the supervisor, stable for its life.
pub type ProcessKey = usize;

/// Which of a process's sources an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Either end of the stdin pump.
    Stdin,
    /// Either end of the stdout pump (pipe or terminal).
    Stdout,
    /// Either end of the stderr pump.
    Stderr,
    /// The console socket's listener or connection.
    Console,
    /// The drain's next look.
    Drain,
    /// The next look at enlarged output pipes.
    Capacity,
}

impl Source {
    /// The stream's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Source::Stdin => "stdin",
            Source::Stdout => "stdout",
            Source::Stderr => "stderr",
            Source::Console => "console",
            Source::Drain => "drain",
            Source::Capacity => "capacity",
        }
    }
}

/// What the process is to its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The container's first process.
    Init,
    /// A process added to a running container.
    Exec,
}

/// Somebody waiting for the exit, in the frontend's own terms (a v2 frontend parks a request
/// there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Waiter(pub u64);

/// How a process is launched and what follows: given by the frontend once the stdio is ready.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// The runtime binary.
    pub runtime: Runtime,
    /// `create`, `exec -d` or `restore`, which makes the process and writes its pid file.
    pub launch: CommandLine,
    /// Where the launch runs (the bundle); `None` for the shim's own working directory.
    pub cwd: Option<PathBuf>,
    /// The pid file the launch writes.
    pub pid_file: PathBuf,
    /// `start`, for processes that wait for one.
    pub start: Option<CommandLine>,
    /// `kill --all`, for processes whose rules ask for it on exit.
    pub kill_all: Option<CommandLine>,
}

/// Why a launch or a start failed.
#[derive(Debug)]
pub enum Failure {
    /// The runtime itself failed; it explains itself in its own log.
    Runtime {
        /// How it ended.
        status: crate::reaper::ExitStatus,
        /// Its last line on stderr, when captured.
        message: String,
    },
    /// The shim could not use what the runtime left (pid file, terminal), or could not run it.
    Shim(crate::error::Error),
}

/// One supervised process.
#[derive(Debug)]
pub struct Process {
    /// Init or exec.
    pub kind: Kind,
    /// What its frontend wants of its life.
    pub rules: Rules,
    /// Where it is.
    pub phase: Phase,
    /// Its stdio.
    pub stdio: ProcessStdio,
    /// The bounds of the drain after its exit.
    pub drain_policy: DrainPolicy,
    /// How it is launched, once the frontend said.
    pub plan: Option<LaunchPlan>,
    /// When it was reaped.
    pub exited_at: Option<SystemTime>,
    /// Whoever waits for the final exit.
    pub waiters: Vec<Waiter>,
    /// Why the launch or the last start failed, until the frontend takes it.
    pub failure: Option<Failure>,
    /// The drain in progress and its next look.
    pub(crate) drain: Option<(Drain, Option<(TimerId, Instant)>)>,
    /// How the drain ended, until the exit is final.
    pub(crate) drain_end: Option<DrainEnd>,
    /// The next look at enlarged output pipes, while some are.
    pub(crate) capacity_look: Option<TimerId>,
}
