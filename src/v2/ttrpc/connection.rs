//! One client connection to the shim's socket: frames in, answers out, never blocking.
//!
//! Reads stop at `EAGAIN` or a budget. While more than [`OUTGOING_LIMIT`] bytes of answers wait
//! for a peer that does not read, the connection stops reading its requests, so memory stays
//! bounded whatever the peer sends or fails to read. Calls may be answered in any order: each
//! answer carries its request's stream id.

use std::os::fd::OwnedFd;

use mio::Token;
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};

use crate::event_loop::Registry;
use crate::v2::proto::ttrpc::Code;
use crate::v2::ttrpc::call::{decode_call, encode_error, Call, CallError};
use crate::v2::ttrpc::frame::{FrameKind, Item};
use crate::v2::ttrpc::socket::{FramedSocket, Read};

/// Answers kept for a peer that does not read them; past this the connection reads no more
/// requests until they are written.
pub const OUTGOING_LIMIT: usize = 1 << 20;

/// Reads per wake-up before other sources get their turn.
const READS_PER_RUN: usize = 16;

/// A client connection.
#[derive(Debug)]
pub struct Connection {
    socket: FramedSocket,
    /// The peer closed its side, or the socket failed: the connection is to be dropped once
    /// nothing of its own is pending.
    closed: bool,
    /// The highest stream id a served call used: each new call must use a higher one (ttrpc
    /// 1.2); a frame refused before it became a call takes none.
    last_stream: u32,
}

/// Whether the peer runs as `uid`, as ttrpc's `UnixSocketRequireSameUser` demands.
pub fn peer_is(socket: &OwnedFd, uid: u32) -> bool {
    getsockopt(socket, PeerCredentials).is_ok_and(|cred| cred.uid() == uid)
}

impl Connection {
    /// A connection on an accepted, non-blocking socket registered under `token`.
    pub fn new(socket: OwnedFd, token: Option<Token>) -> Connection {
        Connection {
            socket: FramedSocket::new(socket, token),
            closed: false,
            last_stream: 0,
        }
    }

    /// Whether the peer is gone.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Reads what the peer sent and decodes it; calls go to `calls` with their stream ids.
    /// Frames that are not requests are ignored (a client sends nothing else to a server);
    /// oversized and undecodable ones are answered here. A read that stops at its budget asks
    /// the loop to run it again before sleeping.
    pub fn read<R: Copy>(&mut self, calls: &mut Vec<(u32, Call)>, registry: &mut impl Registry<R>) {
        if self.closed {
            return;
        }
        for _ in 0..READS_PER_RUN {
            if self.pending() > OUTGOING_LIMIT {
                // Resumed once the peer has read its answers (see `write`).
                return;
            }
            match self.socket.read_once() {
                Read::Data => self.decode(calls),
                Read::Interrupted => continue,
                Read::Dry => return,
                Read::Closed => {
                    self.closed = true;
                    return;
                }
            }
        }
        if let Some(token) = self.socket.token() {
            registry.again(token);
        }
    }

    fn decode(&mut self, calls: &mut Vec<(u32, Call)>) {
        let mut answers = Vec::new();
        while let Some(item) = self.socket.next_item() {
            match item {
                Item::Frame(frame) if frame.kind == FrameKind::Request => {
                    if frame.stream_id % 2 == 1 && frame.stream_id <= self.last_stream {
                        let error = CallError::new(
                            Code::InvalidArgument,
                            "StreamID cannot be re-used and must increment",
                        );
                        encode_error(frame.stream_id, &error, &mut answers);
                        continue;
                    }
                    match decode_call(frame.stream_id, frame.payload) {
                        Ok(call) => {
                            // Only a call that is served takes its stream.
                            self.last_stream = frame.stream_id;
                            calls.push((frame.stream_id, call));
                        }
                        Err(error) => encode_error(frame.stream_id, &error, &mut answers),
                    }
                }
                Item::Frame(_) => {}
                Item::Oversized {
                    stream_id, length, ..
                } => {
                    let error = CallError::oversized(length as usize);
                    encode_error(stream_id, &error, &mut answers);
                }
            }
        }
        self.queue(&answers);
    }

    /// Queues encoded answer frames and writes what the socket takes.
    pub fn queue(&mut self, frames: &[u8]) {
        if self.closed || frames.is_empty() {
            return;
        }
        self.socket.outgoing().extend_from_slice(frames);
        self.write();
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.socket.pending()
    }

    /// Writes what waits, until the socket would block; reading goes on once the backlog is
    /// under [`OUTGOING_LIMIT`] again.
    pub fn write(&mut self) {
        if !self.socket.flush() {
            self.closed = true;
        }
    }

    /// Deregisters the socket and closes it.
    pub fn close<R: Copy>(self, registry: &mut impl Registry<R>) {
        self.socket.close(registry);
    }
}
