//! TaskOOM: each container's cgroup is found and watched for OOM kills from the moment
//! `runc create` returns (not from Start: a container killed in its first millisecond must
//! still be reported), on the one loop; a kill is published as `/tasks/oom` when the cgroup's
//! kill counter rose, whether the victim is the init or one of its children. When the init is
//! reaped the counter is read once more, so that the OOM goes out before the init's TaskExit
//! and before any Wait is answered: CRI and Docker mark a container OOM-killed only if they hear
//! of it before its exit.

use crate::process::ProcessKey;
use crate::v2::cgroup::{Host, OomWatcher};
use crate::v2::log::Level;
use crate::v2::proto::events::TaskOom;
use crate::v2::route::Route;

use super::{Outside, TaskService};

/// What the service keeps of the host's cgroups: their layout, learnt at the first Create, and
/// the one watcher of every container's OOM kills.
#[derive(Debug)]
pub struct Cgroups {
    host: Option<Host>,
    watcher: OomWatcher<Route, String>,
}

impl Default for Cgroups {
    fn default() -> Cgroups {
        Cgroups {
            host: None,
            watcher: OomWatcher::new(Route::Oom),
        }
    }
}

impl Cgroups {
    /// The host's layout, learnt now if it was not yet.
    pub(super) fn host(&mut self) -> crate::error::Result<&Host> {
        if self.host.is_none() {
            self.host = Some(Host::detect()?);
        }
        self.host
            .as_ref()
            .ok_or_else(|| crate::error::Error::invalid("cgroups", "not detected"))
    }
}

impl TaskService {
    /// Container `id`'s init was made with `pid`: its cgroup is found and watched. A failure
    /// costs the container its Stats and OOM events only, so it is logged, not answered.
    pub(super) fn watch_cgroup(&mut self, out: &mut Outside, id: &str, pid: i32) {
        let located = self.cgroups.host().and_then(|host| host.cgroup_of(pid));
        let cgroup = match located {
            Ok(cgroup) => cgroup,
            Err(e) => {
                let message = format!("{id}: no Stats or OOM events: {e}");
                return out.log.write(Level::Warning, &message);
            }
        };
        let watched = self
            .cgroups
            .watcher
            .watch(&mut out.core.registry(), &cgroup, id.to_string());
        if let Some(container) = self.containers.get_mut(id) {
            match watched {
                Ok(watch) => container.oom = Some(watch),
                Err(e) => {
                    let message = format!("{id}: no OOM events: {e}");
                    out.log.write(Level::Warning, &message);
                }
            }
            container.cgroup = Some(cgroup);
        }
    }

    /// The watcher's descriptors are ready, or a recheck came due.
    #[inline(never)]
    pub fn on_oom(&mut self, out: &mut Outside) {
        let mut kills = Vec::new();
        let read = self
            .cgroups
            .watcher
            .on_ready(&mut out.core.registry(), &mut kills);
        if let Err(e) = read {
            out.log.write(Level::Warning, &format!("OOM watch: {e}"));
        }
        for container_id in kills {
            out.publish(&TaskOom { container_id });
        }
    }

    /// Process `key` was reaped: if it is an init, an OOM kill its cgroup counted goes out now,
    /// before its exit does.
    pub(super) fn reaped(&mut self, out: &mut Outside, key: ProcessKey) {
        let Some(served) = self.served.get(&key).filter(|s| s.exec_id.is_none()) else {
            return;
        };
        let Some(watch) = self.containers.get(&served.id).and_then(|c| c.oom) else {
            return;
        };
        let container_id = served.id.clone();
        match self.cgroups.watcher.check(&mut out.core.registry(), watch) {
            Ok(true) => out.publish(&TaskOom { container_id }),
            Ok(false) => {}
            Err(e) => out
                .log
                .write(Level::Warning, &format!("{container_id}: OOM watch: {e}")),
        }
    }

    /// Container `id` goes: so does its watch.
    pub(super) fn unwatch_cgroup(
        &mut self,
        out: &mut Outside,
        watch: Option<crate::v2::cgroup::WatchId>,
    ) {
        if let Some(watch) = watch {
            self.cgroups
                .watcher
                .unwatch(&mut out.core.registry(), watch);
        }
    }
}
