//! Exec: an exec process added to a running container, its spec kept in the bundle until its
//! Start runs it (TaskExecAdded goes out at once).

use crate::error::Error;
use crate::v2::proto::events::TaskExecAdded;
use crate::v2::proto::google::Any;
use crate::v2::proto::task::{Empty, ExecProcessRequest};
use crate::v2::proto::ttrpc::Code;
use crate::v2::ttrpc::call::CallError;

use super::launch::exec_spec_file;
use super::records::{valid_id, Exec, Io};
use super::{policy, shim_error, Answer, Outside, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn exec(
        &mut self,
        out: &mut Outside,
        request: ExecProcessRequest,
    ) -> Answer<Step<Empty>> {
        let container = self.container(&request.id)?;
        if !valid_id(&request.exec_id) {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!("invalid exec id {:?}", request.exec_id),
            ));
        }
        if container.execs.contains_key(&request.exec_id) {
            return Err(CallError::new(
                Code::AlreadyExists,
                format!("id {} already exists", request.exec_id),
            ));
        }
        let init = Self::phase(out, container.init).unwrap_or(crate::process::phase::Phase::Failed);
        policy::may_exec(init, container.execs.len(), &request.id)?;
        let spec = request
            .spec
            .map(|Any { value, .. }| value)
            .unwrap_or_default();
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&spec).map_err(
            |e| CallError::new(Code::InvalidArgument, format!("exec process spec: {e}")),
        )?;
        // On disk until the start, where runc reads it: memory stays flat however many execs
        // wait to be started.
        let spec_file = exec_spec_file(&container.bundle, &request.exec_id);
        std::fs::write(&spec_file, &spec)
            .map_err(|e| shim_error(Error::os(format!("write {}", spec_file.display()), e)))?;
        let exec = Exec {
            io: Io {
                stdin: request.stdin,
                stdout: request.stdout,
                stderr: request.stderr,
                terminal: request.terminal,
            },
            process: None,
            waits: Vec::new(),
        };
        if let Some(container) = self.containers.get_mut(&request.id) {
            container.execs.insert(request.exec_id.clone(), exec);
        }
        out.publish(&TaskExecAdded {
            container_id: request.id,
            exec_id: request.exec_id,
        });
        Ok(Step::Answer(Empty {}))
    }
}
