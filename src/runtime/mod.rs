//! The OCI runtime as children of the loop: one [`Runtime`] binary, spawned without waiting, its
//! exits learned from the reaper like every other child's (so no status can be stolen), and the
//! calls in flight in [`call`].
//!
//! Each child gets `PR_SET_PDEATHSIG=SIGKILL`, which is sound because the shim has exactly one
//! thread (the "parent" of pdeathsig is the forking thread). std resets `SIGPIPE` in the child
//! but not the signal mask, so the child unblocks every signal itself: the runtime, and through it
//! the container, must not inherit the signals the shim blocks for its signalfd.
//!
//! The command lines themselves belong to the frontends: each protocol dictates its own.

pub mod call;
pub mod pid_file;

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpid, getppid, Pid};

use crate::error::{Error, Result};

/// A runtime command line: the arguments after the program, and its subcommand for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// Every argument, global flags first.
    pub args: Vec<OsString>,
    /// The subcommand (`create`, `kill`, ...), named in error messages.
    pub subcommand: &'static str,
}

/// How the runtime is told about a process's terminal, on its `create`, `exec` and `restore`
/// command lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleArg<'a> {
    /// No terminal: the process gets the stdio pipes.
    None,
    /// `--console-socket <path>`: the runtime sends the PTY master over this socket.
    Socket(&'a Path),
    /// `--console <slave>`: legacy runtimes open the slave the shim created.
    Legacy(&'a Path),
}

impl ConsoleArg<'_> {
    /// Appends the runtime's console arguments, if any, to a command line.
    pub fn push_to(self, args: &mut Vec<OsString>) {
        match self {
            ConsoleArg::None => {}
            ConsoleArg::Socket(path) => args.extend(["--console-socket".into(), path.into()]),
            ConsoleArg::Legacy(path) => args.extend(["--console".into(), path.into()]),
        }
    }
}

/// The runtime binary.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The name the daemon gave (`runc`, `docker-runc`, an absolute path), for messages.
    pub name: String,
    /// The executable, resolved once.
    pub program: PathBuf,
}

impl Runtime {
    /// Resolves `name` on `search` (a `PATH`) the way Go's `exec.LookPath` does, as the
    /// daemons' own shims did.
    pub fn find(name: &str, search: &OsStr) -> Result<Runtime> {
        let program =
            look_path(name, search).ok_or_else(|| Error::RuntimeNotInstalled(name.to_string()))?;
        Ok(Runtime {
            name: name.to_string(),
            program,
        })
    }

    /// Spawns the runtime with `command`, in `cwd` (the shim's own when `None`), with the given
    /// stdio, and returns its pid without waiting. With `own_group`, it leads a process group of
    /// its own, so that it can be killed with whatever it started should it overstay.
    pub fn spawn(
        &self,
        command: &CommandLine,
        cwd: Option<&Path>,
        stdio: [Stdio; 3],
        own_group: bool,
    ) -> Result<Pid> {
        let [stdin, stdout, stderr] = stdio;
        let mut child = Command::new(&self.program);
        child
            .args(&command.args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr);
        if let Some(dir) = cwd {
            child.current_dir(dir);
        }
        if own_group {
            child.process_group(0);
        }
        spawn_child(&mut child, &format!("{} {}", self.name, command.subcommand))
    }
}

/// Spawns `command` as a child of the loop, under the rules every child of the shim starts
/// with (see the module documentation), and returns its pid without waiting; `what` names it
/// in the error. The caller hands the pid to whoever learns of its exit from the reaper.
pub fn spawn_child(command: &mut Command, what: &str) -> Result<Pid> {
    let shim = getpid();
    let unblocked = SigSet::empty();
    // SAFETY: the closure runs in the forked child before exec and makes only three raw
    // syscalls (rt_sigprocmask, prctl, getppid), all async-signal-safe; it allocates nothing
    // (the signal set is built before the fork, the error from a raw errno).
    unsafe {
        command.pre_exec(move || {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&unblocked), None)?;
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // The shim may have died between fork and prctl; the signal would never come.
            if getppid() != shim {
                return Err(io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        });
    }
    let child = command
        .spawn()
        .map_err(|e| Error::os(format!("spawn {what}"), e))?;
    // Dropping `Child` neither waits nor kills: the reaper collects the status.
    Ok(Pid::from_raw(child.id() as i32))
}

/// Go's `exec.LookPath`: a name with a slash is used as is if it is an executable file; otherwise
/// the first executable regular file named `name` in a directory of `search` (a `PATH`; an empty
/// entry means the current directory).
pub fn look_path(name: &str, search: &OsStr) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let path = PathBuf::from(name);
        return is_executable(&path).then_some(path);
    }
    std::env::split_paths(search)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".").join(name)
            } else {
                dir.join(name)
            }
        })
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
