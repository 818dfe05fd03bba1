//! Delete: an exec goes at once once it has exited; a container goes once `runc delete`
//! returned, with its processes, their stdio and its rootfs mounts, and TaskDelete goes out.

use crate::error::Error;
use crate::process::phase::Phase;
use crate::process::ProcessKey;
use crate::v2::container::{self, Container};
use crate::v2::daemon::{Reply, Shim};
use crate::v2::lifecycle::{exec_pid_file, exec_spec_file};
use crate::v2::proto::events::TaskDelete;
use crate::v2::proto::task::{DeleteRequest, DeleteResponse};
use crate::v2::proto::ttrpc::Code;
use crate::v2::rootfs;
use crate::v2::runc::CommandLines;
use crate::v2::service::{no_exec, timestamp, Pending};
use crate::v2::ttrpc::request::CallError;

impl Shim {
    pub(super) fn delete(&mut self, reply: Reply, r: &DeleteRequest) -> Result<(), CallError> {
        let container = self.container(&r.id)?;
        if r.exec_id.is_empty() {
            let phase = self.sup.process(container.init).map(|p| p.phase);
            if matches!(
                phase,
                Some(Phase::Running { .. } | Phase::Starting { .. } | Phase::Launching)
            ) {
                return Err(CallError::new(
                    Code::FailedPrecondition,
                    "cannot delete a running process",
                ));
            }
            if container.deleting {
                return Err(CallError::new(
                    Code::FailedPrecondition,
                    format!("container {} is being deleted", r.id),
                ));
            }
            let pending = Pending::Delete { id: r.id.clone() };
            let spawn_failed = |e: Error| CallError::new(Code::Unknown, e.to_string());
            self.call_runc(reply, &r.id, pending, spawn_failed, |lines| lines.delete())?;
            if let Some(container) = self.containers.get_mut(&r.id) {
                container.deleting = true;
            }
            return Ok(());
        }
        let exec = container
            .execs
            .get(&r.exec_id)
            .ok_or_else(|| no_exec(&r.exec_id))?;
        let key = exec.process;
        let phase = key.and_then(|k| self.sup.process(k)).map(|p| p.phase);
        if matches!(phase, Some(Phase::Running { .. } | Phase::Launching)) {
            return Err(CallError::new(
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
            self.forget_process(key);
        }
        if let Some(container) = self.containers.get_mut(&r.id) {
            container.execs.remove(&r.exec_id);
        }
        let _ = std::fs::remove_file(exec_pid_file(&bundle, &r.exec_id));
        let _ = std::fs::remove_file(exec_spec_file(&bundle, &r.exec_id));
        self.answer(reply, Ok(answer));
        Ok(())
    }

    fn delete_response(&self, key: Option<ProcessKey>) -> DeleteResponse {
        let process = key.and_then(|k| self.sup.process(k));
        let phase = process.map(|p| p.phase);
        DeleteResponse {
            pid: container::pid(phase),
            exit_status: container::exit_status(phase),
            exited_at: timestamp(container::exited_at(
                phase,
                process.and_then(|p| p.exited_at),
            )),
        }
    }

    /// `runc delete` returned: the container goes, with its rootfs, processes and stdio.
    pub(super) fn deleted(&mut self, reply: Reply, id: &str) {
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
    pub(super) fn drop_container(&mut self, container: Container) {
        for key in std::iter::once(container.init)
            .chain(container.execs.values().filter_map(|e| e.process))
        {
            self.forget_process(key);
        }
        if !container.rootfs.is_empty() {
            rootfs::unmount_all(&container.bundle);
        }
    }

    /// Forgets a process: the core's, and whatever the frontend keeps by its key.
    pub(super) fn forget_process(&mut self, key: ProcessKey) {
        self.sup.remove(key);
        self.owners.remove(&key);
        self.launches.remove(&key);
        self.loggers.remove(&key);
    }

    /// `runc delete --force`, answered to nobody.
    pub(super) fn force_delete(&mut self, container: &Container) {
        let lines = CommandLines {
            settings: &container.settings,
            id: &container.id,
            bundle: &container.bundle,
        };
        // Not parked: nobody waits for it, and the return of a call nobody parked is ignored
        // (see `call_finished`). A failed spawn leaves nothing more to clean up here.
        let tag = self.tag();
        let _ = self.sup.spawn_call(
            &container.runtime,
            &lines.delete(),
            Some(&container.bundle),
            true,
            tag,
        );
    }
}
