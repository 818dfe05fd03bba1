//! Unit tests of [`super`]: every transition, and every refusal, without a runtime.

use super::*;

const PID: Pid = Pid::from_raw(42);
const STATUS: ExitStatus = ExitStatus::Signaled {
    signal: 37,
    core_dumped: false,
};

/// The v0.2 init: running once created (the daemon runs `start`), `kill --all` on exit.
const V02_INIT: Rules = Rules {
    start_after_launch: true,
    kill_all_on_exit: true,
};
/// An exec process of either frontend.
const EXEC: Rules = Rules {
    start_after_launch: true,
    kill_all_on_exit: false,
};
/// The v2 init in its own pid namespace: created, then started by a request.
const V2_INIT: Rules = Rules {
    start_after_launch: false,
    kill_all_on_exit: false,
};

fn step(phase: Phase, rules: Rules, event: Event) -> Transition {
    next(phase, rules, event).unwrap_or_else(|r| panic!("refused: {r:?}"))
}

fn pending(kill_all: bool, drain: bool, start: bool) -> Pending {
    Pending {
        kill_all,
        drain,
        start,
    }
}

fn exiting(pending: Pending) -> Phase {
    Phase::Exiting {
        pid: PID,
        status: STATUS,
        pending,
    }
}

const EXITED: Phase = Phase::Exited {
    pid: PID,
    status: STATUS,
};

#[test]
fn a_launched_process_runs_at_once_or_waits_for_its_start() {
    let launched = Event::Launched { pid: PID };
    assert_eq!(
        step(Phase::Launching, V02_INIT, launched),
        (Phase::Running { pid: PID }, vec![Effect::Launched])
    );
    assert_eq!(
        step(Phase::Launching, V2_INIT, launched),
        (Phase::Created { pid: PID }, vec![Effect::Launched])
    );
}

#[test]
fn a_failed_launch_ends_the_process() {
    assert_eq!(
        step(Phase::Launching, EXEC, Event::LaunchFailed),
        (Phase::Failed, vec![Effect::LaunchFailed])
    );
}

#[test]
fn a_start_runs_start_and_its_return_decides() {
    let created = Phase::Created { pid: PID };
    let starting = Phase::Starting { pid: PID };
    assert_eq!(
        step(created, V2_INIT, Event::Start),
        (starting, vec![Effect::RunStart])
    );
    assert_eq!(
        step(starting, V2_INIT, Event::StartReturned { ok: true }),
        (Phase::Running { pid: PID }, vec![Effect::Started])
    );
    assert_eq!(
        step(starting, V2_INIT, Event::StartReturned { ok: false }),
        (created, vec![Effect::StartFailed])
    );
}

#[test]
fn a_reaped_process_reports_its_status_and_drains_killing_all_where_the_rules_say() {
    let running = Phase::Running { pid: PID };
    assert_eq!(
        step(running, V02_INIT, Event::Reaped(STATUS)),
        (
            exiting(pending(true, true, false)),
            vec![Effect::Exit(STATUS), Effect::KillAll, Effect::Drain]
        )
    );
    assert_eq!(
        step(running, EXEC, Event::Reaped(STATUS)),
        (
            exiting(pending(false, true, false)),
            vec![Effect::Exit(STATUS), Effect::Drain]
        )
    );
    // Killed before it was ever started.
    assert_eq!(
        step(Phase::Created { pid: PID }, V2_INIT, Event::Reaped(STATUS)).0,
        exiting(pending(false, true, false))
    );
}

#[test]
fn the_exit_is_final_once_kill_all_and_drain_are_both_done_in_either_order() {
    let start = exiting(pending(true, true, false));
    let (after_kill, effects) = step(start, V02_INIT, Event::KillAllDone);
    assert_eq!(
        (after_kill, effects),
        (exiting(pending(false, true, false)), vec![])
    );
    assert_eq!(
        step(after_kill, V02_INIT, Event::Drained),
        (EXITED, vec![Effect::Finished])
    );
    let (after_drain, _) = step(start, V02_INIT, Event::Drained);
    assert_eq!(after_drain, exiting(pending(true, false, false)));
    assert_eq!(
        step(after_drain, V02_INIT, Event::KillAllDone),
        (EXITED, vec![Effect::Finished])
    );
}

#[test]
fn an_exit_during_start_is_final_only_after_the_start_answered() {
    let (phase, effects) = step(Phase::Starting { pid: PID }, V2_INIT, Event::Reaped(STATUS));
    assert_eq!(phase, exiting(pending(false, true, true)));
    assert_eq!(effects, vec![Effect::Exit(STATUS), Effect::Drain]);
    let (phase, effects) = step(phase, V2_INIT, Event::Drained);
    assert_eq!(
        (phase, effects),
        (exiting(pending(false, false, true)), vec![])
    );
    assert_eq!(
        step(phase, V2_INIT, Event::StartReturned { ok: true }),
        (EXITED, vec![Effect::Started, Effect::Finished])
    );
    assert_eq!(
        step(phase, V2_INIT, Event::StartReturned { ok: false }),
        (EXITED, vec![Effect::StartFailed, Effect::Finished])
    );
}

#[test]
fn events_that_make_no_sense_in_a_phase_are_refused() {
    let all = [
        Event::Launched { pid: PID },
        Event::LaunchFailed,
        Event::Start,
        Event::StartReturned { ok: true },
        Event::Reaped(STATUS),
        Event::KillAllDone,
        Event::Drained,
    ];
    let allowed: &[(Phase, &[Event])] = &[
        (Phase::Planned, &[Event::Start]),
        (
            Phase::Launching,
            &[Event::Launched { pid: PID }, Event::LaunchFailed],
        ),
        (
            Phase::Created { pid: PID },
            &[Event::Start, Event::Reaped(STATUS)],
        ),
        (
            Phase::Starting { pid: PID },
            &[Event::StartReturned { ok: true }, Event::Reaped(STATUS)],
        ),
        (Phase::Running { pid: PID }, &[Event::Reaped(STATUS)]),
        (
            exiting(pending(true, true, true)),
            &[
                Event::KillAllDone,
                Event::Drained,
                Event::StartReturned { ok: true },
            ],
        ),
        (EXITED, &[]),
        (Phase::Failed, &[]),
    ];
    for (phase, events) in allowed {
        for event in all {
            let result = next(*phase, V02_INIT, event);
            assert_eq!(
                result.is_ok(),
                events.contains(&event),
                "{event:?} in {phase:?}: {result:?}"
            );
        }
    }
    // A step an exiting process no longer waits for is refused, not counted twice.
    let no_kill = exiting(pending(false, true, false));
    assert!(next(no_kill, V02_INIT, Event::KillAllDone).is_err());
    assert!(next(no_kill, V02_INIT, Event::StartReturned { ok: true }).is_err());
}

#[test]
fn a_planned_process_is_launched_by_its_start_and_then_runs() {
    let restore = Rules {
        start_after_launch: true,
        kill_all_on_exit: false,
    };
    assert_eq!(
        step(Phase::Planned, restore, Event::Start),
        (Phase::Launching, vec![Effect::RunLaunch])
    );
    assert_eq!(
        step(Phase::Launching, restore, Event::Launched { pid: PID }),
        (Phase::Running { pid: PID }, vec![Effect::Launched])
    );
    assert_eq!(Phase::Planned.pid(), None);
    assert!(!Phase::Planned.is_alive() && !Phase::Planned.is_stopped());
}

#[test]
fn the_pid_and_status_are_known_from_the_phase() {
    assert_eq!(Phase::Launching.pid(), None);
    assert_eq!(Phase::Created { pid: PID }.pid(), Some(PID));
    assert_eq!(EXITED.pid(), Some(PID));
    assert_eq!(EXITED.status(), Some(STATUS));
    assert_eq!(Phase::Running { pid: PID }.status(), None);
    assert_eq!(Phase::Failed.pid(), None);
}

#[test]
fn a_phase_says_whether_the_process_is_alive_stopped_or_over() {
    let exiting = exiting(pending(false, true, false));
    let phases = [
        // phase, alive, stopped, over
        (Phase::Planned, false, false, false),
        (Phase::Launching, false, false, false),
        (Phase::Created { pid: PID }, true, false, false),
        (Phase::Starting { pid: PID }, true, false, false),
        (Phase::Running { pid: PID }, true, false, false),
        (exiting, false, true, false),
        (EXITED, false, true, true),
        (Phase::Failed, false, true, true),
    ];
    for (phase, alive, stopped, over) in phases {
        assert_eq!(phase.is_alive(), alive, "{phase:?} alive");
        assert_eq!(phase.is_stopped(), stopped, "{phase:?} stopped");
        assert_eq!(phase.is_over(), over, "{phase:?} over");
    }
}
