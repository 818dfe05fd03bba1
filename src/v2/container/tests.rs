//! Unit tests of [`super`].

use super::*;
use crate::process::phase::Pending;
use crate::reaper::ExitStatus;
use nix::unistd::Pid;

const PID: Pid = Pid::from_raw(7);
const KILLED: ExitStatus = ExitStatus::Signaled {
    signal: 9,
    core_dumped: false,
};

#[test]
fn ids_are_containerd_identifiers_only() {
    for good in ["c1", "a.b_c-d", "0", &"x".repeat(MAX_ID)] {
        assert!(valid_id(good), "{good:?}");
    }
    for bad in [
        "",
        "-c",
        ".hidden",
        "a/b",
        "../x",
        "a b",
        "é",
        &"x".repeat(MAX_ID + 1),
    ] {
        assert!(!valid_id(bad), "{bad:?}");
    }
}

#[test]
fn every_phase_has_the_status_state_reports() {
    let exiting = Phase::Exiting {
        pid: PID,
        status: KILLED,
        pending: Pending {
            kill_all: false,
            drain: true,
            start: false,
        },
    };
    let cases = [
        (None, false, Status::Created),
        (Some(Phase::Launching), false, Status::Created),
        (Some(Phase::Created { pid: PID }), false, Status::Created),
        (Some(Phase::Starting { pid: PID }), false, Status::Created),
        (Some(Phase::Running { pid: PID }), false, Status::Running),
        (Some(Phase::Running { pid: PID }), true, Status::Paused),
        (Some(exiting), false, Status::Stopped),
        (
            Some(Phase::Exited {
                pid: PID,
                status: KILLED,
            }),
            true,
            Status::Stopped,
        ),
        (Some(Phase::Failed), false, Status::Stopped),
    ];
    for (phase, paused, want) in cases {
        assert_eq!(status(phase, paused), want, "{phase:?} paused={paused}");
    }
    assert_eq!(exit_status(Some(exiting)), 137);
    assert_eq!(exit_status(Some(Phase::Failed)), 255);
    assert_eq!(exit_status(Some(Phase::Running { pid: PID })), 0);
    assert_eq!(exited_at(Some(Phase::Running { pid: PID }), None), None);
    let at = SystemTime::UNIX_EPOCH;
    assert_eq!(exited_at(Some(exiting), Some(at)), Some(at));
}
