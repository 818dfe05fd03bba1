//! Exec: an exec process added to a running container, its spec kept in the bundle until its
//! Start runs it (TaskExecAdded goes out at once).

use crate::error::Error;
use crate::v2::proto::events::TaskExecAdded;
use crate::v2::proto::google::Any;
use crate::v2::proto::task::{Empty, ExecProcessRequest};
use crate::v2::proto::ttrpc::Code;
use crate::v2::ttrpc::call::CallError;

use super::records::{valid_id, Exec, Io};
use super::start::exec_spec_file;
use super::{policy, shim_error, Answer, Outside, Step, TaskService};

impl TaskService {
    pub(super) fn exec(&mut self, out: &mut Outside, r: ExecProcessRequest) -> Answer<Step<Empty>> {
        let container = self.container(&r.id)?;
        if !valid_id(&r.exec_id) {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!("invalid exec id {:?}", r.exec_id),
            ));
        }
        if container.execs.contains_key(&r.exec_id) {
            return Err(CallError::new(
                Code::AlreadyExists,
                format!("id {} already exists", r.exec_id),
            ));
        }
        let init = Self::phase(out, container.init).unwrap_or(crate::process::phase::Phase::Failed);
        policy::may_exec(init, container.execs.len(), &r.id)?;
        let spec = r.spec.map(|Any { value, .. }| value).unwrap_or_default();
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&spec).map_err(
            |e| CallError::new(Code::InvalidArgument, format!("exec process spec: {e}")),
        )?;
        // On disk until the start, where runc reads it: memory stays flat however many execs
        // wait to be started.
        let spec_file = exec_spec_file(&container.bundle, &r.exec_id);
        std::fs::write(&spec_file, &spec)
            .map_err(|e| shim_error(Error::os(format!("write {}", spec_file.display()), e)))?;
        let exec = Exec {
            io: Io {
                stdin: r.stdin,
                stdout: r.stdout,
                stderr: r.stderr,
                terminal: r.terminal,
            },
            process: None,
            waits: Vec::new(),
        };
        if let Some(container) = self.containers.get_mut(&r.id) {
            container.execs.insert(r.exec_id.clone(), exec);
        }
        out.publish(&TaskExecAdded {
            container_id: r.id,
            exec_id: r.exec_id,
        });
        Ok(Step::Answer(Empty {}))
    }
}
