//! Delete: an exec goes at once once it has exited (or was never started); a container goes once
//! `runc delete` returned, with its processes, their stdio and its rootfs mounts, and
//! TaskDelete goes out. A drain still under way is cut short: whoever waits hears of the exit
//! now.

use crate::process::ProcessKey;
use crate::runtime::call::Finished;
use crate::v2::proto::events::TaskDelete;
use crate::v2::proto::task::{DeleteRequest, DeleteResponse, Empty};
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::server::Reply;
use crate::v2::ttrpc::call::CallError;

use super::launch::{exec_pid_file, exec_spec_file};
use super::{no_exec, policy, timestamp, Answer, Outside, RuncThen, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn delete(
        &mut self,
        out: &mut Outside,
        request: &DeleteRequest,
    ) -> Answer<Step<DeleteResponse>> {
        let container = self.container(&request.id)?;
        if request.exec_id.is_empty() {
            let init =
                Self::phase(out, container.init).unwrap_or(crate::process::phase::Phase::Failed);
            policy::may_delete_init(init, container.deleting, &request.id)?;
            let lines = CommandLines {
                settings: &container.settings,
                id: &request.id,
                bundle: &container.bundle,
            };
            return Ok(Step::Runc {
                id: request.id.clone(),
                command: lines.delete(),
                then: RuncThen::Delete {
                    id: request.id.clone(),
                },
            });
        }
        let exec = container
            .execs
            .get(&request.exec_id)
            .ok_or_else(|| no_exec(&request.exec_id))?;
        let key = exec.process;
        policy::may_delete_exec(key.and_then(|key| Self::phase(out, key)))?;
        let bundle = container.bundle.clone();
        let answer = delete_response(out, key);
        if let Some(key) = key {
            self.finish_exit_early(out, key);
            self.forget_process(out, key);
        }
        if let Some(exec) = self
            .containers
            .get_mut(&request.id)
            .and_then(|c| c.execs.remove(&request.exec_id))
        {
            // Waits for an exec that never started: it never will now.
            for reply in exec.waits {
                out.answer::<Empty>(reply, Err(no_exec(&request.exec_id)));
            }
        }
        let _ = std::fs::remove_file(exec_pid_file(&bundle, &request.exec_id));
        let _ = std::fs::remove_file(exec_spec_file(&bundle, &request.exec_id));
        Ok(Step::Answer(answer))
    }

    /// `runc delete` returned: the container goes, with its rootfs, processes and stdio.
    pub(super) fn runc_deleted(
        &mut self,
        out: &mut Outside,
        reply: Reply,
        call: &Finished<()>,
        id: &str,
    ) {
        let said = call.last_stderr_line().unwrap_or_default();
        let ok = call.status == crate::reaper::ExitStatus::Exited(0);
        if !ok && !said.contains("not exist") {
            if let Some(container) = self.containers.get_mut(id) {
                container.deleting = false;
            }
            let error = CallError::new(Code::Unknown, call.failure("runc", "delete"));
            return out.answer::<Empty>(reply, Err(error));
        }
        let Some(container) = self.containers.remove(id) else {
            return out.answer::<Empty>(reply, Err(super::not_created(id)));
        };
        let init = container.init;
        self.finish_exit_early(out, init);
        let answer = delete_response(out, Some(init));
        self.drop_container(out, container);
        out.answer(reply, Ok(answer));
        out.publish(&TaskDelete {
            container_id: id.to_string(),
            pid: answer.pid,
            exit_status: answer.exit_status,
            exited_at: answer.exited_at,
            id: id.to_string(),
        });
    }

    /// The exit of a process whose drain is still under way is made final now.
    fn finish_exit_early(&mut self, out: &mut Outside, key: ProcessKey) {
        let draining =
            Self::phase(out, key).is_some_and(|phase| phase.is_stopped() && !phase.is_over());
        if draining {
            self.finished(out, key);
        }
    }
}

/// What Delete answers for a process (`None`: an exec never started).
fn delete_response(out: &Outside, key: Option<ProcessKey>) -> DeleteResponse {
    let process = key.and_then(|k| out.core.process(k));
    let phase = process.map(|p| p.phase());
    DeleteResponse {
        pid: policy::pid(phase),
        exit_status: policy::exit_status(phase),
        exited_at: timestamp(policy::exited_at(
            phase,
            process.and_then(|p| p.exited_at()),
        )),
    }
}
