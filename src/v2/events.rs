//! Publishing task events to containerd: `Forward` calls on its ttrpc socket (`TTRPC_ADDRESS`),
//! from a bounded queue, in order, surviving daemon restarts.
//!
//! One call is in flight at a time: containerd serves each call of a connection concurrently,
//! so two calls in flight could be filed in either order, and an exit must never come before
//! its start. An event leaves the queue only once containerd has answered it. When the
//! connection breaks (containerd restarting) the shim reconnects at once and sends the unanswered
//! event again; while containerd cannot be reached it retries after [`RETRY_FIRST`], doubling up
//! to [`RETRY_MOST`], and only while events are waiting, so an idle shim never wakes up.

mod queue;

use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use mio::Interest;
use nix::errno::Errno;
use nix::sys::socket::sockopt::PeerCredentials;
use nix::sys::socket::{connect, getsockopt, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use prost::Message;

use crate::event_loop::{Registry, TimerId};
use crate::v2::proto::events::{forward_request, EVENTS_SERVICE, FORWARD_METHOD};
use crate::v2::proto::ttrpc::{KeyValue, Request, Response};
use crate::v2::ttrpc::frame::{self, FrameKind, Item};
use crate::v2::ttrpc::socket::{FramedSocket, Read};

pub use queue::{Queued, Worth};

/// Events kept while containerd is away. Each is a few hundred bytes; past this the oldest of
/// those that matter least goes (see [`queue`]), counted in the log.
pub const QUEUE_LIMIT: usize = 4096;

/// The first wait before reconnecting to a containerd that refused the connection.
pub const RETRY_FIRST: Duration = Duration::from_millis(100);

/// The longest wait between reconnections.
pub const RETRY_MOST: Duration = Duration::from_secs(2);

/// How long containerd may take to file one event (the `timeout_nano` of the call, as the Go
/// shim sends it).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);

/// The metadata key containerd reads the namespace from.
const NAMESPACE_KEY: &str = "containerd-namespace-ttrpc";

/// Where the publisher's readiness and deadlines lead, in the frontend's terms.
#[derive(Debug, Clone, Copy)]
pub struct Routes<R> {
    /// The socket to containerd.
    pub socket: R,
    /// The reconnection deadline.
    pub retry: R,
}

#[derive(Debug)]
struct Link {
    socket: FramedSocket,
    /// The stream of the call in flight, if one is.
    in_flight: Option<u32>,
    next_stream: u32,
}

/// The event publisher.
#[derive(Debug)]
pub struct Publisher<R> {
    address: PathBuf,
    namespace: String,
    routes: Routes<R>,
    /// Encoded `ttrpc.Request` payloads, oldest first.
    queue: queue::Queue,
    link: Option<Link>,
    retry: Option<TimerId>,
    backoff: Duration,
    /// Warnings for the frontend's log.
    warnings: Vec<String>,
    /// containerd's pid, as its socket last told.
    daemon_pid: Option<i32>,
}

impl<R: Copy> Publisher<R> {
    /// A publisher to containerd's ttrpc socket at `address`, for `namespace`.
    pub fn new(address: PathBuf, namespace: String, routes: Routes<R>) -> Publisher<R> {
        Publisher {
            address,
            namespace,
            routes,
            queue: queue::Queue::new(QUEUE_LIMIT),
            link: None,
            retry: None,
            backoff: RETRY_FIRST,
            warnings: Vec::new(),
            daemon_pid: None,
        }
    }

    /// Queues `event`, which happened now, and sends it when its turn comes.
    pub fn publish<E: Queued>(&mut self, event: &E, registry: &mut impl Registry<R>) {
        let forward = forward_request(&self.namespace, SystemTime::now(), event);
        let mut request = Request::new(EVENTS_SERVICE, FORWARD_METHOD, &forward);
        request.timeout_nano = FORWARD_TIMEOUT.as_nanos() as i64;
        request.metadata.push(KeyValue {
            key: NAMESPACE_KEY.into(),
            value: self.namespace.clone(),
        });
        let sending = self
            .link
            .as_ref()
            .is_some_and(|link| link.in_flight.is_some());
        self.queue.push(
            request.encode_to_vec(),
            event.worth(),
            event.replaces(),
            sending,
        );
        self.pump(registry);
    }

    /// What went wrong since the last call, for the log: one line for all the events dropped
    /// meanwhile, however many.
    pub fn take_warnings(&mut self) -> Vec<String> {
        if let Some((dropped, total)) = self.queue.take_dropped() {
            self.warnings.push(format!(
                "event queue full ({QUEUE_LIMIT} unsent while containerd is away): dropped \
                 {dropped}, exec and pause events first ({total} in all)"
            ));
        }
        std::mem::take(&mut self.warnings)
    }

    /// containerd's pid, once its events socket was reached.
    pub fn daemon_pid(&self) -> Option<i32> {
        self.daemon_pid
    }

    /// Whether every event has been filed by containerd.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The socket to containerd is ready.
    pub fn on_socket(&mut self, registry: &mut impl Registry<R>) {
        self.read(registry);
        self.pump(registry);
    }

    /// The reconnection deadline passed.
    pub fn on_retry(&mut self, registry: &mut impl Registry<R>) {
        self.retry = None;
        self.pump(registry);
    }

    /// Sends the next event if none is in flight, connecting first if needed.
    fn pump(&mut self, registry: &mut impl Registry<R>) {
        if self.queue.is_empty() || self.retry.is_some() {
            return;
        }
        if self.link.is_none() && !self.connect(registry) {
            let at = Instant::now() + self.backoff;
            self.retry = Some(registry.set_timer(at, self.routes.retry));
            self.backoff = (self.backoff * 2).min(RETRY_MOST);
            return;
        }
        let Some(link) = &mut self.link else {
            return;
        };
        if link.in_flight.is_none() {
            if let Some(payload) = self.queue.front() {
                let stream = link.next_stream;
                link.next_stream = link.next_stream.wrapping_add(2);
                // A request is a few hundred bytes: far below the frame limit.
                let outgoing = link.socket.outgoing();
                let _ = frame::encode(stream, FrameKind::Request, 0, payload, outgoing);
                link.in_flight = Some(stream);
            }
        }
        if !self.write() {
            self.disconnect(registry);
            self.pump(registry);
        }
    }

    fn connect(&mut self, registry: &mut impl Registry<R>) -> bool {
        let Ok(address) = UnixAddr::new(&self.address) else {
            return false;
        };
        let Ok(socket) = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        ) else {
            return false;
        };
        match connect(socket.as_raw_fd(), &address) {
            // A unix socket connects at once, or is refused; EAGAIN is a full backlog.
            Ok(()) | Err(Errno::EINPROGRESS) => {}
            Err(_) => return false,
        }
        let Ok(token) = registry.register(
            socket.as_fd(),
            Interest::READABLE | Interest::WRITABLE,
            self.routes.socket,
        ) else {
            return false;
        };
        self.backoff = RETRY_FIRST;
        if let Ok(peer) = getsockopt(&socket, PeerCredentials) {
            self.daemon_pid = Some(peer.pid());
        }
        self.link = Some(Link {
            socket: FramedSocket::new(socket, token),
            in_flight: None,
            next_stream: 1,
        });
        true
    }

    /// Writes what waits; false if the connection is broken.
    fn write(&mut self) -> bool {
        self.link.as_mut().is_none_or(|link| link.socket.flush())
    }

    /// Reads containerd's answers; the event in flight leaves the queue once answered.
    fn read(&mut self, registry: &mut impl Registry<R>) {
        let mut broken = false;
        if let Some(link) = &mut self.link {
            loop {
                match link.socket.read_once() {
                    Read::Data => {}
                    Read::Interrupted => continue,
                    Read::Dry => break,
                    Read::Closed => {
                        broken = true;
                        break;
                    }
                }
                while let Some(item) = link.socket.next_item() {
                    let Item::Frame(answer) = item else {
                        continue;
                    };
                    if answer.kind != FrameKind::Response
                        || Some(answer.stream_id) != link.in_flight
                    {
                        continue;
                    }
                    link.in_flight = None;
                    let filed = self.queue.pop_front();
                    match Response::decode(answer.payload).map(|r| r.status) {
                        Ok(None) => {}
                        Ok(Some(status)) if status.code == 0 => {}
                        // containerd refused it: sending it again would be refused again.
                        Ok(Some(status)) => self.warnings.push(format!(
                            "containerd refused an event ({} bytes): code {}: {}",
                            filed.map_or(0, |f| f.len()),
                            status.code,
                            status.message
                        )),
                        Err(error) => self
                            .warnings
                            .push(format!("undecodable answer to an event: {error}")),
                    }
                }
            }
        }
        if broken {
            self.disconnect(registry);
        }
    }

    /// Drops the connection; the event in flight stays first in the queue, to be sent again.
    fn disconnect(&mut self, registry: &mut impl Registry<R>) {
        if let Some(link) = self.link.take() {
            link.socket.close(registry);
        }
    }

    /// Stops everything: the socket and the retry deadline.
    pub fn close(&mut self, registry: &mut impl Registry<R>) {
        self.disconnect(registry);
        if let Some(retry) = self.retry.take() {
            registry.cancel_timer(retry);
        }
    }
}
