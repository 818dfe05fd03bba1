//! Watching cgroups for OOM kills on the shim's loop, for TaskOOM.
//!
//! One [`OomWatcher`] serves every container of a shim, all its descriptors registered with
//! one route of the caller's. The kernel's notification says only that something happened, so
//! the watcher always re-reads the cgroup's kill counter and reports a container only when that
//! counter rose above what was last reported (from 0: the cgroup is the container's own, so a
//! kill counted before the watch began is the container's too).
//!
//! * **v1**: an eventfd per cgroup (non-blocking, close-on-exec), tied to `memory.oom_control`
//!   through `cgroup.event_control`; the counter is `oom_kill` in `memory.oom_control` (kernel
//!   4.13 and later). The eventfd also fires when the cgroup is removed, which finds the counter
//!   gone and reports nothing, and under `oom_kill_disable`, where nothing is killed and the
//!   counter does not move. The kernel signals *before* it picks and kills a victim, so a
//!   notification whose counter has not risen yet is looked at again after 10 ms, 100 ms and
//!   1 s ([`RECHECKS`]) on the loop's timer, under the same route. On a kernel without the
//!   counter every notification but a removal is a kill, as in the Go shim.
//! * **v2**: one inotify descriptor (`IN_NONBLOCK`) for the whole shim, opened with its first
//!   watch and closed with its last, and an `IN_MODIFY` watch on each cgroup's
//!   `memory.events`; the counter is its `oom_kill`. The kernel raises it before it sends the
//!   SIGKILL, and always notifies after the last change (at most 20 ms late: it rate-limits
//!   the notifications of one file), so no recheck is needed. One instance, not one per
//!   container: `fs.inotify.max_user_instances` (128 by default) counts instances per user,
//!   host-wide, and every shim runs as root.
//!
//! Descriptors: one eventfd per watched cgroup on v1, one inotify for the shim on v2; none for a
//! cgroup that is gone or has no memory controller. Because the loop routes every one of them
//! to the same place, a readiness on v1 reads each eventfd once (a failed read of an idle one
//! is one syscall) to learn which fired; readiness is rare (an OOM, a cgroup removed).
//!
//! The shim checks the counter once more when a container's init is reaped
//! ([`OomWatcher::check`]): the kill is counted before the victim dies, so TaskOOM can go out
//! before TaskExit even when the notification has not been read yet.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::Token;
use nix::sys::eventfd::EventFd;
use nix::sys::inotify::WatchDescriptor;
use slab::Slab;

use super::{Cgroup, Controller};
use crate::error::Result;
use crate::event_loop::Registry;
use rule::{judge, read_count, Count, Verdict, Why};
use v2::Shared;

/// When a v1 notification whose kill counter has not risen is looked at again, each delay
/// after the previous look. A victim is normally counted within microseconds of the
/// notification; the later looks cover a machine too loaded to run the OOM killer promptly.
pub const RECHECKS: [Duration; 3] = [
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_secs(1),
];

/// Reads of the inotify descriptor in one [`OomWatcher::on_ready`] before yielding to the
/// loop's other sources.
const INOTIFY_READS_PER_RUN: usize = 64;

/// One watch, as the caller names it to [`OomWatcher::check`] and [`OomWatcher::unwatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WatchId(usize);

/// The cgroup API a watch follows, which decides the counter file and the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    V1,
    V2,
}

/// What the kernel wakes a watch through.
#[derive(Debug)]
enum Source {
    /// v1: this watch's eventfd, registered with the loop.
    EventFd { fd: EventFd, token: Option<Token> },
    /// v2: this watch's descriptor in the shared inotify instance.
    Inotify(WatchDescriptor),
    /// Nothing: the cgroup is gone, or has no memory controller.
    Nothing,
}

/// A v1 notification waiting for its kill to be counted.
#[derive(Debug, Clone, Copy)]
struct Recheck {
    at: Instant,
    /// Index in [`RECHECKS`] of the delay that led here.
    attempt: usize,
}

#[derive(Debug)]
struct Watch<K> {
    key: K,
    api: Api,
    /// `memory.oom_control` (v1) or `memory.events` (v2).
    counter: PathBuf,
    source: Source,
    /// The kill count last reported; 0 at first.
    reported: u64,
    recheck: Option<Recheck>,
}

/// The OOM watches of a shim's containers, each named by a key `K` of the caller's, all led to
/// one route `R` of the loop.
#[derive(Debug)]
pub struct OomWatcher<R, K> {
    route: R,
    watches: Slab<Watch<K>>,
    inotify: Option<Shared>,
    /// The latest deadline asked of the loop that has not passed. A deadline that passed is
    /// never cancelled: its slot may already be another owner's.
    timer: Option<Instant>,
}

impl<R: Copy, K: Clone> OomWatcher<R, K> {
    /// A watcher whose descriptors and deadlines will all lead to `route`; it holds no
    /// descriptor until it watches something.
    pub fn new(route: R) -> OomWatcher<R, K> {
        OomWatcher {
            route,
            watches: Slab::new(),
            inotify: None,
            timer: None,
        }
    }

    /// Starts watching `cgroup`, reporting its kills as `key`. A cgroup that is already gone, or
    /// has no memory controller, gets a watch that never reports and holds no descriptor.
    pub fn watch(
        &mut self,
        registry: &mut impl Registry<R>,
        cgroup: &Cgroup,
        key: K,
    ) -> Result<WatchId> {
        let (api, counter, source) = match cgroup {
            Cgroup::V1(paths) => match paths.get(Controller::Memory) {
                Some(memcg) => {
                    let counter = memcg.join("memory.oom_control");
                    let source = self.event_fd(registry, memcg, &counter)?;
                    (Api::V1, counter, source)
                }
                None => (Api::V1, PathBuf::new(), Source::Nothing),
            },
            Cgroup::Unified(dir) => {
                let counter = dir.join("memory.events");
                let source = self.inotify_watch(registry, &counter)?;
                (Api::V2, counter, source)
            }
        };
        Ok(WatchId(self.watches.insert(Watch {
            key,
            api,
            counter,
            source,
            reported: 0,
            recheck: None,
        })))
    }

    /// Handles a readiness or a deadline of the watcher's route: drains what the kernel
    /// signalled, re-reads the counters concerned and the rechecks that came due, and appends
    /// the key of every watch whose kill counter rose to `kills`. An error (a counter that
    /// exists but cannot be read) is returned after everything else was handled.
    pub fn on_ready(&mut self, registry: &mut impl Registry<R>, kills: &mut Vec<K>) -> Result<()> {
        let now = Instant::now();
        if self.timer.is_some_and(|at| at <= now) {
            self.timer = None;
        }
        let mut looks: Vec<(usize, Why)> = Vec::new();
        for (id, watch) in &self.watches {
            if let Source::EventFd { fd, .. } = &watch.source {
                // The counter of an eventfd is how many notifications it took; any is enough.
                if fd.read().is_ok() {
                    looks.push((id, Why::Notified));
                }
            }
        }
        let mut first_error = self.drain_inotify(registry, &mut looks).err();
        for (id, watch) in &self.watches {
            if let Some(recheck) = watch.recheck {
                if recheck.at <= now && !looks.iter().any(|&(looked, _)| looked == id) {
                    looks.push((id, Why::Recheck(recheck.attempt)));
                }
            }
        }
        for (id, why) in looks {
            if let Err(e) = self.look(registry, id, why, now, kills) {
                first_error.get_or_insert(e);
            }
        }
        self.arm(registry);
        first_error.map_or(Ok(()), Err)
    }

    /// Re-reads the counter of watch `id` and acts on the verdict.
    fn look(
        &mut self,
        registry: &mut impl Registry<R>,
        id: usize,
        why: Why,
        now: Instant,
        kills: &mut Vec<K>,
    ) -> Result<()> {
        let Some(watch) = self.watches.get_mut(id) else {
            return Ok(());
        };
        // A counter that cannot be read is not looked at again until the kernel notifies: a
        // recheck left pending would be due at once, every turn of the loop.
        watch.recheck = None;
        let count = read_count(&watch.counter)?;
        match judge(watch.api, watch.reported, count, why) {
            Verdict::Killed => {
                if let Count::Kills(kills) = count {
                    watch.reported = kills;
                }
                kills.push(watch.key.clone());
            }
            Verdict::Quiet => {}
            Verdict::Recheck(attempt) => {
                watch.recheck = Some(Recheck {
                    at: now + RECHECKS[attempt % RECHECKS.len()],
                    attempt,
                });
            }
            Verdict::Gone => self.let_go(registry, id),
        }
        Ok(())
    }

    /// Asks the loop for the earliest recheck, unless an earlier deadline is already asked.
    fn arm(&mut self, registry: &mut impl Registry<R>) {
        let due = self
            .watches
            .iter()
            .filter_map(|(_, watch)| watch.recheck.map(|r| r.at))
            .min();
        if let Some(due) = due {
            if self.timer.is_none_or(|asked| due < asked) {
                registry.set_timer(due, self.route);
                self.timer = Some(due);
            }
        }
    }

    /// Re-reads the kill counter of `id` now: `true` when it rose since it was last reported,
    /// which then counts as reported. The shim asks when the container's init is reaped, so
    /// that TaskOOM goes out before TaskExit.
    pub fn check(&mut self, registry: &mut impl Registry<R>, id: WatchId) -> Result<bool> {
        let Some(watch) = self.watches.get_mut(id.0) else {
            return Ok(false);
        };
        let count = read_count(&watch.counter)?;
        match judge(watch.api, watch.reported, count, Why::Asked) {
            Verdict::Killed => {
                if let Count::Kills(kills) = count {
                    watch.reported = kills;
                }
                watch.recheck = None;
                Ok(true)
            }
            Verdict::Gone => {
                watch.recheck = None;
                self.let_go(registry, id.0);
                Ok(false)
            }
            Verdict::Quiet | Verdict::Recheck(_) => Ok(false),
        }
    }

    /// Stops watching `id` (at Delete), deregistering and closing what it held.
    pub fn unwatch(&mut self, registry: &mut impl Registry<R>, id: WatchId) {
        if self.watches.contains(id.0) {
            self.let_go(registry, id.0);
            self.watches.remove(id.0);
        }
    }

    /// Stops every watch and closes the inotify instance, deregistering each first.
    pub fn close(&mut self, registry: &mut impl Registry<R>) {
        let ids: Vec<usize> = self.watches.iter().map(|(id, _)| id).collect();
        for id in ids {
            self.unwatch(registry, WatchId(id));
        }
        self.release_inotify_if_unused(registry);
    }

    /// Whether a v1 notification is still waiting for its kill to be counted.
    pub fn rechecking(&self) -> bool {
        self.watches
            .iter()
            .any(|(_, watch)| watch.recheck.is_some())
    }

    /// How many descriptors the watcher holds: its eventfds and its inotify instance.
    pub fn descriptors(&self) -> usize {
        let event_fds = self
            .watches
            .iter()
            .filter(|(_, watch)| matches!(watch.source, Source::EventFd { .. }))
            .count();
        event_fds + usize::from(self.inotify.is_some())
    }

    /// Lets go of what watch `id` waits on; the watch stays, quiet, until unwatched.
    fn let_go(&mut self, registry: &mut impl Registry<R>, id: usize) {
        let Some(watch) = self.watches.get_mut(id) else {
            return;
        };
        match std::mem::replace(&mut watch.source, Source::Nothing) {
            Source::EventFd { fd, token } => {
                if let Some(token) = token {
                    registry.deregister(fd.as_fd(), token);
                }
            }
            Source::Inotify(wd) => {
                let shared_by_another = self
                    .watches
                    .iter()
                    .any(|(_, other)| matches!(other.source, Source::Inotify(w) if w == wd));
                if let (false, Some(shared)) = (shared_by_another, &self.inotify) {
                    // EINVAL means the kernel dropped the watch already (the file went).
                    let _ = shared.inotify.rm_watch(wd);
                }
                self.release_inotify_if_unused(registry);
            }
            Source::Nothing => {}
        }
    }
}

mod rule;
mod v1;
mod v2;

#[cfg(test)]
mod tests;
