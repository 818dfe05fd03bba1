//! One client connection to the shim's socket: frames in, answers out, never blocking.
//!
//! Reads stop at `EAGAIN` or a budget. While more than [`OUTGOING_LIMIT`] bytes of answers wait
//! for a peer that does not read, the connection stops reading its requests, so memory stays
//! bounded whatever the peer sends or fails to read; the server tightens that bound, and keeps
//! large frames from growing, when its connections together hold too much (see [`Pressure`]).
//! Calls may be answered in any order: each answer carries its request's stream id.

use std::os::fd::OwnedFd;
use std::time::Instant;

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

/// Frames taken per wake-up: each may make an answer of a few hundred bytes, written after the
/// read, so this bounds what one wake-up adds to the answers waiting.
const FRAMES_PER_RUN: usize = 128;

/// Frames taken per wake-up while the server's answers pass their bound.
const FRAMES_UNDER_PRESSURE: usize = 16;

/// What the server's bounds over every connection allow one connection's reads now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pressure {
    /// The answers waiting over every connection pass their bound: a connection whose peer has
    /// not read all of its own reads no more requests until it has.
    pub answers: bool,
    /// The frames being received over every connection pass their bound: no connection's
    /// decoder grows past one chunk (a frame larger than that waits).
    pub frames: bool,
}

/// Why a read stopped before the socket ran dry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It ran dry, closed, or used its budget (and was asked to run again).
    No,
    /// Answers wait for the peer: it runs again when the peer has read them.
    ForAnswers,
    /// Its frame needs room the server has not got: it runs again when the server has.
    ForRoom,
}

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
    /// The peer's pid, as the kernel saw it connect.
    peer_pid: Option<i32>,
    /// When the peer last sent a call, if ever.
    last_call: Option<Instant>,
    /// When bytes last came in.
    last_input: Instant,
}

/// Whether the peer runs as `uid`, as ttrpc's `UnixSocketRequireSameUser` demands.
pub fn peer_is(socket: &OwnedFd, uid: u32) -> bool {
    getsockopt(socket, PeerCredentials).is_ok_and(|cred| cred.uid() == uid)
}

impl Connection {
    /// A connection on an accepted, non-blocking socket registered under `token`.
    pub fn new(socket: OwnedFd, token: Option<Token>) -> Connection {
        let peer_pid = getsockopt(&socket, PeerCredentials)
            .ok()
            .map(|cred| cred.pid());
        Connection {
            socket: FramedSocket::new(socket, token),
            closed: false,
            last_stream: 0,
            peer_pid,
            last_call: None,
            last_input: Instant::now(),
        }
    }

    /// The peer's pid.
    pub fn peer_pid(&self) -> Option<i32> {
        self.peer_pid
    }

    /// When the peer last sent a call; `None` if it never has.
    pub fn last_call(&self) -> Option<Instant> {
        self.last_call
    }

    /// When bytes last came in.
    pub fn last_input(&self) -> Instant {
        self.last_input
    }

    /// Bytes of the frames being received: what the decoder has allocated.
    pub fn frame_bytes(&self) -> usize {
        self.socket.decoder_capacity()
    }

    /// Bytes of the answers waiting: what the outgoing buffer has allocated.
    pub fn answer_bytes(&self) -> usize {
        self.socket.outgoing_capacity()
    }

    /// Whether a frame larger than one read chunk is under way.
    pub fn in_large_frame(&self) -> bool {
        self.socket.in_large_frame()
    }

    /// Its loop token, while registered.
    pub fn token(&self) -> Option<Token> {
        self.socket.token()
    }

    /// Whether the peer is gone.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Reads what the peer sent and decodes it, as far as `pressure` allows; calls go to
    /// `calls` with their stream ids. Frames that are not requests are ignored (a client sends
    /// nothing else to a server); oversized and undecodable ones are answered here. A read that
    /// stops at its budget asks the loop to run it again before sleeping.
    pub fn read<R: Copy>(
        &mut self,
        calls: &mut Vec<(u32, Call)>,
        registry: &mut impl Registry<R>,
        pressure: Pressure,
    ) -> Stopped {
        if self.closed {
            return Stopped::No;
        }
        // Answers come after the read, from whoever serves the calls: under pressure the
        // calls taken at once are few, so that one wake-up cannot add much to the answers.
        let limit = if pressure.answers {
            FRAMES_UNDER_PRESSURE
        } else {
            FRAMES_PER_RUN
        };
        let mut taken = 0;
        for _ in 0..READS_PER_RUN {
            // Frames already read come first.
            if !self.decode(calls, limit, &mut taken) {
                break;
            }
            let pending = self.pending();
            if pending > OUTGOING_LIMIT || (pressure.answers && pending > 0) {
                // Resumed once the peer has read its answers (see `write`).
                return Stopped::ForAnswers;
            }
            if pressure.frames && self.socket.would_grow_past_chunk() {
                return Stopped::ForRoom;
            }
            match self.socket.read_once() {
                Read::Data => self.last_input = Instant::now(),
                Read::Interrupted => continue,
                Read::Dry => return Stopped::No,
                Read::Closed => {
                    self.closed = true;
                    return Stopped::No;
                }
            }
        }
        if let Some(token) = self.socket.token() {
            registry.again(token);
        }
        Stopped::No
    }

    /// Takes the frames read, `limit` of them in this run at most (`taken` so far): false if
    /// some may be left.
    fn decode(&mut self, calls: &mut Vec<(u32, Call)>, limit: usize, taken: &mut usize) -> bool {
        let mut answers = Vec::new();
        let mut drained = true;
        loop {
            if *taken >= limit {
                drained = false;
                break;
            }
            let Some(item) = self.socket.next_item() else {
                break;
            };
            *taken += 1;
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
                            self.last_call = Some(self.last_input);
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
        drained
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
