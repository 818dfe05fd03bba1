//! What the server's connections hold together, and the bounds on it: the answers kept for peers
//! that do not read them, and the frames being received. Each connection has bounds of its own
//! (a frame of at most 4 MiB, at most 1 MiB of unread answers); these keep many connections
//! from adding up. Past [`ANSWERS_LIMIT`], a connection whose peer has not read all its answers
//! reads no more requests until it has (containerd reads its answers, so it is still served);
//! past [`FRAMES_LIMIT`], no frame larger than one read chunk grows (every call containerd makes
//! fits in one), and a connection that waits for room runs again once there is some. Room held
//! by a large frame that has not grown for [`FRAME_PATIENCE`] while others wait is taken back:
//! its connection is hung up, so that peers sending half frames cannot hold it for good.

use std::time::{Duration, Instant};

use slab::Slab;

use crate::event_loop::{Registry, TimerId};
use crate::v2::route::Route;
use crate::v2::ttrpc::connection::{Connection, Pressure};

use super::Peer;

/// Bytes of answers kept over every connection before those whose peers do not read them stop
/// being read.
pub const ANSWERS_LIMIT: usize = 8 << 20;

/// Bytes of frames being received over every connection before large frames wait.
pub const FRAMES_LIMIT: usize = 16 << 20;

/// How long a large frame may go without a byte while others wait for room.
pub const FRAME_PATIENCE: Duration = Duration::from_secs(10);

/// How often the waits for room are looked at while there are any.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// The totals, and the connections waiting for room.
#[derive(Debug, Default)]
pub(super) struct Bounds {
    answers: usize,
    frames: usize,
    /// Connections (by key) whose frame waits for room.
    waiting: Vec<usize>,
    /// The next look at the waits, while there are any.
    look: Option<TimerId>,
}

impl Bounds {
    /// What the totals allow reads now.
    pub(super) fn pressure(&self) -> Pressure {
        Pressure {
            answers: self.answers > ANSWERS_LIMIT,
            frames: self.frames > FRAMES_LIMIT,
        }
    }

    /// Runs `change` on `connection`, counting what it holds after instead of before.
    pub(super) fn measured<T>(
        &mut self,
        connection: &mut Connection,
        change: impl FnOnce(&mut Connection) -> T,
    ) -> T {
        self.forget(connection);
        let changed = change(connection);
        self.answers += connection.answer_bytes();
        self.frames += connection.frame_bytes();
        changed
    }

    /// Stops counting what `connection` holds (it is closing, or about to be measured again).
    pub(super) fn forget(&mut self, connection: &Connection) {
        self.answers = self.answers.saturating_sub(connection.answer_bytes());
        self.frames = self.frames.saturating_sub(connection.frame_bytes());
    }

    /// Connection `key` waits for room; the waits are looked at every [`LOOK_EVERY`].
    pub(super) fn wait_for_room(&mut self, key: usize, registry: &mut impl Registry<Route>) {
        if !self.waiting.contains(&key) {
            self.waiting.push(key);
        }
        if self.look.is_none() {
            let at = Instant::now() + LOOK_EVERY;
            self.look = Some(registry.set_timer(at, Route::RoomLook));
        }
    }

    /// Runs the connections that waited, once there is room.
    pub(super) fn wake(&mut self, peers: &Slab<Peer>, registry: &mut impl Registry<Route>) {
        if self.waiting.is_empty() || self.pressure().frames {
            return;
        }
        for key in self.waiting.drain(..) {
            if let Some(token) = peers.get(key).and_then(|peer| peer.connection.token()) {
                registry.again(token);
            }
        }
        if let Some(look) = self.look.take() {
            registry.cancel_timer(look);
        }
    }

    /// The look at the waits came: the connections whose large frames have not grown for
    /// [`FRAME_PATIENCE`], to be hung up, while any connection still waits for room.
    pub(super) fn on_look(&mut self, peers: &Slab<Peer>, now: Instant) -> Vec<usize> {
        self.look = None;
        self.waiting.retain(|key| peers.contains(*key));
        if self.waiting.is_empty() {
            return Vec::new();
        }
        peers
            .iter()
            .filter(|(_, peer)| {
                let connection = &peer.connection;
                connection.in_large_frame()
                    && now.duration_since(connection.last_input()) >= FRAME_PATIENCE
            })
            .map(|(key, _)| key)
            .collect()
    }

    /// Looks again later if connections still wait.
    pub(super) fn look_later(&mut self, registry: &mut impl Registry<Route>) {
        if !self.waiting.is_empty() && self.look.is_none() {
            let at = Instant::now() + LOOK_EVERY;
            self.look = Some(registry.set_timer(at, Route::RoomLook));
        }
    }
}
