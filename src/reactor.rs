//! The reactor's vocabulary: one token per source, and registration that copes with descriptors
//! epoll cannot watch.
//!
//! The set of sources is fixed and small (a signalfd, the control FIFO, a console socket and its
//! connection, and two ends for each of three pumps), so tokens are named constants rather than
//! slab keys. mio registers everything edge-triggered: every handler reads or writes until
//! `EAGAIN`, or says it was cut short so that the loop comes back to it.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// The signalfd.
pub const SIGNALS: Token = Token(0);
/// The control FIFO.
pub const CONTROL: Token = Token(1);
/// The console socket's listener.
pub const CONSOLE_LISTENER: Token = Token(2);
/// The runtime's connection to the console socket.
pub const CONSOLE_CONNECTION: Token = Token(3);

/// Which pump a token belongs to, and which end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpId {
    /// Client stdin FIFO to the container (pipe or terminal).
    Stdin = 0,
    /// Container stdout (pipe or terminal) to the client stdout FIFO.
    Stdout = 1,
    /// Container stderr pipe to the client stderr FIFO.
    Stderr = 2,
}

impl PumpId {
    /// All pumps, in index order.
    pub const ALL: [PumpId; 3] = [PumpId::Stdin, PumpId::Stdout, PumpId::Stderr];

    const FIRST_TOKEN: usize = 16;

    /// The token of the pump's source.
    pub fn source_token(self) -> Token {
        Token(Self::FIRST_TOKEN + 2 * self as usize)
    }

    /// The token of the pump's destination.
    pub fn sink_token(self) -> Token {
        Token(Self::FIRST_TOKEN + 2 * self as usize + 1)
    }

    /// The pump a token belongs to, if any.
    pub fn of(token: Token) -> Option<PumpId> {
        let index = token.0.checked_sub(Self::FIRST_TOKEN)? / 2;
        Self::ALL.get(index).copied()
    }
}

/// Registers `fd` and returns whether epoll watches it. Regular files and `/dev/null` cannot be
/// watched (`EPERM`): they are always ready, so their user simply never waits on them.
pub fn register(
    registry: &Registry,
    fd: BorrowedFd<'_>,
    token: Token,
    interest: Interest,
) -> io::Result<bool> {
    match registry.register(&mut SourceFd(&fd.as_raw_fd()), token, interest) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(nix::libc::EPERM) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes `fd` from epoll. Must come before the descriptor is closed whenever another
/// descriptor may still refer to the same open file (a dup of the PTY master): epoll watches the
/// open file, and a stale registration would keep firing for a token whose owner is gone.
pub fn deregister(registry: &Registry, fd: BorrowedFd<'_>) {
    // The only possible error is ENOENT for a descriptor that was never registered.
    let _ = registry.deregister(&mut SourceFd(&fd.as_raw_fd()));
}

#[cfg(test)]
mod tests;
