//! Carrying out what the phase machine decides: notices for the frontend, the `start` and
//! `kill --all` calls, and the drain after an exit.

use std::fmt::Debug;
use std::process::Stdio;
use std::time::{Instant, SystemTime};

use super::{CallTag, Notice, Supervisor};
use crate::error::Error;
use crate::process::phase::{Effect, Event, Refused};
use crate::process::{Failure, ProcessKey};

impl<F: Copy + Debug, C: Debug> Supervisor<F, C> {
    /// Moves the process on by `event` and carries out the effects; `failure` says why, for an
    /// event that is a failure, and goes with the notice that reports it.
    pub(super) fn apply(
        &mut self,
        key: ProcessKey,
        event: Event,
        mut failure: Option<Failure>,
    ) -> std::result::Result<(), Refused> {
        let Some(process) = self.processes.get_mut(key) else {
            return Ok(());
        };
        for effect in process.apply(event)? {
            self.carry_out(key, effect, &mut failure);
        }
        Ok(())
    }

    fn carry_out(&mut self, key: ProcessKey, effect: Effect, failure: &mut Option<Failure>) {
        let mut why = || {
            failure
                .take()
                .unwrap_or_else(|| Failure::Shim(Error::invalid("runtime", "failed")))
        };
        match effect {
            Effect::RunLaunch => self.run_launch(key),
            Effect::Launched => self.notices.push(Notice::Launched(key)),
            Effect::LaunchFailed => self.notices.push(Notice::LaunchFailed(key, why())),
            Effect::Started => self.notices.push(Notice::Started(key)),
            Effect::StartFailed => self.notices.push(Notice::StartFailed(key, why())),
            Effect::RunStart => self.run_follow_up(key, true),
            Effect::KillAll => self.run_follow_up(key, false),
            Effect::Exit(status) => {
                if let Some(process) = self.processes.get_mut(key) {
                    process.exited(SystemTime::now(), Instant::now());
                }
                self.notices.push(Notice::Exited(key, status));
            }
            Effect::Drain => self.look_at_drain(key),
            Effect::Finished => {
                let end = self
                    .processes
                    .get(key)
                    .map(|process| process.drain_end())
                    .unwrap_or(crate::process::drain::DrainEnd::Complete);
                self.notices.push(Notice::Finished(key, end));
            }
        }
    }

    /// Spawns the launch call of a planned process; one that cannot be spawned is a failed
    /// launch.
    fn run_launch(&mut self, key: ProcessKey) {
        let Some(process) = self.processes.get_mut(key) else {
            return;
        };
        let stdio = process.take_launch_stdio();
        let plan = process.plan().clone();
        let spawned = self.spawn_runtime(
            (&plan.runtime, &plan.launch, plan.cwd.as_deref()),
            Some(stdio),
            (key, CallTag::Launch),
        );
        if let Err((error, _)) = spawned {
            let _ = self.apply(key, Event::LaunchFailed, Some(Failure::Shim(error)));
        }
    }

    /// Spawns `start` or `kill --all`; a spawn that fails counts as the call having failed.
    fn run_follow_up(&mut self, key: ProcessKey, starting: bool) {
        let Some(plan) = self.processes.get(key).map(|p| p.plan().clone()) else {
            return;
        };
        let (command, subcommand) = if starting {
            (plan.start, "start")
        } else {
            (plan.kill_all, "kill")
        };
        let spawned = command.ok_or_else(|| {
            Error::invalid(
                format!("{} {subcommand}", plan.runtime.name),
                "no command line for it",
            )
        });
        let spawned = spawned.and_then(|command| {
            let (cwd, stdio, tag): (_, _, fn(_) -> _) = if starting {
                (plan.cwd.as_deref(), None, CallTag::Start)
            } else {
                let null = [Stdio::null(), Stdio::null(), Stdio::null()];
                (None, Some(null), CallTag::KillAll)
            };
            self.spawn_runtime((&plan.runtime, &command, cwd), stdio, (key, tag))
                .map_err(|(error, _)| error)
        });
        if let Err(error) = spawned {
            if starting {
                let failure = Some(Failure::Shim(error));
                let _ = self.apply(key, Event::StartReturned { ok: false }, failure);
            } else {
                // As in the original, a kill that cannot run does not stop the exit.
                self.notices.push(Notice::Warning(error.to_string()));
                let _ = self.apply(key, Event::KillAllDone, None);
            }
        }
    }
}
