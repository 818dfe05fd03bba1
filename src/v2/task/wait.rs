//! Wait, and the exit it waits for: a Wait is answered at once for a process whose exit is
//! final, else parked in the process's record (or the exec's, before its Start) and answered
//! once the exit is final, after the outputs were drained; TaskExit goes out then.

use std::time::{Duration, SystemTime};

use crate::process::drain::{AfterEof, DrainPolicy};
use crate::process::ProcessKey;
use crate::v2::proto::events::TaskExit;
use crate::v2::proto::task::{WaitRequest, WaitResponse};

use super::{policy, timestamp, Answer, Outside, Step, TaskService};

/// The drain of a v2 process before Wait is answered and TaskExit published: every output to
/// EOF and read by the client (ctr drops its FIFOs as soon as Wait returns), but no longer than
/// this without progress (something the process left holds its stdout, or nobody reads:
/// `ctr run -d`).
pub const DRAIN: DrainPolicy = DrainPolicy {
    client: Duration::from_secs(2),
    silence: Some(Duration::from_secs(2)),
    after_eof: AfterEof::Empty,
};

impl TaskService {
    #[inline(never)]
    pub(super) fn wait(
        &mut self,
        out: &mut Outside,
        request: &WaitRequest,
    ) -> Answer<Step<WaitResponse>> {
        let Some(key) = self.process_of(&request.id, &request.exec_id)? else {
            // An exec not started yet: the Wait moves to its process when it starts.
            return Ok(Step::OnExecExit {
                id: request.id.clone(),
                exec_id: request.exec_id.clone(),
            });
        };
        match Self::phase(out, key) {
            Some(phase) if policy::wait_now(phase) => Ok(Step::Answer(exit_of(out, key))),
            _ => Ok(Step::OnExit(key)),
        }
    }

    /// The exit is final: Wait is answered and TaskExit goes out.
    pub(super) fn finished(&mut self, out: &mut Outside, key: ProcessKey) {
        let Some(served) = self.served.get(&key) else {
            return;
        };
        let (container_id, id) = (served.id.clone(), served.name().to_string());
        let answer = self.answer_waits(out, key);
        out.publish(&TaskExit {
            container_id,
            id,
            pid: policy::pid(Self::phase(out, key)),
            exit_status: answer.exit_status,
            exited_at: answer.exited_at,
        });
    }

    /// Answers every Wait of process `key` with its exit; returns that answer.
    pub(super) fn answer_waits(&mut self, out: &mut Outside, key: ProcessKey) -> WaitResponse {
        let answer = exit_of(out, key);
        let waits = self
            .served
            .get_mut(&key)
            .map(|served| std::mem::take(&mut served.waits))
            .unwrap_or_default();
        for reply in waits {
            out.answer(reply, Ok(answer));
        }
        answer
    }
}

/// How process `key` exited, as Wait answers it.
fn exit_of(out: &Outside, key: ProcessKey) -> WaitResponse {
    let process = out.core.process(key);
    let phase = process.map(|p| p.phase());
    let at = policy::exited_at(phase, process.and_then(|p| p.exited_at()))
        .unwrap_or_else(SystemTime::now);
    WaitResponse {
        exit_status: policy::exit_status(phase),
        exited_at: timestamp(Some(at)),
    }
}
