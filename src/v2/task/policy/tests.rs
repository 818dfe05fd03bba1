//! Unit tests of [`super`]: every phase against every call, row by row.

use super::*;
use crate::process::phase::Pending;
use crate::reaper::ExitStatus;

const PID: Pid = Pid::from_raw(7);
const KILLED: ExitStatus = ExitStatus::Signaled {
    signal: 9,
    core_dumped: false,
};
const EXITING: Phase = Phase::Exiting {
    pid: PID,
    status: KILLED,
    pending: Pending {
        kill_all: false,
        drain: true,
        start: false,
    },
};
const EXITED: Phase = Phase::Exited {
    pid: PID,
    status: KILLED,
};

/// Every phase, and `None` for an exec not started yet.
const PHASES: [Option<Phase>; 9] = [
    None,
    Some(Phase::Planned),
    Some(Phase::Launching),
    Some(Phase::Created { pid: PID }),
    Some(Phase::Starting { pid: PID }),
    Some(Phase::Running { pid: PID }),
    Some(EXITING),
    Some(EXITED),
    Some(Phase::Failed),
];

fn refusal<T: std::fmt::Debug>(result: Result<T, CallError>) -> Option<(Code, String)> {
    result.err().map(|e| (e.code(), e.message().to_owned()))
}

fn failed_precondition(message: &str) -> Option<(Code, String)> {
    Some((Code::FailedPrecondition, message.to_owned()))
}

#[test]
fn kill_signals_a_live_process_and_refuses_one_not_made_or_stopped() {
    let finished = Some((Code::NotFound, "process already finished: e1".to_owned()));
    let not_created = failed_precondition("process e1 not created");
    let rows = [
        (None, not_created.clone()),
        (Some(Phase::Launching), not_created),
        (Some(Phase::Created { pid: PID }), None),
        (Some(Phase::Starting { pid: PID }), None),
        (Some(Phase::Running { pid: PID }), None),
        (Some(EXITING), finished.clone()),
        (Some(EXITED), finished.clone()),
        (Some(Phase::Failed), finished),
    ];
    for (phase, refused) in rows {
        let result = may_kill(phase, "e1");
        assert_eq!(refusal(result.clone()), refused, "{phase:?}");
        if refused.is_none() {
            assert_eq!(result, Ok(PID), "{phase:?}: the pid to signal");
        }
    }
}

#[test]
fn exec_is_refused_in_a_stopped_container_and_past_the_exec_limit() {
    let stopped = failed_precondition("cannot exec in a stopped state");
    for phase in PHASES.into_iter().flatten() {
        let expected = phase.is_stopped().then(|| stopped.clone()).flatten();
        assert_eq!(refusal(may_exec(phase, 0, "c1")), expected, "{phase:?}");
    }
    let running = Phase::Running { pid: PID };
    assert_eq!(refusal(may_exec(running, MAX_EXECS - 1, "c1")), None);
    assert_eq!(
        refusal(may_exec(running, MAX_EXECS, "c1")),
        Some((
            Code::ResourceExhausted,
            format!("container c1 has {MAX_EXECS} exec processes already")
        ))
    );
}

#[test]
fn update_is_allowed_from_creation_until_the_container_stops() {
    let stopped = failed_precondition("cannot update a stopped container");
    let rows = [
        (
            Phase::Launching,
            failed_precondition("container c1 is not created yet"),
        ),
        (Phase::Created { pid: PID }, None),
        (Phase::Starting { pid: PID }, None),
        (Phase::Running { pid: PID }, None),
        (EXITING, stopped.clone()),
        (EXITED, stopped.clone()),
        (Phase::Failed, stopped),
    ];
    for (phase, refused) in rows {
        assert_eq!(refusal(may_update(phase, "c1")), refused, "{phase:?}");
    }
}

#[test]
fn checkpoint_is_allowed_only_while_the_container_runs() {
    let stopped = failed_precondition("cannot checkpoint a stopped container");
    let not_running = failed_precondition("cannot checkpoint container c1: it is not running");
    let rows = [
        (Phase::Planned, not_running.clone()),
        (Phase::Launching, not_running.clone()),
        (Phase::Created { pid: PID }, not_running.clone()),
        (Phase::Starting { pid: PID }, not_running),
        (Phase::Running { pid: PID }, None),
        (EXITING, stopped.clone()),
        (EXITED, stopped.clone()),
        (Phase::Failed, stopped),
    ];
    for (phase, refused) in rows {
        assert_eq!(refusal(may_checkpoint(phase, "c1")), refused, "{phase:?}");
    }
}

#[test]
fn delete_refuses_a_process_that_runs_or_is_being_made_and_a_second_delete() {
    let running = failed_precondition("cannot delete a running process");
    let init_rows = [
        (Phase::Launching, running.clone()),
        (Phase::Created { pid: PID }, None),
        (Phase::Starting { pid: PID }, running.clone()),
        (Phase::Running { pid: PID }, running.clone()),
        (EXITING, None),
        (EXITED, None),
        (Phase::Failed, None),
    ];
    for (phase, refused) in init_rows {
        assert_eq!(
            refusal(may_delete_init(phase, false, "c1")),
            refused,
            "{phase:?}"
        );
    }
    assert_eq!(
        refusal(may_delete_init(EXITED, true, "c1")),
        failed_precondition("container c1 is being deleted")
    );
    let exec_rows = [
        (None, None),
        (Some(Phase::Launching), running.clone()),
        (Some(Phase::Running { pid: PID }), running),
        (Some(EXITING), None),
        (Some(EXITED), None),
        (Some(Phase::Failed), None),
    ];
    for (phase, refused) in exec_rows {
        assert_eq!(refusal(may_delete_exec(phase)), refused, "{phase:?}");
    }
}

#[test]
fn wait_answers_at_once_only_once_nothing_more_will_happen() {
    for phase in PHASES.into_iter().flatten() {
        assert_eq!(
            wait_now(phase),
            matches!(phase, Phase::Exited { .. } | Phase::Failed),
            "{phase:?}"
        );
    }
}

#[test]
fn every_phase_has_the_status_pid_exit_status_and_time_state_reports() {
    let at = SystemTime::UNIX_EPOCH;
    // phase, paused, status, pid, exit status, exited
    let rows = [
        (None, false, Status::Created, 0, 0, false),
        (Some(Phase::Launching), false, Status::Created, 0, 0, false),
        (
            Some(Phase::Created { pid: PID }),
            false,
            Status::Created,
            7,
            0,
            false,
        ),
        (
            Some(Phase::Starting { pid: PID }),
            false,
            Status::Created,
            7,
            0,
            false,
        ),
        (
            Some(Phase::Running { pid: PID }),
            false,
            Status::Running,
            7,
            0,
            false,
        ),
        (
            Some(Phase::Running { pid: PID }),
            true,
            Status::Paused,
            7,
            0,
            false,
        ),
        (Some(EXITING), false, Status::Stopped, 7, 137, true),
        (Some(EXITED), true, Status::Stopped, 7, 137, true),
        (Some(Phase::Failed), false, Status::Stopped, 0, 255, true),
    ];
    for (phase, paused, state, process, code, exited) in rows {
        assert_eq!(status(phase, paused), state, "{phase:?} paused={paused}");
        assert_eq!(pid(phase), process, "{phase:?}");
        assert_eq!(exit_status(phase), code, "{phase:?}");
        assert_eq!(exited_at(phase, Some(at)).is_some(), exited, "{phase:?}");
    }
    assert_eq!(exited_at(Some(EXITED), Some(at)), Some(at));
}
