//! Kill: an init is signalled by `runc kill` (with `--all` if asked) and answered when it
//! returns; an exec is signalled directly, as the Go shim does (runc would signal the
//! container's init), and `all` is ignored for it.

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::runtime::call::Finished;
use crate::v2::proto::task::{Empty, KillRequest};
use crate::v2::proto::ttrpc::Code;
use crate::v2::runc::CommandLines;
use crate::v2::server::Reply;
use crate::v2::ttrpc::call::CallError;

use super::{policy, Answer, Outside, RuncThen, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn kill(&mut self, out: &mut Outside, request: &KillRequest) -> Answer<Step<Empty>> {
        let key = self.process_of(&request.id, &request.exec_id)?;
        let name = if request.exec_id.is_empty() {
            &request.id
        } else {
            &request.exec_id
        };
        let pid = policy::may_kill(key.and_then(|key| Self::phase(out, key)), name)?;
        if request.exec_id.is_empty() {
            let container = self.container(&request.id)?;
            let lines = CommandLines {
                settings: &container.settings,
                id: &request.id,
                bundle: &container.bundle,
            };
            return Ok(Step::Runc {
                id: request.id.clone(),
                command: lines.kill(request.signal, request.all),
                then: RuncThen::Kill,
            });
        }
        signal(pid, request.signal, name)?;
        Ok(Step::Answer(Empty {}))
    }
}

/// Sends signal number `signal` to `pid`, the live process `name`: the policy said it has not
/// been reaped, so the pid cannot name another process.
fn signal(pid: Pid, signal: u32, name: &str) -> Answer<()> {
    let invalid = || CallError::new(Code::InvalidArgument, format!("signal {signal}"));
    let number = i32::try_from(signal).map_err(|_| invalid())?;
    // nix's Signal has no value for the real-time signals, which kill(2) takes as numbers.
    // SAFETY: kill takes no pointers; `pid` is a process that has not been reaped.
    if unsafe { nix::libc::kill(pid.as_raw(), number) } == 0 {
        return Ok(());
    }
    let errno = Errno::last();
    let code = match errno {
        Errno::ESRCH => Code::NotFound,
        _ => Code::InvalidArgument,
    };
    Err(CallError::new(
        code,
        format!("kill {name} with {signal}: {}", errno.desc()),
    ))
}

/// `runc kill` returned.
pub(super) fn killed(out: &mut Outside, reply: Reply, call: &Finished<()>) {
    if call.status == crate::reaper::ExitStatus::Exited(0) {
        return out.answer(reply, Ok(Empty {}));
    }
    let said = call.last_stderr_line().unwrap_or_default();
    let gone = ["not running", "no such process", "already finished"];
    let error = if gone.iter().any(|g| said.contains(g)) {
        CallError::new(Code::NotFound, "process already finished")
    } else if said.contains("does not exist") {
        CallError::new(Code::NotFound, format!("no such container: {said}"))
    } else {
        CallError::new(Code::Unknown, call.failure("runc", "kill"))
    };
    out.answer::<Empty>(reply, Err(error));
}
