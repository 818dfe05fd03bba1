//! The second half of the task service: what happens when the core reports a process launched,
//! started, failed or finished, or a runtime call returned, and Delete, which ends in one.
//!
//! Events go out in the order things happened, which the phase machine guarantees for each
//! process (an exit is final only after its start was answered): TaskCreate when `create`
//! returned, TaskStart or TaskExecStarted with the start's answer, TaskExit once the outputs are
//! drained, TaskDelete when `delete` returned.

use std::time::SystemTime;

use crate::process::phase::Phase;
use crate::process::{Failure, ProcessKey};
use crate::runtime::call::Finished;
use crate::v2::container::{self, Container};
use crate::v2::daemon::{refuse, Reply, Shim};
use crate::v2::proto::events::{
    TaskCreate, TaskDelete, TaskExecStarted, TaskExit, TaskIo, TaskPaused, TaskResumed, TaskStart,
};
use crate::v2::proto::google::Any;
use crate::v2::proto::runc::ProcessDetails;
use crate::v2::proto::task::*;
use crate::v2::proto::ttrpc::Code;
use crate::v2::proto::types::ProcessInfo;
use crate::v2::rootfs;
use crate::v2::runc::{self, CommandLines};
use crate::v2::service::{exec_spec_file, timestamp, Pending};
use crate::v2::ttrpc::request::CallError;

impl Shim {
    fn owner(&self, key: ProcessKey) -> Option<(String, Option<String>)> {
        self.owners.get(&key).cloned()
    }

    fn pid(&self, key: ProcessKey) -> u32 {
        self.sup
            .process(key)
            .and_then(|p| p.phase.pid())
            .map_or(0, |pid| pid.as_raw() as u32)
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
                    self.answer::<Empty>(reply, Err(refuse(Code::Unknown, message)));
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
                    self.answer::<Empty>(reply, Err(refuse(Code::Unknown, message)));
                }
                // Its waiters learn that it never ran; the exec stays until Delete.
                self.answer_waiters(key);
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
            self.answer::<Empty>(reply, Err(refuse(Code::Unknown, message)));
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
    fn answer_waiters(&mut self, key: ProcessKey) -> (u32, SystemTime) {
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

    pub(super) fn delete(&mut self, reply: Reply, r: &DeleteRequest) -> Result<(), CallError> {
        let container = self.container(&r.id)?;
        if r.exec_id.is_empty() {
            let phase = self.sup.process(container.init).map(|p| p.phase);
            if matches!(
                phase,
                Some(Phase::Running { .. } | Phase::Starting { .. } | Phase::Launching)
            ) {
                return Err(refuse(
                    Code::FailedPrecondition,
                    "cannot delete a running process",
                ));
            }
            if container.deleting {
                return Err(refuse(
                    Code::FailedPrecondition,
                    format!("container {} is being deleted", r.id),
                ));
            }
            let lines = CommandLines {
                settings: &container.settings,
                id: &r.id,
                bundle: &container.bundle,
            };
            let command = lines.delete(true);
            let (runtime, bundle) = (container.runtime.clone(), container.bundle.clone());
            let tag = self.tag();
            self.sup
                .spawn_call(&runtime, &command, Some(&bundle), true, tag)
                .map_err(|e| refuse(Code::Unknown, e.to_string()))?;
            if let Some(container) = self.containers.get_mut(&r.id) {
                container.deleting = true;
            }
            self.calls
                .insert(tag, (reply, Pending::Delete { id: r.id.clone() }));
            return Ok(());
        }
        let exec = container.execs.get(&r.exec_id).ok_or_else(|| {
            refuse(
                Code::NotFound,
                format!("process {} does not exist", r.exec_id),
            )
        })?;
        let key = exec.process;
        let phase = key.and_then(|k| self.sup.process(k)).map(|p| p.phase);
        if matches!(phase, Some(Phase::Running { .. } | Phase::Launching)) {
            return Err(refuse(
                Code::FailedPrecondition,
                "cannot delete a running process",
            ));
        }
        let bundle = container.bundle.clone();
        let answer = self.delete_response(key);
        if let Some(key) = key {
            if matches!(phase, Some(Phase::Exiting { .. })) {
                // The drain is cut short: whoever waits hears of the exit now.
                self.finished(key);
            }
            self.sup.remove(key);
            self.owners.remove(&key);
        }
        if let Some(container) = self.containers.get_mut(&r.id) {
            container.execs.remove(&r.exec_id);
        }
        let _ = std::fs::remove_file(bundle.join(format!("{}.pid", r.exec_id)));
        self.answer(reply, Ok(answer));
        Ok(())
    }

    fn delete_response(&self, key: Option<ProcessKey>) -> DeleteResponse {
        let process = key.and_then(|k| self.sup.process(k));
        let phase = process.map(|p| p.phase);
        DeleteResponse {
            pid: phase
                .and_then(|p| p.pid())
                .map_or(0, |pid| pid.as_raw() as u32),
            exit_status: container::exit_status(phase),
            exited_at: timestamp(container::exited_at(
                phase,
                process.and_then(|p| p.exited_at),
            )),
        }
    }

    pub(super) fn call_finished(&mut self, call: Finished<u64>) {
        let Some((reply, pending)) = self.calls.remove(&call.tag) else {
            return;
        };
        let ok = call.status == crate::reaper::ExitStatus::Exited(0);
        let stderr = String::from_utf8_lossy(&call.stderr);
        let said = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        match pending {
            Pending::Kill if ok => self.answer(reply, Ok(Empty {})),
            Pending::Kill => {
                let gone = ["not running", "no such process", "already finished"];
                let error = if gone.iter().any(|g| said.contains(g)) {
                    refuse(Code::NotFound, "process already finished")
                } else if said.contains("does not exist") {
                    refuse(Code::NotFound, format!("no such container: {said}"))
                } else {
                    refuse(Code::Unknown, call.failure("runc", "kill"))
                };
                self.answer::<Empty>(reply, Err(error));
            }
            Pending::Freeze { id, pause } => {
                if !ok {
                    let error = refuse(
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
                    let error = refuse(Code::Unknown, call.failure("runc", "ps"));
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
                let gone = said.contains("does not exist") || said.contains("not exist");
                if !ok && !gone {
                    if let Some(container) = self.containers.get_mut(&id) {
                        container.deleting = false;
                    }
                    let error = refuse(Code::Unknown, call.failure("runc", "delete"));
                    return self.answer::<Empty>(reply, Err(error));
                }
                self.deleted(reply, &id);
            }
            Pending::Cleanup => {}
        }
    }

    /// `runc delete` returned: the container goes, with its rootfs, processes and stdio.
    fn deleted(&mut self, reply: Reply, id: &str) {
        let Some(container) = self.containers.remove(id) else {
            return;
        };
        let init = container.init;
        if matches!(
            self.sup.process(init).map(|p| p.phase),
            Some(Phase::Exiting { .. })
        ) {
            self.finished(init);
        }
        let answer = self.delete_response(Some(init));
        self.drop_container(container);
        self.answer(reply, Ok(answer));
        let event = TaskDelete {
            container_id: id.to_string(),
            pid: answer.pid,
            exit_status: answer.exit_status,
            exited_at: answer.exited_at,
            id: id.to_string(),
        };
        self.publisher.publish(&event, &mut self.sup.lp);
    }

    /// Forgets a container: its processes and their stdio, its rootfs mounts.
    fn drop_container(&mut self, container: Container) {
        for key in std::iter::once(container.init)
            .chain(container.execs.values().filter_map(|e| e.process))
        {
            self.sup.remove(key);
            self.owners.remove(&key);
            self.launches.remove(&key);
        }
        if container.mounted {
            rootfs::unmount_all(&container.bundle.join(rootfs::ROOTFS));
        }
    }

    /// `runc delete --force`, answered to nobody.
    fn force_delete(&mut self, container: &Container) {
        let lines = CommandLines {
            settings: &container.settings,
            id: &container.id,
            bundle: &container.bundle,
        };
        let tag = self.tag();
        let spawned = self.sup.spawn_call(
            &container.runtime,
            &lines.delete(true),
            Some(&container.bundle),
            true,
            tag,
        );
        if spawned.is_ok() {
            // The reply is never sent: the call is parked only so that its return is absorbed.
            self.calls.insert(tag, (Reply::nobody(), Pending::Cleanup));
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
