//! The container's pipes, and the few pipe facts the pumps need: capacity and queued bytes.
//!
//! Capacity is a host-wide resource. The kernel charges every pipe's capacity (not its contents)
//! to the user that created it, and once a user holds more than `fs.pipe-user-pages-soft`
//! (16384 pages by default), every new pipe of that user's processes without CAP_SYS_RESOURCE
//! gets 8 KiB instead of 64 KiB. Container processes run as root without that capability, so
//! a shim that kept large pipes for every container would shrink the pipes of every container on
//! the host. Pipes therefore keep the kernel's default capacity, and a pump enlarges its pair only
//! while a stream is fast enough to fill it (see [`crate::io::pump`]), giving the pages back once
//! the stream is idle.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::unistd::{fchown, pipe2, Gid, Uid};

use crate::error::{Error, Result};

/// The kernel's default pipe capacity (16 pages), which idle pipes keep.
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// The capacity of a pipe and FIFO pair while a stream fills them: each wake-up of the shim then
/// moves up to this much in one `splice`, which more than halves the shim's CPU per GiB
/// (BENCHMARKS.md). A client that stops reading lets at most this much wait in each of the two
/// pipes of a stream.
pub const STREAMING_CAPACITY: usize = 1 << 20;

/// One pipe between the shim and the container.
#[derive(Debug)]
pub struct ContainerPipe {
    /// The shim's end, non-blocking.
    pub shim: OwnedFd,
    /// The end handed to the runtime as fd 0, 1 or 2, blocking as programs expect.
    pub container: OwnedFd,
}

/// One of the container's stdio pipes (its stdin when the container reads it, else an output),
/// both ends owned by `uid:gid` so that a process in a user namespace can reopen
/// `/proc/self/fd/N`.
pub fn container_pipe(uid: u32, gid: u32, container_reads: bool) -> Result<ContainerPipe> {
    let owner = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
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
    Ok(ContainerPipe { shim, container })
}

/// Sets a pipe's capacity. Fails with `EBUSY` when it holds more than `bytes`, and with `EPERM`
/// past the user's limits for a shim without CAP_SYS_RESOURCE.
pub fn set_capacity(fd: BorrowedFd<'_>, bytes: usize) -> nix::Result<()> {
    let bytes = i32::try_from(bytes).unwrap_or(i32::MAX);
    fcntl(fd, FcntlArg::F_SETPIPE_SZ(bytes)).map(drop)
}

/// Sets `O_NONBLOCK` on `fd`, keeping its other status flags.
pub fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(|e| Error::os("fcntl F_GETFL", e))?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(|e| Error::os("fcntl F_SETFL O_NONBLOCK", e))?;
    Ok(())
}

nix::ioctl_read_bad!(
    /// `ioctl(fd, FIONREAD, &n)`, which nix does not wrap.
    fionread,
    nix::libc::FIONREAD,
    nix::libc::c_int
);

/// Bytes waiting to be read in a pipe, FIFO or terminal; `None` where the kernel cannot tell.
pub fn queued(fd: BorrowedFd<'_>) -> Option<usize> {
    let mut count: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to a live local; the
    // descriptor is borrowed, so it stays open for the whole call.
    unsafe { fionread(fd.as_raw_fd(), &mut count) }.ok()?;
    usize::try_from(count).ok()
}
