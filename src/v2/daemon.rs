//! The serving shim: the socket containerd calls, its connections, the events publisher, and
//! the core, in one loop.
//!
//! `start` made the listening socket and passed it as fd 3. Every connection is a token of the
//! loop; a call that needs a runtime call or an exit is parked under it and answered when the
//! core reports it, while every other call on every connection goes on being served. The shim
//! exits once containerd asked it to shut down with no task left (or SIGTERM came with none),
//! after the events it still holds have reached containerd.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::sys::socket::{accept4, SockFlag};
use prost::Message;
use slab::Slab;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::ProcessKey;
use crate::reaper;
use crate::supervisor::{Notice, Route, Supervisor};
use crate::v2::args::Args;
use crate::v2::container::Container;
use crate::v2::events::{Publisher, Routes};
use crate::v2::log::{Level, Log};
use crate::v2::service::Pending;
use crate::v2::ttrpc::connection::{self, Connection};
use crate::v2::ttrpc::request::{encode_error, encode_reply, CallError};

/// How long the shim, once asked to exit, waits for containerd to file its last events.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// The frontend's routes: the listener, the events socket and its retry, the exit deadline,
/// and connections from [`CONNECTIONS`] on.
const LISTENER: usize = 0;
const EVENTS_SOCKET: usize = 1;
const EVENTS_RETRY: usize = 2;
const FLUSH_DEADLINE: usize = 3;
const CONNECTIONS: usize = 16;

/// Where an answer goes: a connection (checked by its serial, since slab keys are reused) and
/// the call's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    conn: usize,
    serial: u64,
    /// The call's stream id.
    pub stream: u32,
}

/// The serving shim.
#[derive(Debug)]
pub struct Shim {
    pub(super) sup: Supervisor,
    pub(super) namespace: String,
    listener: OwnedFd,
    listener_token: Option<Token>,
    connections: Slab<(u64, Connection)>,
    next_serial: u64,
    pub(super) publisher: Publisher<Route>,
    /// The containers served, by id.
    pub(super) containers: BTreeMap<String, Container>,
    /// Which container (and exec) each core process is.
    pub(super) owners: HashMap<ProcessKey, (String, Option<String>)>,
    /// Calls parked on a process's launch or start.
    pub(super) launches: HashMap<ProcessKey, Reply>,
    /// Calls parked on a runtime call, by its tag.
    pub(super) calls: HashMap<u64, (Reply, Pending)>,
    /// Wait calls, by the id a process keeps as its waiter.
    pub(super) waits: HashMap<u64, Reply>,
    /// The ready pipes of `binary://` loggers, by the process whose output they log.
    pub(super) loggers: HashMap<ProcessKey, OwnedFd>,
    next_tag: u64,
    pub(super) log: Log,
    uid: u32,
    /// The socket file to remove at exit.
    socket_path: Option<PathBuf>,
    /// Set once the shim is to exit: when it must, at the latest.
    exit_by: Option<Instant>,
}

impl Shim {
    /// The shim serving `listener` for `args`, its working directory the first bundle.
    pub fn new(
        args: &Args,
        listener: OwnedFd,
        socket_path: Option<PathBuf>,
        log: Log,
        config: Config,
    ) -> Result<Shim> {
        let signals = reaper::block_signals()?;
        reaper::become_subreaper()?;
        let mut sup = Supervisor::new(config, signals)?;
        let listener_token = sup
            .lp
            .register(
                listener.as_fd(),
                Interest::READABLE,
                Route::Frontend(LISTENER),
            )
            .map_err(|e| Error::os("epoll_ctl shim socket", e))?;
        let ttrpc_address = sup
            .config()
            .ttrpc_address
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.ttrpc", args.address)));
        let routes = Routes {
            socket: Route::Frontend(EVENTS_SOCKET),
            retry: Route::Frontend(EVENTS_RETRY),
        };
        Ok(Shim {
            sup,
            namespace: args.namespace.clone(),
            listener,
            listener_token,
            connections: Slab::new(),
            next_serial: 0,
            publisher: Publisher::new(ttrpc_address, args.namespace.clone(), routes),
            containers: BTreeMap::new(),
            owners: HashMap::new(),
            launches: HashMap::new(),
            calls: HashMap::new(),
            waits: HashMap::new(),
            loggers: HashMap::new(),
            next_tag: 0,
            log,
            uid: nix::unistd::geteuid().as_raw(),
            socket_path,
            exit_by: None,
        })
    }

    /// Serves until the shim is to exit.
    pub fn run(mut self) -> Result<()> {
        let mut notices = Vec::new();
        self.sup.kick(&mut notices);
        self.accept();
        loop {
            for notice in notices.drain(..) {
                self.handle(notice);
            }
            for warning in std::mem::take(&mut self.publisher.warnings) {
                self.log.write(Level::Warning, &warning);
            }
            if let Some(by) = self.exit_by {
                if self.publisher.is_empty() || Instant::now() >= by {
                    break;
                }
            }
            self.sup
                .turn(&mut notices)
                .map_err(|e| Error::os("epoll_wait", e))?;
        }
        self.finish();
        Ok(())
    }

    fn handle(&mut self, notice: Notice) {
        match notice {
            Notice::Frontend(LISTENER) => self.accept(),
            Notice::Frontend(EVENTS_SOCKET) => self.publisher.on_socket(&mut self.sup.lp),
            Notice::Frontend(EVENTS_RETRY) => self.publisher.on_retry(&mut self.sup.lp),
            Notice::Frontend(FLUSH_DEADLINE) => {}
            Notice::Frontend(id) => self.on_connection(id.wrapping_sub(CONNECTIONS)),
            Notice::Terminate => {
                if self.containers.is_empty() {
                    self.exit_soon();
                } else {
                    let count = self.containers.len();
                    self.log.write(
                        Level::Warning,
                        &format!("ignored SIGTERM: {count} task(s) still served"),
                    );
                }
            }
            Notice::Launched(key) => self.launched(key),
            Notice::LaunchFailed(key) => self.launch_failed(key),
            Notice::Started(key) => self.started(key),
            Notice::StartFailed(key) => self.start_failed(key),
            Notice::Exited(..) => {}
            Notice::Finished(key, _) => self.finished(key),
            Notice::CallFinished(call) => self.call_finished(call),
            Notice::PumpFailed(key, failure) => {
                let owner = self
                    .owners
                    .get(&key)
                    .map(|(id, _)| id.as_str())
                    .unwrap_or("?");
                self.log.write(
                    Level::Warning,
                    &format!(
                        "{owner}: {} pump: {}: {}",
                        failure.stream,
                        failure.path,
                        failure.errno.desc()
                    ),
                );
            }
            Notice::Warning(message) => self.log.write(Level::Warning, &message),
        }
    }

    fn accept(&mut self) {
        loop {
            let socket = match accept4(
                &self.listener,
                SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            ) {
                Ok(socket) => socket,
                Err(Errno::EINTR | Errno::ECONNABORTED) => continue,
                // EAGAIN: no more for now. EMFILE and the like: the peer waits in the backlog
                // and is accepted on the next readiness.
                Err(_) => return,
            };
            if !connection::peer_is(&socket, self.uid) {
                self.log
                    .write(Level::Warning, "refused a connection from another user");
                continue;
            }
            let entry = self.connections.vacant_entry();
            let route = Route::Frontend(CONNECTIONS + entry.key());
            let interest = Interest::READABLE | Interest::WRITABLE;
            let Ok(token) = self.sup.lp.register(socket.as_fd(), interest, route) else {
                continue;
            };
            self.next_serial += 1;
            entry.insert((self.next_serial, Connection::new(socket, token)));
        }
    }

    fn on_connection(&mut self, key: usize) {
        let mut calls = Vec::new();
        let Some((serial, connection)) = self.connections.get_mut(key) else {
            return;
        };
        let serial = *serial;
        connection.write();
        connection.read(&mut calls, &mut self.sup.lp);
        for (stream, call) in calls {
            let reply = Reply {
                conn: key,
                serial,
                stream,
            };
            self.serve(reply, call.request);
        }
        let closed = self.connections.get(key).is_some_and(|(_, c)| c.closed());
        if closed {
            let (_, connection) = self.connections.remove(key);
            connection.close(&mut self.sup.lp);
        }
    }

    /// Sends the OK answer `reply` or the error.
    pub(super) fn answer<M: Message>(
        &mut self,
        to: Reply,
        result: std::result::Result<M, CallError>,
    ) {
        let mut frame = Vec::new();
        match result {
            Ok(message) => {
                if let Err(too_large) = encode_reply(to.stream, &message, &mut frame) {
                    encode_error(to.stream, &too_large, &mut frame);
                }
            }
            Err(error) => {
                self.log
                    .write(Level::Debug, &format!("call failed: {error}"));
                encode_error(to.stream, &error, &mut frame);
            }
        }
        // A connection that closed meanwhile (a daemon restarting) takes no answer.
        if let Some((serial, connection)) = self.connections.get_mut(to.conn) {
            if *serial == to.serial {
                connection.queue(&frame);
            }
        }
    }

    /// A tag for a runtime call or a waiter, never reused.
    pub(super) fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    /// Exits once the events are flushed, or after [`FLUSH_LIMIT`].
    pub(super) fn exit_soon(&mut self) {
        if self.exit_by.is_some() {
            return;
        }
        let by = Instant::now() + FLUSH_LIMIT;
        self.exit_by = Some(by);
        self.sup.lp.set_timer(by, Route::Frontend(FLUSH_DEADLINE));
        if let Some(token) = self.listener_token.take() {
            self.sup.lp.deregister(self.listener.as_fd(), token);
        }
    }

    /// The last step: answers written, sockets closed, the socket file removed.
    fn finish(&mut self) {
        for (_, (_, mut connection)) in std::mem::take(&mut self.connections) {
            connection.write();
            connection.close(&mut self.sup.lp);
        }
        self.publisher.close(&mut self.sup.lp);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}
