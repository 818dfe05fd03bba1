//! Runtime calls in flight: `create`, `start`, `exec`, `kill`, `delete`, `pause`, `ps`, ...
//!
//! A call is a child of the shim. Whoever needs its result parks under its pid with a tag of its
//! own choosing, and the call completes when the reaper reaps that pid. A call may have its stdout
//! and stderr captured (what `ps` prints, why it failed): each is a pipe registered with the loop
//! and read as it fills, so a talkative runtime never blocks on a full pipe, and kept up to
//! [`CAPTURE_LIMIT`] bytes, the rest read and dropped so memory stays bounded.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::event_loop::{Registry, TimerId};
use crate::io::pipe::set_nonblocking;
use crate::reaper::ExitStatus;
use crate::runtime::{CommandLine, Runtime};

/// Most bytes kept of one captured stream: `runc ps` of a thousand processes prints 8 KiB, an
/// error message a line.
pub const CAPTURE_LIMIT: usize = 64 * 1024;

/// Which stream of a call a readiness is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The call's stdout.
    Stdout,
    /// The call's stderr.
    Stderr,
}

impl Finished<()> {
    /// The same call, under `tag`.
    pub fn tagged<U>(self, tag: U) -> Finished<U> {
        Finished {
            tag,
            status: self.status,
            overstayed: self.overstayed,
            stdout: self.stdout,
            stderr: self.stderr,
        }
    }
}

/// A runtime call to make.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The runtime.
    pub runtime: &'a Runtime,
    /// Its command line.
    pub command: &'a CommandLine,
    /// Where it runs; the shim's own directory when `None`.
    pub cwd: Option<&'a Path>,
    /// Whether it leads a process group of its own, to be killed with all it started.
    pub own_group: bool,
}

impl Invocation<'_> {
    fn spawn(&self, stdio: [Stdio; 3]) -> Result<Pid> {
        self.runtime
            .spawn(self.command, self.cwd, stdio, self.own_group)
    }
}

/// A finished call.
#[derive(Debug)]
pub struct Finished<T> {
    /// What the caller parked under the call.
    pub tag: T,
    /// How the runtime ended.
    pub status: ExitStatus,
    /// The time limit it overstayed, and was killed for.
    pub overstayed: Option<Duration>,
    /// What it printed on stdout, if captured (at most [`CAPTURE_LIMIT`] bytes).
    pub stdout: Vec<u8>,
    /// What it printed on stderr, if captured.
    pub stderr: Vec<u8>,
}

impl<T> Finished<T> {
    /// Its tag, and the rest of it.
    pub fn split(self) -> (T, Finished<()>) {
        let Finished {
            tag,
            status,
            overstayed,
            stdout,
            stderr,
        } = self;
        let rest = Finished {
            tag: (),
            status,
            overstayed,
            stdout,
            stderr,
        };
        (tag, rest)
    }

    /// The last line of its stderr that is not blank, as printed.
    pub fn last_stderr_line(&self) -> Option<String> {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(str::to_string)
    }

    /// Why the shim killed the call, if it overstayed its time limit.
    pub fn overstay_error(&self, runtime: &str, subcommand: &str) -> Option<Error> {
        self.overstayed.map(|limit| {
            let within = format!("did not return within {} s: killed", limit.as_secs());
            Error::invalid(format!("{runtime} {subcommand}"), within)
        })
    }

    /// The runtime's own words on failure: its last stderr line, else how it ended.
    pub fn failure(&self, runtime: &str, subcommand: &str) -> String {
        if let Some(error) = self.overstay_error(runtime, subcommand) {
            return error.to_string();
        }
        match self.last_stderr_line() {
            Some(line) => format!("{runtime} {subcommand}: {}", line.trim()),
            None => format!("{runtime} {subcommand}: exit status {}", self.status.code()),
        }
    }
}

#[derive(Debug)]
struct Capture {
    pipe: OwnedFd,
    token: Option<Token>,
    bytes: Vec<u8>,
}

impl Capture {
    /// Reads what the pipe holds; false once it reached EOF.
    fn read(&mut self) -> bool {
        let mut buffer = [0u8; 4096];
        loop {
            match nix::unistd::read(&self.pipe, &mut buffer) {
                Ok(0) => return false,
                Ok(n) => {
                    let room = CAPTURE_LIMIT.saturating_sub(self.bytes.len());
                    self.bytes.extend_from_slice(&buffer[..n.min(room)]);
                }
                Err(Errno::EINTR) => continue,
                // EAGAIN: empty for now. Anything else ends the capture like EOF.
                Err(Errno::EAGAIN) => return true,
                Err(_) => return false,
            }
        }
    }
}

#[derive(Debug)]
struct Call<T> {
    tag: T,
    stdout: Option<Capture>,
    stderr: Option<Capture>,
    /// How long it may run, and the deadline set for it.
    limit: Option<(Duration, TimerId)>,
    overstayed: bool,
}

/// Every runtime call in flight, by pid.
#[derive(Debug)]
pub struct Calls<T> {
    running: HashMap<Pid, Call<T>>,
}

impl<T> Default for Calls<T> {
    fn default() -> Self {
        Calls {
            running: HashMap::new(),
        }
    }
}

/// A call that could not be spawned: why, and what its tag was to be made of, for the caller
/// to answer whoever waits for it.
pub type NotSpawned<U> = (Error, U);

impl<T> Calls<T> {
    /// Spawns `call` with `stdio`, parking the tag `wrap(of)` under it. Nothing is captured.
    pub fn spawn<U>(
        &mut self,
        call: &Invocation<'_>,
        stdio: [Stdio; 3],
        (of, wrap): (U, fn(U) -> T),
    ) -> std::result::Result<Pid, NotSpawned<U>> {
        match call.spawn(stdio) {
            Ok(pid) => {
                self.adopt(pid, wrap(of));
                Ok(pid)
            }
            Err(error) => Err((error, of)),
        }
    }

    /// Spawns `command` with `/dev/null` stdin and both outputs captured (their readiness leads
    /// to `route(pid, stream)`), parking the tag `wrap(of)` under it.
    pub fn spawn_captured<R: Copy, U>(
        &mut self,
        call: &Invocation<'_>,
        registry: &mut impl Registry<R>,
        route: impl Fn(Pid, Stream) -> R,
        (of, wrap): (U, fn(U) -> T),
    ) -> std::result::Result<Pid, NotSpawned<U>> {
        let pipe = || -> Result<(OwnedFd, OwnedFd)> {
            let (read, write) =
                nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::os("pipe2", e))?;
            set_nonblocking(&read)?;
            Ok((read, write))
        };
        let pipes = pipe().and_then(|stdout| Ok((stdout, pipe()?)));
        let ((out_read, out_write), (err_read, err_write)) = match pipes {
            Ok(pipes) => pipes,
            Err(error) => return Err((error, of)),
        };
        let stdio = [Stdio::null(), out_write.into(), err_write.into()];
        // The write ends go with `stdio` into the child and are closed here once it is spawned,
        // so EOF comes when the runtime (and anything it left holding them) is gone.
        let pid = match call.spawn(stdio) {
            Ok(pid) => pid,
            Err(error) => return Err((error, of)),
        };
        // A pipe the loop cannot watch (epoll out of memory) is read only once the call has
        // returned: its runtime blocks if it writes more than the pipe holds.
        let mut capture = |read: OwnedFd, stream| Capture {
            token: registry
                .register(read.as_fd(), Interest::READABLE, route(pid, stream))
                .ok()
                .flatten(),
            pipe: read,
            bytes: Vec::new(),
        };
        let stdout = capture(out_read, Stream::Stdout);
        let stderr = capture(err_read, Stream::Stderr);
        self.running.insert(
            pid,
            Call {
                tag: wrap(of),
                stdout: Some(stdout),
                stderr: Some(stderr),
                limit: None,
                overstayed: false,
            },
        );
        Ok(pid)
    }

    /// Tracks `pid`, a child spawned elsewhere under the same rules
    /// ([`crate::runtime::spawn_child`]), as a call of its own: its exit hands back `tag`.
    pub fn adopt(&mut self, pid: Pid, tag: T) {
        self.running.insert(
            pid,
            Call {
                tag,
                stdout: None,
                stderr: None,
                limit: None,
                overstayed: false,
            },
        );
    }

    /// Whether no call is in flight.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Gives call `pid` a time limit, whose deadline the caller set as `deadline`.
    pub fn limit(&mut self, pid: Pid, limit: Duration, deadline: TimerId) {
        if let Some(call) = self.running.get_mut(&pid) {
            call.limit = Some((limit, deadline));
        }
    }

    /// The deadline of call `pid` passed: whether it still runs, now marked as having
    /// overstayed (its caller then kills its process group).
    pub fn overstay(&mut self, pid: Pid) -> bool {
        match self.running.get_mut(&pid) {
            Some(call) if !call.overstayed => {
                call.overstayed = true;
                true
            }
            _ => false,
        }
    }

    /// Reads what a captured stream holds now.
    pub fn read_output<R: Copy>(
        &mut self,
        pid: Pid,
        stream: Stream,
        registry: &mut impl Registry<R>,
    ) {
        let Some(call) = self.running.get_mut(&pid) else {
            return;
        };
        let slot = match stream {
            Stream::Stdout => &mut call.stdout,
            Stream::Stderr => &mut call.stderr,
        };
        if let Some(capture) = slot {
            if !capture.read() {
                if let Some(token) = capture.token.take() {
                    registry.deregister(capture.pipe.as_fd(), token);
                }
            }
        }
    }

    /// Completes the call `pid` once the reaper has its status: takes what is left in its pipes
    /// (the runtime is gone, so that is all it wrote, unless something it started still holds
    /// them, which is not waited for) and hands back its tag.
    pub fn finish<R: Copy>(
        &mut self,
        pid: Pid,
        status: ExitStatus,
        registry: &mut impl Registry<R>,
    ) -> Option<Finished<T>> {
        let call = self.running.remove(&pid)?;
        if let (Some((_, deadline)), false) = (call.limit, call.overstayed) {
            registry.cancel_timer(deadline);
        }
        let mut take = |capture: Option<Capture>| -> Vec<u8> {
            let Some(mut capture) = capture else {
                return Vec::new();
            };
            capture.read();
            if let Some(token) = capture.token {
                registry.deregister(capture.pipe.as_fd(), token);
            }
            capture.bytes
        };
        let stdout = take(call.stdout);
        let stderr = take(call.stderr);
        Some(Finished {
            tag: call.tag,
            status,
            overstayed: call
                .limit
                .filter(|_| call.overstayed)
                .map(|(limit, _)| limit),
            stdout,
            stderr,
        })
    }
}
