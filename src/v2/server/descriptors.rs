//! Descriptors, which connections must not use up: the shim keeps [`DESCRIPTOR_RESERVE`] of its
//! `RLIMIT_NOFILE` for what it must still do (open FIFOs and pid files, spawn runc, reach
//! containerd). A connection accepted into the reserve costs another one its place: the peer
//! that never sent a call, oldest first (a client sends its first call as soon as it has
//! connected, so a flood of newer connections cannot push out containerd reconnecting), else the
//! one whose last call is oldest; never one with a call in flight (containerd parks a Wait on
//! every task it watches) or containerd's own (the peer of the events connection). With nobody
//! to shed, the newcomer is hung up. When `accept`
//! itself finds no descriptor, accepting is tried again when a connection closes, or after
//! [`ACCEPT_RETRY`]: the listen queue's peers are never left waiting for a readiness that
//! would not come.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrlimit, Resource};
use slab::Slab;

use super::Peer;

/// Descriptors kept from connections: an exec's stdio and runc call take a dozen at most.
pub const DESCRIPTOR_RESERVE: u64 = 64;

/// How soon accepting is tried again when no descriptor was left and no connection could go.
pub const ACCEPT_RETRY: Duration = Duration::from_secs(1);

/// How often the shim's other descriptors are counted again.
const RECOUNT_EVERY: Duration = Duration::from_secs(1);

/// What the shim's descriptors other than connections are, as last counted.
#[derive(Debug, Default)]
pub(super) struct Descriptors {
    others: usize,
    counted: Option<Instant>,
}

impl Descriptors {
    /// Whether `socket`, accepted beside `connections` others, took a descriptor of the
    /// reserve. Descriptors are handed out lowest first, so a number in the reserve means as
    /// many are open; below it, holes left by closed ones may hide how many are, so the open
    /// ones are counted too: every [`RECOUNT_EVERY`] (connections are counted exactly, the rest
    /// changes with processes), and at every accept once near the reserve. The limit is read
    /// each time, since `prlimit` may change it under a running shim.
    pub(super) fn in_reserve(&mut self, socket: &OwnedFd, connections: usize) -> bool {
        let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NOFILE) else {
            return false;
        };
        let number = u64::try_from(socket.as_raw_fd()).unwrap_or(0);
        if number.saturating_add(DESCRIPTOR_RESERVE) >= soft {
            return true;
        }
        let near =
            ((connections + self.others) as u64).saturating_add(2 * DESCRIPTOR_RESERVE) >= soft;
        if near || self.counted.is_none_or(|at| at.elapsed() >= RECOUNT_EVERY) {
            if let Some(open) = open_descriptors() {
                // The socket is open, and is not yet a connection.
                self.others = open.saturating_sub(connections);
            }
            self.counted = Some(Instant::now());
        }
        let open = (connections + self.others) as u64;
        open.saturating_add(DESCRIPTOR_RESERVE) >= soft
    }
}

/// How many descriptors the shim has open, not counting the one that lists them.
fn open_descriptors() -> Option<usize> {
    let listed = std::fs::read_dir("/proc/self/fd").ok()?.count();
    Some(listed.saturating_sub(1))
}

/// The connection to shed for another, if any may go: never `keep`, one with calls in flight or
/// one of `daemon`'s.
pub(super) fn to_shed(
    peers: &Slab<Peer>,
    keep: Option<usize>,
    daemon: Option<i32>,
) -> Option<usize> {
    let candidates = peers.iter().filter(|(key, peer)| {
        Some(*key) != keep
            && peer.in_flight == 0
            && !peer.connection.closed()
            && (daemon.is_none() || peer.connection.peer_pid() != daemon)
    });
    let never_called = candidates
        .clone()
        .filter(|(_, peer)| peer.connection.last_call().is_none())
        .min_by_key(|(_, peer)| peer.serial);
    never_called
        .or_else(|| candidates.min_by_key(|(_, peer)| peer.connection.last_call()))
        .map(|(key, _)| key)
}
