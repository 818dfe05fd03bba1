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

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::sys::socket::{accept4, SockFlag};
use prost::Message;
use slab::Slab;

use crate::error::{Error, Result};
use crate::event_loop::Registry;
use crate::v2::proto::ttrpc::Code;
use crate::v2::ttrpc::call::{encode_error, encode_reply, Call, CallError};
use crate::v2::ttrpc::connection::{self, Connection};

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
}

impl Server {
    /// Serves `listener` (non-blocking, listening), bound at `socket_path`; its readiness leads
    /// to `route`.
    pub fn new<R>(
        listener: OwnedFd,
        socket_path: Option<PathBuf>,
        registry: &mut impl Registry<R>,
        route: R,
    ) -> Result<Server> {
        let listener_token = registry
            .register(listener.as_fd(), Interest::READABLE, route)
            .map_err(|e| Error::os("epoll_ctl shim socket", e))?;
        Ok(Server {
            listener,
            listener_token,
            peers: Slab::new(),
            next_serial: 0,
            in_flight: 0,
            uid: nix::unistd::geteuid().as_raw(),
            socket_path,
        })
    }

    /// Accepts every connection waiting; each one's readiness leads to `route(key)`. Returns
    /// how many were refused for being of another user.
    pub fn accept<R>(&mut self, registry: &mut impl Registry<R>, route: fn(usize) -> R) -> usize {
        let mut refused = 0;
        while self.listener_token.is_some() {
            let socket = match accept4(
                &self.listener,
                SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            ) {
                Ok(socket) => socket,
                Err(Errno::EINTR | Errno::ECONNABORTED) => continue,
                // EAGAIN: no more for now. EMFILE and the like: the peer waits in the backlog
                // and is accepted on the next readiness.
                Err(_) => break,
            };
            if !connection::peer_is(&socket, self.uid) {
                refused += 1;
                continue;
            }
            let entry = self.peers.vacant_entry();
            let interest = Interest::READABLE | Interest::WRITABLE;
            let Ok(token) = registry.register(socket.as_fd(), interest, route(entry.key())) else {
                continue;
            };
            self.next_serial += 1;
            entry.insert(Peer {
                serial: self.next_serial,
                connection: Connection::new(socket, token),
                in_flight: 0,
            });
        }
        refused
    }

    /// Runs connection `key`: writes what waits, reads what came; each call goes to `calls`
    /// with its reply, or is answered at once past the bounds.
    pub fn on_ready<R: Copy>(
        &mut self,
        key: usize,
        registry: &mut impl Registry<R>,
        calls: &mut Vec<(Reply, Call)>,
    ) {
        let Some(peer) = self.peers.get_mut(key) else {
            return;
        };
        let mut read = Vec::new();
        peer.connection.write();
        peer.connection.read(&mut read, registry);
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
                    peer.connection.queue(&frame);
                }
                None => {
                    peer.in_flight += 1;
                    self.in_flight += 1;
                    calls.push((reply, call));
                }
            }
        }
    }

    /// Closes connection `key` if its peer is gone, once the calls it sent were served (a peer
    /// that closed only its writing side still gets the answers given at once). Returns the
    /// connection if it closed.
    pub fn close_if_gone<R: Copy>(
        &mut self,
        key: usize,
        registry: &mut impl Registry<R>,
    ) -> Option<Lost> {
        if !self.peers.get(key)?.connection.closed() {
            return None;
        }
        let mut peer = self.peers.remove(key);
        peer.connection.write();
        self.in_flight -= peer.in_flight;
        peer.connection.close(registry);
        Some(Lost {
            conn: key,
            serial: peer.serial,
        })
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
        peer.connection.queue(&frame);
        peer.in_flight -= 1;
        self.in_flight -= 1;
    }

    /// Calls in flight over every connection.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Stops accepting connections; those open are still served.
    pub fn stop_listening<R>(&mut self, registry: &mut impl Registry<R>) {
        if let Some(token) = self.listener_token.take() {
            registry.deregister(self.listener.as_fd(), token);
        }
    }

    /// The last step: answers written, sockets closed, the socket file removed.
    pub fn close<R: Copy>(&mut self, registry: &mut impl Registry<R>) {
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
