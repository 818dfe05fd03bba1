//! The one loop of the shim: epoll readiness, sources that yielded with work left, and deadlines.
//!
//! The loop routes, it owns nothing. Whoever owns a descriptor registers it with the route that
//! leads back to the owner (a process's pump end, a console socket, a connection), gets a
//! [`Token`] from the loop's slab, and deregisters it before closing the descriptor. A new
//! process or connection only takes more slab slots: nothing is a constant but the routes' shape.
//!
//! mio registers edge-triggered, so an owner that stops before `EAGAIN` (a pump that spent its
//! budget, a control FIFO flood) calls [`EventLoop::again`] and is run again before the loop
//! sleeps; such sources wait in a queue, in the order they yielded. Deadlines are few (a drain
//! that gives up, a pipe to shrink, an event to resend), so they sit in a slab scanned for the
//! earliest: the loop sleeps in `epoll_wait` until then and never wakes while there is none.
//!
//! Owners see the loop only as a [`Registry`]: what registering, yielding and deadlines need,
//! never the wait itself, which the core alone runs. An owner whose routes are its own type (a
//! frontend's) gets a [`Scoped`] view that wraps them into the loop's routes, so it never
//! learns how the core numbers anything.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// Readiness events taken per `epoll_wait`; more simply wait for the next call.
const EVENTS: usize = 64;

/// A pending deadline, from [`EventLoop::set_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerId(usize);

/// Readiness, yields and deadlines, each leading to a route of type `R`.
#[derive(Debug)]
pub struct EventLoop<R> {
    poll: Poll,
    events: Events,
    routes: Slab<R>,
    yielded: VecDeque<Token>,
    timers: Slab<(Instant, R)>,
}

impl<R: Copy> EventLoop<R> {
    /// An empty loop with its own epoll instance.
    pub fn new() -> io::Result<EventLoop<R>> {
        Ok(EventLoop {
            poll: Poll::new()?,
            events: Events::with_capacity(EVENTS),
            routes: Slab::new(),
            yielded: VecDeque::new(),
            timers: Slab::new(),
        })
    }

    /// How many descriptors are registered (for tests: nothing may be left behind).
    pub fn registered(&self) -> usize {
        self.routes.len()
    }

    /// Sleeps until something is ready, then appends its routes to `ready`: readiness first,
    /// then the sources that had yielded, then the deadlines that passed. Returns at once when a
    /// source has yielded. A signal interrupting the wait returns nothing, which is not an error.
    pub fn wait(&mut self, ready: &mut Vec<R>) -> io::Result<()> {
        let timeout = if self.yielded.is_empty() {
            self.next_deadline()
                .map(|at| at.saturating_duration_since(Instant::now()))
        } else {
            Some(Duration::ZERO)
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in self.events.iter() {
            if let Some(route) = self.routes.get(event.token().0) {
                ready.push(*route);
            }
        }
        for token in std::mem::take(&mut self.yielded) {
            if let Some(route) = self.routes.get(token.0) {
                ready.push(*route);
            }
        }
        let now = Instant::now();
        let due: Vec<usize> = self
            .timers
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(key, _)| key)
            .collect();
        for key in due {
            if let Some((_, route)) = self.timers.try_remove(key) {
                ready.push(route);
            }
        }
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timers.iter().map(|(_, (at, _))| *at).min()
    }
}

/// What an owner of descriptors and deadlines needs of the loop, with routes of type `R`.
pub trait Registry<R> {
    /// Watches `fd` for `interest` and leads its readiness to `route`. `None` means epoll cannot
    /// watch it (`EPERM`: a regular file or `/dev/null`): such a descriptor is always ready, so
    /// its owner simply never waits on it.
    fn register(
        &mut self,
        fd: BorrowedFd<'_>,
        interest: Interest,
        route: R,
    ) -> io::Result<Option<Token>>;

    /// Stops watching `fd` and frees its token. Must come before the descriptor is closed
    /// whenever another descriptor may refer to the same open file (a duplicate of a PTY master):
    /// epoll watches the open file, and a stale registration would go on firing.
    fn deregister(&mut self, fd: BorrowedFd<'_>, token: Token);

    /// Watches `fd`, registered under `token`, for `interest` instead (one `epoll_ctl`; the
    /// loop reports at once what is already ready).
    fn reregister(
        &mut self,
        fd: BorrowedFd<'_>,
        token: Token,
        interest: Interest,
    ) -> io::Result<()>;

    /// The owner of `token` stopped with work left: run it again before sleeping.
    fn again(&mut self, token: Token);

    /// Leads to `route` once `at` has passed.
    fn set_timer(&mut self, at: Instant, route: R) -> TimerId;

    /// Forgets a deadline that has not fired; one that fired is already gone.
    fn cancel_timer(&mut self, id: TimerId);
}

impl<R: Copy> Registry<R> for EventLoop<R> {
    fn register(
        &mut self,
        fd: BorrowedFd<'_>,
        interest: Interest,
        route: R,
    ) -> io::Result<Option<Token>> {
        let entry = self.routes.vacant_entry();
        let token = Token(entry.key());
        match self
            .poll
            .registry()
            .register(&mut SourceFd(&fd.as_raw_fd()), token, interest)
        {
            Ok(()) => {
                entry.insert(route);
                Ok(Some(token))
            }
            Err(e) if e.raw_os_error() == Some(nix::libc::EPERM) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn deregister(&mut self, fd: BorrowedFd<'_>, token: Token) {
        // The only possible error is ENOENT, for a descriptor epoll already forgot.
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&fd.as_raw_fd()));
        self.routes.try_remove(token.0);
        self.yielded.retain(|&t| t != token);
    }

    fn reregister(
        &mut self,
        fd: BorrowedFd<'_>,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.poll
            .registry()
            .reregister(&mut SourceFd(&fd.as_raw_fd()), token, interest)
    }

    fn again(&mut self, token: Token) {
        if !self.yielded.contains(&token) {
            self.yielded.push_back(token);
        }
    }

    fn set_timer(&mut self, at: Instant, route: R) -> TimerId {
        TimerId(self.timers.insert((at, route)))
    }

    fn cancel_timer(&mut self, id: TimerId) {
        self.timers.try_remove(id.0);
    }
}

/// A loop seen by an owner whose routes `S` the loop carries inside its own `R` (a frontend's
/// routes inside the core's).
#[derive(Debug)]
pub struct Scoped<'a, R, S> {
    event_loop: &'a mut EventLoop<R>,
    wrap: fn(S) -> R,
}

impl<'a, R, S> Scoped<'a, R, S> {
    /// `event_loop`, its routes made from the owner's by `wrap`.
    pub fn new(event_loop: &'a mut EventLoop<R>, wrap: fn(S) -> R) -> Scoped<'a, R, S> {
        Scoped { event_loop, wrap }
    }
}

impl<R: Copy, S> Registry<S> for Scoped<'_, R, S> {
    fn register(
        &mut self,
        fd: BorrowedFd<'_>,
        interest: Interest,
        route: S,
    ) -> io::Result<Option<Token>> {
        self.event_loop.register(fd, interest, (self.wrap)(route))
    }

    fn deregister(&mut self, fd: BorrowedFd<'_>, token: Token) {
        self.event_loop.deregister(fd, token);
    }

    fn reregister(
        &mut self,
        fd: BorrowedFd<'_>,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.event_loop.reregister(fd, token, interest)
    }

    fn again(&mut self, token: Token) {
        self.event_loop.again(token);
    }

    fn set_timer(&mut self, at: Instant, route: S) -> TimerId {
        self.event_loop.set_timer(at, (self.wrap)(route))
    }

    fn cancel_timer(&mut self, id: TimerId) {
        self.event_loop.cancel_timer(id);
    }
}

#[cfg(test)]
mod tests;
