//! One output stream of a process (stdout or stderr): the pump from the container's side to the
//! client's FIFO, and the shim's idle reader on that FIFO.
//!
//! The idle reader keeps the FIFO alive while the client is away (a daemon restart), so the
//! container never sees `EPIPE` and its bytes wait in the FIFO instead of being lost; it also
//! tells how many bytes the client has not read yet. At the very end the shim also needs to know
//! whether anybody could still read them.
//!
//! When the shim's writer closes is the frontend's protocol ([`FifoEnd`]): a client reading to
//! EOF sees it only then, and bytes still in the FIFO are never lost by it, since the idle reader
//! keeps the FIFO's buffer for whoever opens it next.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fstat, stat, Mode};

use crate::event_loop::Registry;
use crate::io::fifo::ClientFifo;
use crate::io::pipe;
use crate::io::pump::{Flow, Pump};
use crate::process::drain::Progress;

/// The client's end of an output stream, as the shim holds it.
#[derive(Debug)]
pub struct ClientOutput {
    /// The FIFO's path, to find out whether a reader has come back.
    path: PathBuf,
    /// `(st_dev, st_ino)` of the FIFO, so that a path now naming something else is not taken
    /// for it.
    identity: (u64, u64),
    /// The idle reader, until a probe for another reader drops it (see `reader_present`).
    idle_reader: Option<OwnedFd>,
}

impl ClientOutput {
    /// Keeps `fifo`'s reader as the idle reader and hands back its writer, the pump's sink.
    /// `None` for `/dev/null`, which nobody reads.
    pub fn split(path: &str, fifo: ClientFifo) -> (Option<ClientOutput>, OwnedFd) {
        if fifo.null {
            return (None, fifo.writer);
        }
        let identity = fstat(fifo.writer.as_fd())
            .map(|s| (s.st_dev, s.st_ino))
            .unwrap_or_default();
        let client = ClientOutput {
            path: PathBuf::from(path),
            identity,
            idle_reader: Some(fifo.reader),
        };
        (Some(client), fifo.writer)
    }

    /// Whether a reader other than the shim has the FIFO open, or nobody could ever read it
    /// again. Probed by opening the path for writing without blocking, which fails with `ENXIO`
    /// exactly when there is no reader: so the shim's own idle reader goes first. A path that no
    /// longer leads to this FIFO (removed, replaced) leaves nothing to wait for.
    fn reader_present(&mut self) -> bool {
        self.idle_reader = None;
        let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        match open(&self.path, flags, Mode::empty()) {
            Ok(_probe) => true,
            Err(Errno::ENXIO) => !self.path_names_this_fifo(),
            Err(_) => true,
        }
    }

    fn path_names_this_fifo(&self) -> bool {
        stat(&self.path).is_ok_and(|s| (s.st_dev, s.st_ino) == self.identity)
    }
}

/// When the shim closes its writer on the client's FIFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FifoEnd {
    /// As soon as the stream has ended and every byte is in the FIFO: the client sees EOF once
    /// it has read them, as clients of the Go shim expect (CRI's ExecSync reads an exec's
    /// outputs to EOF before it deletes the exec).
    AtEof,
    /// With the process's stdio, once the frontend is done with it: the v0.2 daemon, which may
    /// reconnect while other streams still flow, must not see one end early.
    WithProcess,
}

/// An output stream.
#[derive(Debug)]
pub struct Output {
    /// `stdout` or `stderr`, for messages.
    pub name: &'static str,
    /// Container side to client side; `None` once closed.
    pub pump: Option<Pump>,
    /// The client's FIFO; `None` for `/dev/null`.
    pub client: Option<ClientOutput>,
    /// When the pump's sink closes.
    pub fifo_end: FifoEnd,
}

impl Output {
    /// Runs the pump. On its end the container's side closes, and the client's too if the
    /// frontend wants it closed at EOF: the stream has ended, so every byte the container wrote
    /// is in the FIFO by now (splice moves them straight there; the copy path reads only once
    /// its buffer is written), and the idle reader keeps any the client has not read yet.
    /// Returns how it stopped, for the caller to report a failure.
    pub fn run<R: Copy>(&mut self, registry: &mut impl Registry<R>) -> Option<Flow> {
        let pump = self.pump.as_mut()?;
        let flow = pump.run(registry);
        match flow {
            Flow::Wait | Flow::Yield => {}
            Flow::Eof | Flow::SinkClosed | Flow::Failed(_) => {
                pump.close_source(registry);
                if self.fifo_end == FifoEnd::AtEof {
                    pump.close_sink(registry);
                }
            }
        }
        Some(flow)
    }

    /// Bytes waiting in the client's FIFO, asked of whichever end the shim still holds.
    fn queued(&self) -> u64 {
        let sink = self.pump.as_ref().and_then(|pump| pump.sink());
        let reader = self.client.as_ref().and_then(|c| c.idle_reader.as_ref());
        let end = sink.or(reader.map(|fd| fd.as_fd()));
        end.and_then(pipe::queued).unwrap_or(0) as u64
    }

    /// Whether the pump is on the copy path.
    pub fn copying(&self) -> bool {
        self.pump.as_ref().is_some_and(Pump::copying)
    }

    /// Closes both sides.
    pub fn close<R: Copy>(&mut self, registry: &mut impl Registry<R>) {
        if let Some(pump) = self.pump.take() {
            pump.close(registry);
        }
        self.client = None;
    }
}

impl Progress for Output {
    fn moved(&self) -> u64 {
        self.pump.as_ref().map_or(0, Pump::moved)
    }

    fn ended(&self) -> bool {
        self.pump.as_ref().is_none_or(Pump::finished)
    }

    fn blocked_on_client(&self) -> bool {
        self.pump.as_ref().is_some_and(Pump::blocked_on_sink)
    }

    /// None for `/dev/null`, a file or a logger, which hold no unread bytes.
    fn unread(&self) -> u64 {
        if self.client.is_none() {
            return 0;
        }
        self.queued()
    }

    fn unread_without_reader(&mut self) -> u64 {
        let unread = self.unread();
        let Some(client) = &mut self.client else {
            return 0;
        };
        if unread == 0 || client.reader_present() {
            0
        } else {
            unread
        }
    }
}
