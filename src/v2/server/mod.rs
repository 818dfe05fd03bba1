//! The shim's ttrpc server: the listening socket `start` made (fd 3), the connections
//! containerd and others make to it, and the answers to their calls. It knows no service: it
//! hands each decoded [`Call`] to its owner with the [`Reply`] that answers it, and it answers
//! whatever message it is given.
//!
//! Every call is *in flight* from the moment it is handed out until it is answered: at once for
//! most, later for one parked under a runtime call or an exit. Calls in flight are bounded per
//! connection ([`CONNECTION_IN_FLIGHT`]) and in all ([`MAX_IN_FLIGHT`]); past a bound a call is
//! answered ResourceExhausted at once, so a peer that parks Wait after Wait cannot grow the
//! shim's memory, and one connection cannot take the whole bound. A connection that closes takes
//! its count with it; its owner is told ([`Lost`]) so that it drops what it had parked for it.
//! Answers carry the connection's serial, since slab keys are reused: an answer for a connection
//! that is gone is dropped.
//!
//! What the connections hold together is bounded too ([`bounds`]), and so are the descriptors
//! they take ([`descriptors`]).

mod bounds;
mod descriptors;

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::Instant;

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::sys::socket::{accept4, SockFlag};
use prost::Message;
use slab::Slab;

use crate::error::{Error, Result};
use crate::event_loop::{Registry, TimerId};
use crate::v2::proto::ttrpc::Code;
use crate::v2::route::Route;
use crate::v2::ttrpc::call::{encode_error, encode_reply, Call, CallError};
use crate::v2::ttrpc::connection::{self, Connection, Stopped};

pub use bounds::{ANSWERS_LIMIT, FRAMES_LIMIT, FRAME_PATIENCE};
pub use descriptors::{ACCEPT_RETRY, DESCRIPTOR_RESERVE};

/// Most calls in flight on one connection. containerd keeps one connection per task, where a
/// Wait per exec (at most 1 024 per task) and a few calls are in flight at once.
pub const CONNECTION_IN_FLIGHT: usize = 2048;

/// Most calls in flight over every connection.
pub const MAX_IN_FLIGHT: usize = 16 * 1024;

/// Where the answer to one call goes: its connection (by key and serial) and its stream. Not
/// `Clone`: each call is answered once.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    conn: usize,
    serial: u64,
    stream: u32,
}

impl Reply {
    /// Whether the call came on the connection that was `lost`.
    pub fn came_on(&self, lost: Lost) -> bool {
        self.conn == lost.conn && self.serial == lost.serial
    }
}

/// A connection that closed, for its owner to drop what it parked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    conn: usize,
    serial: u64,
}

#[derive(Debug)]
struct Peer {
    serial: u64,
    connection: Connection,
    in_flight: usize,
}

/// What one round of accepting did besides accepting.
#[derive(Debug, Default)]
pub struct Accepted {
    /// Peers of another user, hung up on.
    pub refused: usize,
    /// Connections hung up on to keep descriptors for the shim (see [`descriptors`]).
    pub shed: Vec<Lost>,
}

/// The server.
#[derive(Debug)]
pub struct Server {
    listener: OwnedFd,
    listener_token: Option<Token>,
    peers: Slab<Peer>,
    next_serial: u64,
    in_flight: usize,
    uid: u32,
    /// The socket file, removed at exit.
    socket_path: Option<PathBuf>,
    bounds: bounds::Bounds,
    descriptors: descriptors::Descriptors,
    /// `accept` found no descriptor: the next attempt, at the latest.
    accept_retry: Option<TimerId>,
}

impl Server {
    /// Serves `listener` (non-blocking, listening), bound at `socket_path`.
    pub fn new(
        listener: OwnedFd,
        socket_path: Option<PathBuf>,
        registry: &mut impl Registry<Route>,
    ) -> Result<Server> {
        let listener_token = registry
            .register(listener.as_fd(), Interest::READABLE, Route::Listener)
            .map_err(|e| Error::os("epoll_ctl shim socket", e))?;
        Ok(Server {
            listener,
            listener_token,
            peers: Slab::new(),
            next_serial: 0,
            in_flight: 0,
            uid: nix::unistd::geteuid().as_raw(),
            socket_path,
            bounds: bounds::Bounds::default(),
            descriptors: descriptors::Descriptors::default(),
            accept_retry: None,
        })
    }

    /// Accepts every connection waiting. `daemon` is containerd's pid, whose connections are
    /// never shed.
    pub fn accept(&mut self, registry: &mut impl Registry<Route>, daemon: Option<i32>) -> Accepted {
        let mut accepted = Accepted::default();
        if let Some(retry) = self.accept_retry.take() {
            registry.cancel_timer(retry);
        }
        while self.listener_token.is_some() {
            let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
            let socket = match accept4(&self.listener, flags) {
                Ok(socket) => socket,
                Err(Errno::EINTR | Errno::ECONNABORTED) => continue,
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    // Out of descriptors or memory: a connection goes for the peer waiting, or
                    // the peer waits for one to close, or for the retry.
                    match descriptors::to_shed(&self.peers, None, daemon) {
                        Some(key) => accepted.shed.push(self.remove(key, registry)),
                        None => {
                            let at = Instant::now() + ACCEPT_RETRY;
                            self.accept_retry = Some(registry.set_timer(at, Route::AcceptRetry));
                            break;
                        }
                    }
                    continue;
                }
            };
            if !connection::peer_is(&socket, self.uid) {
                accepted.refused += 1;
                continue;
            }
            let in_reserve = self.descriptors.in_reserve(&socket, self.peers.len());
            let entry = self.peers.vacant_entry();
            let key = entry.key();
            let interest = Interest::READABLE | Interest::WRITABLE;
            let Ok(token) = registry.register(socket.as_fd(), interest, Route::Connection(key))
            else {
                continue;
            };
            self.next_serial += 1;
            entry.insert(Peer {
                serial: self.next_serial,
                connection: Connection::new(socket, token),
                in_flight: 0,
            });
            if in_reserve {
                let shed = descriptors::to_shed(&self.peers, Some(key), daemon).unwrap_or(key);
                accepted.shed.push(self.remove(shed, registry));
            }
        }
        accepted
    }

    /// Whether accepting waits for a descriptor: it is tried again as soon as a connection
    /// closes.
    pub fn starved(&self) -> bool {
        self.accept_retry.is_some()
    }

    /// Runs connection `key`: writes what waits, reads what came; each call goes to `calls`
    /// with its reply, or is answered at once past the bounds.
    pub fn on_ready(
        &mut self,
        key: usize,
        registry: &mut impl Registry<Route>,
        calls: &mut Vec<(Reply, Call)>,
    ) {
        let pressure = self.bounds.pressure();
        let Some(peer) = self.peers.get_mut(key) else {
            return;
        };
        let mut read = Vec::new();
        let stopped = self.bounds.measured(&mut peer.connection, |connection| {
            connection.write();
            connection.read(&mut read, registry, pressure)
        });
        if stopped == Stopped::ForRoom {
            self.bounds.wait_for_room(key, registry);
        }
        for (stream, call) in read {
            let reply = Reply {
                conn: key,
                serial: peer.serial,
                stream,
            };
            let bound = if peer.in_flight >= CONNECTION_IN_FLIGHT {
                Some(format!(
                    "{CONNECTION_IN_FLIGHT} calls in flight on this connection"
                ))
            } else if self.in_flight >= MAX_IN_FLIGHT {
                Some(format!("{MAX_IN_FLIGHT} calls in flight"))
            } else {
                None
            };
            match bound {
                Some(message) => {
                    let mut frame = Vec::new();
                    let error = CallError::new(Code::ResourceExhausted, message);
                    encode_error(stream, &error, &mut frame);
                    self.bounds
                        .measured(&mut peer.connection, |c| c.queue(&frame));
                }
                None => {
                    peer.in_flight += 1;
                    self.in_flight += 1;
                    calls.push((reply, call));
                }
            }
        }
        self.bounds.wake(&self.peers, registry);
    }

    /// Closes connection `key` if its peer is gone, once the calls it sent were served (a peer
    /// that closed only its writing side still gets the answers given at once). Returns the
    /// connection if it closed.
    pub fn close_if_gone(
        &mut self,
        key: usize,
        registry: &mut impl Registry<Route>,
    ) -> Option<Lost> {
        if !self.peers.get(key)?.connection.closed() {
            return None;
        }
        let lost = self.remove(key, registry);
        self.bounds.wake(&self.peers, registry);
        Some(lost)
    }

    /// The look at the connections waiting for room came: hangs up on those whose large frames
    /// made no progress for [`FRAME_PATIENCE`] (returned), and runs the waiting ones if that
    /// made room.
    pub fn on_room_look(&mut self, registry: &mut impl Registry<Route>) -> Vec<Lost> {
        let stale = self.bounds.on_look(&self.peers, Instant::now());
        let lost = stale
            .into_iter()
            .map(|key| self.remove(key, registry))
            .collect();
        self.bounds.wake(&self.peers, registry);
        self.bounds.look_later(registry);
        lost
    }

    fn remove(&mut self, key: usize, registry: &mut impl Registry<Route>) -> Lost {
        let mut peer = self.peers.remove(key);
        self.bounds.forget(&peer.connection);
        peer.connection.write();
        self.in_flight -= peer.in_flight;
        peer.connection.close(registry);
        Lost {
            conn: key,
            serial: peer.serial,
        }
    }

    /// Sends the OK answer or the error; one for a connection that is gone (a daemon
    /// restarting) is dropped.
    pub fn answer<M: Message>(&mut self, to: Reply, result: std::result::Result<M, CallError>) {
        let Some(peer) = self.peers.get_mut(to.conn) else {
            return;
        };
        if peer.serial != to.serial {
            return;
        }
        let mut frame = Vec::new();
        match result {
            Ok(message) => {
                if let Err(too_large) = encode_reply(to.stream, &message, &mut frame) {
                    encode_error(to.stream, &too_large, &mut frame);
                }
            }
            Err(error) => encode_error(to.stream, &error, &mut frame),
        }
        self.bounds
            .measured(&mut peer.connection, |c| c.queue(&frame));
        peer.in_flight -= 1;
        self.in_flight -= 1;
    }

    /// Calls in flight over every connection.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Stops accepting connections; those open are still served.
    pub fn stop_listening(&mut self, registry: &mut impl Registry<Route>) {
        if let Some(token) = self.listener_token.take() {
            registry.deregister(self.listener.as_fd(), token);
        }
        if let Some(retry) = self.accept_retry.take() {
            registry.cancel_timer(retry);
        }
    }

    /// The last step: answers written, sockets closed, the socket file removed.
    pub fn close(&mut self, registry: &mut impl Registry<Route>) {
        self.stop_listening(registry);
        for (_, mut peer) in std::mem::take(&mut self.peers) {
            peer.connection.write();
            peer.connection.close(registry);
        }
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}
