//! Pause and Resume: `runc pause` and `runc resume`, answered when they return (TaskPaused or
//! TaskResumed goes out then).

use crate::runtime::call::Finished;
use crate::v2::proto::events::{TaskPaused, TaskResumed};
use crate::v2::proto::task::Empty;
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::server::Reply;
use crate::v2::ttrpc::call::CallError;

use super::{Answer, Outside, RuncThen, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn freeze(&self, id: &str, pause: bool) -> Answer<Step<Empty>> {
        let container = self.container(id)?;
        let lines = CommandLines {
            settings: &container.settings,
            id,
            bundle: &container.bundle,
        };
        Ok(Step::Runc {
            id: id.to_string(),
            command: lines.freeze(pause),
            then: RuncThen::Freeze {
                id: id.to_string(),
                pause,
            },
        })
    }

    /// `runc pause` or `runc resume` returned.
    pub(super) fn frozen(
        &mut self,
        out: &mut Outside,
        reply: Reply,
        call: &Finished<()>,
        id: &str,
        pause: bool,
    ) {
        if call.status != crate::reaper::ExitStatus::Exited(0) {
            let subcommand = if pause { "pause" } else { "resume" };
            let error = CallError::new(Code::Unknown, call.failure("runc", subcommand));
            return out.answer::<Empty>(reply, Err(error));
        }
        if let Some(container) = self.containers.get_mut(id) {
            container.paused = pause;
        }
        let container_id = id.to_string();
        if pause {
            out.publish(&TaskPaused { container_id });
        } else {
            out.publish(&TaskResumed { container_id });
        }
        out.answer(reply, Ok(Empty {}));
    }
}
