//! Start: the init is released by `runc start` (TaskStart goes out when it returns); an exec is
//! made by `runc exec --detach` with the spec Exec left in the bundle (TaskExecStarted goes out
//! when it returns). Both are answered with the pid, or with runc's own words.

use crate::process::phase::Rules;
use crate::process::{Failure, LaunchPlan, ProcessKey};
use crate::supervisor::LaunchAt;
use crate::v2::proto::events::{TaskExecStarted, TaskStart};
use crate::v2::proto::task::{Empty, StartRequest, StartResponse};
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::ttrpc::call::CallError;

use super::launch::{exec_pid_file, exec_spec_file, failure_message, launch_process};
use super::records::Served;
use super::{no_exec, policy, Answer, Outside, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn start(
        &mut self,
        out: &mut Outside,
        request: &StartRequest,
    ) -> Answer<Step<Empty>> {
        let container = self.container(&request.id)?;
        if request.exec_id.is_empty() {
            let init = container.init;
            out.core.start(init).map_err(|refused| {
                CallError::new(
                    Code::FailedPrecondition,
                    format!(
                        "cannot start {}: the process is {:?}",
                        request.id, refused.phase
                    ),
                )
            })?;
            return Ok(Step::OnLaunch(init));
        }
        let exec = container
            .execs
            .get(&request.exec_id)
            .ok_or_else(|| no_exec(&request.exec_id))?;
        if exec.process.is_some() {
            return Err(CallError::new(
                Code::FailedPrecondition,
                format!("process {} was started already", request.exec_id),
            ));
        }
        let bundle = container.bundle.clone();
        let lines = CommandLines {
            settings: &container.settings,
            id: &request.id,
            bundle: &bundle,
        };
        let spec_file = exec_spec_file(&bundle, &request.exec_id);
        let pid_file = exec_pid_file(&bundle, &request.exec_id);
        let rules = Rules {
            start_after_launch: true,
            kill_all_on_exit: false,
        };
        let owner = container.settings.io_owner;
        let (key, logger) = launch_process(
            out,
            &request.id,
            &self.namespace,
            &exec.io,
            owner,
            (rules, LaunchAt::Now),
            |console| LaunchPlan {
                runtime: container.runtime.clone(),
                launch: lines.exec(&spec_file, &pid_file, console),
                cwd: Some(bundle.clone()),
                pid_file: pid_file.clone(),
                start: None,
                kill_all: None,
            },
        )?;
        let mut served = Served::new(&request.id, Some(&request.exec_id), logger);
        if let Some(exec) = self
            .containers
            .get_mut(&request.id)
            .and_then(|c| c.execs.get_mut(&request.exec_id))
        {
            exec.process = Some(key);
            served.waits = std::mem::take(&mut exec.waits);
        }
        self.served.insert(key, served);
        Ok(Step::OnLaunch(key))
    }

    /// `runc exec` returned with the exec's process.
    pub(super) fn exec_launched(&mut self, out: &mut Outside, key: ProcessKey) {
        let Some(served) = self.served.get_mut(&key) else {
            return;
        };
        let exec_id = served.exec_id.clone().unwrap_or_default();
        if let Some(container) = self.containers.get(&served.id) {
            let _ = std::fs::remove_file(exec_spec_file(&container.bundle, &exec_id));
        }
        let pid = policy::pid(Self::phase(out, key));
        if let Some(reply) = served.owes.take() {
            out.answer(reply, Ok(StartResponse { pid }));
        }
        let event = TaskExecStarted {
            container_id: served.id.clone(),
            exec_id,
            pid,
        };
        out.publish(&event);
    }

    /// `runc exec` failed. Its waiters learn that it never ran; the exec stays until Delete.
    /// Its outputs close now, after what the runtime wrote into them: the client waits for their
    /// end before it deletes the exec, so held open they would hang it for good.
    pub(super) fn exec_launch_failed(
        &mut self,
        out: &mut Outside,
        key: ProcessKey,
        failure: Failure,
    ) {
        let Some(served) = self.served.get_mut(&key) else {
            return;
        };
        let owes = served.owes.take();
        let (id, exec_id) = (
            served.id.clone(),
            served.exec_id.clone().unwrap_or_default(),
        );
        self.remove_spec_file(&id, &exec_id);
        let Some(bundle) = self.containers.get(&id).map(|c| c.bundle.clone()) else {
            return;
        };
        let message = failure_message(failure, "exec", &bundle);
        if let Some(reply) = owes {
            out.answer::<Empty>(reply, Err(CallError::new(Code::Unknown, message)));
        }
        self.answer_waits(out, key);
        out.core.flush_outputs(key);
        out.core.close_stdio(key);
    }

    /// `runc start` returned: the init runs.
    pub(super) fn started(&mut self, out: &mut Outside, key: ProcessKey) {
        let Some(served) = self.served.get_mut(&key) else {
            return;
        };
        let pid = policy::pid(Self::phase(out, key));
        if let Some(reply) = served.owes.take() {
            out.answer(reply, Ok(StartResponse { pid }));
        }
        let event = TaskStart {
            container_id: served.id.clone(),
            pid,
        };
        out.publish(&event);
    }

    /// `runc start` failed; the init stays created.
    pub(super) fn start_failed(&mut self, out: &mut Outside, key: ProcessKey, failure: Failure) {
        let Some(served) = self.served.get_mut(&key) else {
            return;
        };
        let Some(container) = self.containers.get(&served.id) else {
            return;
        };
        let message = failure_message(failure, "start", &container.bundle);
        if let Some(reply) = served.owes.take() {
            out.answer::<Empty>(reply, Err(CallError::new(Code::Unknown, message)));
        }
    }

    fn remove_spec_file(&self, id: &str, exec_id: &str) {
        if let Some(container) = self.containers.get(id) {
            let _ = std::fs::remove_file(exec_spec_file(&container.bundle, exec_id));
        }
    }
}
