//! The task service: each call of `containerd.task.v2.Task` (or v3), answered at once when it
//! needs nothing else, or parked under the runtime call or the process event it waits for (see
//! [`crate::v2::completion`] for the second half).
//!
//! Errors carry the gRPC code containerd maps to its error kinds: NotFound for an unknown task,
//! exec or an exited process; AlreadyExists for a second Create or Exec of an id;
//! FailedPrecondition for a call the process's phase does not allow; InvalidArgument for input
//! that cannot be used; Unknown for a runtime that failed, with its own words.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Error;
use crate::process::drain::DrainPolicy;
use crate::process::phase::{Phase, Rules};
use crate::process::stdio::StdioSetup;
use crate::process::{Kind, LaunchPlan, ProcessKey, Waiter};
use crate::v2::bundle;
use crate::v2::container::{self, valid_id, Container, Exec, Io};
use crate::v2::daemon::{refuse, Reply, Shim};
use crate::v2::proto::events::TaskExecAdded;
use crate::v2::proto::google::{Any, Timestamp};
use crate::v2::proto::runc::Options;
use crate::v2::proto::task::*;
use crate::v2::proto::ttrpc::Code;
use crate::v2::rootfs;
use crate::v2::runc::{CommandLines, Settings};
use crate::v2::stdio::{open_outputs, parse_outputs};
use crate::v2::ttrpc::request::{CallError, TaskRequest};

/// The drain of a v2 process before Wait is answered and TaskExit published: every output to
/// EOF, but no longer than this without progress (something the process left holds its
/// stdout, or nobody reads a full FIFO: `ctr run -d`). The FIFOs stay open until Delete.
pub const DRAIN: DrainPolicy = DrainPolicy {
    client: std::time::Duration::from_secs(2),
    silence: Some(std::time::Duration::from_secs(2)),
    await_reader: false,
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
    /// `delete --force` after a failed Create: nobody waits for it.
    Cleanup,
}

type Answer<T> = Result<T, CallError>;

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

fn shim_error(error: Error) -> CallError {
    CallError::new(code_of(&error), error.to_string())
}

fn not_created(id: &str) -> CallError {
    refuse(Code::NotFound, format!("container {id} not created"))
}

fn no_exec(exec_id: &str) -> CallError {
    refuse(Code::NotFound, format!("process {exec_id} does not exist"))
}

/// A time as the protocol carries it.
pub fn timestamp(at: Option<SystemTime>) -> Option<Timestamp> {
    at.map(Timestamp::from)
}

impl Shim {
    /// Serves one call.
    pub(super) fn serve(&mut self, reply: Reply, request: TaskRequest) {
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
                let task_pid = self
                    .containers
                    .get(&r.id)
                    .and_then(|c| self.sup.process(c.init))
                    .and_then(|p| p.phase.pid())
                    .map_or(0, |pid| pid.as_raw() as u32);
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
            | TaskRequest::Checkpoint(_)) => Err(refuse(
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
            pid: phase
                .and_then(|p| p.pid())
                .map_or(0, |pid| pid.as_raw() as u32),
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

    fn create(&mut self, reply: Reply, r: CreateTaskRequest) -> Answer<()> {
        if !valid_id(&r.id) {
            return Err(refuse(
                Code::InvalidArgument,
                format!("invalid container id {:?}", r.id),
            ));
        }
        if self.containers.contains_key(&r.id) {
            return Err(refuse(
                Code::AlreadyExists,
                format!("container {} already exists", r.id),
            ));
        }
        if !r.checkpoint.is_empty() {
            return Err(refuse(
                Code::Unimplemented,
                "restoring a checkpoint is not implemented by tinyshim",
            ));
        }
        let bundle = PathBuf::from(&r.bundle);
        let config = bundle::load_config(&bundle).map_err(shim_error)?;
        let options = match &r.options {
            Some(any) if !any.type_url.is_empty() => Some(
                any.unpack::<Options>()
                    .map_err(|e| refuse(Code::InvalidArgument, format!("runtime options: {e}")))?,
            ),
            _ => None,
        };
        let settings = Settings::new(options.as_ref(), &self.namespace);
        let runtime = settings.runtime().map_err(shim_error)?;
        bundle::save_settings(&bundle, &settings).map_err(shim_error)?;
        let io = Io {
            stdin: r.stdin.clone(),
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
            terminal: r.terminal,
        };
        rootfs::mount_all(&bundle, &r.rootfs).map_err(shim_error)?;
        let mounted = !r.rootfs.is_empty();
        let unmount = |error: CallError| {
            if mounted {
                rootfs::unmount_all(&bundle.join(rootfs::ROOTFS));
            }
            error
        };
        let rules = Rules {
            start_after_launch: false,
            kill_all_on_exit: !config.own_pid_namespace,
        };
        let key = self
            .add_process(&r.id, Kind::Init, rules, &io, &settings)
            .map_err(unmount)?;
        let lines = CommandLines {
            settings: &settings,
            id: &r.id,
            bundle: &bundle,
        };
        let plan = LaunchPlan {
            runtime: runtime.clone(),
            launch: lines.create(self.sup.console_arg(key)),
            cwd: Some(bundle.clone()),
            pid_file: lines.init_pid_file(),
            start: Some(lines.start()),
            kill_all: Some(lines.kill(nix::libc::SIGKILL as u32, true)),
        };
        if let Err(error) = self.sup.launch(key, plan) {
            self.sup.remove(key);
            return Err(unmount(shim_error(error)));
        }
        self.owners.insert(key, (r.id.clone(), None));
        self.launches.insert(key, reply);
        self.containers.insert(
            r.id.clone(),
            Container {
                id: r.id.clone(),
                bundle,
                settings,
                runtime,
                init: key,
                io,
                execs: Default::default(),
                paused: false,
                mounted,
                deleting: false,
                rootfs: r.rootfs,
            },
        );
        Ok(())
    }

    /// Opens a process's stdio in the core.
    fn add_process(
        &mut self,
        id: &str,
        kind: Kind,
        rules: Rules,
        io: &Io,
        settings: &Settings,
    ) -> Answer<ProcessKey> {
        let outputs =
            parse_outputs(&io.stdout, &io.stderr).map_err(|e| refuse(Code::InvalidArgument, e))?;
        let (stdout, stderr) = open_outputs(&outputs, id, &self.namespace).map_err(shim_error)?;
        let setup = StdioSetup {
            stdin: &io.stdin,
            stdout,
            stderr,
            terminal: io.terminal,
            owner: settings.io_owner,
        };
        self.sup
            .add_process(kind, rules, DRAIN, setup)
            .map_err(shim_error)
    }

    fn exec(&mut self, reply: Reply, r: ExecProcessRequest) -> Answer<()> {
        let container = self.container(&r.id)?;
        if !valid_id(&r.exec_id) {
            return Err(refuse(
                Code::InvalidArgument,
                format!("invalid exec id {:?}", r.exec_id),
            ));
        }
        if container.execs.contains_key(&r.exec_id) {
            return Err(refuse(
                Code::AlreadyExists,
                format!("id {} already exists", r.exec_id),
            ));
        }
        let init = self.sup.process(container.init).map(|p| p.phase);
        if matches!(
            init,
            Some(Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed)
        ) {
            return Err(refuse(
                Code::FailedPrecondition,
                "cannot exec in a stopped state",
            ));
        }
        let spec = r.spec.map(|Any { value, .. }| value).unwrap_or_default();
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&spec)
            .map_err(|e| refuse(Code::InvalidArgument, format!("exec process spec: {e}")))?;
        let exec = Exec {
            io: Io {
                stdin: r.stdin,
                stdout: r.stdout,
                stderr: r.stderr,
                terminal: r.terminal,
            },
            spec,
            process: None,
            early_waiters: Vec::new(),
        };
        if let Some(container) = self.containers.get_mut(&r.id) {
            container.execs.insert(r.exec_id.clone(), exec);
        }
        let event = TaskExecAdded {
            container_id: r.id,
            exec_id: r.exec_id,
        };
        self.publisher.publish(&event, &mut self.sup.lp);
        self.answer(reply, Ok(Empty {}));
        Ok(())
    }

    fn start(&mut self, reply: Reply, r: &StartRequest) -> Answer<()> {
        let container = self.container(&r.id)?;
        if r.exec_id.is_empty() {
            let init = container.init;
            self.sup.start(init).map_err(|refused| {
                refuse(
                    Code::FailedPrecondition,
                    format!("cannot start {}: the process is {:?}", r.id, refused.phase),
                )
            })?;
            self.launches.insert(init, reply);
            return Ok(());
        }
        let exec = container
            .execs
            .get(&r.exec_id)
            .ok_or_else(|| no_exec(&r.exec_id))?;
        if exec.process.is_some() {
            return Err(refuse(
                Code::FailedPrecondition,
                format!("process {} was started already", r.exec_id),
            ));
        }
        let (bundle, settings, runtime) = (
            container.bundle.clone(),
            container.settings.clone(),
            container.runtime.clone(),
        );
        let io = exec.io.clone();
        let spec_file = exec_spec_file(&bundle, &r.exec_id);
        std::fs::write(&spec_file, &exec.spec)
            .map_err(|e| shim_error(Error::os(format!("write {}", spec_file.display()), e)))?;
        let rules = Rules {
            start_after_launch: true,
            kill_all_on_exit: false,
        };
        let key = self.add_process(&r.id, Kind::Exec, rules, &io, &settings)?;
        let lines = CommandLines {
            settings: &settings,
            id: &r.id,
            bundle: &bundle,
        };
        let pid_file = bundle.join(format!("{}.pid", r.exec_id));
        let plan = LaunchPlan {
            runtime,
            launch: lines.exec(&spec_file, &pid_file, self.sup.console_arg(key)),
            cwd: Some(bundle.clone()),
            pid_file,
            start: None,
            kill_all: None,
        };
        if let Err(error) = self.sup.launch(key, plan) {
            self.sup.remove(key);
            let _ = std::fs::remove_file(&spec_file);
            return Err(shim_error(error));
        }
        let early = self
            .containers
            .get_mut(&r.id)
            .and_then(|c| c.execs.get_mut(&r.exec_id))
            .map(|exec| {
                exec.process = Some(key);
                std::mem::take(&mut exec.early_waiters)
            })
            .unwrap_or_default();
        if let Some(process) = self.sup.process_mut(key) {
            process.waiters.extend(early.into_iter().map(Waiter));
        }
        self.owners
            .insert(key, (r.id.clone(), Some(r.exec_id.clone())));
        self.launches.insert(key, reply);
        Ok(())
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
                return Err(refuse(
                    Code::FailedPrecondition,
                    format!("process {} not created", name(r)),
                ))
            }
            Some(Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed) => {
                return Err(refuse(
                    Code::NotFound,
                    format!("process {} already finished", name(r)),
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
            return Err(refuse(
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
            return Err(refuse(
                code,
                format!("kill {} with {signal}: {}", name(r), errno.desc()),
            ));
        }
        self.answer(reply, Ok(Empty {}));
        Ok(())
    }

    fn runc_kill(&mut self, reply: Reply, id: &str, signal: u32, all: bool) -> Answer<()> {
        let container = self.container(id)?;
        let lines = CommandLines {
            settings: &container.settings,
            id,
            bundle: &container.bundle,
        };
        let command = lines.kill(signal, all);
        let (runtime, bundle) = (container.runtime.clone(), container.bundle.clone());
        let tag = self.tag();
        self.sup
            .spawn_call(&runtime, &command, Some(&bundle), true, tag)
            .map_err(shim_error)?;
        self.calls.insert(tag, (reply, Pending::Kill));
        Ok(())
    }

    /// Pause, resume or ps, answered when runc returns.
    fn runc_call(&mut self, reply: Reply, id: &str, pending: Pending) -> Answer<()> {
        let container = self.container(id)?;
        let lines = CommandLines {
            settings: &container.settings,
            id,
            bundle: &container.bundle,
        };
        let command = match &pending {
            Pending::Freeze { pause, .. } => lines.freeze(*pause),
            _ => lines.ps(),
        };
        let (runtime, bundle) = (container.runtime.clone(), container.bundle.clone());
        let tag = self.tag();
        self.sup
            .spawn_call(&runtime, &command, Some(&bundle), true, tag)
            .map_err(shim_error)?;
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

/// Where an exec's OCI process goes for `runc exec --process`.
pub fn exec_spec_file(bundle: &Path, exec_id: &str) -> PathBuf {
    bundle.join(format!(".tinyshim-exec-{exec_id}.json"))
}
