//! Terminals: receiving the PTY master from the runtime over a console socket, creating one for
//! legacy runtimes, and resizing it.
//!
//! Console socket (runc 1.x, crun, youki): the shim listens on `pty.sock` in a private directory
//! (mode 0700) under `$TMPDIR`, passes it as `--console-socket`, accepts exactly one connection
//! and receives exactly one descriptor with `SCM_RIGHTS`, which must be a terminal. The socket and
//! its directory are removed as soon as the connection is accepted, and again on drop whatever
//! happened, so no temp directory outlives the shim.
//!
//! Legacy console (runtimes before runc 1.0): the shim opens `/dev/ptmx`, unlocks the slave,
//! makes it `0600` and owned by the container's root, and passes `--console /dev/pts/N`. The
//! master reports `EIO` only once the slave has been opened and its last holder is gone, never
//! for a slave nobody opened: so the shim holds the slave itself until the process has exited,
//! which ends the output even when the container never opened its terminal.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use mio::{Interest, Registry};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{
    accept4, bind, listen, recvmsg, socket, AddressFamily, Backlog, ControlMessageOwned, MsgFlags,
    SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::Mode;
use nix::unistd::{chown, Gid, Uid};

use crate::error::{Error, Result};
use crate::reactor::{self, CONSOLE_CONNECTION, CONSOLE_LISTENER};
use crate::stdio::set_nonblocking;

/// The environment variable that selects the legacy `--console /dev/pts/N` protocol.
pub const LEGACY_CONSOLE_ENV: &str = "TINYSHIM_LEGACY_CONSOLE";

/// The most descriptors one `SCM_RIGHTS` message can carry (Linux `SCM_MAX_FD`). The control
/// buffer holds that many, so a runtime that sends too many cannot make the kernel truncate the
/// message, which would leave descriptors installed in the shim that nix cannot hand back.
const SCM_MAX_FD: usize = 253;

/// The data part of the runtime's message is the terminal's name; the original accepted up to
/// 4096 bytes of it.
const NAME_BUFFER: usize = 4096;

/// A listening console socket and, once accepted, the runtime's connection.
#[derive(Debug)]
pub struct ConsoleSocket {
    dir: PathBuf,
    path: PathBuf,
    listener: Option<OwnedFd>,
    connection: Option<OwnedFd>,
    removed: bool,
}

impl ConsoleSocket {
    /// Creates `$TMPDIR/tinyshim-pty.XXXXXX/pty.sock`, listening, registered under
    /// [`CONSOLE_LISTENER`].
    pub fn listen(registry: &Registry) -> Result<ConsoleSocket> {
        let base = std::env::var_os("TMPDIR")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let template = base.join("tinyshim-pty.XXXXXX");
        let dir = nix::unistd::mkdtemp(&template)
            .map_err(|e| Error::os(format!("mkdtemp {}", template.display()), e))?;
        let mut console = ConsoleSocket {
            path: dir.join("pty.sock"),
            dir,
            listener: None,
            connection: None,
            removed: false,
        };
        let listener = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| Error::os("socket AF_UNIX", e))?;
        let address = UnixAddr::new(&console.path)
            .map_err(|e| Error::os(format!("console socket {}", console.path.display()), e))?;
        bind(listener.as_raw_fd(), &address)
            .map_err(|e| Error::os(format!("bind {}", console.path.display()), e))?;
        listen(&listener, Backlog::new(1).unwrap_or(Backlog::MAXCONN))
            .map_err(|e| Error::os(format!("listen {}", console.path.display()), e))?;
        reactor::register(
            registry,
            listener.as_fd(),
            CONSOLE_LISTENER,
            Interest::READABLE,
        )
        .map_err(|e| Error::os("epoll_ctl console socket", e))?;
        console.listener = Some(listener);
        Ok(console)
    }

    /// The path passed as `--console-socket`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes what progress it can without blocking: accepts the connection, then receives the
    /// master. `Ok(None)` means the runtime has not sent it yet.
    pub fn receive(&mut self, registry: &Registry) -> Result<Option<OwnedFd>> {
        if self.connection.is_none() {
            let Some(listener) = &self.listener else {
                return Ok(None);
            };
            let connection =
                match accept4(listener, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC) {
                    Ok(connection) => connection,
                    Err(Errno::EAGAIN | Errno::EINTR | Errno::ECONNABORTED) => return Ok(None),
                    Err(e) => return Err(Error::os(format!("accept {}", self.path.display()), e)),
                };
            reactor::deregister(registry, listener.as_fd());
            self.listener = None;
            self.remove();
            reactor::register(
                registry,
                connection.as_fd(),
                CONSOLE_CONNECTION,
                Interest::READABLE,
            )
            .map_err(|e| Error::os("epoll_ctl console connection", e))?;
            self.connection = Some(connection);
        }
        let Some(connection) = &self.connection else {
            return Ok(None);
        };
        let received = match receive_descriptors(connection.as_fd()) {
            Ok(Some(received)) => received,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::os(format!("recvmsg {}", self.path.display()), e)),
        };
        reactor::deregister(registry, connection.as_fd());
        self.connection = None;
        let master = single_terminal(received, &self.path)?;
        set_nonblocking(&master)?;
        Ok(Some(master))
    }

    /// Removes the socket and its directory; repeated calls do nothing.
    fn remove(&mut self) {
        if !self.removed {
            self.removed = true;
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        self.remove();
    }
}

/// What one `recvmsg` brought: the descriptors (owned, so they close if rejected) and whether the
/// peer sent anything at all.
#[derive(Debug)]
struct Received {
    descriptors: Vec<OwnedFd>,
    bytes: usize,
}

/// One non-blocking `recvmsg`; `Ok(None)` if nothing has arrived yet.
fn receive_descriptors(connection: BorrowedFd<'_>) -> std::result::Result<Option<Received>, Errno> {
    let mut name = [0u8; NAME_BUFFER];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([RawFd; SCM_MAX_FD]);
    let message = match recvmsg::<()>(
        connection.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(message) => message,
        Err(Errno::EAGAIN | Errno::EINTR) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut descriptors = Vec::new();
    for control in message.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = control {
            // SAFETY: the kernel just installed these descriptors in this process for us; nothing
            // else owns them, so each gets exactly one owner here.
            descriptors.extend(
                fds.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    Ok(Some(Received {
        descriptors,
        bytes: message.bytes,
    }))
}

/// Checks that exactly one descriptor came and that it is a terminal.
fn single_terminal(received: Received, socket: &Path) -> Result<OwnedFd> {
    let context = || format!("console socket {}", socket.display());
    let mut descriptors = received.descriptors;
    match descriptors.len() {
        0 if received.bytes == 0 => Err(Error::invalid(
            context(),
            "the runtime closed the connection without sending a terminal",
        )),
        0 => Err(Error::invalid(context(), "message carried no descriptor")),
        1 => {
            let master = descriptors.remove(0);
            if nix::sys::termios::tcgetattr(&master).is_err() {
                return Err(Error::invalid(
                    context(),
                    "the received descriptor is not a terminal",
                ));
            }
            Ok(master)
        }
        n => Err(Error::invalid(
            context(),
            format!("received {n} descriptors, expected exactly one"),
        )),
    }
}

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

nix::ioctl_write_ptr_bad!(
    /// `ioctl(fd, TIOCSWINSZ, &winsize)`, which nix does not wrap.
    set_window_size,
    nix::libc::TIOCSWINSZ,
    nix::libc::winsize
);

/// Sets the terminal size: `width` columns, `height` rows. The kernel sends SIGWINCH to the
/// terminal's foreground process group.
pub fn resize(master: BorrowedFd<'_>, width: u16, height: u16) -> nix::Result<()> {
    let size = nix::libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` through the pointer, which points to a live local
    // of exactly that type; the descriptor is borrowed, so it is open for the whole call.
    unsafe { set_window_size(master.as_raw_fd(), &size) }.map(drop)
}
