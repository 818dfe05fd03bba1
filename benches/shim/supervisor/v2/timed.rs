//! Commands timed from spawn to exit and killed if they outlive their deadline, so that a shim
//! that hangs costs one figure, not the whole benchmark; and the one that reads a command's
//! output the way a daemon reads a container's.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::Pid;

use crate::stream::{self, Received};

/// How much of a failed command's stderr an error quotes.
const QUOTE_BYTES: usize = 2000;

/// A command that was spawned and is timed until it exits.
pub struct Timed {
    child: Child,
    /// Kept open for the child's whole life: `script` passes an EOF on its stdin on to the
    /// terminal as a `^D`, which would reach the container.
    _stdin: Option<ChildStdin>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    started: Instant,
    what: String,
}

/// What a command's stdin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// `/dev/null`.
    Null,
    /// A pipe that stays open until the command exited.
    Held,
}

impl Timed {
    /// Spawns `command` with its stdout on a pipe for [`Timed::stdout`] (or `/dev/null` unless
    /// `capture`) and its stderr collected for the error messages.
    pub fn spawn(mut command: Command, stdin: Stdin, capture: bool) -> Result<Timed, String> {
        let what = format!("{command:?}");
        command.stdin(match stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Held => Stdio::piped(),
        });
        command.stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        command.stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| format!("spawn {what}: {e}"))?;
        let stderr = child.stderr.take().map(|mut pipe| {
            thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                text
            })
        });
        Ok(Timed {
            _stdin: child.stdin.take(),
            child,
            stderr,
            started,
            what,
        })
    }

    /// The read end of the command's stdout, once.
    pub fn stdout(&mut self) -> Option<File> {
        self.child
            .stdout
            .take()
            .map(|pipe| File::from(OwnedFd::from(pipe)))
    }

    /// Waits for the command to exit, killing it at `deadline`; the time is from spawn to exit.
    /// An error unless it exited 0 in time.
    pub fn wait(mut self, deadline: Instant) -> Result<Duration, String> {
        let pid = Pid::from_raw(self.child.id() as i32);
        let (exited, watch) = mpsc::channel::<()>();
        let watchdog = thread::spawn(move || {
            let left = deadline.saturating_duration_since(Instant::now());
            match watch.recv_timeout(left) {
                Err(RecvTimeoutError::Timeout) => {
                    // Not reaped until the main thread's `wait` below, so the pid is still
                    // this child's: at worst a zombie gets the signal.
                    let _ = kill(pid, Signal::SIGKILL);
                    true
                }
                _ => false,
            }
        });
        // WNOWAIT notes the exit without reaping, which keeps the pid the watchdog may kill.
        while let Err(Errno::EINTR) =
            waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
        {}
        let elapsed = self.started.elapsed();
        drop(exited);
        let killed = watchdog.join().unwrap_or(false);
        let status = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        let failure = |how: String| {
            let start = stderr.len().saturating_sub(QUOTE_BYTES);
            format!(
                "{} {how}; its stderr: {}",
                self.what,
                String::from_utf8_lossy(&stderr[start..]).trim()
            )
        };
        match status {
            _ if killed => Err(failure("outlived its deadline and was killed".into())),
            Ok(status) if status.success() => Ok(elapsed),
            Ok(status) => Err(failure(format!("failed: {status}"))),
            Err(e) => Err(failure(format!("could not be waited for: {e}"))),
        }
    }
}

/// Runs `command`, reads its stdout as the daemon reads a container's ([`stream::receive`]:
/// `complete` runs once `expected` bytes arrived) and waits for it to exit. An error when it
/// fails or outlives `deadline`; a short count is the caller's to judge.
pub fn read_output(
    command: Command,
    stdin: Stdin,
    expected: u64,
    deadline: Instant,
    complete: impl FnMut(),
) -> Result<Received, String> {
    let mut timed = Timed::spawn(command, stdin, true)?;
    let mut stdout = timed
        .stdout()
        .ok_or_else(|| "the command has no stdout".to_string())?;
    let received = stream::receive(&mut stdout, expected, Some(deadline), complete);
    drop(stdout);
    let waited = timed.wait(deadline);
    if received.timed_out {
        return Err(format!(
            "no EOF before the deadline, {} of {expected} bytes in: {}",
            received.bytes,
            waited.err().unwrap_or_default()
        ));
    }
    waited.map(|_| received)
}

/// How long a transfer of `bytes` may take: a minute, plus a second per 4 MiB (several times
/// what the slowest shim takes on a terminal).
pub fn transfer_timeout(bytes: u64) -> Duration {
    Duration::from_secs(60 + (bytes >> 22))
}

/// `line` (a program and its arguments) as a command.
pub fn plain(line: &[String]) -> Result<Command, String> {
    let (program, args) = line
        .split_first()
        .ok_or_else(|| "an empty command line".to_string())?;
    let mut command = Command::new(program);
    command.args(args);
    Ok(command)
}

/// `line` run by `script` on a pseudo-terminal of its own, `script`'s stdout being what the
/// terminal showed: `-q` prints no banner, `-e` exits with the command's status, and the
/// typescript goes to `/dev/null`. Its stdin must stay open ([`Stdin::Held`]).
pub fn script(line: &[String]) -> Command {
    let quoted: Vec<String> = line.iter().map(|word| shell_quote(word)).collect();
    let mut command = Command::new("script");
    command
        .args(["-q", "-e", "-c"])
        .arg(quoted.join(" "))
        .arg("/dev/null")
        // `script` runs the command with $SHELL -c.
        .env("SHELL", "/bin/sh");
    command
}

/// `word` as one word of a POSIX shell command line.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
