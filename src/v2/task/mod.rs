//! The task service, `containerd.task.v2.Task` (and its v3 name): its state, its method table
//! ([`request`]), its call policy ([`policy`]), and one file per call family, each holding the
//! call and its answer, whether that is given at once or once the core reports what the call
//! waited for: [`create`], [`start`] (init and exec), [`exec`], [`kill`], [`delete`],
//! [`wait`], [`queries`] (State, Pids, Connect, ResizePty, CloseIO), [`freeze`] (Pause, Resume).
//!
//! No call waits on runc: a call that needs a runtime call or an exit is parked ([`Step`]) in
//! the record of what it waits for (the process's [`Served`] record, an exec not started yet, or
//! the runtime call's own tag in the core) and answered from there. Errors carry the gRPC code
//! containerd maps to its error kinds: NotFound for an unknown task, exec or an exited process;
//! AlreadyExists for a second Create or Exec of an id; FailedPrecondition for a call the
//! process's phase does not allow; InvalidArgument for input that cannot be used; Unknown for a
//! runtime that failed, with its own words.

pub mod checkpoint;
pub mod create;
pub mod delete;
pub mod exec;
pub mod freeze;
pub mod kill;
pub mod launch;
pub mod oom;
pub mod parked;
pub mod policy;
pub mod queries;
pub mod records;
pub mod request;
pub mod start;
pub mod stats;
pub mod update;
pub mod wait;

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use prost::Message;

use crate::error::Error;
use crate::process::phase::Phase;
use crate::process::ProcessKey;
use crate::supervisor::{Notice, Supervisor};
use crate::v2::events::{Publisher, Queued};
use crate::v2::log::{Level, Log};
use crate::v2::proto::google::Timestamp;
use crate::v2::proto::task::Empty;
use crate::v2::proto::ttrpc::Code;
use crate::v2::route::Route;
use crate::v2::server::{Reply, Server};
use crate::v2::ttrpc::call::CallError;
pub use parked::{Child, RuncThen, Step};
use records::{Container, Served};
use request::TaskRequest;

/// The core as the v2 shim drives it.
pub type Core = Supervisor<Route, Child>;

/// A call's result: its answer, or the error to answer with.
pub type Answer<T> = Result<T, CallError>;

/// What the task service works through: the core, the server it answers on, the events
/// publisher and the log.
pub struct Outside<'a> {
    /// The core.
    pub core: &'a mut Core,
    /// The server.
    pub server: &'a mut Server,
    /// The events publisher.
    pub events: &'a mut Publisher<Route>,
    /// The log.
    pub log: &'a Log,
}

impl Outside<'_> {
    /// Answers `reply`; a failure is logged at debug level.
    pub fn answer<M: Message>(&mut self, reply: Reply, result: Answer<M>) {
        if let Err(error) = &result {
            self.log
                .write(Level::Debug, &format!("call failed: {error}"));
        }
        self.server.answer(reply, result);
    }

    /// Publishes `event`, which happened now.
    pub fn publish<E: Queued>(&mut self, event: &E) {
        self.events.publish(event, &mut self.core.registry());
    }
}

/// The task service's state.
#[derive(Debug)]
pub struct TaskService {
    namespace: String,
    /// The containers served, by id. Boxed: a map's node holds eleven values, and a container's
    /// record is half a kilobyte, so one container would cost a 6 kB node, two pages the idle
    /// shim keeps dirty.
    containers: BTreeMap<String, Box<Container>>,
    /// The processes served, by their key in the core.
    served: HashMap<ProcessKey, Served>,
    /// Updates made so far, which names each one's resources file.
    updates: u64,
    /// The host's cgroups and the OOM watcher.
    cgroups: oom::Cgroups,
}

impl TaskService {
    /// A service for containerd namespace `namespace`, serving nothing yet.
    pub fn new(namespace: &str) -> TaskService {
        TaskService {
            namespace: namespace.to_string(),
            containers: BTreeMap::new(),
            served: HashMap::new(),
            updates: 0,
            cgroups: oom::Cgroups::default(),
        }
    }

    /// Whether no container is served.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
    }

    /// How many containers are served.
    pub fn len(&self) -> usize {
        self.containers.len()
    }

    /// Serves one call.
    ///
    /// Every call's method is `#[inline(never)]`: inlined, their locals (a Stats answer, an
    /// Update's JSON, a Checkpoint's options) all land in this one frame, which the deepest
    /// path (a Create spawning runc) then carries too, and a stack page touched once stays
    /// dirty for the shim's life: the stack of a shim serving one container went from 32 to
    /// 24 kB with this.
    pub fn serve(&mut self, out: &mut Outside, reply: Reply, request: TaskRequest) {
        match request {
            TaskRequest::Create(request) => {
                let step = self.create(out, request);
                self.finish(out, reply, step);
            }
            TaskRequest::Start(request) => {
                let step = self.start(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::Exec(request) => {
                let step = self.exec(out, request);
                self.finish(out, reply, step);
            }
            TaskRequest::Kill(request) => {
                let step = self.kill(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::Delete(request) => {
                let step = self.delete(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::Wait(request) => {
                let step = self.wait(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::State(request) => {
                let step = self.state(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::Pids(request) => {
                let step = self.pids(&request);
                self.finish(out, reply, step);
            }
            TaskRequest::Connect(request) => {
                let step = self.connect(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::ResizePty(request) => {
                let step = self.resize_pty(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::CloseIo(request) => {
                let step = self.close_io(out, &request);
                self.finish(out, reply, step);
            }
            TaskRequest::Stats(request) => {
                let step = self.stats(&request);
                self.finish(out, reply, step);
            }
            TaskRequest::Update(request) => {
                let step = self.update(out, request);
                self.finish(out, reply, step);
            }
            TaskRequest::Pause(request) => {
                let step = self.freeze(&request.id, true);
                self.finish(out, reply, step);
            }
            TaskRequest::Resume(request) => {
                let step = self.freeze(&request.id, false);
                self.finish(out, reply, step);
            }
            // The shim's own life, which its frontend handles.
            TaskRequest::Shutdown(_) => out.answer(reply, Ok(Empty {})),
            TaskRequest::Checkpoint(request) => {
                let step = self.checkpoint(out, &request);
                self.finish(out, reply, step);
            }
        }
    }

    /// Acts on what the core reports.
    #[inline(never)]
    pub fn on_notice(&mut self, out: &mut Outside, notice: Notice<Route, Child>) {
        match notice {
            Notice::Launched(key) => self.launched(out, key),
            Notice::LaunchFailed(key, failure) => self.launch_failed(out, key, failure),
            Notice::Started(key) => self.started(out, key),
            Notice::StartFailed(key, failure) => self.start_failed(out, key, failure),
            Notice::Finished(key, _) => self.finished(out, key),
            Notice::CallFinished(call) => self.child_returned(out, call),
            Notice::PumpFailed(key, failure) => {
                let owner = self.served.get(&key).map_or("?", |s| s.id.as_str());
                let message = format!(
                    "{owner}: {} pump: {}: {}",
                    failure.stream,
                    failure.path,
                    failure.errno.desc()
                );
                out.log.write(Level::Warning, &message);
            }
            Notice::Warning(message) => out.log.write(Level::Warning, &message),
            Notice::Exited(key, _) => self.reaped(out, key),
            Notice::Frontend(_) | Notice::Terminate => {}
        }
    }

    /// The container `id`.
    fn container(&self, id: &str) -> Answer<&Container> {
        self.containers
            .get(id)
            .map(|container| &**container)
            .ok_or_else(|| not_created(id))
    }

    /// The core process of `id`'s init (empty `exec_id`) or exec; `None` for an exec not
    /// started yet.
    fn process_of(&self, id: &str, exec_id: &str) -> Answer<Option<ProcessKey>> {
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

    /// Forgets a process: the core's, and its record, answering whatever it still owed.
    fn forget_process(&mut self, out: &mut Outside, key: ProcessKey) {
        out.core.remove(key);
        let Some(served) = self.served.remove(&key) else {
            return;
        };
        let message = format!("process {} was deleted", served.name());
        for reply in served.owes.into_iter().chain(served.waits) {
            out.answer::<Empty>(reply, Err(CallError::new(Code::NotFound, message.clone())));
        }
    }

    /// Forgets a container: its processes and their stdio, its rootfs mounts.
    fn drop_container(&mut self, out: &mut Outside, container: Box<Container>) {
        self.unwatch_cgroup(out, container.oom);
        for key in std::iter::once(container.init)
            .chain(container.execs.values().filter_map(|e| e.process))
        {
            self.forget_process(out, key);
        }
        for exec in container.execs.into_values() {
            for reply in exec.waits {
                out.answer::<Empty>(reply, Err(not_created(&container.id)));
            }
        }
        if !container.rootfs.is_empty() {
            match crate::v2::rootfs::unmount_all(&container.bundle) {
                Ok(0) => {}
                Ok(detached) => out.log.write(
                    Level::Warning,
                    &format!(
                        "{}: rootfs busy at delete: {detached} mount(s) detached",
                        container.id
                    ),
                ),
                Err(e) => out.log.write(Level::Warning, &e.to_string()),
            }
        }
    }

    /// The phase of process `key`, if the core has it.
    fn phase(out: &Outside, key: ProcessKey) -> Option<Phase> {
        out.core.process(key).map(|p| p.phase())
    }
}

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

/// A shim error as a call's error.
pub fn shim_error(error: Error) -> CallError {
    CallError::new(code_of(&error), error.to_string())
}

fn not_created(id: &str) -> CallError {
    CallError::new(Code::NotFound, format!("container {id} not created"))
}

fn no_exec(exec_id: &str) -> CallError {
    CallError::new(Code::NotFound, format!("process {exec_id} does not exist"))
}

/// A time as the protocol carries it.
pub fn timestamp(at: Option<SystemTime>) -> Option<Timestamp> {
    at.map(Timestamp::from)
}
