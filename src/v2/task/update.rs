//! Update: the container's resources changed by `runc update`, with the OCI `LinuxResources`
//! JSON containerd sends (Docker for every `docker update` of a running or paused container,
//! `--restart` alone included; CRI for UpdateContainerResources), answered when runc returns.
//!
//! The JSON goes to runc in a file in the bundle rather than on stdin, as the Go shim does it:
//! runc reads either, crun only a file. The file is checked to be a JSON object first, so that
//! bad input gets InvalidArgument naming it rather than runc's own complaint.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::process::phase::Phase;
use crate::runtime::call::Finished;
use crate::v2::proto::task::{Empty, UpdateTaskRequest};
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::server::Reply;
use crate::v2::ttrpc::call::CallError;

use super::{policy, shim_error, Answer, Outside, RuncThen, Step, TaskService};

/// The type URL containerd's clients pack an OCI `LinuxResources` under (JSON, not protobuf).
pub const RESOURCES_TYPE_URL: &str =
    "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

impl TaskService {
    #[inline(never)]
    pub(super) fn update(
        &mut self,
        out: &mut Outside,
        request: UpdateTaskRequest,
    ) -> Answer<Step<Empty>> {
        self.updates += 1;
        let number = self.updates;
        let container = self.container(&request.id)?;
        let init = Self::phase(out, container.init).unwrap_or(Phase::Failed);
        policy::may_update(init, &request.id)?;
        let resources = request.resources.unwrap_or_default();
        if resources.type_url != RESOURCES_TYPE_URL {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!(
                    "resources of type {:.128}, not {RESOURCES_TYPE_URL}",
                    resources.type_url
                ),
            ));
        }
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&resources.value)
            .map_err(|e| CallError::new(Code::InvalidArgument, format!("resources: {e}")))?;
        let file = resources_file(&container.bundle, number);
        std::fs::write(&file, &resources.value)
            .map_err(|e| shim_error(Error::os(format!("write {}", file.display()), e)))?;
        let lines = CommandLines {
            settings: &container.settings,
            id: &request.id,
            bundle: &container.bundle,
        };
        Ok(Step::Runc {
            id: request.id.clone(),
            command: lines.update(&file),
            then: RuncThen::Update { file },
        })
    }
}

/// `runc update` returned.
pub(super) fn updated(out: &mut Outside, reply: Reply, call: &Finished<()>, file: &Path) {
    let _ = std::fs::remove_file(file);
    if call.status == crate::reaper::ExitStatus::Exited(0) {
        return out.answer(reply, Ok(Empty {}));
    }
    let error = CallError::new(Code::Unknown, call.failure("runc", "update"));
    out.answer::<Empty>(reply, Err(error));
}

/// Where the `number`th update's resources wait for runc, in the bundle.
fn resources_file(bundle: &Path, number: u64) -> PathBuf {
    bundle.join(format!(".tinyshim-update-{number}.json"))
}
