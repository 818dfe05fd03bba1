//! Checkpoint: `runc checkpoint` of a running (or paused) container with criu, answered when it
//! returns. With no options (what containerd 2.x's CRI sends a runtime not named runc) the
//! container goes on running; the image goes where the options say, else to the request's path
//! (containerd's own temporary directory, which it then stores). criu works in the options' work
//! directory, else in one in the bundle that goes once runc returns; when the dump fails,
//! criu's log is kept as `<bundle>/criu-dump.log` and the error points to it. (Restoring is
//! Create with a checkpoint: see [`super::create`].)

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::process::phase::Phase;
use crate::runtime::call::Finished;
use crate::v2::proto::runc::CheckpointOptions;
use crate::v2::proto::task::{CheckpointTaskRequest, Empty};
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::server::Reply;
use crate::v2::ttrpc::call::CallError;

use super::{policy, shim_error, Answer, Outside, RuncThen, Step, TaskService};

/// Where criu's log of a failed dump is kept, in the bundle.
pub const DUMP_LOG: &str = "criu-dump.log";

/// Where criu works in the bundle when the options name no work directory.
const DEFAULT_WORK: &str = "criu-work";

impl TaskService {
    #[inline(never)]
    pub(super) fn checkpoint(
        &mut self,
        out: &mut Outside,
        request: &CheckpointTaskRequest,
    ) -> Answer<Step<Empty>> {
        let container = self.container(&request.id)?;
        let init = Self::phase(out, container.init).unwrap_or(Phase::Failed);
        policy::may_checkpoint(init, &request.id)?;
        let options = match &request.options {
            Some(any) if !any.type_url.is_empty() => {
                any.unpack::<CheckpointOptions>().map_err(|e| {
                    CallError::new(Code::InvalidArgument, format!("checkpoint options: {e}"))
                })?
            }
            _ => CheckpointOptions::default(),
        };
        let image = if options.image_path.is_empty() {
            PathBuf::from(&request.path)
        } else {
            PathBuf::from(&options.image_path)
        };
        if image.as_os_str().is_empty() {
            return Err(CallError::new(
                Code::InvalidArgument,
                "checkpoint: no image path",
            ));
        }
        let (work, owned) = if options.work_path.is_empty() {
            (default_work(&container.bundle), true)
        } else {
            (PathBuf::from(&options.work_path), false)
        };
        std::fs::create_dir_all(&work)
            .map_err(|e| shim_error(Error::os(format!("mkdir {}", work.display()), e)))?;
        let lines = CommandLines {
            settings: &container.settings,
            id: &request.id,
            bundle: &container.bundle,
        };
        Ok(Step::Runc {
            id: request.id.clone(),
            command: lines.checkpoint(&image, &work, &options),
            then: RuncThen::Checkpoint {
                bundle: container.bundle.clone(),
                work: owned.then_some(work.clone()),
                log: work.join("dump.log"),
            },
        })
    }
}

/// `runc checkpoint` returned. `work` is the work directory the shim made, to remove; `log`
/// criu's log in the work directory.
pub(super) fn checkpointed(
    out: &mut Outside,
    reply: Reply,
    call: &Finished<()>,
    (bundle, work, log): (&Path, Option<&Path>, &Path),
) {
    let answer = if call.status == crate::reaper::ExitStatus::Exited(0) {
        Ok(Empty {})
    } else {
        let kept = bundle.join(DUMP_LOG);
        let message = match std::fs::copy(log, &kept) {
            Ok(_) => format!(
                "{}: criu's log is {}",
                call.failure("runc", "checkpoint"),
                kept.display()
            ),
            Err(_) => call.failure("runc", "checkpoint"),
        };
        Err(CallError::new(Code::Unknown, message))
    };
    if let Some(work) = work {
        let _ = std::fs::remove_dir_all(work);
    }
    out.answer(reply, answer);
}

/// The work directory in `bundle`: under containerd's `work` directory (the task's own, linked
/// from the bundle) when there is one, as the Go shim puts it.
fn default_work(bundle: &Path) -> PathBuf {
    let work = bundle.join("work");
    if work.is_dir() {
        work.join(DEFAULT_WORK)
    } else {
        bundle.join(DEFAULT_WORK)
    }
}
