//! How a call goes on once checked ([`Step`]): answered at once, or parked in the record of
//! what it waits for (a process's [`Served`](super::records::Served) record, an exec not
//! started yet, a runtime call's own tag in the core), and answered from there. A connection
//! that closes takes back what it parked.

use prost::Message;

use crate::process::ProcessKey;
use crate::runtime::call::Finished;
use crate::runtime::CommandLine;
use crate::v2::log::Level;
use crate::v2::proto::task::Empty;
use crate::v2::proto::ttrpc::Code;
use crate::v2::server::{Lost, Reply};
use crate::v2::ttrpc::call::CallError;

use super::{kill, no_exec, not_created, shim_error, Answer, Outside, TaskService};

/// A child the task service spawned, and what its exit answers.
#[derive(Debug)]
pub enum Child {
    /// A runc call a client waits for.
    Runc {
        /// Where the answer goes.
        reply: Reply,
        /// What the answer is made of.
        then: RuncThen,
    },
    /// `runc delete --force` of a container whose create failed: nobody waits for it.
    Cleanup,
    /// A `binary://` logger of container `id`.
    Logger {
        /// The container.
        id: String,
    },
}

/// What a runc call's return answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuncThen {
    /// Kill of an init.
    Kill,
    /// Pause (`pause`) or resume of container `id`.
    Freeze {
        /// The container.
        id: String,
        /// Pause rather than resume.
        pause: bool,
    },
    /// Pids of container `id`.
    Pids {
        /// The container.
        id: String,
    },
    /// Delete of container `id`.
    Delete {
        /// The container.
        id: String,
    },
    /// Update, its resources in `file` until runc returns.
    Update {
        /// The resources file.
        file: std::path::PathBuf,
    },
    /// Checkpoint of the container in `bundle`.
    Checkpoint {
        /// The bundle, where criu's log of a failed dump is kept.
        bundle: std::path::PathBuf,
        /// The work directory the shim made, removed once runc returns.
        work: Option<std::path::PathBuf>,
        /// criu's log in the work directory.
        log: std::path::PathBuf,
    },
}

impl RuncThen {
    /// The call will not run: what it left for runc goes.
    fn abandon(&self) {
        match self {
            RuncThen::Update { file } => {
                let _ = std::fs::remove_file(file);
            }
            RuncThen::Checkpoint {
                work: Some(work), ..
            } => {
                let _ = std::fs::remove_dir_all(work);
            }
            _ => {}
        }
    }
}

/// How a call goes on once checked: answered now, or parked under what it waits for.
#[derive(Debug)]
pub enum Step<M> {
    /// Answered now.
    Answer(M),
    /// Answered when the process's launch returns (Create, an exec's Start) or its start does
    /// (the init's Start).
    OnLaunch(ProcessKey),
    /// Answered once the process's exit is final (Wait).
    OnExit(ProcessKey),
    /// Answered once exec `exec_id` of container `id`, not started yet, has exited.
    OnExecExit {
        /// The container.
        id: String,
        /// The exec.
        exec_id: String,
    },
    /// Answered when runc, run with `command` for container `id`, returns.
    Runc {
        /// The container.
        id: String,
        /// The command line.
        command: CommandLine,
        /// What its return answers.
        then: RuncThen,
    },
}

impl TaskService {
    /// Answers a checked call now, or parks it under what it waits for.
    pub(super) fn finish<M: Message>(
        &mut self,
        out: &mut Outside,
        reply: Reply,
        step: Answer<Step<M>>,
    ) {
        let gone = || CallError::new(Code::NotFound, "the process is gone");
        match step {
            Err(error) => out.answer::<Empty>(reply, Err(error)),
            Ok(Step::Answer(message)) => out.answer(reply, Ok(message)),
            Ok(Step::OnLaunch(key)) => match self.served.get_mut(&key) {
                Some(served) => served.owes = Some(reply),
                None => out.answer::<Empty>(reply, Err(gone())),
            },
            Ok(Step::OnExit(key)) => match self.served.get_mut(&key) {
                Some(served) => served.waits.push(reply),
                None => out.answer::<Empty>(reply, Err(gone())),
            },
            Ok(Step::OnExecExit { id, exec_id }) => {
                let exec = self
                    .containers
                    .get_mut(&id)
                    .and_then(|c| c.execs.get_mut(&exec_id));
                match exec {
                    Some(exec) => exec.waits.push(reply),
                    None => out.answer::<Empty>(reply, Err(no_exec(&exec_id))),
                }
            }
            Ok(Step::Runc { id, command, then }) => self.run_runc(out, reply, &id, &command, then),
        }
    }

    /// Spawns runc for container `id` with its answer parked under the call.
    fn run_runc(
        &mut self,
        out: &mut Outside,
        reply: Reply,
        id: &str,
        command: &CommandLine,
        then: RuncThen,
    ) {
        let Some(container) = self.containers.get_mut(id) else {
            return out.answer::<Empty>(reply, Err(not_created(id)));
        };
        let deleting = matches!(then, RuncThen::Delete { .. });
        let tag = Child::Runc { reply, then };
        match out.core.spawn_call(
            &container.runtime,
            command,
            Some(&container.bundle),
            true,
            tag,
        ) {
            Ok(_) => container.deleting |= deleting,
            Err((error, Child::Runc { reply, then })) => {
                then.abandon();
                let error = match then {
                    // containerd takes NotFound from Delete for a task that is gone.
                    RuncThen::Delete { .. } => CallError::new(Code::Unknown, error.to_string()),
                    _ => shim_error(error),
                };
                out.answer::<Empty>(reply, Err(error));
            }
            Err(_) => {}
        }
    }

    pub(super) fn child_returned(&mut self, out: &mut Outside, call: Finished<Child>) {
        let (tag, returned) = call.split();
        match tag {
            Child::Runc { reply, then } => match then {
                RuncThen::Kill => kill::killed(out, reply, &returned),
                RuncThen::Freeze { id, pause } => self.frozen(out, reply, &returned, &id, pause),
                RuncThen::Pids { id } => self.listed(out, reply, &returned, &id),
                RuncThen::Delete { id } => self.runc_deleted(out, reply, &returned, &id),
                RuncThen::Update { file } => super::update::updated(out, reply, &returned, &file),
                RuncThen::Checkpoint { bundle, work, log } => super::checkpoint::checkpointed(
                    out,
                    reply,
                    &returned,
                    (&bundle, work.as_deref(), &log),
                ),
            },
            Child::Cleanup => {}
            Child::Logger { id } => {
                if returned.status != crate::reaper::ExitStatus::Exited(0) {
                    let message =
                        format!("{id}: logger exited with status {}", returned.status.code());
                    out.log.write(Level::Warning, &message);
                }
            }
        }
    }

    /// A connection closed: what it parked goes (its answers would have nowhere to go).
    pub fn connection_lost(&mut self, lost: Lost) {
        for served in self.served.values_mut() {
            served.drop_lost(lost);
        }
        for container in self.containers.values_mut() {
            for exec in container.execs.values_mut() {
                exec.waits.retain(|reply| !reply.came_on(lost));
            }
        }
    }
}
