//! The runtime calls and other children the core spawns for itself and for its frontend, each
//! under the time limit of its subcommand.

use std::fmt::Debug;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::event_loop::Registry;
use crate::runtime::call::{Invocation, NotSpawned};
use crate::runtime::{self, CommandLine, Runtime};

use super::{CallTag, Notice, Route, Supervisor};

impl<F: Copy + Debug, C: Debug> Supervisor<F, C> {
    /// Whether any runtime call or other child of the frontend's is still running.
    pub fn calls_in_flight(&self) -> bool {
        !self.calls.is_empty()
    }

    /// Spawns a runtime call of the frontend's; its return comes as
    /// [`Notice::CallFinished`] with `tag`. With `capture`, its stdout and stderr are kept;
    /// otherwise its stdio is `/dev/null`. A call that cannot be spawned hands `tag` back.
    pub fn spawn_call(
        &mut self,
        runtime: &Runtime,
        command: &CommandLine,
        cwd: Option<&std::path::Path>,
        capture: bool,
        tag: C,
    ) -> std::result::Result<Pid, NotSpawned<C>> {
        let stdio = (!capture).then(|| [Stdio::null(), Stdio::null(), Stdio::null()]);
        self.spawn_runtime((runtime, command, cwd), stdio, (tag, CallTag::Frontend))
    }

    /// Spawns a runtime call with `stdio` (`None`: `/dev/null` stdin, both outputs captured)
    /// under the time limit of its subcommand, past which it is killed with its process group.
    pub(super) fn spawn_runtime<U>(
        &mut self,
        (runtime, command, cwd): (&Runtime, &CommandLine, Option<&Path>),
        stdio: Option<[Stdio; 3]>,
        tag: (U, fn(U) -> CallTag<C>),
    ) -> std::result::Result<Pid, NotSpawned<U>> {
        let limit = self.config.time_limit(command.subcommand);
        let call = Invocation {
            runtime,
            command,
            cwd,
            own_group: limit.is_some(),
        };
        let pid = match stdio {
            Some(stdio) => self.calls.spawn(&call, stdio, tag),
            None => {
                let registry = &mut self.event_loop;
                self.calls
                    .spawn_captured(&call, registry, Route::CallOutput, tag)
            }
        }?;
        if let Some(limit) = limit {
            let at = Instant::now() + limit;
            let deadline = self.event_loop.set_timer(at, Route::CallDeadline(pid));
            self.calls.limit(pid, limit, deadline);
        }
        Ok(pid)
    }

    /// A runtime call overstayed: it goes with everything it started (a `runc init` stuck in a
    /// hook or a cgroup would hold on), and its return reports why.
    pub(super) fn on_call_deadline(&mut self, pid: Pid) {
        if self.calls.overstay(pid) {
            if let Err(errno) = killpg(pid, Signal::SIGKILL) {
                let error = Error::os(format!("kill -KILL -{pid} (an overstaying runtime)"), errno);
                self.notices.push(Notice::Warning(error.to_string()));
            }
        }
    }

    /// Spawns another child of the frontend's (a logger) under the rules of every child of the
    /// shim; its exit comes as [`Notice::CallFinished`] with `tag`. `what` names it in errors.
    pub fn spawn_child(&mut self, command: &mut Command, what: &str, tag: C) -> Result<Pid> {
        let pid = runtime::spawn_child(command, what)?;
        self.calls.adopt(pid, CallTag::Frontend(tag));
        Ok(pid)
    }
}
