//! Unit tests of [`super`].

use super::*;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Signals that do not end a `sleep`: their default action stops the process or ignores the
/// signal, and glibc handles 32 and 33 itself in every program (thread cancellation, setxid).
const NOT_FATAL: [i32; 10] = [17, 18, 19, 20, 21, 22, 23, 28, 32, 33];

/// A `sleep` child that cannot dump core (so no signal leaves a core file behind).
#[expect(
    clippy::zombie_processes,
    reason = "reaped by `raw_status`, which needs the raw status"
)]
fn sleeper() -> Pid {
    let mut command = Command::new("sleep");
    command.arg("60").stdin(Stdio::null()).stdout(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and takes a pointer to a live local.
    unsafe {
        command.pre_exec(|| {
            let none = nix::libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            nix::libc::setrlimit(nix::libc::RLIMIT_CORE, &none);
            Ok(())
        });
    }
    let child = command.spawn().expect("spawn sleep");
    Pid::from_raw(child.id() as i32)
}

/// The raw status of `pid`, reaped by pid so that no other test's child is taken.
fn raw_status(pid: Pid) -> i32 {
    let mut raw = 0;
    // SAFETY: waitpid writes one c_int through a pointer to a live local.
    let reaped = unsafe { nix::libc::waitpid(pid.as_raw(), &mut raw, 0) };
    assert_eq!(reaped, pid.as_raw(), "waitpid {pid}");
    raw
}

#[test]
fn every_fatal_signal_from_1_to_64_decodes_as_128_plus_the_signal() {
    for signal in 1..=64 {
        if NOT_FATAL.contains(&signal) {
            continue;
        }
        let child = sleeper();
        // SAFETY: kill takes no pointers; `child` is this test's own unreaped child.
        assert_eq!(unsafe { nix::libc::kill(child.as_raw(), signal) }, 0);
        let status = decode(raw_status(child));
        assert_eq!(
            status,
            ExitStatus::Signaled {
                signal,
                core_dumped: false
            },
            "signal {signal}"
        );
        assert_eq!(status.code(), 128 + signal);
    }
}

#[test]
#[expect(
    clippy::zombie_processes,
    reason = "reaped by `raw_status`, which needs the raw status"
)]
fn exit_codes_and_core_dumps_decode() {
    for code in [0, 1, 7, 127, 255] {
        let child = Command::new("sh")
            .args(["-c", &format!("exit {code}")])
            .spawn()
            .expect("spawn sh");
        let status = decode(raw_status(Pid::from_raw(child.id() as i32)));
        assert_eq!(status, ExitStatus::Exited(code));
        assert_eq!(status.code(), code);
    }
    // The kernel's encoding: the signal in the low 7 bits, bit 7 for a core dump (here also for
    // the signals no `sleep` can be killed by).
    for signal in 1..=64 {
        assert_eq!(decode(signal).code(), 128 + signal);
        assert_eq!(
            decode(signal | 0x80),
            ExitStatus::Signaled {
                signal,
                core_dumped: true
            }
        );
    }
}

#[test]
fn a_stop_status_still_decodes_to_an_exit() {
    // WIFSTOPPED: 0x7f in the low byte, the signal above it.
    assert_eq!(decode(0x137f).code(), 128 + 0x13);
}

#[test]
fn the_parent_field_is_read_after_a_command_name_with_spaces_and_parentheses() {
    assert_eq!(parent_in_stat("42 (a) b) c) S 7 42 42 0"), Some(7));
    assert_eq!(parent_in_stat("42 (sleep) S 1 2"), Some(1));
    assert_eq!(parent_in_stat("garbage"), None);
}
