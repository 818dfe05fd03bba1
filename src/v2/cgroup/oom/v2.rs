//! The v2 side of the watcher: one inotify instance for the shim, a watch per cgroup's
//! `memory.events`.

use std::os::fd::AsFd;
use std::path::Path;

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use super::rule::Why;
use super::{OomWatcher, Source, INOTIFY_READS_PER_RUN};
use crate::error::{Error, Result};
use crate::event_loop::Registry;

/// The shared inotify instance of the v2 watches.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) inotify: Inotify,
    pub(super) token: Option<Token>,
}

impl<R: Copy, K: Clone> OomWatcher<R, K> {
    /// v2: a watch of `counter` in the shared inotify instance, which this opens if need be.
    pub(super) fn inotify_watch(
        &mut self,
        registry: &mut impl Registry<R>,
        counter: &Path,
    ) -> Result<Source> {
        if self.inotify.is_none() {
            let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
                .map_err(|e| Error::os("inotify_init1", e))?;
            let token = registry
                .register(inotify.as_fd(), Interest::READABLE, self.route)
                .map_err(|e| Error::os("epoll_ctl inotify", e))?;
            self.inotify = Some(Shared { inotify, token });
        }
        let added = match &self.inotify {
            Some(shared) => shared.inotify.add_watch(counter, AddWatchFlags::IN_MODIFY),
            None => Err(Errno::EBADF),
        };
        match added {
            Ok(wd) => Ok(Source::Inotify(wd)),
            Err(Errno::ENOENT | Errno::ENODEV) => {
                self.release_inotify_if_unused(registry);
                Ok(Source::Nothing)
            }
            Err(e) => {
                self.release_inotify_if_unused(registry);
                Err(Error::os(
                    format!("inotify_add_watch {}", counter.display()),
                    e,
                ))
            }
        }
    }

    /// Reads the inotify queue and lists the watches it names.
    pub(super) fn drain_inotify(
        &mut self,
        registry: &mut impl Registry<R>,
        looks: &mut Vec<(usize, Why)>,
    ) -> Result<()> {
        let Some(shared) = &self.inotify else {
            return Ok(());
        };
        let mut ignored = Vec::new();
        let mut result = Ok(());
        for read in 0.. {
            if read == INOTIFY_READS_PER_RUN {
                if let Some(token) = shared.token {
                    registry.again(token);
                }
                break;
            }
            let events = match shared.inotify.read_events() {
                Ok(events) => events,
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    result = Err(Error::os("read inotify", e));
                    break;
                }
            };
            for event in events {
                let overflow = event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW);
                for (id, watch) in &self.watches {
                    let Source::Inotify(wd) = watch.source else {
                        continue;
                    };
                    if (overflow || wd == event.wd) && !looks.iter().any(|&(l, _)| l == id) {
                        looks.push((id, Why::Notified));
                    }
                }
                if event.mask.contains(AddWatchFlags::IN_IGNORED) {
                    ignored.push(event.wd);
                }
            }
        }
        // The kernel dropped these watches (their file was removed): nothing to remove later.
        for (_, watch) in self.watches.iter_mut() {
            if matches!(watch.source, Source::Inotify(wd) if ignored.contains(&wd)) {
                watch.source = Source::Nothing;
            }
        }
        if !ignored.is_empty() {
            self.release_inotify_if_unused(registry);
        }
        result
    }

    /// Closes the inotify instance when no watch uses it any more.
    pub(super) fn release_inotify_if_unused(&mut self, registry: &mut impl Registry<R>) {
        let used = self
            .watches
            .iter()
            .any(|(_, watch)| matches!(watch.source, Source::Inotify(_)));
        if used {
            return;
        }
        if let Some(shared) = self.inotify.take() {
            if let Some(token) = shared.token {
                registry.deregister(shared.inotify.as_fd(), token);
            }
        }
    }
}
