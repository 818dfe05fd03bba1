//! A pump's elastic capacity (see [`super`]): when its pipes grow for a stream, and when an
//! owner's look gives their pages back.

use nix::errno::Errno;

use super::Pump;
use crate::io::pipe::{self, DEFAULT_CAPACITY, STREAMING_CAPACITY};

/// How many looks in a row may find an idle pump's pipes too full to shrink before its owner
/// stops looking (a client that does not read holds its FIFO's bytes; the next transfer, when it
/// reads again, makes the owner look again).
const REFUSED_LOOKS: u8 = 8;

/// A pump's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Capacity {
    /// Not elastic (stdin, a terminal): the pipes keep what they have.
    Fixed,
    /// Elastic, at the default.
    Default,
    /// Enlarged for a stream.
    Enlarged {
        /// Bytes moved at the last look.
        moved_at_look: u64,
        /// Looks in a row that could not shrink the pipes.
        refused: u8,
    },
}

impl Pump {
    /// Whether the pump's pipes are enlarged for a stream.
    pub fn enlarged(&self) -> bool {
        matches!(self.capacity, Capacity::Enlarged { .. })
    }

    /// Looks at an enlarged pump: if nothing moved since the last look, gives the pipes their
    /// default capacity back. Returns whether the owner should look again: bytes moved since
    /// the last look, or nothing moved but bytes still wait in a pipe, which keeps it large.
    pub fn look(&mut self) -> bool {
        let Capacity::Enlarged {
            moved_at_look,
            refused,
        } = self.capacity
        else {
            // Default capacity: nothing to look at any more.
            return false;
        };
        if self.moved != moved_at_look {
            self.capacity = Capacity::Enlarged {
                moved_at_look: self.moved,
                refused: 0,
            };
            return true;
        }
        // EBUSY means a pipe holds more than the default: it shrinks once that is read.
        let shrunk = [self.source(), self.sink()]
            .into_iter()
            .flatten()
            .all(|fd| !matches!(pipe::set_capacity(fd, DEFAULT_CAPACITY), Err(Errno::EBUSY)));
        if shrunk {
            self.capacity = Capacity::Default;
            return false;
        }
        let refused = refused.saturating_add(1);
        self.capacity = Capacity::Enlarged {
            moved_at_look,
            refused,
        };
        refused < REFUSED_LOOKS
    }

    /// Whether an elastic pump at the default capacity has a full source.
    pub(super) fn source_full(&self) -> bool {
        self.capacity == Capacity::Default
            && self
                .source()
                .and_then(pipe::queued)
                .is_some_and(|n| n >= DEFAULT_CAPACITY)
    }

    /// Gives both pipes the streaming capacity. Best effort: a pipe that refuses (a limit,
    /// memory pressure, a sink that is no pipe) keeps its capacity, which only costs CPU.
    pub(super) fn enlarge(&mut self) {
        for fd in [self.source(), self.sink()].into_iter().flatten() {
            let _ = pipe::set_capacity(fd, STREAMING_CAPACITY);
        }
        self.capacity = Capacity::Enlarged {
            moved_at_look: self.moved,
            refused: 0,
        };
    }

    /// A transfer found `bytes` waiting at once: a full default pipe means the stream outruns
    /// the shim's wake-ups, so both pipes grow.
    pub(super) fn on_transfer(&mut self, bytes: usize) {
        match self.capacity {
            Capacity::Default if bytes >= DEFAULT_CAPACITY => self.enlarge(),
            // A stream that fills the pipes again is no longer held up by them.
            Capacity::Enlarged {
                moved_at_look,
                refused,
            } if refused > 0 => {
                self.capacity = Capacity::Enlarged {
                    moved_at_look,
                    refused: 0,
                }
            }
            _ => {}
        }
    }
}
