//! A terminal the shim makes itself, for runtimes before runc 1.0 (`--console /dev/pts/N`).
//!
//! The shim opens `/dev/ptmx`, unlocks the slave, makes it `0600` and owned by the container's
//! root, and passes its path. The master reports `EIO` only once the slave has been opened and its
//! last holder is gone, never for a slave nobody opened: so the shim holds the slave itself until
//! the process has exited, which ends the output even when the container never opened its
//! terminal.

use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use nix::fcntl::{open, OFlag};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};
use nix::sys::stat::Mode;
use nix::unistd::{chown, Gid, Uid};

use crate::error::{Error, Result};
use crate::io::pipe::set_nonblocking;

/// A PTY the shim created for a legacy runtime.
#[derive(Debug)]
pub struct LegacyConsole {
    /// The master, non-blocking and close-on-exec.
    pub master: OwnedFd,
    /// The slave's path, passed as `--console`.
    pub slave: PathBuf,
    /// The shim's own descriptor of the slave, to close once the process has exited.
    pub held_slave: OwnedFd,
}

/// Opens `/dev/ptmx`, unlocks the slave and hands it to the container's root with mode 0600.
/// Termios is left as the kernel made it.
pub fn open_legacy(uid: u32, gid: u32) -> Result<LegacyConsole> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| Error::os("open /dev/ptmx", e))?;
    unlockpt(&master).map_err(|e| Error::os("ioctl TIOCSPTLCK /dev/ptmx", e))?;
    let slave = PathBuf::from(ptsname_r(&master).map_err(|e| Error::os("ioctl TIOCGPTN", e))?);
    std::fs::set_permissions(&slave, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::os(format!("chmod {}", slave.display()), e))?;
    chown(&slave, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
        .map_err(|e| Error::os(format!("chown {} to {uid}:{gid}", slave.display()), e))?;
    let held_slave = open(
        &slave,
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::os(format!("open {}", slave.display()), e))?;
    let master = OwnedFd::from(master);
    set_nonblocking(&master)?;
    Ok(LegacyConsole {
        master,
        slave,
        held_slave,
    })
}
