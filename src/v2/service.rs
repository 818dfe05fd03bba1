//! The task service: each call of `containerd.task.v2.Task` (or v3), answered at once when it
//! needs nothing else, or parked under the runtime call or the process event it waits for.
//! Create, Exec and Start are in [`crate::v2::lifecycle`]; what happens when a parked call's
//! event comes, and Delete, in [`crate::v2::completion`].
//!
//! Errors carry the gRPC code containerd maps to its error kinds: NotFound for an unknown task,
//! exec or an exited process; AlreadyExists for a second Create or Exec of an id;
//! FailedPrecondition for a call the process's phase does not allow; InvalidArgument for input
//! that cannot be used; Unknown for a runtime that failed, with its own words.

use std::time::SystemTime;

use crate::error::Error;
use crate::process::drain::{AfterEof, DrainPolicy};
use crate::process::phase::Phase;
use crate::process::{ProcessKey, Waiter};
use crate::runtime::CommandLine;
use crate::v2::container::{self, Container};
use crate::v2::daemon::{Reply, Shim};
use crate::v2::proto::google::Timestamp;
use crate::v2::proto::task::*;
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::ttrpc::request::{CallError, TaskRequest};

/// The drain of a v2 process before Wait is answered and TaskExit published: every output to
/// EOF and read by the client (ctr drops its FIFOs as soon as Wait returns), but no longer than
/// this without progress (something the process left holds its stdout, or nobody reads:
/// `ctr run -d`). The FIFOs stay open until Delete.
pub const DRAIN: DrainPolicy = DrainPolicy {
    client: std::time::Duration::from_secs(2),
    silence: Some(std::time::Duration::from_secs(2)),
    after_eof: AfterEof::Empty,
};

/// What a parked runtime call answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Kill of an init.
    Kill,
    /// Pause (`true`) or resume of a container.
    Freeze {
        /// The container.
        id: String,
        /// Pause rather than resume.
        pause: bool,
    },
    /// Pids of a container.
    Pids {
        /// The container.
        id: String,
    },
    /// Delete of a container.
    Delete {
        /// The container.
        id: String,
    },
}

pub(super) type Answer<T> = Result<T, CallError>;

/// Most exec processes one container may hold at once (added or running, not yet deleted).
pub const MAX_EXECS: usize = 1024;

/// Most calls parked at once (Waits, runtime calls, launches), over every connection: a peer
/// that sends Wait after Wait cannot make the shim's memory grow without bound.
pub const MAX_PARKED: usize = 16 * 1024;

/// The code for a shim error: a missing file is NotFound, other failed syscalls Unknown,
/// unusable input InvalidArgument, a missing runtime FailedPrecondition.
pub fn code_of(error: &Error) -> Code {
    match error {
        Error::Os { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Code::NotFound,
        Error::Os { .. } => Code::Unknown,
        Error::Invalid { .. } => Code::InvalidArgument,
        Error::RuntimeNotInstalled(_) => Code::FailedPrecondition,
    }
}

pub(super) fn shim_error(error: Error) -> CallError {
    CallError::new(code_of(&error), error.to_string())
}

fn not_created(id: &str) -> CallError {
    CallError::new(Code::NotFound, format!("container {id} not created"))
}

pub(super) fn no_exec(exec_id: &str) -> CallError {
    CallError::new(Code::NotFound, format!("process {exec_id} does not exist"))
}

/// A time as the protocol carries it.
pub fn timestamp(at: Option<SystemTime>) -> Option<Timestamp> {
    at.map(Timestamp::from)
}

impl Shim {
    /// Serves one call.
    pub(super) fn serve(&mut self, reply: Reply, request: TaskRequest) {
        if self.waits.len() + self.calls.len() + self.launches.len() >= MAX_PARKED {
            let error = CallError::new(
                Code::ResourceExhausted,
                format!("{MAX_PARKED} calls in flight"),
            );
            return self.answer::<Empty>(reply, Err(error));
        }
        let result: Answer<()> = match request {
            TaskRequest::State(r) => {
                let answer = self.state(&r);
                self.answer(reply, answer);
                Ok(())
            }
            TaskRequest::Create(r) => self.create(reply, r),
            TaskRequest::Start(r) => self.start(reply, &r),
            TaskRequest::Delete(r) => self.delete(reply, &r),
            TaskRequest::Exec(r) => self.exec(reply, r),
            TaskRequest::Kill(r) => self.kill(reply, &r),
            TaskRequest::Wait(r) => self.wait(reply, &r),
            TaskRequest::Pids(r) => {
                self.runc_call(reply, &r.id, Pending::Pids { id: r.id.clone() })
            }
            TaskRequest::Pause(r) => self.runc_call(
                reply,
                &r.id,
                Pending::Freeze {
                    id: r.id.clone(),
                    pause: true,
                },
            ),
            TaskRequest::Resume(r) => self.runc_call(
                reply,
                &r.id,
                Pending::Freeze {
                    id: r.id.clone(),
                    pause: false,
                },
            ),
            TaskRequest::ResizePty(r) => {
                let changed = self.with_process(&r.id, &r.exec_id, |process| {
                    let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
                    process.stdio.resize(clamp(r.width), clamp(r.height));
                });
                self.answer(reply, changed.map(|()| Empty {}));
                Ok(())
            }
            TaskRequest::CloseIo(r) => {
                let changed = self.with_process(&r.id, &r.exec_id, |process| {
                    if r.stdin {
                        process.stdio.close_stdin();
                    }
                });
                self.answer(reply, changed.map(|()| Empty {}));
                Ok(())
            }
            TaskRequest::Connect(r) => {
                let task_pid = self.containers.get(&r.id).map_or(0, |c| self.pid(c.init));
                let answer = ConnectResponse {
                    shim_pid: std::process::id(),
                    task_pid,
                    version: format!("tinyshim {}", env!("CARGO_PKG_VERSION")),
                };
                self.answer(reply, Ok(answer));
                Ok(())
            }
            TaskRequest::Shutdown(_) => {
                self.answer(reply, Ok(Empty {}));
                if self.containers.is_empty() {
                    self.exit_soon();
                }
                Ok(())
            }
            other @ (TaskRequest::Stats(_)
            | TaskRequest::Update(_)
            | TaskRequest::Checkpoint(_)) => Err(CallError::new(
                Code::Unimplemented,
                format!("{} is not implemented by tinyshim", other.method()),
            )),
        };
        // Calls that answered, or parked, said Ok; a refusal is answered here.
        if let Err(error) = result {
            self.answer::<Empty>(reply, Err(error));
        }
    }

    /// The container `id`.
    pub(super) fn container(&self, id: &str) -> Answer<&Container> {
        self.containers.get(id).ok_or_else(|| not_created(id))
    }

    /// The core process of `id`'s init (empty `exec_id`) or exec; `None` for an exec not
    /// started yet.
    fn process_key(&self, id: &str, exec_id: &str) -> Answer<Option<ProcessKey>> {
        let container = self.container(id)?;
        if exec_id.is_empty() {
            return Ok(Some(container.init));
        }
        let exec = container
            .execs
            .get(exec_id)
            .ok_or_else(|| no_exec(exec_id))?;
        Ok(exec.process)
    }

    fn with_process(
        &mut self,
        id: &str,
        exec_id: &str,
        change: impl FnOnce(&mut crate::process::Process),
    ) -> Answer<()> {
        if let Some(process) = self
            .process_key(id, exec_id)?
            .and_then(|key| self.sup.process_mut(key))
        {
            change(process);
        }
        Ok(())
    }

    fn state(&self, r: &StateRequest) -> Answer<StateResponse> {
        let container = self.container(&r.id)?;
        let key = self.process_key(&r.id, &r.exec_id)?;
        let process = key.and_then(|key| self.sup.process(key));
        let phase = process.map(|p| p.phase);
        let io = if r.exec_id.is_empty() {
            &container.io
        } else {
            container
                .execs
                .get(&r.exec_id)
                .map(|e| &e.io)
                .ok_or_else(|| no_exec(&r.exec_id))?
        };
        let exited = container::exited_at(phase, process.and_then(|p| p.exited_at));
        Ok(StateResponse {
            id: if r.exec_id.is_empty() {
                r.id.clone()
            } else {
                r.exec_id.clone()
            },
            bundle: container.bundle.display().to_string(),
            pid: container::pid(phase),
            status: container::status(phase, container.paused) as i32,
            stdin: io.stdin.clone(),
            stdout: io.stdout.clone(),
            stderr: io.stderr.clone(),
            terminal: io.terminal,
            exit_status: container::exit_status(phase),
            exited_at: timestamp(exited),
            exec_id: r.exec_id.clone(),
        })
    }

    fn wait(&mut self, reply: Reply, r: &WaitRequest) -> Answer<()> {
        let key = self.process_key(&r.id, &r.exec_id)?;
        let tag = self.tag();
        let Some(key) = key else {
            // An exec not started yet: its waiters move to its process when it starts.
            if let Some(exec) = self
                .containers
                .get_mut(&r.id)
                .and_then(|c| c.execs.get_mut(&r.exec_id))
            {
                exec.early_waiters.push(tag);
            }
            self.waits.insert(tag, reply);
            return Ok(());
        };
        let Some(process) = self.sup.process_mut(key) else {
            return Err(not_created(&r.id));
        };
        match process.phase {
            Phase::Exited { .. } | Phase::Failed => {
                let answer = WaitResponse {
                    exit_status: container::exit_status(Some(process.phase)),
                    exited_at: timestamp(container::exited_at(
                        Some(process.phase),
                        process.exited_at,
                    )),
                };
                self.answer(reply, Ok(answer));
            }
            _ => {
                process.waiters.push(Waiter(tag));
                self.waits.insert(tag, reply);
            }
        }
        Ok(())
    }

    fn kill(&mut self, reply: Reply, r: &KillRequest) -> Answer<()> {
        let key = self.process_key(&r.id, &r.exec_id)?;
        let phase = key.and_then(|k| self.sup.process(k)).map(|p| p.phase);
        match phase {
            None | Some(Phase::Launching) => {
                return Err(CallError::new(
                    Code::FailedPrecondition,
                    format!("process {} not created", name(r)),
                ))
            }
            Some(Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed) => {
                return Err(CallError::new(
                    Code::NotFound,
                    format!("process already finished: {}", name(r)),
                ))
            }
            _ => {}
        }
        if r.exec_id.is_empty() {
            return self.runc_kill(reply, &r.id, r.signal, r.all);
        }
        // An exec is signalled directly: runc would signal the container's init.
        let pid = phase.and_then(|p| p.pid()).map_or(0, |p| p.as_raw());
        let Ok(signal) = i32::try_from(r.signal) else {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!("signal {}", r.signal),
            ));
        };
        // SAFETY: kill takes no pointers; `pid` is the exec's, not yet reaped (its phase says
        // so), so it cannot name another process.
        if unsafe { nix::libc::kill(pid, signal) } != 0 {
            let errno = nix::errno::Errno::last();
            let code = if errno == nix::errno::Errno::ESRCH {
                Code::NotFound
            } else {
                Code::InvalidArgument
            };
            return Err(CallError::new(
                code,
                format!("kill {} with {signal}: {}", name(r), errno.desc()),
            ));
        }
        self.answer(reply, Ok(Empty {}));
        Ok(())
    }

    fn runc_kill(&mut self, reply: Reply, id: &str, signal: u32, all: bool) -> Answer<()> {
        self.call_runc(reply, id, Pending::Kill, shim_error, |lines| {
            lines.kill(signal, all)
        })
    }

    /// Pause, resume or ps, answered when runc returns.
    fn runc_call(&mut self, reply: Reply, id: &str, pending: Pending) -> Answer<()> {
        let pause = match &pending {
            Pending::Freeze { pause, .. } => Some(*pause),
            _ => None,
        };
        self.call_runc(reply, id, pending, shim_error, |lines| match pause {
            Some(pause) => lines.freeze(pause),
            None => lines.ps(),
        })
    }

    /// Spawns the runc command `command` makes for container `id` and parks `reply` until it
    /// returns; a failed spawn is answered through `spawn_failed`.
    pub(super) fn call_runc(
        &mut self,
        reply: Reply,
        id: &str,
        pending: Pending,
        spawn_failed: fn(Error) -> CallError,
        command: impl FnOnce(&CommandLines) -> CommandLine,
    ) -> Answer<()> {
        let tag = self.tag();
        let container = self.containers.get(id).ok_or_else(|| not_created(id))?;
        let lines = CommandLines {
            settings: &container.settings,
            id,
            bundle: &container.bundle,
        };
        self.sup
            .spawn_call(
                &container.runtime,
                &command(&lines),
                Some(&container.bundle),
                true,
                tag,
            )
            .map_err(spawn_failed)?;
        self.calls.insert(tag, (reply, pending));
        Ok(())
    }
}

/// How a Kill names its process in messages.
fn name(r: &KillRequest) -> &str {
    if r.exec_id.is_empty() {
        &r.id
    } else {
        &r.exec_id
    }
}
