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
//! the pump again. While the destination is full, a pipe source is made quiet (watched for
//! writability, which the read end of a pipe never has: only a hang-up is still reported):
//! every write into a pipe wakes its readers, and a container writing 4 KiB at a time into a
//! full pipe behind a slow reader would otherwise wake the shim eight times for each time the
//! reader makes room, for nothing. The source is watched again once the sink has room.
//!
//! An output pump's capacity is elastic. Its pipe and FIFO start at the kernel's default; when
//! one transfer finds a full default pipe's worth waiting, or the sink is full while the source
//! is full too, the stream outruns the shim's wake-ups or its reader, and the pump enlarges both
//! to [`STREAMING_CAPACITY`], so that each wake-up moves up to a MiB. Whoever owns the pump
//! then looks at it now and then ([`Pump::look`]); once a look finds that nothing moved since
//! the previous one, the pump gives both pipes their default capacity back (see
//! [`crate::io::pipe`] for why that matters to the whole host).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::fcntl::{splice, OFlag, SpliceFFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::event_loop::Registry;
use crate::io::pipe;
use capacity::Capacity;

/// Size of the copy path's buffer: a pipe's default capacity. The copy path is a fallback; a
/// larger buffer would save few syscalls per GiB (each byte is still copied twice) while every
/// copying pump kept it resident.
pub const COPY_BUFFER: usize = 64 * 1024;

/// Most bytes asked of one `splice` call; the kernel moves at most a pipe's capacity anyway.
const SPLICE_CHUNK: usize = 1 << 20;

/// Transfers made in one [`Pump::run`] before yielding to other sources. Edge-triggered
/// readiness obliges the pump to be run again (see [`Flow::Yield`]).
const TRANSFERS_PER_RUN: usize = 64;

/// What stopped a [`Pump::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// One side would block: wait for the next readiness event.
    Wait,
    /// Work is left but the pump yielded; the loop runs it again before sleeping.
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
    /// The loop's token while registered; `/dev/null` and regular files cannot be watched and
    /// never block.
    token: Option<Token>,
    /// A terminal reports a hang-up as `EIO`.
    terminal: bool,
    /// Watched for writability only, which a pipe's read end never has (see the module
    /// documentation).
    quiet: bool,
}

impl Endpoint {
    /// An end that is not a terminal.
    pub fn plain(fd: OwnedFd) -> Endpoint {
        Endpoint {
            fd,
            token: None,
            terminal: false,
            quiet: false,
        }
    }

    /// A PTY master.
    pub fn terminal(fd: OwnedFd) -> Endpoint {
        Endpoint {
            fd,
            token: None,
            terminal: true,
            quiet: false,
        }
    }

    fn close<R: Copy>(self, registry: &mut impl Registry<R>) {
        if let Some(token) = self.token {
            registry.deregister(self.fd.as_fd(), token);
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
    /// Bytes moved so far, which tells a drain whether the output is still making progress.
    moved: u64,
    capacity: Capacity,
}

impl Pump {
    /// A pump whose ends are registered with the routes `source_route` (readable) and
    /// `sink_route` (writable). `force_copy` skips splice.
    pub fn new<R: Copy>(
        mut source: Endpoint,
        mut sink: Endpoint,
        force_copy: bool,
        registry: &mut impl Registry<R>,
        (source_route, sink_route): (R, R),
    ) -> io::Result<Pump> {
        source.token = registry.register(source.fd.as_fd(), Interest::READABLE, source_route)?;
        sink.token = match registry.register(sink.fd.as_fd(), Interest::WRITABLE, sink_route) {
            Ok(token) => token,
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
            moved: 0,
            capacity: Capacity::Fixed,
        })
    }

    /// Makes the pump's capacity elastic: for output pumps from a pipe.
    pub fn with_elastic_capacity(mut self) -> Pump {
        self.capacity = Capacity::Default;
        self
    }

    /// Whether the source has ended or the pump stopped for good.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Whether the copy path is in use.
    pub fn copying(&self) -> bool {
        self.copy.is_some()
    }

    /// Bytes moved since the pump was made.
    pub fn moved(&self) -> u64 {
        self.moved
    }

    /// The source, while it is open.
    pub fn source(&self) -> Option<BorrowedFd<'_>> {
        self.source.as_ref().map(|end| end.fd.as_fd())
    }

    /// The sink, while it is open.
    pub fn sink(&self) -> Option<BorrowedFd<'_>> {
        self.sink.as_ref().map(|end| end.fd.as_fd())
    }

    /// Whether the pump waits for its sink rather than its source: bytes wait in the source (a
    /// pipe) or in the copy buffer while the sink takes nothing.
    pub fn blocked_on_sink(&self) -> bool {
        if self.finished {
            return false;
        }
        let buffered = self.copy.as_ref().is_some_and(|c| c.start < c.end);
        buffered || self.source().and_then(pipe::queued).is_some_and(|n| n > 0)
    }

    /// Moves bytes until one side would block, the budget is spent (then the loop is asked to
    /// run the pump again), or the pump ends. An ended pump does nothing.
    pub fn run<R: Copy>(&mut self, registry: &mut impl Registry<R>) -> Flow {
        let (Some(source), Some(sink)) = (&self.source, &self.sink) else {
            return Flow::Eof;
        };
        if self.finished {
            return Flow::Eof;
        }
        let again = source.token.or(sink.token);
        for _ in 0..TRANSFERS_PER_RUN {
            let (Some(source), Some(sink)) = (&self.source, &self.sink) else {
                return Flow::Eof;
            };
            let step = match &mut self.copy {
                None => splice_once(source, sink),
                Some(state) => state.copy_once(source, sink),
            };
            match step {
                Step::Moved(n) => {
                    self.moved += n as u64;
                    self.on_transfer(n);
                }
                Step::Filled(n) => self.on_transfer(n),
                Step::Unsupported => self.copy = Some(CopyState::new()),
                // The sink is full, and so is the source: the stream outruns its reader.
                Step::Stop(Flow::Wait) if self.source_full() => self.enlarge(),
                Step::Stop(Flow::Wait) => {
                    self.quiet_source_while_sink_full(registry);
                    return Flow::Wait;
                }
                Step::Stop(flow) => {
                    self.finished = true;
                    return flow;
                }
            }
        }
        if let Some(token) = again {
            registry.again(token);
        }
        Flow::Yield
    }

    /// After a transfer would block: while the sink is full, a pipe source is made quiet; once
    /// the sink has room (the transfer then waited for the source), it is watched again. Asking
    /// the sink rather than the source is what keeps a wake-up from being lost: bytes may reach
    /// the source between the transfer and any look at it, but a sink full now reports room
    /// the moment it has some, since it stays watched. A source that cannot be watched
    /// otherwise stays as it is, which only costs wake-ups.
    fn quiet_source_while_sink_full<R: Copy>(&mut self, registry: &mut impl Registry<R>) {
        let (Some(source), Some(sink)) = (&mut self.source, &self.sink) else {
            return;
        };
        let Some(token) = source.token else {
            return;
        };
        if source.terminal || self.copy.is_some() || sink.token.is_none() {
            return;
        }
        // An elastic pump at the default capacity learns from its source's wake-ups that the
        // stream fills both pipes and they must grow; only a read-only end is never writable.
        let quiet = self.capacity != Capacity::Default
            && !writable_now(sink.fd.as_fd())
            && read_only(source.fd.as_fd());
        if quiet == source.quiet {
            return;
        }
        let interest = if quiet {
            Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if registry
            .reregister(source.fd.as_fd(), token, interest)
            .is_ok()
        {
            source.quiet = quiet;
        }
    }

    /// Closes the source only (deregistering it first); whoever owns the pump decides when the
    /// sink closes.
    pub fn close_source<R: Copy>(&mut self, registry: &mut impl Registry<R>) {
        if let Some(source) = self.source.take() {
            source.close(registry);
        }
        self.finished = true;
    }

    /// Closes the sink only (deregistering it first); the pump moves nothing more.
    pub fn close_sink<R: Copy>(&mut self, registry: &mut impl Registry<R>) {
        if let Some(sink) = self.sink.take() {
            sink.close(registry);
        }
        self.finished = true;
    }

    /// Closes both ends.
    pub fn close<R: Copy>(mut self, registry: &mut impl Registry<R>) {
        self.close_source(registry);
        self.close_sink(registry);
    }
}

/// Whether `fd` takes a write now (a failed poll counts as yes: the source then stays watched).
fn writable_now(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(0) => false,
        Ok(_) => fds[0]
            .revents()
            .is_some_and(|events| events.contains(PollFlags::POLLOUT)),
        Err(_) => true,
    }
}

/// Whether `fd` was opened for reading only.
fn read_only(fd: BorrowedFd<'_>) -> bool {
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)
        .is_ok_and(|flags| OFlag::from_bits_truncate(flags) & OFlag::O_ACCMODE == OFlag::O_RDONLY)
}

/// The result of one transfer attempt.
enum Step {
    /// Bytes reached the sink.
    Moved(usize),
    /// Bytes were read into the copy buffer (counted as moved once written).
    Filled(usize),
    /// splice cannot move between these two descriptors.
    Unsupported,
    Stop(Flow),
}

fn splice_once(source: &Endpoint, sink: &Endpoint) -> Step {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    match splice(&source.fd, None, &sink.fd, None, SPLICE_CHUNK, flags) {
        Ok(0) => Step::Stop(Flow::Eof),
        Ok(n) => Step::Moved(n),
        Err(Errno::EINTR) => Step::Moved(0),
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
                    Step::Moved(n)
                }
                Err(Errno::EINTR) => Step::Moved(0),
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
                Step::Filled(n)
            }
            Err(Errno::EINTR) => Step::Moved(0),
            Err(Errno::EAGAIN) => Step::Stop(Flow::Wait),
            // Linux reports a PTY master whose slaves are all closed as EIO, not EOF.
            Err(Errno::EIO) if source.terminal => Step::Stop(Flow::Eof),
            Err(errno) => Step::Stop(Flow::Failed(errno)),
        }
    }
}

mod capacity;
#[cfg(test)]
mod tests;
