//! Signals, the subreaper role, and reaping with every wait status decoded.
//!
//! Every asynchronous signal is blocked and read from a signalfd, so nothing can interrupt or kill
//! the shim (SIGTERM, SIGHUP, SIGINT, SIGPIPE, ... are read and handed to the frontend, which
//! drops them or acts on them) and there is no handler to make async-signal-safe. Signals that a
//! fault raises synchronously (SIGSEGV, SIGBUS, ...) stay unblocked: blocking them would turn a
//! crash into a spin.
//!
//! signalfd coalesces: one SIGCHLD may stand for many exits, so after each readiness the shim
//! reaps with `WNOHANG` until nothing is left. Statuses are decoded here from the raw integer
//! rather than through nix's `WaitStatus`, which has no value for a real-time signal (34..64):
//! nix reports such a child as an error *after* the kernel has reaped it, and its exit would be
//! lost. Every status the kernel can produce decodes to an [`ExitStatus`], so one odd status can
//! neither stop the reaping loop nor lose a child.

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
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

/// How a child ended, as the kernel's wait status says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` with this code (0..=255).
    Exited(i32),
    /// A signal (1..=64, real-time ones included) killed it.
    Signaled {
        /// The signal number.
        signal: i32,
        /// Whether it dumped core.
        core_dumped: bool,
    },
}

impl ExitStatus {
    /// The status daemons expect: the exit code, or 128 + the signal number.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled { signal, .. } => 128 + signal,
        }
    }
}

/// Decodes a raw wait status of a child that has terminated (the only kind `WNOHANG` without
/// `WUNTRACED`/`WCONTINUED` returns). A stop or continue status, which a terminated child cannot
/// have, decodes as the signal that stopped it, so that even then the child is accounted for.
pub fn decode(raw: i32) -> ExitStatus {
    use nix::libc::{WCOREDUMP, WEXITSTATUS, WIFEXITED, WIFSIGNALED, WSTOPSIG, WTERMSIG};
    if WIFEXITED(raw) {
        ExitStatus::Exited(WEXITSTATUS(raw))
    } else if WIFSIGNALED(raw) {
        ExitStatus::Signaled {
            signal: WTERMSIG(raw),
            core_dumped: WCOREDUMP(raw),
        }
    } else {
        ExitStatus::Signaled {
            signal: WSTOPSIG(raw),
            core_dumped: false,
        }
    }
}

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

/// What one drain of the signalfd brought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// A SIGCHLD: some child may have exited.
    pub child: bool,
    /// A SIGTERM or SIGINT: a request to shut down, which only some frontends honour.
    pub terminate: bool,
}

/// Reads every pending signal.
pub fn drain_signals(signals: &SignalFd) -> Received {
    let mut received = Received::default();
    // A read error other than EAGAIN cannot happen on a valid signalfd; stop rather than spin.
    while let Ok(Some(info)) = signals.read_signal() {
        match info.ssi_signo {
            n if n == Signal::SIGCHLD as u32 => received.child = true,
            n if n == Signal::SIGTERM as u32 || n == Signal::SIGINT as u32 => {
                received.terminate = true
            }
            _ => {}
        }
    }
    received
}

/// Makes the shim the reaper of every orphan below it: the container's init once `runc create`
/// exits, exec'd processes once `runc exec -d` exits.
pub fn become_subreaper() -> Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| Error::os("prctl PR_SET_CHILD_SUBREAPER", e))
}

/// Reaps one child that has exited, if any.
pub fn reap_one() -> Option<(Pid, ExitStatus)> {
    loop {
        let mut raw: nix::libc::c_int = 0;
        // SAFETY: waitpid writes one c_int through the pointer, which points to a live local;
        // it takes no other pointer and WNOHANG keeps it from blocking.
        let pid = unsafe { nix::libc::waitpid(-1, &mut raw, nix::libc::WNOHANG) };
        match pid {
            0 => return None,
            p if p > 0 => return Some((Pid::from_raw(p), decode(raw))),
            _ => match Errno::last() {
                Errno::EINTR => continue,
                // ECHILD: no child at all. EINVAL cannot come from these fixed flags.
                _ => return None,
            },
        }
    }
}

/// Whether `pid` is a child of the shim (alive or a zombie), checked without reaping it.
pub fn is_child(pid: Pid) -> bool {
    // The parent pid from /proc rather than waitid(WNOWAIT): nix's waitid would fail to decode
    // a child killed by a real-time signal, and the answer here must not depend on how it died.
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    parent_in_stat(&stat) == Some(nix::unistd::getpid().as_raw())
}

/// The parent pid field of a `/proc/<pid>/stat` line. The command name, which may hold spaces
/// and parentheses, ends at the last `)`.
fn parent_in_stat(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    fields.next()?;
    fields.next()?.parse().ok()
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
/// gives up leaves nothing behind. Waits for them: SIGKILL cannot be refused, and this is the
/// shim's last act.
pub fn kill_and_reap_children() {
    loop {
        let pids = children();
        if pids.is_empty() {
            // A zombie is still listed until reaped; once the list is empty only reaped ones
            // could remain, but take any that raced in.
            while reap_one().is_some() {}
            return;
        }
        for pid in &pids {
            let _ = kill(*pid, Signal::SIGKILL);
        }
        for pid in pids {
            wait_for(pid);
        }
    }
}

/// Blocks until `pid` has been reaped.
fn wait_for(pid: Pid) {
    loop {
        let mut raw: nix::libc::c_int = 0;
        // SAFETY: as in `reap_one`; without WNOHANG this blocks until the SIGKILLed child is gone.
        let reaped = unsafe { nix::libc::waitpid(pid.as_raw(), &mut raw, 0) };
        if reaped >= 0 || Errno::last() != Errno::EINTR {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
