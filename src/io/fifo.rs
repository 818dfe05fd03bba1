//! The client's stdio FIFOs, opened without ever blocking.
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

use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fstat, major, minor, FileStat, Mode, SFlag};

use crate::error::{Error, Result};

/// The path the daemon means by an empty stdio path.
pub const DEV_NULL: &str = "/dev/null";

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
    let failed = || format!("open {path}");
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
