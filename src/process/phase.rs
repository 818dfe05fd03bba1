//! Where a process is in its life, and the pure function that moves it on.
//!
//! ```text
//!  Planned --Start (RunLaunch)--+
//!                               v  Launched (start_after_launch)
//!  Launching ------------------------------------------------> Running --Reaped--> Exiting --> Exited
//!     |  Launched           Start             StartReturned ok   ^                   (kill --all,
//!     +--------> Created ---------> Starting -------------------+                    start call and
//!     |  LaunchFailed          ^                  | not ok                            drain all done)
//!     +--------> Failed        +------------------+
//! ```
//!
//! A planned process is launched only once a client starts it (a restore from a checkpoint,
//! which makes and starts the process in one runtime call). Created, Starting and Running also
//! go to Exiting when the process is reaped. [`next`] is a
//! pure function of the phase, the process's [`Rules`] and one [`Event`]: it returns the new phase
//! and the [`Effect`]s the caller must carry out, or refuses an event that makes no sense in the
//! phase (a second start, a start before the launch), which a frontend reports to its client.

use nix::unistd::Pid;

use crate::reaper::ExitStatus;

/// What differs between the frontends' processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The launch call (`create`, `exec -d`, `restore`) leaves the process running; otherwise it
    /// waits in [`Phase::Created`] for a start (the v2 init, which `runc start` releases).
    pub start_after_launch: bool,
    /// Once the process is reaped, `kill --all` runs before the exit is final, so that nothing
    /// the process left behind keeps its outputs open (the v0.2 init; a v2 init without a pid
    /// namespace of its own).
    pub kill_all_on_exit: bool,
}

/// The steps an exiting process still waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// `kill --all` runs.
    pub kill_all: bool,
    /// The outputs are being drained.
    pub drain: bool,
    /// A `start` call has not returned yet: its answer must go out before the exit is final.
    pub start: bool,
}

impl Pending {
    fn none(self) -> bool {
        !(self.kill_all || self.drain || self.start)
    }
}

/// A process's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Its stdio is ready; its launch waits for a start.
    Planned,
    /// The runtime call that makes the process runs.
    Launching,
    /// The process exists but waits for a start.
    Created {
        /// Its pid.
        pid: Pid,
    },
    /// The runtime's `start` runs.
    Starting {
        /// Its pid.
        pid: Pid,
    },
    /// The process runs.
    Running {
        /// Its pid.
        pid: Pid,
    },
    /// The process was reaped; the exit is not final yet.
    Exiting {
        /// Its pid.
        pid: Pid,
        /// How it ended.
        status: ExitStatus,
        /// What is still to happen.
        pending: Pending,
    },
    /// The exit is final: reported, every output drained or given up.
    Exited {
        /// Its pid.
        pid: Pid,
        /// How it ended.
        status: ExitStatus,
    },
    /// The launch failed; the process never ran.
    Failed,
}

impl Phase {
    /// The process's pid, once known.
    pub fn pid(&self) -> Option<Pid> {
        match *self {
            Phase::Planned | Phase::Launching | Phase::Failed => None,
            Phase::Created { pid }
            | Phase::Starting { pid }
            | Phase::Running { pid }
            | Phase::Exiting { pid, .. }
            | Phase::Exited { pid, .. } => Some(pid),
        }
    }

    /// Whether the process exists and has not been reaped: it can be signalled, and its pid
    /// names it.
    pub fn is_alive(&self) -> bool {
        matches!(
            self,
            Phase::Created { .. } | Phase::Starting { .. } | Phase::Running { .. }
        )
    }

    /// Whether the process has stopped: it was reaped (its exit final or not yet), or it never
    /// ran.
    pub fn is_stopped(&self) -> bool {
        matches!(
            self,
            Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed
        )
    }

    /// Whether nothing more will happen to the process: its exit is final, or it never ran.
    pub fn is_over(&self) -> bool {
        matches!(self, Phase::Exited { .. } | Phase::Failed)
    }

    /// How the process ended, once it was reaped.
    pub fn status(&self) -> Option<ExitStatus> {
        match *self {
            Phase::Exiting { status, .. } | Phase::Exited { status, .. } => Some(status),
            _ => None,
        }
    }
}

/// What happened to the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The launch call succeeded and named the process.
    Launched {
        /// The pid from the pid file.
        pid: Pid,
    },
    /// The launch call failed, or what it left could not be used.
    LaunchFailed,
    /// A client asks to start a created process.
    Start,
    /// The `start` call returned.
    StartReturned {
        /// Whether it succeeded.
        ok: bool,
    },
    /// The process was reaped.
    Reaped(ExitStatus),
    /// `kill --all` returned.
    KillAllDone,
    /// Every output was drained, or the drain gave up.
    Drained,
}

/// What the caller must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Run the launch call of a planned process.
    RunLaunch,
    /// Report that the process exists, with its pid.
    Launched,
    /// Report the failed launch.
    LaunchFailed,
    /// Run the runtime's `start`.
    RunStart,
    /// Report the started process.
    Started,
    /// Report a failed start.
    StartFailed,
    /// Run `kill --all`.
    KillAll,
    /// Drain the outputs, with the bounds of the process's drain policy.
    Drain,
    /// Report how the process ended (the exit is known, not final yet).
    Exit(ExitStatus),
    /// The exit is final: answer whoever waits for it.
    Finished,
}

/// Why an event was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The phase the process was in.
    pub phase: Phase,
    /// The event.
    pub event: Event,
}

/// The new phase and what to do.
pub type Transition = (Phase, Vec<Effect>);

/// Moves `phase` on by `event` under `rules`.
pub fn next(phase: Phase, rules: Rules, event: Event) -> Result<Transition, Refused> {
    let refused = Refused { phase, event };
    let exiting = |pid, status, start| {
        let pending = Pending {
            kill_all: rules.kill_all_on_exit,
            drain: true,
            start,
        };
        let mut effects = vec![Effect::Exit(status), Effect::Drain];
        if rules.kill_all_on_exit {
            effects.insert(1, Effect::KillAll);
        }
        (
            Phase::Exiting {
                pid,
                status,
                pending,
            },
            effects,
        )
    };
    let transition = match (phase, event) {
        (Phase::Launching, Event::Launched { pid }) => {
            let phase = if rules.start_after_launch {
                Phase::Running { pid }
            } else {
                Phase::Created { pid }
            };
            (phase, vec![Effect::Launched])
        }
        (Phase::Launching, Event::LaunchFailed) => (Phase::Failed, vec![Effect::LaunchFailed]),
        (Phase::Planned, Event::Start) => (Phase::Launching, vec![Effect::RunLaunch]),
        (Phase::Created { pid }, Event::Start) => (Phase::Starting { pid }, vec![Effect::RunStart]),
        (Phase::Starting { pid }, Event::StartReturned { ok: true }) => {
            (Phase::Running { pid }, vec![Effect::Started])
        }
        (Phase::Starting { pid }, Event::StartReturned { ok: false }) => {
            (Phase::Created { pid }, vec![Effect::StartFailed])
        }
        (Phase::Created { pid } | Phase::Running { pid }, Event::Reaped(status)) => {
            exiting(pid, status, false)
        }
        (Phase::Starting { pid }, Event::Reaped(status)) => exiting(pid, status, true),
        (
            Phase::Exiting {
                pid,
                status,
                mut pending,
            },
            done @ (Event::KillAllDone | Event::Drained | Event::StartReturned { .. }),
        ) => {
            let mut effects = Vec::new();
            match done {
                Event::KillAllDone if pending.kill_all => pending.kill_all = false,
                Event::Drained if pending.drain => pending.drain = false,
                Event::StartReturned { ok } if pending.start => {
                    pending.start = false;
                    // The start's answer goes out before the exit becomes final.
                    effects.push(if ok {
                        Effect::Started
                    } else {
                        Effect::StartFailed
                    });
                }
                _ => return Err(refused),
            }
            if pending.none() {
                effects.push(Effect::Finished);
                (Phase::Exited { pid, status }, effects)
            } else {
                (
                    Phase::Exiting {
                        pid,
                        status,
                        pending,
                    },
                    effects,
                )
            }
        }
        _ => return Err(refused),
    };
    Ok(transition)
}

#[cfg(test)]
mod tests;
