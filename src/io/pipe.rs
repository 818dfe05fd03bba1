//! The container's pipes, and the few pipe facts the pumps need: capacity and queued bytes.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::unistd::{fchown, pipe2, Gid, Uid};

use crate::error::{Error, Result};

/// Capacity asked for every pipe and FIFO that carries output (the default is 64 KiB). Each
/// wake-up of the shim then moves up to this much in one `splice`, which more than halves the
/// shim's CPU per GiB (0.28 s to 0.12 s measured, see BENCHMARKS.md). The kernel allocates the
/// pages only while bytes wait in the pipe, so an idle container costs nothing; a client that
/// stops reading lets at most this much wait in each of the two pipes of a stream.
pub const OUTPUT_PIPE_CAPACITY: i32 = 1 << 20;

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
