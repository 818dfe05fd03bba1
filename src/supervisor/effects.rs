//! Carrying out what the phase machine decides: notices for the frontend, the `start` and
//! `kill --all` calls, and the drain after an exit.

use std::process::Stdio;
use std::time::{Instant, SystemTime};

use super::{CallTag, Notice, Route, Supervisor};
use crate::error::Error;
use crate::process::drain::{Check, Drain, DrainEnd};
use crate::process::phase::{self, Effect, Event, Refused};
use crate::process::{Failure, ProcessKey, Source};
use crate::runtime::call::Finished;

impl Supervisor {
    /// Moves the process on by `event` and carries out the effects.
    pub(super) fn apply(
        &mut self,
        key: ProcessKey,
        event: Event,
    ) -> std::result::Result<(), Refused> {
        let Some(process) = self.processes.get_mut(key) else {
            return Ok(());
        };
        let (phase, effects) = phase::next(process.phase, process.rules, event)?;
        process.phase = phase;
        for effect in effects {
            self.carry_out(key, effect);
        }
        Ok(())
    }

    pub(super) fn carry_out(&mut self, key: ProcessKey, effect: Effect) {
        match effect {
            Effect::Launched => self.notices.push(Notice::Launched(key)),
            Effect::LaunchFailed => self.notices.push(Notice::LaunchFailed(key)),
            Effect::Started => self.notices.push(Notice::Started(key)),
            Effect::StartFailed => self.notices.push(Notice::StartFailed(key)),
            Effect::RunStart => self.run_follow_up(key, CallTag::Start(key)),
            Effect::KillAll => self.run_follow_up(key, CallTag::KillAll(key)),
            Effect::Exit(status) => {
                if let Some(process) = self.processes.get_mut(key) {
                    process.exited_at = Some(SystemTime::now());
                }
                self.notices.push(Notice::Exited(key, status));
            }
            Effect::Drain => self.begin_drain(key),
            Effect::Finished => {
                let end = self
                    .processes
                    .get_mut(key)
                    .and_then(|p| p.drain_end.take())
                    .unwrap_or(DrainEnd::Complete);
                self.notices.push(Notice::Finished(key, end));
            }
        }
    }

    /// Spawns `start` or `kill --all`; a spawn that fails counts as the call having failed.
    pub(super) fn run_follow_up(&mut self, key: ProcessKey, tag: CallTag) {
        let Some(plan) = self.processes.get(key).and_then(|p| p.plan.clone()) else {
            return;
        };
        let (command, subcommand) = match tag {
            CallTag::Start(_) => (plan.start, "start"),
            _ => (plan.kill_all, "kill"),
        };
        let spawned = command.ok_or_else(|| {
            Error::invalid(
                format!("{} {subcommand}", plan.runtime.name),
                "no command line for it",
            )
        });
        let spawned = spawned.and_then(|command| match tag {
            CallTag::Start(_) => self.calls.spawn_captured(
                &plan.runtime,
                &command,
                plan.cwd.as_deref(),
                &mut self.lp,
                Route::CallOutput,
                tag,
            ),
            _ => self.calls.spawn(
                &plan.runtime,
                &command,
                None,
                [Stdio::null(), Stdio::null(), Stdio::null()],
                tag,
            ),
        });
        if let Err(error) = spawned {
            match tag {
                CallTag::Start(_) => {
                    self.fail(key, Failure::Shim(error));
                    let _ = self.apply(key, Event::StartReturned { ok: false });
                }
                _ => {
                    // As in the original, a kill that cannot run does not stop the exit.
                    self.notices.push(Notice::Warning(error.to_string()));
                    let _ = self.apply(key, Event::KillAllDone);
                }
            }
        }
    }

    pub(super) fn begin_drain(&mut self, key: ProcessKey) {
        let Some(process) = self.processes.get_mut(key) else {
            return;
        };
        process.stdio.release_held_slave();
        let moved = process.stdio.outputs().map(|o| o.moved()).sum();
        process.drain = Some((
            Drain::new(process.drain_policy, moved, Instant::now()),
            None,
        ));
        self.check_drain(key);
    }

    pub(super) fn check_drain(&mut self, key: ProcessKey) {
        let Some(process) = self.processes.get_mut(key) else {
            return;
        };
        let Some((mut drain, timer)) = process.drain.take() else {
            return;
        };
        let mut outputs: Vec<_> = process.stdio.outputs().collect();
        let check = drain.check(&mut outputs, Instant::now());
        match check {
            Check::Wait(next) => {
                // A pending look that comes later than needed is replaced; one that comes early
                // only looks and sets the next.
                let timer = match (timer, next) {
                    (Some((id, at)), Some(needed)) if needed < at => {
                        self.lp.cancel_timer(id);
                        Some((
                            self.lp
                                .set_timer(needed, Route::Process(key, Source::Drain)),
                            needed,
                        ))
                    }
                    (None, Some(needed)) => Some((
                        self.lp
                            .set_timer(needed, Route::Process(key, Source::Drain)),
                        needed,
                    )),
                    (timer, _) => timer,
                };
                process.drain = Some((drain, timer));
            }
            Check::Done(end) => {
                if let Some((id, _)) = timer {
                    self.lp.cancel_timer(id);
                }
                process.drain_end = Some(end);
                let _ = self.apply(key, Event::Drained);
            }
        }
    }
}

pub(super) fn runtime_failure(finished: &Finished<CallTag>, subcommand: &str) -> Failure {
    Failure::Runtime {
        status: finished.status,
        message: finished.failure("runtime", subcommand),
    }
}
