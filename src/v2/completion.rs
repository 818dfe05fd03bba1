//! The second half of the task service: what happens when the core reports a process launched,
//! started, failed or finished, or a runtime call returned.
//!
//! Events go out in the order things happened, which the phase machine guarantees for each
//! process (an exit is final only after its start was answered): TaskCreate when `create`
//! returned, TaskStart or TaskExecStarted with the start's answer, TaskExit once the outputs are
//! drained, TaskDelete when `delete` returned.

use std::time::SystemTime;

use crate::process::{Failure, ProcessKey};
use crate::runtime::call::Finished;
use crate::v2::container;
use crate::v2::daemon::Shim;
use crate::v2::lifecycle::exec_spec_file;
use crate::v2::proto::events::{
    TaskCreate, TaskExecStarted, TaskExit, TaskIo, TaskPaused, TaskResumed, TaskStart,
};
use crate::v2::proto::google::Any;
use crate::v2::proto::runc::ProcessDetails;
use crate::v2::proto::task::*;
use crate::v2::proto::ttrpc::Code;
use crate::v2::proto::types::ProcessInfo;
use crate::v2::runc;
use crate::v2::service::{timestamp, Pending};
use crate::v2::ttrpc::request::CallError;

impl Shim {
    pub(super) fn owner(&self, key: ProcessKey) -> Option<(String, Option<String>)> {
        self.owners.get(&key).cloned()
    }

    pub(super) fn pid(&self, key: ProcessKey) -> u32 {
        container::pid(self.sup.process(key).map(|p| p.phase))
    }

    /// Why a launch or start failed, in the runtime's words where it gave any.
    fn failure_message(&mut self, key: ProcessKey, what: &str, bundle: &std::path::Path) -> String {
        let failure = self.sup.process_mut(key).and_then(|p| p.failure.take());
        match failure {
            Some(Failure::Runtime { status, message }) => {
                let said = runc::last_error(bundle)
                    .or_else(|| (!message.is_empty()).then_some(message))
                    .unwrap_or_else(|| format!("exit status {}", status.code()));
                format!("OCI runtime {what} failed: {said}")
            }
            Some(Failure::Shim(error)) => error.to_string(),
            None => format!("OCI runtime {what} failed"),
        }
    }

    pub(super) fn launched(&mut self, key: ProcessKey) {
        let Some((id, exec_id)) = self.owner(key) else {
            return;
        };
        let pid = self.pid(key);
        let reply = self.launches.remove(&key);
        match exec_id {
            None => {
                if let Some(reply) = reply {
                    self.answer(reply, Ok(CreateTaskResponse { pid }));
                }
                if let Some(container) = self.containers.get(&id) {
                    let event = TaskCreate {
                        container_id: id.clone(),
                        bundle: container.bundle.display().to_string(),
                        rootfs: container.rootfs.clone(),
                        io: Some(TaskIo {
                            stdin: container.io.stdin.clone(),
                            stdout: container.io.stdout.clone(),
                            stderr: container.io.stderr.clone(),
                            terminal: container.io.terminal,
                        }),
                        checkpoint: String::new(),
                        pid,
                    };
                    self.publisher.publish(&event, &mut self.sup.lp);
                }
            }
            Some(exec_id) => {
                self.remove_spec_file(&id, &exec_id);
                if let Some(reply) = reply {
                    self.answer(reply, Ok(StartResponse { pid }));
                }
                let event = TaskExecStarted {
                    container_id: id,
                    exec_id,
                    pid,
                };
                self.publisher.publish(&event, &mut self.sup.lp);
            }
        }
    }

    pub(super) fn launch_failed(&mut self, key: ProcessKey) {
        let Some((id, exec_id)) = self.owner(key) else {
            return;
        };
        let Some(bundle) = self.containers.get(&id).map(|c| c.bundle.clone()) else {
            return;
        };
        let reply = self.launches.remove(&key);
        match exec_id {
            None => {
                let message = self.failure_message(key, "create", &bundle);
                if let Some(reply) = reply {
                    self.answer::<Empty>(reply, Err(CallError::new(Code::Unknown, message)));
                }
                // The runtime may have left a half-made container: nobody waits for its removal.
                if let Some(container) = self.containers.remove(&id) {
                    self.force_delete(&container);
                    self.drop_container(container);
                }
            }
            Some(exec_id) => {
                self.remove_spec_file(&id, &exec_id);
                let message = self.failure_message(key, "exec", &bundle);
                if let Some(reply) = reply {
                    self.answer::<Empty>(reply, Err(CallError::new(Code::Unknown, message)));
                }
                // Its waiters learn that it never ran; the exec stays until Delete. Its outputs
                // close now, after what the runtime wrote into them: the client waits for their
                // end before it deletes the exec, so held open they would hang it for good.
                self.answer_waiters(key);
                self.sup.flush_outputs(key);
                self.sup.close_stdio(key);
            }
        }
    }

    pub(super) fn started(&mut self, key: ProcessKey) {
        let Some((id, None)) = self.owner(key) else {
            return;
        };
        let pid = self.pid(key);
        if let Some(reply) = self.launches.remove(&key) {
            self.answer(reply, Ok(StartResponse { pid }));
        }
        let event = TaskStart {
            container_id: id,
            pid,
        };
        self.publisher.publish(&event, &mut self.sup.lp);
    }

    pub(super) fn start_failed(&mut self, key: ProcessKey) {
        let Some((id, None)) = self.owner(key) else {
            return;
        };
        let Some(bundle) = self.containers.get(&id).map(|c| c.bundle.clone()) else {
            return;
        };
        let message = self.failure_message(key, "start", &bundle);
        if let Some(reply) = self.launches.remove(&key) {
            self.answer::<Empty>(reply, Err(CallError::new(Code::Unknown, message)));
        }
    }

    /// The exit is final: Wait is answered and TaskExit goes out.
    pub(super) fn finished(&mut self, key: ProcessKey) {
        let Some((id, exec_id)) = self.owner(key) else {
            return;
        };
        let (exit_status, exited_at) = self.answer_waiters(key);
        let event = TaskExit {
            container_id: id.clone(),
            id: exec_id.unwrap_or(id),
            pid: self.pid(key),
            exit_status,
            exited_at: timestamp(Some(exited_at)),
        };
        self.publisher.publish(&event, &mut self.sup.lp);
    }

    /// Answers every Wait of a process; returns the status and time it answered with.
    pub(super) fn answer_waiters(&mut self, key: ProcessKey) -> (u32, SystemTime) {
        let Some(process) = self.sup.process_mut(key) else {
            return (255, SystemTime::now());
        };
        let phase = Some(process.phase);
        let exit_status = container::exit_status(phase);
        let exited_at =
            container::exited_at(phase, process.exited_at).unwrap_or_else(SystemTime::now);
        let waiters = std::mem::take(&mut process.waiters);
        for waiter in waiters {
            if let Some(reply) = self.waits.remove(&waiter.0) {
                let answer = WaitResponse {
                    exit_status,
                    exited_at: timestamp(Some(exited_at)),
                };
                self.answer(reply, Ok(answer));
            }
        }
        (exit_status, exited_at)
    }

    pub(super) fn call_finished(&mut self, call: Finished<u64>) {
        let Some((reply, pending)) = self.calls.remove(&call.tag) else {
            return;
        };
        let ok = call.status == crate::reaper::ExitStatus::Exited(0);
        let said = call.last_stderr_line().unwrap_or_default();
        match pending {
            Pending::Kill if ok => self.answer(reply, Ok(Empty {})),
            Pending::Kill => {
                let gone = ["not running", "no such process", "already finished"];
                let error = if gone.iter().any(|g| said.contains(g)) {
                    CallError::new(Code::NotFound, "process already finished")
                } else if said.contains("does not exist") {
                    CallError::new(Code::NotFound, format!("no such container: {said}"))
                } else {
                    CallError::new(Code::Unknown, call.failure("runc", "kill"))
                };
                self.answer::<Empty>(reply, Err(error));
            }
            Pending::Freeze { id, pause } => {
                if !ok {
                    let error = CallError::new(
                        Code::Unknown,
                        call.failure("runc", if pause { "pause" } else { "resume" }),
                    );
                    return self.answer::<Empty>(reply, Err(error));
                }
                if let Some(container) = self.containers.get_mut(&id) {
                    container.paused = pause;
                }
                if pause {
                    self.publisher
                        .publish(&TaskPaused { container_id: id }, &mut self.sup.lp);
                } else {
                    self.publisher
                        .publish(&TaskResumed { container_id: id }, &mut self.sup.lp);
                }
                self.answer(reply, Ok(Empty {}));
            }
            Pending::Pids { id } => {
                let Some(pids) = ok.then(|| runc::parse_ps(&call.stdout)).flatten() else {
                    let error = CallError::new(Code::Unknown, call.failure("runc", "ps"));
                    return self.answer::<Empty>(reply, Err(error));
                };
                let processes = pids
                    .into_iter()
                    .map(|pid| ProcessInfo {
                        pid,
                        info: self
                            .exec_of(&id, pid)
                            .map(|exec_id| Any::pack(&ProcessDetails { exec_id })),
                    })
                    .collect();
                self.answer(reply, Ok(PidsResponse { processes }));
            }
            Pending::Delete { id } => {
                let gone = said.contains("not exist");
                if !ok && !gone {
                    if let Some(container) = self.containers.get_mut(&id) {
                        container.deleting = false;
                    }
                    let error = CallError::new(Code::Unknown, call.failure("runc", "delete"));
                    return self.answer::<Empty>(reply, Err(error));
                }
                self.deleted(reply, &id);
            }
        }
    }

    fn exec_of(&self, id: &str, pid: u32) -> Option<String> {
        let container = self.containers.get(id)?;
        container.execs.iter().find_map(|(exec_id, exec)| {
            let key = exec.process?;
            (self.pid(key) == pid).then(|| exec_id.clone())
        })
    }

    fn remove_spec_file(&self, id: &str, exec_id: &str) {
        if let Some(container) = self.containers.get(id) {
            let _ = std::fs::remove_file(exec_spec_file(&container.bundle, exec_id));
        }
    }
}
