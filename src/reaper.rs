//! Signals, the subreaper role and `wait4`.
//!
//! Every asynchronous signal is blocked and read from a signalfd, so nothing can interrupt or kill
//! the shim (SIGTERM, SIGHUP, SIGINT, SIGPIPE, ... are read and dropped, as the original ignored
//! them) and there is no handler to make async-signal-safe. Only SIGCHLD is acted on. Signals that
//! a fault raises synchronously (SIGSEGV, SIGBUS, ...) stay unblocked: blocking them would turn a
//! crash into a spin.
//!
//! signalfd coalesces: one SIGCHLD may stand for many exits, so after each readiness the shim reaps
//! with `WNOHANG` until nothing is left.

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// Signals raised by a fault in the shim itself; blocking them would hide a crash.
const SYNCHRONOUS: [Signal; 6] = [
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGILL,
    Signal::SIGFPE,
    Signal::SIGTRAP,
    Signal::SIGSYS,
];

/// The set of signals the shim blocks and reads from its signalfd.
pub fn blocked_signals() -> SigSet {
    let mut set = SigSet::all();
    for signal in SYNCHRONOUS {
        set.remove(signal);
    }
    set
}

/// Blocks every asynchronous signal and returns a non-blocking, close-on-exec signalfd for them.
pub fn block_signals() -> Result<SignalFd> {
    let set = blocked_signals();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| Error::os("sigprocmask SIG_BLOCK", e))?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::os("signalfd", e))
}

/// Reads every pending signal; true if SIGCHLD was among them. The others are dropped on purpose.
pub fn drain_signals(signals: &SignalFd) -> bool {
    let mut child = false;
    // A read error other than EAGAIN cannot happen on a valid signalfd; stop rather than spin.
    while let Ok(Some(info)) = signals.read_signal() {
        child |= info.ssi_signo == Signal::SIGCHLD as u32;
    }
    child
}

/// Makes the shim the reaper of every orphan below it: the container's init once `runc create`
/// exits, exec'd processes once `runc exec -d` exits.
pub fn become_subreaper() -> Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| Error::os("prctl PR_SET_CHILD_SUBREAPER", e))
}

/// The status the daemon expects in `exitStatus`: the exit code, or 128 + the signal number.
pub fn exit_code(status: WaitStatus) -> Option<(Pid, i32)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid, code)),
        WaitStatus::Signaled(pid, signal, _) => Some((pid, 128 + signal as i32)),
        _ => None,
    }
}

/// Reaps every child that has exited, calling `on_exit(pid, status)` for each.
pub fn reap_all(mut on_exit: impl FnMut(Pid, i32)) {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            Ok(status) => {
                if let Some((pid, code)) = exit_code(status) {
                    on_exit(pid, code);
                }
            }
            Err(Errno::EINTR) => continue,
            // Only EINVAL is left, which fixed flags cannot produce.
            Err(_) => return,
        }
    }
}

/// Reaps `pid` alone if it has exited; its status otherwise stays for later.
pub fn reap_one(pid: Pid) -> Option<i32> {
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::EINTR) => continue,
            Ok(status) => return exit_code(status).map(|(_, code)| code),
            Err(_) => return None,
        }
    }
}

/// Whether `pid` is a child of the shim (alive or a zombie), checked without reaping it.
pub fn is_child(pid: Pid) -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    loop {
        match waitid(Id::Pid(pid), flags) {
            Err(Errno::EINTR) => continue,
            Ok(_) => return true,
            Err(_) => return false,
        }
    }
}

/// The shim's direct children, from `/proc/self/task/<tid>/children` (one thread, so one list).
pub fn children() -> Vec<Pid> {
    let path = format!("/proc/self/task/{}/children", nix::unistd::gettid());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .map(Pid::from_raw)
        .collect()
}

/// SIGKILLs and reaps every child, including orphans reparented meanwhile, so that a shim that
/// gives up leaves nothing behind. Blocks until they are gone; SIGKILL cannot be refused.
pub fn kill_and_reap_children() {
    loop {
        let pids = children();
        if pids.is_empty() {
            // Zombies are not in `children` once reaped, but a zombie still is until then.
            reap_all(|_, _| {});
            return;
        }
        for pid in &pids {
            let _ = kill(*pid, Signal::SIGKILL);
        }
        for pid in pids {
            while let Err(Errno::EINTR) = waitpid(pid, None) {}
        }
    }
}
