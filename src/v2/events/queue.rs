//! The publisher's queue: events kept in order until containerd has filed them, bounded, and,
//! when full, made room in by dropping what matters least, oldest first, never an init's exit
//! or an OOM kill: CRI learns of an OOM only from TaskOOM, Docker of an exit only from TaskExit.
//! An unsent event that a newer one makes stale (a pause undone by a resume, a second OOM kill
//! of the same container) is replaced by it rather than queued beside it.

use std::collections::VecDeque;

use crate::v2::proto::events::{
    Event, TaskCheckpointed, TaskCreate, TaskDelete, TaskExecAdded, TaskExecStarted, TaskExit,
    TaskOom, TaskPaused, TaskResumed, TaskStart,
};

/// How much an event matters to containerd's clients when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Worth {
    /// Dropped first: an exec added or started, a container paused or resumed (its State says
    /// as much).
    Passing,
    /// A task created, started or deleted, an exec's exit.
    Normal,
    /// Never dropped: an init's exit, an OOM kill. There are at most two per container queued.
    Kept,
}

/// What the queue needs to know of an event.
pub trait Queued: Event {
    /// How much it matters.
    fn worth(&self) -> Worth;

    /// A key under which this event replaces an older unsent one.
    fn replaces(&self) -> Option<String> {
        None
    }
}

impl Queued for TaskCreate {
    fn worth(&self) -> Worth {
        Worth::Normal
    }
}

impl Queued for TaskStart {
    fn worth(&self) -> Worth {
        Worth::Normal
    }
}

impl Queued for TaskDelete {
    fn worth(&self) -> Worth {
        Worth::Normal
    }
}

impl Queued for TaskExit {
    fn worth(&self) -> Worth {
        if self.id == self.container_id {
            Worth::Kept
        } else {
            Worth::Normal
        }
    }
}

impl Queued for TaskOom {
    fn worth(&self) -> Worth {
        Worth::Kept
    }

    fn replaces(&self) -> Option<String> {
        Some(format!("oom/{}", self.container_id))
    }
}

impl Queued for TaskExecAdded {
    fn worth(&self) -> Worth {
        Worth::Passing
    }
}

impl Queued for TaskExecStarted {
    fn worth(&self) -> Worth {
        Worth::Passing
    }
}

impl Queued for TaskPaused {
    fn worth(&self) -> Worth {
        Worth::Passing
    }

    fn replaces(&self) -> Option<String> {
        Some(format!("freeze/{}", self.container_id))
    }
}

impl Queued for TaskResumed {
    fn worth(&self) -> Worth {
        Worth::Passing
    }

    fn replaces(&self) -> Option<String> {
        Some(format!("freeze/{}", self.container_id))
    }
}

impl Queued for TaskCheckpointed {
    fn worth(&self) -> Worth {
        Worth::Passing
    }
}

#[derive(Debug)]
struct Entry {
    payload: Vec<u8>,
    worth: Worth,
    key: Option<String>,
}

/// The queue, holding each event's encoded `ttrpc.Request`.
#[derive(Debug)]
pub struct Queue {
    entries: VecDeque<Entry>,
    limit: usize,
    /// Events dropped since the last [`Queue::take_dropped`].
    dropped: u64,
    /// Events dropped in all.
    dropped_total: u64,
}

impl Queue {
    /// An empty queue of at most `limit` events (more only of [`Worth::Kept`] ones).
    pub fn new(limit: usize) -> Queue {
        Queue {
            entries: VecDeque::new(),
            limit,
            dropped: 0,
            dropped_total: 0,
        }
    }

    /// Queues `payload`, of `worth`, replacing an unsent event of the same `key`. The first
    /// event is left alone while `sending` (it is on its way to containerd).
    pub fn push(&mut self, payload: Vec<u8>, worth: Worth, key: Option<String>, sending: bool) {
        let first = usize::from(sending);
        if let Some(key) = &key {
            let stale = (first..self.entries.len())
                .find(|&i| self.entries[i].key.as_deref() == Some(key.as_str()));
            if let Some(at) = stale {
                self.entries.remove(at);
            }
        }
        if self.entries.len() >= self.limit {
            let cheapest = (first..self.entries.len())
                .filter(|&i| self.entries[i].worth < Worth::Kept)
                .min_by_key(|&i| (self.entries[i].worth, i));
            match cheapest {
                Some(at) if self.entries[at].worth <= worth => {
                    self.entries.remove(at);
                    self.count_drop();
                }
                _ if worth == Worth::Kept => {}
                _ => return self.count_drop(),
            }
        }
        self.entries.push_back(Entry {
            payload,
            worth,
            key,
        });
    }

    fn count_drop(&mut self) {
        self.dropped += 1;
        self.dropped_total += 1;
    }

    /// The oldest event.
    pub fn front(&self) -> Option<&[u8]> {
        self.entries.front().map(|e| e.payload.as_slice())
    }

    /// Takes the oldest event, once containerd has filed it.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.entries.pop_front().map(|e| e.payload)
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Events dropped since the last call, and in all; `None` when none was.
    pub fn take_dropped(&mut self) -> Option<(u64, u64)> {
        let dropped = std::mem::take(&mut self.dropped);
        (dropped > 0).then_some((dropped, self.dropped_total))
    }
}

#[cfg(test)]
mod tests;
