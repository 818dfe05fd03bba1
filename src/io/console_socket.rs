//! Receiving a terminal from the runtime over a console socket (runc 1.x, crun, youki).
//!
//! The shim listens on `pty.sock` in a private directory (mode 0700) under the configured
//! temporary directory, passes it as `--console-socket`, accepts exactly one connection and
//! receives exactly one descriptor with `SCM_RIGHTS`, which must be a terminal. The socket and its
//! directory are removed as soon as the connection is accepted, and again on drop whatever
//! happened, so no temporary directory outlives the shim.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::sys::socket::{
    accept4, bind, listen, recvmsg, socket, AddressFamily, Backlog, ControlMessageOwned, MsgFlags,
    SockFlag, SockType, UnixAddr,
};

use crate::error::{Error, Result};
use crate::event_loop::Registry;
use crate::io::pipe::set_nonblocking;

/// The most descriptors one `SCM_RIGHTS` message can carry (Linux `SCM_MAX_FD`). The control
/// buffer holds that many, so a runtime that sends too many cannot make the kernel truncate the
/// message, which would leave descriptors installed in the shim that nix cannot hand back.
const SCM_MAX_FD: usize = 253;

/// The data part of the runtime's message is the terminal's name; the original accepted up to
/// 4096 bytes of it.
const NAME_BUFFER: usize = 4096;

/// A listening console socket and, once accepted, the runtime's connection.
#[derive(Debug)]
pub struct ConsoleSocket<R> {
    dir: PathBuf,
    path: PathBuf,
    listener: Option<(OwnedFd, Option<Token>)>,
    connection: Option<(OwnedFd, Option<Token>)>,
    /// Where readiness of the connection leads, once there is one.
    connection_route: R,
    removed: bool,
}

impl<R: Copy> ConsoleSocket<R> {
    /// Creates `<dir>/tinyshim-pty.XXXXXX/pty.sock`, listening, its readiness led to
    /// `listener_route` and, once the runtime connects, to `connection_route`. `dir` is absolute:
    /// the runtime connects from the bundle, not from the shim's working directory.
    pub fn listen(
        dir: &Path,
        registry: &mut impl Registry<R>,
        listener_route: R,
        connection_route: R,
    ) -> Result<ConsoleSocket<R>> {
        let template = dir.join("tinyshim-pty.XXXXXX");
        let dir = nix::unistd::mkdtemp(&template)
            .map_err(|e| Error::os(format!("mkdtemp {}", template.display()), e))?;
        let mut console = ConsoleSocket {
            path: dir.join("pty.sock"),
            dir,
            listener: None,
            connection: None,
            connection_route,
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
        let token = registry
            .register(listener.as_fd(), Interest::READABLE, listener_route)
            .map_err(|e| Error::os("epoll_ctl console socket", e))?;
        console.listener = Some((listener, token));
        Ok(console)
    }

    /// The path passed as `--console-socket`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes what progress it can without blocking: accepts the connection, then receives the
    /// master. `Ok(None)` means the runtime has not sent it yet.
    pub fn receive(&mut self, registry: &mut impl Registry<R>) -> Result<Option<OwnedFd>> {
        if self.connection.is_none() {
            let Some((listener, _)) = &self.listener else {
                return Ok(None);
            };
            let connection =
                match accept4(listener, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC) {
                    Ok(connection) => connection,
                    Err(Errno::EAGAIN | Errno::EINTR | Errno::ECONNABORTED) => return Ok(None),
                    Err(e) => return Err(Error::os(format!("accept {}", self.path.display()), e)),
                };
            self.close_listener(registry);
            self.remove();
            let token = registry
                .register(
                    connection.as_fd(),
                    Interest::READABLE,
                    self.connection_route,
                )
                .map_err(|e| Error::os("epoll_ctl console connection", e))?;
            self.connection = Some((connection, token));
        }
        let Some((connection, _)) = &self.connection else {
            return Ok(None);
        };
        let received = match receive_descriptors(connection.as_fd()) {
            Ok(Some(received)) => received,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::os(format!("recvmsg {}", self.path.display()), e)),
        };
        self.close_connection(registry);
        let master = single_terminal(received, &self.path)?;
        set_nonblocking(&master)?;
        Ok(Some(master))
    }

    /// Stops listening and closes the runtime's connection, deregistering both; the socket file
    /// goes when the value is dropped.
    pub fn close(&mut self, registry: &mut impl Registry<R>) {
        self.close_listener(registry);
        self.close_connection(registry);
        self.remove();
    }

    fn close_listener(&mut self, registry: &mut impl Registry<R>) {
        if let Some((listener, Some(token))) = self.listener.take() {
            registry.deregister(listener.as_fd(), token);
        }
    }

    fn close_connection(&mut self, registry: &mut impl Registry<R>) {
        if let Some((connection, Some(token))) = self.connection.take() {
            registry.deregister(connection.as_fd(), token);
        }
    }
}

impl<R> ConsoleSocket<R> {
    /// Removes the socket and its directory; repeated calls do nothing.
    fn remove(&mut self) {
        if !self.removed {
            self.removed = true;
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

impl<R> Drop for ConsoleSocket<R> {
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
