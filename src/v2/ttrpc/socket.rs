//! A non-blocking unix stream carrying ttrpc frames, for both ends the shim holds: each
//! connection containerd makes to the shim, and the shim's own to containerd's events service.
//!
//! Reads go straight into the frame decoder's buffer; frames to send are appended to one
//! outgoing buffer and written as the socket takes them. Between bursts nothing is kept: an idle
//! socket owns no buffer (containerd holds one connection open per task).

use std::os::fd::{AsFd, OwnedFd};

use mio::Token;
use nix::errno::Errno;

use crate::event_loop::Registry;
use crate::v2::ttrpc::frame::{Decoder, Item, READ_CHUNK};

/// What one read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Bytes arrived: take the items.
    Data,
    /// Nothing more until the next readiness.
    Dry,
    /// The peer closed its side, or the socket failed.
    Closed,
    /// A signal interrupted the read: try again.
    Interrupted,
}

/// A registered socket with its decoder and its outgoing frames.
#[derive(Debug)]
pub struct FramedSocket {
    socket: OwnedFd,
    token: Option<Token>,
    decoder: Decoder,
    outgoing: Vec<u8>,
    /// Bytes of `outgoing` already written.
    written: usize,
}

impl FramedSocket {
    /// A non-blocking socket registered under `token`.
    pub fn new(socket: OwnedFd, token: Option<Token>) -> FramedSocket {
        FramedSocket {
            socket,
            token,
            decoder: Decoder::new(),
            outgoing: Vec::new(),
            written: 0,
        }
    }

    /// The loop's token, while registered.
    pub fn token(&self) -> Option<Token> {
        self.token
    }

    /// Reads once into the decoder.
    pub fn read_once(&mut self) -> Read {
        match nix::unistd::read(&self.socket, self.decoder.spare()) {
            Ok(0) => Read::Closed,
            Ok(count) => {
                self.decoder.filled(count);
                Read::Data
            }
            Err(Errno::EINTR) => Read::Interrupted,
            Err(Errno::EAGAIN) => {
                self.decoder.release_if_empty();
                Read::Dry
            }
            Err(_) => Read::Closed,
        }
    }

    /// Bytes the decoder has allocated.
    pub fn decoder_capacity(&self) -> usize {
        self.decoder.capacity()
    }

    /// Whether the decoder holds part of a frame larger than one read chunk.
    pub fn in_large_frame(&self) -> bool {
        self.decoder.held() > 0 && self.decoder.capacity() > READ_CHUNK
    }

    /// Whether the next read would grow the decoder past one read chunk.
    pub fn would_grow_past_chunk(&self) -> bool {
        self.decoder.would_grow_past_chunk()
    }

    /// The next complete item read, if any; see [`Decoder::next_item`].
    pub fn next_item(&mut self) -> Option<Item<'_>> {
        self.decoder.next_item()
    }

    /// Where to encode frames to send; [`FramedSocket::flush`] writes them.
    pub fn outgoing(&mut self) -> &mut Vec<u8> {
        &mut self.outgoing
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.outgoing.len() - self.written
    }

    /// Writes what waits, until the socket would block; false if the socket is broken.
    pub fn flush(&mut self) -> bool {
        while self.written < self.outgoing.len() {
            match nix::unistd::write(&self.socket, &self.outgoing[self.written..]) {
                Ok(count) => self.written += count,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => {
                    self.drop_written();
                    return true;
                }
                Err(_) => return false,
            }
        }
        self.outgoing = Vec::new();
        self.written = 0;
        true
    }

    /// Forgets the bytes written once they are most of the buffer: a peer that reads slowly
    /// but never all would otherwise grow it without end, frames being appended behind.
    fn drop_written(&mut self) {
        if self.written >= READ_CHUNK && self.written * 2 >= self.outgoing.len() {
            self.outgoing.drain(..self.written);
            self.outgoing.shrink_to(2 * self.outgoing.len());
            self.written = 0;
        }
    }

    /// Bytes the outgoing buffer has allocated.
    pub fn outgoing_capacity(&self) -> usize {
        self.outgoing.capacity()
    }

    /// Deregisters the socket and closes it.
    pub fn close<R: Copy>(self, registry: &mut impl Registry<R>) {
        if let Some(token) = self.token {
            registry.deregister(self.socket.as_fd(), token);
        }
    }
}

#[cfg(test)]
mod tests;
