//! A pump moves bytes one way between two descriptors, without blocking and without ever holding
//! more than a fixed amount.
//!
//! The fast path is `splice(2)`: with a pipe on at least one side (FIFOs are pipes), the kernel
//! moves page references and the shim copies nothing. Where the kernel refuses a pair (`EINVAL`,
//! for instance a PTY on an old kernel) the pump switches for good to `read`/`write` through one
//! buffer of [`COPY_BUFFER`] bytes, allocated at that moment. `TINYSHIM_NO_SPLICE=1` forces the
//! copy path so that tests and benchmarks cover both.
//!
//! Back-pressure is the absence of a buffer: when the destination is full the pump stops reading
//! its source, so the container blocks in `write` and nothing is dropped. Both ends are
//! registered (source readable, destination writable), so whichever side changes, the loop runs
//! the pump again.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use mio::{Interest, Registry};
use nix::errno::Errno;
use nix::fcntl::{splice, SpliceFFlags};

use crate::reactor::{self, PumpId};

/// Size of the copy path's buffer: a pipe's default capacity. The copy path is a fallback; a
/// larger buffer would save few syscalls per GiB (each byte is still copied twice) while every
/// copying pump kept it resident.
pub const COPY_BUFFER: usize = 64 * 1024;

/// Most bytes asked of one `splice` call; the kernel moves at most a pipe's capacity anyway.
const SPLICE_CHUNK: usize = 1 << 20;

/// Transfers made in one [`Pump::run`] before yielding to other sources. Edge-triggered
/// readiness obliges the caller to come back (see [`Flow::Yield`]).
const TRANSFERS_PER_RUN: usize = 64;

/// The environment variable that forces the copy path.
pub const NO_SPLICE_ENV: &str = "TINYSHIM_NO_SPLICE";

/// What stopped a [`Pump::run`].
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// One side would block: wait for the next readiness event.
    Wait,
    /// Work is left but the pump yielded: run it again before sleeping.
    Yield,
    /// The source ended: every writer closed, or the terminal hung up (`EIO`).
    Eof,
    /// The destination is gone (`EPIPE`, or `EIO` from a hung-up terminal).
    SinkClosed,
    /// An error that neither side should produce; the pump cannot go on.
    Failed(Errno),
}

/// One end of a pump.
#[derive(Debug)]
pub struct Endpoint {
    fd: OwnedFd,
    /// Whether epoll watches it; `/dev/null` cannot be watched and never blocks.
    polled: bool,
    /// A terminal reports a hang-up as `EIO`.
    terminal: bool,
}

impl Endpoint {
    /// An end that is not a terminal.
    pub fn plain(fd: OwnedFd) -> Endpoint {
        Endpoint {
            fd,
            polled: false,
            terminal: false,
        }
    }

    /// A PTY master.
    pub fn terminal(fd: OwnedFd) -> Endpoint {
        Endpoint {
            fd,
            polled: false,
            terminal: true,
        }
    }

    fn close(self, registry: &Registry) {
        if self.polled {
            reactor::deregister(registry, self.fd.as_fd());
        }
    }
}

/// The copy path's state: bytes `start..end` of `buffer` are read but not yet written.
#[derive(Debug)]
struct CopyState {
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
}

/// A one-way mover from `source` to `sink`.
#[derive(Debug)]
pub struct Pump {
    source: Option<Endpoint>,
    sink: Option<Endpoint>,
    copy: Option<CopyState>,
    finished: bool,
}

impl Pump {
    /// A pump that registers both ends under `id`'s tokens. `force_copy` skips splice.
    pub fn new(
        id: PumpId,
        mut source: Endpoint,
        mut sink: Endpoint,
        force_copy: bool,
        registry: &Registry,
    ) -> io::Result<Pump> {
        source.polled = reactor::register(
            registry,
            source.fd.as_fd(),
            id.source_token(),
            Interest::READABLE,
        )?;
        sink.polled = match reactor::register(
            registry,
            sink.fd.as_fd(),
            id.sink_token(),
            Interest::WRITABLE,
        ) {
            Ok(polled) => polled,
            Err(e) => {
                source.close(registry);
                return Err(e);
            }
        };
        Ok(Pump {
            source: Some(source),
            sink: Some(sink),
            copy: force_copy.then(CopyState::new),
            finished: false,
        })
    }

    /// Whether the source has ended or the pump stopped for good.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Whether the copy path is in use.
    pub fn copying(&self) -> bool {
        self.copy.is_some()
    }

    /// Moves bytes until one side would block, the budget is spent, or the pump ends. An ended
    /// pump does nothing.
    pub fn run(&mut self) -> Flow {
        let (Some(source), Some(sink)) = (&self.source, &self.sink) else {
            return Flow::Eof;
        };
        if self.finished {
            return Flow::Eof;
        }
        for _ in 0..TRANSFERS_PER_RUN {
            let step = match &mut self.copy {
                None => splice_once(source, sink),
                Some(state) => state.copy_once(source, sink),
            };
            match step {
                Step::Moved => continue,
                Step::Unsupported => self.copy = Some(CopyState::new()),
                Step::Stop(flow) => {
                    if flow != Flow::Wait {
                        self.finished = true;
                    }
                    return flow;
                }
            }
        }
        Flow::Yield
    }

    /// Closes the source only (deregistering it first), keeping the sink: the lifecycle closes the
    /// client's FIFO later, once every output has ended.
    pub fn close_source(&mut self, registry: &Registry) {
        if let Some(source) = self.source.take() {
            source.close(registry);
        }
        self.finished = true;
    }

    /// Closes both ends.
    pub fn close(mut self, registry: &Registry) {
        self.close_source(registry);
        if let Some(sink) = self.sink.take() {
            sink.close(registry);
        }
    }
}

/// The result of one transfer attempt.
enum Step {
    Moved,
    /// splice cannot move between these two descriptors.
    Unsupported,
    Stop(Flow),
}

fn splice_once(source: &Endpoint, sink: &Endpoint) -> Step {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    match splice(&source.fd, None, &sink.fd, None, SPLICE_CHUNK, flags) {
        Ok(0) => Step::Stop(Flow::Eof),
        Ok(_) => Step::Moved,
        Err(Errno::EINTR) => Step::Moved,
        Err(Errno::EAGAIN) => Step::Stop(Flow::Wait),
        Err(Errno::EINVAL) => Step::Unsupported,
        Err(Errno::EPIPE) => Step::Stop(Flow::SinkClosed),
        // splice cannot say which side failed; only a terminal side produces EIO.
        Err(Errno::EIO) if source.terminal => Step::Stop(Flow::Eof),
        Err(Errno::EIO) if sink.terminal => Step::Stop(Flow::SinkClosed),
        Err(errno) => Step::Stop(Flow::Failed(errno)),
    }
}

impl CopyState {
    fn new() -> CopyState {
        CopyState {
            buffer: vec![0; COPY_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn copy_once(&mut self, source: &Endpoint, sink: &Endpoint) -> Step {
        if self.start < self.end {
            return match nix::unistd::write(&sink.fd, &self.buffer[self.start..self.end]) {
                Ok(n) => {
                    self.start += n;
                    Step::Moved
                }
                Err(Errno::EINTR) => Step::Moved,
                Err(Errno::EAGAIN) => Step::Stop(Flow::Wait),
                Err(Errno::EPIPE) => Step::Stop(Flow::SinkClosed),
                Err(Errno::EIO) if sink.terminal => Step::Stop(Flow::SinkClosed),
                Err(errno) => Step::Stop(Flow::Failed(errno)),
            };
        }
        match nix::unistd::read(&source.fd, &mut self.buffer) {
            Ok(0) => Step::Stop(Flow::Eof),
            Ok(n) => {
                self.start = 0;
                self.end = n;
                Step::Moved
            }
            Err(Errno::EINTR) => Step::Moved,
            Err(Errno::EAGAIN) => Step::Stop(Flow::Wait),
            // Linux reports a PTY master whose slaves are all closed as EIO, not EOF.
            Err(Errno::EIO) if source.terminal => Step::Stop(Flow::Eof),
            Err(errno) => Step::Stop(Flow::Failed(errno)),
        }
    }
}

#[cfg(test)]
mod tests;
