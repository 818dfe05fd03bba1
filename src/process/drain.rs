//! Draining a process's outputs once it has exited, without losing a byte and without waiting
//! forever for a client that never reads.
//!
//! After the exit, bytes may still sit in the container's pipes (or the terminal) and in the
//! client's FIFOs. The drain ends when every output has reached EOF and then, as the frontend's
//! [`AfterEof`] says, once the client has read every byte left in its FIFOs (a client that
//! drops its FIFOs as soon as it learns of the exit, as ctr does, would lose what it had not read
//! yet), or once no unread byte is left without a reader to take it (a daemon that is restarting
//! has no reader; when it comes back it reopens the FIFO and reads). Two bounds keep it from
//! hanging: a wait *on the client* (a full FIFO, unread bytes) gives up after
//! [`DrainPolicy::client`] without progress; a source that stays open but silent (something the
//! process left behind holds its stdout) gives up after [`DrainPolicy::silence`], if the
//! frontend sets one. Progress is any byte moved or read.

use std::time::{Duration, Instant};

/// How the shim polls for a reader while unread bytes wait in a FIFO nobody holds: no event
/// says a reader opened the FIFO, so the drain looks again this often, and only in that case.
pub const READER_POLL: Duration = Duration::from_millis(100);

/// How the shim polls a FIFO its reader is emptying: no event says a FIFO that was not full got
/// read, and a client waits for the answer that comes once it is empty.
pub const EMPTY_POLL: Duration = Duration::from_millis(5);

/// What the drain waits for once every output has reached EOF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterEof {
    /// A reader for any byte left unread in a client FIFO (the frontend closes the FIFOs next,
    /// and a FIFO nobody holds loses its bytes).
    Reader,
    /// The client to have read every byte of its FIFOs.
    Empty,
}

/// The bounds of a drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainPolicy {
    /// How long the outputs may wait on the client without progress.
    pub client: Duration,
    /// How long an output may stay open but silent; `None` waits for its EOF however long.
    pub silence: Option<Duration>,
    /// What it waits for once the outputs have ended.
    pub after_eof: AfterEof,
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainEnd {
    /// Every byte reached the client's side.
    Complete,
    /// The drain gave up.
    GaveUp {
        /// Bytes known to be left behind: unread in a FIFO nobody holds, or still in the
        /// container's pipe (0 when the source was merely silent).
        left: u64,
        /// Why: `"no reader"`, `"client not reading"` or `"output still open"`.
        why: &'static str,
        /// How long it waited without progress.
        waited: Duration,
    },
}

/// What the drain needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// It ended.
    Done(DrainEnd),
    /// Wait for the outputs' own events, and look again at this deadline if one is given.
    Wait(Option<Instant>),
}

/// What the drain reads of one output stream: the stream itself in the shim
/// ([`crate::process::output::Output`]), a plain value in tests.
pub trait Progress {
    /// Bytes moved so far from the container's side to the client's.
    fn moved(&self) -> u64;
    /// Whether the container's side has ended (or there never was one).
    fn ended(&self) -> bool;
    /// Whether the stream waits for the client to take bytes.
    fn blocked_on_client(&self) -> bool;
    /// Bytes waiting in the client's FIFO.
    fn unread(&self) -> u64;
    /// Bytes of an ended stream still unread in the client's FIFO while nobody but the shim
    /// could read them; 0 when they are safe (read, or held by a reader).
    fn unread_without_reader(&mut self) -> u64;
}

/// A drain in progress.
#[derive(Debug)]
pub struct Drain {
    policy: DrainPolicy,
    moved: u64,
    unread: u64,
    progress_at: Instant,
}

impl Drain {
    /// A drain starting at `now`, when the outputs had moved `moved` bytes in all.
    pub fn new(policy: DrainPolicy, moved: u64, now: Instant) -> Drain {
        Drain {
            policy,
            moved,
            unread: 0,
            progress_at: now,
        }
    }

    /// Looks at the outputs: whether the drain is over, or when to look again.
    pub fn check(&mut self, outputs: &mut [&mut dyn Progress], now: Instant) -> Check {
        let moved: u64 = outputs.iter().map(|o| o.moved()).sum();
        if moved != self.moved {
            self.moved = moved;
            self.progress_at = now;
        }
        let waited = now.saturating_duration_since(self.progress_at);
        if outputs.iter().any(|o| !o.ended()) {
            let on_client = outputs.iter().any(|o| !o.ended() && o.blocked_on_client());
            let (limit, why) = if on_client {
                (Some(self.policy.client), "client not reading")
            } else {
                (self.policy.silence, "output still open")
            };
            return match limit {
                None => Check::Wait(None),
                Some(limit) if waited >= limit => Check::Done(DrainEnd::GaveUp {
                    left: 0,
                    why,
                    waited,
                }),
                Some(limit) => Check::Wait(Some(self.progress_at + limit)),
            };
        }
        let (unread, poll, why): (u64, _, _) = match self.policy.after_eof {
            AfterEof::Reader => (
                outputs.iter_mut().map(|o| o.unread_without_reader()).sum(),
                READER_POLL,
                "no reader",
            ),
            AfterEof::Empty => (
                outputs.iter().map(|o| o.unread()).sum(),
                EMPTY_POLL,
                "client not reading",
            ),
        };
        if unread == 0 {
            return Check::Done(DrainEnd::Complete);
        }
        if unread < self.unread || self.unread == 0 {
            // First look, or a reader took some: either way the clock restarts.
            self.progress_at = now;
        }
        self.unread = unread;
        let waited = now.saturating_duration_since(self.progress_at);
        if waited >= self.policy.client {
            return Check::Done(DrainEnd::GaveUp {
                left: unread,
                why,
                waited,
            });
        }
        Check::Wait(Some(now + poll))
    }
}

#[cfg(test)]
mod tests;
