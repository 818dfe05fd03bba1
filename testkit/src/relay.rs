//! Relaying the process's stdio between the driver's own stdio and the client FIFOs, until the
//! exit FIFO hangs up and every output has reached EOF.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::driver::{open_fifo_writer, ProcessDir};

/// Bytes moved per read.
const CHUNK: usize = 64 * 1024;

/// What the relay moved.
#[derive(Debug, Default, Clone, Copy)]
pub struct Relayed {
    /// Bytes from the stdout FIFO.
    pub stdout: u64,
    /// Bytes from the stderr FIFO.
    pub stderr: u64,
}

/// One output FIFO being drained into a writer.
struct Output<'a> {
    fifo: Option<File>,
    sink: &'a mut dyn Write,
    count: u64,
}

impl Output<'_> {
    /// Reads what is there; false once the FIFO reached EOF (the shim closed it).
    fn pump(&mut self, buffer: &mut [u8]) -> io::Result<bool> {
        let Some(fifo) = &mut self.fifo else {
            return Ok(false);
        };
        loop {
            match fifo.read(buffer) {
                Ok(0) => {
                    self.fifo = None;
                    return Ok(false);
                }
                Ok(n) => {
                    self.sink.write_all(&buffer[..n])?;
                    self.count += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Relays `input` (the driver's stdin, if any) to the stdin FIFO and the stdout and stderr FIFOs
/// to `stdout` and `stderr`, until the exit FIFO hangs up and both outputs reached EOF. When
/// `input` ends, the driver closes its stdin writer and sends control message `0 0 0`, as the
/// daemon does for `docker run -i` when the client's stdin ends.
pub fn relay(
    dir: &mut ProcessDir,
    mut input: Option<&mut dyn Read>,
    input_fd: Option<BorrowedFd<'_>>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Relayed> {
    let mut stdin_fifo = match (&dir.stdin_path, &input) {
        (Some(path), Some(_)) => Some(open_fifo_writer(path)?),
        _ => None,
    };
    if stdin_fifo.is_none() && dir.stdin_path.is_some() {
        dir.close_stdin()?;
    }
    let mut outputs = [
        Output {
            fifo: dir.stdout.take(),
            sink: stdout,
            count: 0,
        },
        Output {
            fifo: dir.stderr.take(),
            sink: stderr,
            count: 0,
        },
    ];
    let mut buffer = vec![0u8; CHUNK];
    let mut pending: Vec<u8> = Vec::new();
    let mut exited = false;
    loop {
        let mut open_outputs = false;
        for output in &mut outputs {
            open_outputs |= output.pump(&mut buffer)?;
        }
        if exited && !open_outputs {
            break;
        }
        if let Some(fifo) = &mut stdin_fifo {
            match fifo.write(&pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The shim closed its reader: the process no longer takes input.
                Err(_) => {
                    stdin_fifo = None;
                    pending.clear();
                    input = None;
                }
            }
        }
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(5);
        let mut roles = Vec::with_capacity(5);
        if !exited {
            fds.push(PollFd::new(dir.exit.as_fd(), PollFlags::empty()));
            roles.push(Role::Exit);
        }
        for output in &outputs {
            if let Some(fifo) = &output.fifo {
                fds.push(PollFd::new(fifo.as_fd(), PollFlags::POLLIN));
                roles.push(Role::Output);
            }
        }
        match (&stdin_fifo, pending.is_empty(), input_fd) {
            (Some(fifo), false, _) => {
                fds.push(PollFd::new(fifo.as_fd(), PollFlags::POLLOUT));
                roles.push(Role::StdinFifo);
            }
            (Some(_), true, Some(fd)) if input.is_some() => {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
                roles.push(Role::Input);
            }
            _ => {}
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        let mut read_input = false;
        for (fd, role) in fds.iter().zip(&roles) {
            let events = fd.revents().unwrap_or(PollFlags::empty());
            if events.is_empty() {
                continue;
            }
            match role {
                Role::Exit => exited |= events.contains(PollFlags::POLLHUP),
                Role::Input => read_input = true,
                Role::Output | Role::StdinFifo => {}
            }
        }
        if read_input {
            if let Some(reader) = &mut input {
                let n = reader.read(&mut buffer)?;
                if n == 0 {
                    input = None;
                    stdin_fifo = None;
                    dir.close_stdin()?;
                } else {
                    pending.extend_from_slice(&buffer[..n]);
                }
            }
        }
    }
    Ok(Relayed {
        stdout: outputs[0].count,
        stderr: outputs[1].count,
    })
}

enum Role {
    Exit,
    Output,
    StdinFifo,
    Input,
}
