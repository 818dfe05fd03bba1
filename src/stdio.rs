//! The client's stdio FIFOs and the container's pipes.
//!
//! The original opened the client FIFOs with blocking opens bounded by 15 s, which failed with
//! "context deadline exceeded" on loaded hosts. A FIFO's read side never blocks with `O_NONBLOCK`,
//! and once the shim holds a reader its write side does not either, so each FIFO is opened read
//! side first, then write side, both at once. The shim keeps both: on stdin the writer is the
//! `stdinCloser` that control message `0` drops; on stdout and stderr the reader is an idle reader
//! that keeps the FIFO alive while the client is away (a daemon restart), so the container never
//! sees `EPIPE` and data waits in the FIFO instead of being lost.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{fcntl, open, FcntlArg, OFlag};
use nix::sys::stat::{fstat, major, minor, FileStat, Mode, SFlag};
use nix::unistd::{fchown, pipe2, Gid, Uid};

use crate::error::{Error, Result};

/// The path the daemon means by an empty stdio path.
pub const DEV_NULL: &str = "/dev/null";

/// Capacity asked for every pipe and FIFO that carries output (the default is 64 KiB). Each
/// wake-up of the shim then moves up to this much in one `splice`, which more than halves the
/// shim's CPU per GiB (0.28 s to 0.12 s measured, see BENCHMARKS.md). The kernel allocates the
/// pages only while bytes wait in the pipe, so an idle container costs nothing; a client that
/// stops reading lets at most this much wait in each of the two pipes of a stream.
pub const OUTPUT_PIPE_CAPACITY: i32 = 1 << 20;

/// Both sides of one client FIFO, opened by the shim.
#[derive(Debug)]
pub struct ClientFifo {
    /// The read side: pumped from (stdin) or idle (stdout, stderr).
    pub reader: OwnedFd,
    /// The write side: pumped into (stdout, stderr) or the stdin closer.
    pub writer: OwnedFd,
    /// The path is `/dev/null`: reading it gives EOF at once, so stdin needs no pump.
    pub null: bool,
}

/// Opens the client FIFO at `path` (empty meaning `/dev/null`) without blocking. It must be a FIFO
/// or the null device; both descriptors are non-blocking and close-on-exec.
pub fn open_client_fifo(path: &str) -> Result<ClientFifo> {
    let path = if path.is_empty() { DEV_NULL } else { path };
    let failed = || format!("containerd-shim: opening {path} failed");
    let flags = OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let reader = open(Path::new(path), OFlag::O_RDONLY | flags, Mode::empty())
        .map_err(|e| Error::os(failed(), e))?;
    let first = fstat(reader.as_fd()).map_err(|e| Error::os(format!("fstat {path}"), e))?;
    if !is_fifo(&first) && !is_null_device(&first) {
        return Err(Error::invalid(
            failed(),
            format!("not a FIFO or /dev/null (mode {:o})", first.st_mode),
        ));
    }
    let writer = open(Path::new(path), OFlag::O_WRONLY | flags, Mode::empty())
        .map_err(|e| Error::os(failed(), e))?;
    let second = fstat(writer.as_fd()).map_err(|e| Error::os(format!("fstat {path}"), e))?;
    if (first.st_dev, first.st_ino) != (second.st_dev, second.st_ino) {
        return Err(Error::invalid(failed(), "replaced between its two opens"));
    }
    Ok(ClientFifo {
        reader,
        writer,
        null: is_null_device(&first),
    })
}

/// Opens a stdout or stderr client FIFO like [`open_client_fifo`], with the output capacity.
pub fn open_output_fifo(path: &str) -> Result<ClientFifo> {
    let fifo = open_client_fifo(path)?;
    if !fifo.null {
        enlarge_output(&fifo.writer);
    }
    Ok(fifo)
}

/// Whether `stat` describes a FIFO.
pub fn is_fifo(stat: &FileStat) -> bool {
    SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFIFO
}

/// Whether `stat` describes the null device (character device 1:3).
pub fn is_null_device(stat: &FileStat) -> bool {
    SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR
        && major(stat.st_rdev) == 1
        && minor(stat.st_rdev) == 3
}

/// One pipe between the shim and the container.
#[derive(Debug)]
pub struct ContainerPipe {
    /// The shim's end, non-blocking.
    pub shim: OwnedFd,
    /// The end handed to the runtime as fd 0, 1 or 2, blocking as programs expect.
    pub container: OwnedFd,
}

/// The container's stdin, stdout and stderr pipes, all six ends owned by `uid:gid` so that a
/// process in a user namespace can reopen `/proc/self/fd/N`.
pub fn container_pipes(uid: u32, gid: u32) -> Result<[ContainerPipe; 3]> {
    let owner = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    let make = |container_reads: bool| -> Result<ContainerPipe> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::os("pipe2", e))?;
        for end in [&read, &write] {
            fchown(end, owner.0, owner.1)
                .map_err(|e| Error::os(format!("fchown pipe to {uid}:{gid}"), e))?;
        }
        let (shim, container) = if container_reads {
            (write, read)
        } else {
            (read, write)
        };
        set_nonblocking(&shim)?;
        if !container_reads {
            enlarge_output(&shim);
        }
        Ok(ContainerPipe { shim, container })
    };
    Ok([make(true)?, make(false)?, make(false)?])
}

/// Asks for [`OUTPUT_PIPE_CAPACITY`] on an output pipe or FIFO. Best effort: a kernel that
/// refuses (a pipe-size limit, memory pressure) leaves the default, which only costs CPU.
pub fn enlarge_output(fd: &OwnedFd) {
    let _ = fcntl(fd, FcntlArg::F_SETPIPE_SZ(OUTPUT_PIPE_CAPACITY));
}

/// Sets `O_NONBLOCK` on `fd`, keeping its other status flags.
pub fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(|e| Error::os("fcntl F_GETFL", e))?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(|e| Error::os("fcntl F_SETFL O_NONBLOCK", e))?;
    Ok(())
}
