//! Reaping and what each exit means: a runtime call returning, a process exiting, or an exit
//! nobody has claimed yet (see the module above for why those are kept).

use std::fmt::Debug;

use nix::unistd::Pid;

use super::{CallTag, Notice, Supervisor, UNCLAIMED_EXITS};
use crate::error::{Error, Result};
use crate::process::phase::{Event, Phase};
use crate::process::{Failure, ProcessKey};
use crate::reaper::{self, ExitStatus};
use crate::runtime::call::Finished;
use crate::runtime::pid_file;

impl<F: Copy + Debug, C: Debug> Supervisor<F, C> {
    pub(super) fn reap(&mut self) {
        while let Some((pid, status)) = reaper::reap_one() {
            self.child_exited(pid, status);
        }
    }

    fn child_exited(&mut self, pid: Pid, status: ExitStatus) {
        if let Some(finished) = self.calls.finish(pid, status, &mut self.event_loop) {
            return self.call_returned(finished);
        }
        if let Some(key) = self.live_process(pid) {
            let _ = self.apply(key, Event::Reaped(status), None);
            return;
        }
        if self.launches_in_flight() {
            if self.unclaimed.len() == UNCLAIMED_EXITS {
                self.unclaimed.pop_front();
            }
            self.unclaimed.push_back((pid, status));
        }
        // Otherwise an orphan reparented to the shim, now reaped so that it is no zombie.
    }

    fn live_process(&self, pid: Pid) -> Option<ProcessKey> {
        self.processes.iter().find_map(|(key, process)| {
            let phase = process.phase();
            (phase.is_alive() && phase.pid() == Some(pid)).then_some(key)
        })
    }

    fn launches_in_flight(&self) -> bool {
        self.processes
            .iter()
            .any(|(_, process)| process.phase() == Phase::Launching)
    }

    fn call_returned(&mut self, finished: Finished<CallTag<C>>) {
        let (tag, finished) = finished.split();
        match tag {
            CallTag::Launch(key) => self.launch_returned(key, &finished),
            CallTag::Start(key) => {
                let ok = finished.status == ExitStatus::Exited(0);
                let failure = (!ok).then(|| {
                    let runtime = self.runtime_name(key);
                    match finished.overstay_error(&runtime, "start") {
                        Some(error) => Failure::Shim(error),
                        None => Failure::Runtime {
                            status: finished.status,
                            message: finished.failure(&runtime, "start"),
                        },
                    }
                });
                let _ = self.apply(key, Event::StartReturned { ok }, failure);
            }
            CallTag::KillAll(key) => {
                let _ = self.apply(key, Event::KillAllDone, None);
            }
            CallTag::Frontend(tag) => self
                .notices
                .push(Notice::CallFinished(finished.tagged(tag))),
        }
    }

    fn runtime_name(&self, key: ProcessKey) -> String {
        self.processes
            .get(key)
            .map_or_else(|| "runtime".to_string(), |p| p.plan().runtime.name.clone())
    }

    fn launch_returned(&mut self, key: ProcessKey, finished: &Finished<()>) {
        if finished.status != ExitStatus::Exited(0) {
            let subcommand = self.processes.get(key).map(|p| p.plan().launch.subcommand);
            let overstayed = subcommand.and_then(|subcommand| {
                finished.overstay_error(&self.runtime_name(key), subcommand)
            });
            // No terminal will come: the socket and its directory go now.
            if let Some(process) = self.processes.get_mut(key) {
                process.stdio().stop_awaiting_console(&mut self.event_loop);
            }
            let failure = match overstayed {
                Some(error) => Failure::Shim(error),
                None => Failure::Runtime {
                    status: finished.status,
                    message: String::new(),
                },
            };
            let _ = self.apply(key, Event::LaunchFailed, Some(failure));
            return;
        }
        match self.identify(key) {
            Ok(pid) => {
                let early = self.unclaimed.iter().position(|(p, _)| *p == pid);
                let early = early.and_then(|at| self.unclaimed.remove(at));
                let _ = self.apply(key, Event::Launched { pid }, None);
                if !self.launches_in_flight() {
                    self.unclaimed.clear();
                }
                if let Some((_, status)) = early {
                    let _ = self.apply(key, Event::Reaped(status), None);
                }
            }
            Err(error) => {
                let _ = self.apply(key, Event::LaunchFailed, Some(Failure::Shim(error)));
            }
        }
    }

    /// The launched process: its terminal first (a runtime that could not hand one over has
    /// usually written no pid file either, and "no pid file" would hide the cause), then the pid
    /// file's pid, which must be a child of the shim, alive or already reaped.
    fn identify(&mut self, key: ProcessKey) -> Result<Pid> {
        let Some(process) = self.processes.get_mut(key) else {
            return Err(Error::invalid("process", "removed during its launch"));
        };
        let runtime = process.plan().runtime.name.clone();
        let path = process.plan().pid_file.clone();
        process
            .stdio()
            .require_terminal(&runtime, &mut self.event_loop)?;
        let pid = Pid::from_raw(pid_file::read(&path)?);
        let reaped = self.unclaimed.iter().any(|(p, _)| *p == pid);
        if !reaped && !reaper::is_child(pid) {
            return Err(Error::invalid(
                format!("pid file {}", path.display()),
                format!("process {pid} is not a child of the shim"),
            ));
        }
        Ok(pid)
    }
}
