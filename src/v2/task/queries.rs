//! The calls that ask or adjust without changing a process's life: State, Pids (`runc ps`,
//! answered when it returns), Connect, ResizePty and CloseIO.

use crate::runtime::call::Finished;
use crate::v2::proto::google::Any;
use crate::v2::proto::runc::ProcessDetails;
use crate::v2::proto::task::{
    CloseIoRequest, ConnectRequest, ConnectResponse, Empty, PidsRequest, PidsResponse,
    ResizePtyRequest, StateRequest, StateResponse,
};
use crate::v2::proto::ttrpc::Code;
use crate::v2::proto::types::ProcessInfo;
use crate::v2::runc::{self, CommandLines};
use crate::v2::server::Reply;
use crate::v2::ttrpc::call::CallError;

use super::{no_exec, policy, timestamp, Answer, Outside, RuncThen, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn state(
        &self,
        out: &Outside,
        request: &StateRequest,
    ) -> Answer<Step<StateResponse>> {
        let container = self.container(&request.id)?;
        let key = self.process_of(&request.id, &request.exec_id)?;
        let process = key.and_then(|key| out.core.process(key));
        let phase = process.map(|p| p.phase());
        let (id, io) = if request.exec_id.is_empty() {
            (&request.id, &container.io)
        } else {
            let exec = container
                .execs
                .get(&request.exec_id)
                .ok_or_else(|| no_exec(&request.exec_id))?;
            (&request.exec_id, &exec.io)
        };
        let exited = policy::exited_at(phase, process.and_then(|p| p.exited_at()));
        Ok(Step::Answer(StateResponse {
            id: id.clone(),
            bundle: container.bundle.display().to_string(),
            pid: policy::pid(phase),
            status: policy::status(phase, container.paused) as i32,
            stdin: io.stdin.clone(),
            stdout: io.stdout.clone(),
            stderr: io.stderr.clone(),
            terminal: io.terminal,
            exit_status: policy::exit_status(phase),
            exited_at: timestamp(exited),
            exec_id: request.exec_id.clone(),
        }))
    }

    #[inline(never)]
    pub(super) fn pids(&self, request: &PidsRequest) -> Answer<Step<Empty>> {
        let container = self.container(&request.id)?;
        let lines = CommandLines {
            settings: &container.settings,
            id: &request.id,
            bundle: &container.bundle,
        };
        Ok(Step::Runc {
            id: request.id.clone(),
            command: lines.ps(),
            then: RuncThen::Pids {
                id: request.id.clone(),
            },
        })
    }

    /// `runc ps` returned: its pids, exec processes named by their exec ids.
    pub(super) fn listed(&self, out: &mut Outside, reply: Reply, call: &Finished<()>, id: &str) {
        let ok = call.status == crate::reaper::ExitStatus::Exited(0);
        let Some(pids) = ok.then(|| runc::parse_ps(&call.stdout)).flatten() else {
            let error = CallError::new(Code::Unknown, call.failure("runc", "ps"));
            return out.answer::<Empty>(reply, Err(error));
        };
        let exec_of = |pid: u32| {
            let container = self.containers.get(id)?;
            container.execs.iter().find_map(|(exec_id, exec)| {
                let phase = exec.process.and_then(|key| Self::phase(out, key));
                (policy::pid(phase) == pid).then(|| exec_id.clone())
            })
        };
        let processes = pids
            .into_iter()
            .map(|pid| ProcessInfo {
                pid,
                info: exec_of(pid).map(|exec_id| Any::pack(&ProcessDetails { exec_id })),
            })
            .collect();
        out.answer(reply, Ok(PidsResponse { processes }));
    }

    #[inline(never)]
    pub(super) fn connect(
        &self,
        out: &Outside,
        request: &ConnectRequest,
    ) -> Answer<Step<ConnectResponse>> {
        let task_pid = self
            .containers
            .get(&request.id)
            .map_or(0, |c| policy::pid(Self::phase(out, c.init)));
        Ok(Step::Answer(ConnectResponse {
            shim_pid: std::process::id(),
            task_pid,
            version: format!("tinyshim {}", env!("CARGO_PKG_VERSION")),
        }))
    }

    #[inline(never)]
    pub(super) fn resize_pty(
        &self,
        out: &mut Outside,
        request: &ResizePtyRequest,
    ) -> Answer<Step<Empty>> {
        if let Some(key) = self.process_of(&request.id, &request.exec_id)? {
            let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
            out.core
                .resize(key, clamp(request.width), clamp(request.height));
        }
        Ok(Step::Answer(Empty {}))
    }

    #[inline(never)]
    pub(super) fn close_io(
        &self,
        out: &mut Outside,
        request: &CloseIoRequest,
    ) -> Answer<Step<Empty>> {
        if let Some(key) = self.process_of(&request.id, &request.exec_id)? {
            if request.stdin {
                out.core.close_stdin(key);
            }
        }
        Ok(Step::Answer(Empty {}))
    }
}
