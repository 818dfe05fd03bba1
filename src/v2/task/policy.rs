//! The task service's call policy: which calls a process's phase allows, the code and message of
//! each refusal (as the README's error table promises: containerd and its clients react to the
//! codes), and how a phase looks to State, Wait and Delete. Pure functions of the phase, so that
//! every row is unit-tested without a runtime.

use std::time::SystemTime;

use nix::unistd::Pid;

use crate::process::phase::Phase;
use crate::v2::proto::ttrpc::Code;
use crate::v2::proto::types::Status;
use crate::v2::ttrpc::call::CallError;

/// Most exec processes one container may hold at once (added or running, not yet deleted).
pub const MAX_EXECS: usize = 1024;

/// The exit status of a process that never ran, as the Go shim reports it.
pub const NEVER_RAN: u32 = 255;

/// Whether a Kill may signal the process named `name` (`phase` is `None` for an exec not
/// started yet): the pid to signal, or the refusal. A process not made yet is
/// FailedPrecondition, one that has stopped NotFound (`WithProcessKill` in containerd tolerates
/// both).
pub fn may_kill(phase: Option<Phase>, name: &str) -> Result<Pid, CallError> {
    match phase {
        Some(phase) if phase.is_stopped() => Err(CallError::new(
            Code::NotFound,
            format!("process already finished: {name}"),
        )),
        Some(phase) if phase.is_alive() => phase.pid().ok_or_else(|| not_created(name)),
        _ => Err(not_created(name)),
    }
}

fn not_created(name: &str) -> CallError {
    CallError::new(
        Code::FailedPrecondition,
        format!("process {name} not created"),
    )
}

/// Whether Exec may add a process to a container whose init is in `init` and which holds
/// `execs` exec processes already.
pub fn may_exec(init: Phase, execs: usize, id: &str) -> Result<(), CallError> {
    if init.is_stopped() {
        return Err(CallError::new(
            Code::FailedPrecondition,
            "cannot exec in a stopped state",
        ));
    }
    if execs >= MAX_EXECS {
        return Err(CallError::new(
            Code::ResourceExhausted,
            format!("container {id} has {MAX_EXECS} exec processes already"),
        ));
    }
    Ok(())
}

/// Whether Update may change the resources of container `id` whose init is in `init`: from
/// its creation until it stops, paused included.
pub fn may_update(init: Phase, id: &str) -> Result<(), CallError> {
    if init.is_stopped() {
        return Err(CallError::new(
            Code::FailedPrecondition,
            "cannot update a stopped container",
        ));
    }
    if matches!(init, Phase::Launching | Phase::Planned) {
        return Err(CallError::new(
            Code::FailedPrecondition,
            format!("container {id} is not created yet"),
        ));
    }
    Ok(())
}

/// Whether Checkpoint may dump container `id` whose init is in `init`: only while it runs,
/// paused included (containerd pauses it for the dump).
pub fn may_checkpoint(init: Phase, id: &str) -> Result<(), CallError> {
    match init {
        Phase::Running { .. } => Ok(()),
        phase if phase.is_stopped() => Err(CallError::new(
            Code::FailedPrecondition,
            "cannot checkpoint a stopped container",
        )),
        _ => Err(CallError::new(
            Code::FailedPrecondition,
            format!("cannot checkpoint container {id}: it is not running"),
        )),
    }
}

/// Whether Delete may remove container `id` whose init is in `init`; `deleting` says a Delete
/// is under way already. A created init may go (its start failed, or nobody started it).
pub fn may_delete_init(init: Phase, deleting: bool, id: &str) -> Result<(), CallError> {
    if matches!(
        init,
        Phase::Launching | Phase::Starting { .. } | Phase::Running { .. }
    ) {
        return Err(running());
    }
    if deleting {
        return Err(CallError::new(
            Code::FailedPrecondition,
            format!("container {id} is being deleted"),
        ));
    }
    Ok(())
}

/// Whether Delete may remove an exec in `phase` (`None`: never started).
pub fn may_delete_exec(phase: Option<Phase>) -> Result<(), CallError> {
    match phase {
        Some(phase) if phase == Phase::Launching || phase.is_alive() => Err(running()),
        _ => Ok(()),
    }
}

fn running() -> CallError {
    CallError::new(Code::FailedPrecondition, "cannot delete a running process")
}

/// Whether a Wait is answered at once: nothing more will happen to the process.
pub fn wait_now(phase: Phase) -> bool {
    phase.is_over()
}

/// How a process looks to State; `None` is an exec not started yet.
pub fn status(phase: Option<Phase>, paused: bool) -> Status {
    match phase {
        Some(Phase::Running { .. }) if paused => Status::Paused,
        Some(Phase::Running { .. }) => Status::Running,
        Some(phase) if phase.is_stopped() => Status::Stopped,
        _ => Status::Created,
    }
}

/// The pid the protocol reports for a process: 0 before its runtime call has given one.
pub fn pid(phase: Option<Phase>) -> u32 {
    phase
        .and_then(|p| p.pid())
        .map_or(0, |pid| pid.as_raw().unsigned_abs())
}

/// The exit status State, Wait and Delete report: the code of a reaped process,
/// [`NEVER_RAN`] for one that never ran, 0 before the exit.
pub fn exit_status(phase: Option<Phase>) -> u32 {
    match phase {
        Some(Phase::Failed) => NEVER_RAN,
        Some(phase) => phase.status().map_or(0, |status| {
            u32::try_from(status.code()).unwrap_or(NEVER_RAN)
        }),
        None => 0,
    }
}

/// When a process exited, for State, Wait and Delete: when it was reaped (`reaped_at`), or now
/// for one that never ran; `None` before the exit.
pub fn exited_at(phase: Option<Phase>, reaped_at: Option<SystemTime>) -> Option<SystemTime> {
    match phase {
        Some(phase) if phase.is_stopped() => Some(reaped_at.unwrap_or_else(SystemTime::now)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
