//! A v2 process's stdio as containerd names it: FIFO paths (empty when not attached), or, for
//! stdout, a log URI that sends both outputs elsewhere:
//!
//! * `file:///path`: appended to that file (its directories made if missing);
//! * `binary:///path/to/logger?key=value`: to a logger the shim starts, with `path key value ...`
//!   as its arguments, `CONTAINER_ID` and `CONTAINER_NAMESPACE` in its environment, and the read
//!   ends of the stdout and stderr pipes as its fds 3 and 4, a "ready" pipe as fd 5.
//!
//! The Go shim waits until the logger writes to fd 5 before it starts the container. This one
//! does not wait (nothing may block the loop): what the container writes meanwhile waits in the
//! pipes, which the logger reads when it is ready. It holds the ready pipe open meanwhile, so the
//! logger's ready byte always has somewhere to go. Unlike the Go shim it sends the logger no
//! SIGTERM once the streams end: the logger sees EOF on both and exits when it has written all.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nix::fcntl::OFlag;

use crate::error::{Error, Result};
use crate::process::stdio::OutputTarget;

/// Where a process's outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outputs {
    /// Stdout and stderr FIFOs (empty for one not attached).
    Fifos {
        /// The stdout FIFO.
        stdout: String,
        /// The stderr FIFO.
        stderr: String,
    },
    /// Both into one file.
    File(PathBuf),
    /// Both to a logger.
    Logger {
        /// The logger binary.
        path: PathBuf,
        /// Its arguments after the path.
        args: Vec<String>,
    },
}

/// What containerd's stdout and stderr strings mean.
pub fn parse_outputs(stdout: &str, stderr: &str) -> Result<Outputs> {
    let bad_escape = || Error::invalid(format!("stdout {stdout:?}"), "bad escape");
    let Some((scheme, rest)) = stdout.split_once("://") else {
        return Ok(Outputs::Fifos {
            stdout: stdout.into(),
            stderr: stderr.into(),
        });
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = percent_decode(path).ok_or_else(bad_escape)?;
    match scheme {
        "fifo" => Ok(Outputs::Fifos {
            stdout: path,
            stderr: stderr.into(),
        }),
        "file" => Ok(Outputs::File(PathBuf::from(path))),
        "binary" => {
            let mut args = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let decode = |s: &str| percent_decode(&s.replace('+', " ")).ok_or_else(bad_escape);
                args.push(decode(key)?);
                if !value.is_empty() {
                    args.push(decode(value)?);
                }
            }
            Ok(Outputs::Logger {
                path: PathBuf::from(path),
                args,
            })
        }
        other => Err(Error::invalid(
            format!("stdout {stdout:?}"),
            format!("unknown STDIO scheme {other}"),
        )),
    }
}

/// `%XX` escapes decoded; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where the outputs go, for the core, and the read end of a logger's ready pipe, which the
/// shim holds for the process's life: a logger writing its ready byte to a pipe nobody holds
/// would die of SIGPIPE.
pub struct Opened<'a> {
    /// Where stdout goes.
    pub stdout: OutputTarget<'a>,
    /// Where stderr goes.
    pub stderr: OutputTarget<'a>,
    /// The logger's ready pipe, if a logger was started.
    pub ready: Option<OwnedFd>,
}

/// The output targets for the core, starting the logger if there is one with `spawn` (which
/// spawns a command under the rules of the shim's children; the second argument names it).
pub fn open_outputs<'a>(
    outputs: &'a Outputs,
    id: &str,
    namespace: &str,
    spawn: impl FnOnce(&mut Command, &str) -> Result<()>,
) -> Result<Opened<'a>> {
    Ok(match outputs {
        Outputs::Fifos { stdout, stderr } => Opened {
            stdout: OutputTarget::Fifo(stdout),
            stderr: OutputTarget::Fifo(stderr),
            ready: None,
        },
        Outputs::File(path) => Opened {
            stdout: OutputTarget::File(path),
            stderr: OutputTarget::File(path),
            ready: None,
        },
        Outputs::Logger { path, args } => {
            let (stdout, stderr, ready) = spawn_logger(path, args, id, namespace, spawn)?;
            Opened {
                stdout: OutputTarget::Pipe(stdout),
                stderr: OutputTarget::Pipe(stderr),
                ready: Some(ready),
            }
        }
    })
}

/// Starts a logger with `spawn`; returns the write ends of its stdout and stderr pipes and the
/// read end of its ready pipe.
fn spawn_logger(
    path: &PathBuf,
    args: &[String],
    id: &str,
    namespace: &str,
    spawn: impl FnOnce(&mut Command, &str) -> Result<()>,
) -> Result<(OwnedFd, OwnedFd, OwnedFd)> {
    let pipe = || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::os("pipe2", e));
    let (out_read, out_write) = pipe()?;
    let (err_read, err_write) = pipe()?;
    let (ready_read, ready_write) = pipe()?;
    let passed: [RawFd; 3] = [
        out_read.as_raw_fd(),
        err_read.as_raw_fd(),
        ready_write.as_raw_fd(),
    ];
    let mut command = Command::new(path);
    command
        .args(args)
        .env("CONTAINER_ID", id)
        .env("CONTAINER_NAMESPACE", namespace)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure runs in the forked child before exec and makes only raw,
    // async-signal-safe syscalls (fcntl, dup2, close) on descriptors it owns there; it
    // allocates nothing.
    unsafe {
        command.pre_exec(move || {
            // Move each above 5 first, so that placing one at 3..5 cannot clobber another.
            let mut high = [0; 3];
            for (slot, fd) in high.iter_mut().zip(passed) {
                *slot = nix::libc::fcntl(fd, nix::libc::F_DUPFD_CLOEXEC, 10);
                if *slot < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (target, fd) in (3..).zip(high) {
                if nix::libc::dup2(fd, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                nix::libc::close(fd);
            }
            Ok(())
        });
    }
    spawn(&mut command, &format!("logger {}", path.display()))?;
    // The logger holds the read ends and the ready pipe's write end now; dropping the shim's
    // copies here leaves the logger the only reader, so it sees EOF once the shim's side closes.
    Ok((out_write, err_write, ready_read))
}

#[cfg(test)]
mod tests;
