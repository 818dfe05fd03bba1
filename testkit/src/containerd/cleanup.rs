//! What a daemon's containers leave on the host, and the clean-up that removes it: the tasks and
//! containers deleted through the daemon (started again if need be), then the daemon stopped,
//! and what is left of its shims, runc's state, cgroups, sockets and scratch directory removed.

use std::collections::BTreeSet;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::options::CRI_NAMESPACE;
use super::shims::go_shim_socket;
use super::Containerd;
use crate::driver;
use crate::host::which;
use crate::mounts::{cgroup_hierarchies, mount_points, remove_unless_mounted};
use crate::procfs::{cmdline, listening_unix_sockets};

/// Time allowed to each `ctr` command of the clean-up.
const CLEANUP_CTR_TIMEOUT: Duration = Duration::from_secs(15);

impl Containerd {
    /// What this daemon's containers still hold on the host, one line each: shim processes,
    /// shim sockets, containers in runc's state, bundles, mounts. Empty once every task is
    /// deleted and its shim exited. runc's own namespace directory, which runc never removes,
    /// counts only when it holds a container.
    pub fn leftovers(&self) -> Vec<String> {
        self.record_footprint();
        let mut left: Vec<String> = self
            .shim_pids()
            .into_iter()
            .map(|pid| format!("shim process {pid}: {:?}", cmdline(pid).unwrap_or_default()))
            .collect();
        let sockets = self.known_sockets();
        left.extend(
            sockets
                .into_iter()
                .filter(|socket| socket.symlink_metadata().is_ok())
                .map(|socket| format!("shim socket {}", socket.display())),
        );
        left.extend(
            self.own_runc_entries()
                .into_iter()
                .map(|id| format!("runc container {}", self.runc_root().join(id).display())),
        );
        for entry in std::fs::read_dir(self.bundles_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            left.push(format!("bundle {}", entry.path().display()));
        }
        left.extend(
            mount_points()
                .into_iter()
                .filter(|mount| {
                    // A shared namespace (CRI's, Docker's) names other daemons' mounts too.
                    let own_namespace = self.options.namespace.is_none()
                        && mount.to_string_lossy().contains(&self.namespace);
                    mount.starts_with(&self.dir) || own_namespace
                })
                .map(|mount| format!("mount {}", mount.display())),
        );
        left
    }

    /// Cleans up now, as dropping does, and returns what it found wrong instead of printing
    /// it: shims still running once their tasks were deleted and the daemon stopped (a shim
    /// that does not exit after Shutdown), containers runc still knew, tasks that would not
    /// delete, files that would not go. Tasks and containers the test left are deleted without
    /// complaint.
    pub fn shut_down(mut self) -> Vec<String> {
        self.clean_up()
    }

    /// Everything [`Drop`] does, once, returning what went wrong instead of panicking.
    pub(crate) fn clean_up(&mut self) -> Vec<String> {
        if self.scratch.is_none() {
            return Vec::new();
        }
        let mut problems = Vec::new();
        // A daemon the test stopped or killed while tasks remained is started again: it
        // reconnects to their shims, and deleting tasks through it is the one clean-up that
        // works whatever shim serves them.
        let tasks_left = std::fs::read_dir(self.bundles_dir())
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(false);
        if tasks_left && !self.is_running() && self.child.is_some() {
            if let Some(containerd) = which("containerd") {
                if let Err(error) = self.launch(&containerd) {
                    problems.push(format!("restart for clean-up: {error}"));
                }
            }
        }
        if self.is_running() && self.options.cri {
            // CRI deletes what it runs as its own events come in: tasks deleted under it by
            // ctr race its exit handlers ("is being deleted"), so its pods go through it first.
            self.record_footprint();
            match crate::cri::Cri::connect(self.cri_daemon()) {
                Ok(cri) => problems.extend(cri.remove_every_pod(CLEANUP_CTR_TIMEOUT)),
                Err(error) => problems.push(error),
            }
        }
        if self.is_running() {
            let ctr = self.ctr().with_timeout(CLEANUP_CTR_TIMEOUT);
            self.record_footprint();
            match ctr.try_tasks() {
                Ok(tasks) => {
                    for task in tasks {
                        // SIGKILL stays pending in a frozen cgroup, and delete --force would
                        // wait for an exit that never comes.
                        if task.status == "PAUSED" {
                            let _ = ctr.try_output(&["tasks", "resume", &task.id]);
                        }
                        match ctr.try_output(&["tasks", "delete", "--force", &task.id]) {
                            Ok(output) if output.success() => {}
                            Ok(output) => problems.push(format!("{output}")),
                            Err(error) => problems.push(error),
                        }
                    }
                }
                Err(error) => problems.push(error),
            }
            match ctr.try_container_ids() {
                Ok(ids) => {
                    for id in ids {
                        match ctr.try_output(&["containers", "delete", &id]) {
                            Ok(output) if output.success() => {}
                            Ok(output) => problems.push(format!("{output}")),
                            Err(error) => problems.push(error),
                        }
                    }
                }
                Err(error) => problems.push(error),
            }
            self.record_footprint();
        }
        if self.child.is_some() {
            if let Err(error) = self.terminate() {
                problems.push(format!("stop containerd: {error}"));
            }
        }
        problems.extend(self.kill_leftover_shims());
        problems.extend(self.remove_runc_state());
        problems.extend(self.remove_cgroups());
        problems.extend(self.remove_sockets());
        problems.extend(self.remove_scratch());
        problems
    }

    fn record_footprint(&self) {
        if let Ok(mut footprint) = self.footprint.lock() {
            footprint.record_bundles(&self.bundles_dir());
        }
    }

    fn kill_leftover_shims(&mut self) -> Vec<String> {
        let leftovers = self.shim_processes();
        if leftovers.is_empty() {
            return Vec::new();
        }
        let mut problems = vec![format!(
            "shims of namespace {} outlived their tasks and the daemon: {:?}",
            self.namespace,
            leftovers.iter().map(|(pid, _)| pid).collect::<Vec<_>>()
        )];
        for (pid, argv) in &leftovers {
            if let Ok(mut footprint) = self.footprint.lock() {
                footprint.sockets.extend(listening_unix_sockets(*pid));
            }
            // The pid may have been reused since the scan: kill only the same command line.
            if cmdline(*pid).as_ref() == Some(argv) {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while leftovers.iter().any(|(pid, _)| crate::procfs::alive(*pid)) {
            if Instant::now() > deadline {
                problems.push("leftover shims did not die within 5 s of SIGKILL".into());
                break;
            }
            driver::pause(Duration::from_millis(10));
        }
        problems
    }

    /// `runc delete --force` for every container runc still knows in this namespace (which
    /// kills its processes), then the namespace's runc directory.
    fn remove_runc_state(&self) -> Vec<String> {
        let root = self.runc_root();
        let mut problems = Vec::new();
        // Every container under the own-name route's root is this daemon's; the directory goes
        // with the scratch one.
        let own_root = self.own_name_runc_root().join(CRI_NAMESPACE);
        let own_arg = own_root.display().to_string();
        for entry in std::fs::read_dir(&own_root).into_iter().flatten().flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            problems.push(format!("runc still had container {id} in {own_arg}"));
            if let Err(error) =
                driver::run_runtime("runc", &[], &["--root", &own_arg, "delete", "--force", &id])
            {
                problems.push(error.to_string());
            }
        }
        let entries = self.own_runc_entries();
        if !entries.is_empty() {
            problems.push(format!(
                "runc still had containers {entries:?} in {}",
                root.display()
            ));
        }
        let root_arg = root.display().to_string();
        for id in &entries {
            if let Err(error) =
                driver::run_runtime("runc", &[], &["--root", &root_arg, "delete", "--force", id])
            {
                problems.push(error.to_string());
            }
        }
        if self.options.namespace.is_some() {
            // The namespace's directory is every such daemon's: only our containers' go.
            for id in &entries {
                let dir = root.join(id);
                if dir.exists() {
                    if let Err(error) = std::fs::remove_dir_all(&dir) {
                        problems.push(format!("remove {}: {error}", dir.display()));
                    }
                }
            }
        } else if root.exists() {
            if let Err(error) = std::fs::remove_dir_all(&root) {
                problems.push(format!("remove {}: {error}", root.display()));
            }
        }
        problems
    }

    /// The entries of [`Containerd::runc_root`] that are this daemon's containers: all of them
    /// in a namespace of its own, those of the ids it has used in the shared CRI one.
    fn own_runc_entries(&self) -> Vec<String> {
        let ids = self
            .footprint
            .lock()
            .map(|footprint| footprint.ids.clone())
            .unwrap_or_default();
        std::fs::read_dir(self.runc_root())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
            .filter(|id| self.options.namespace.is_none() || ids.contains(id))
            .collect()
    }

    /// Removes the cgroups runc created and left in every hierarchy: runc removes a
    /// container's own cgroup, never the parents it created for it, which are
    /// [`Containerd::cgroup_root`] (pods, dockerd) and, in a namespace of the daemon's own,
    /// `/<namespace>` (ctr's default cgroup path is `/<namespace>/<id>`).
    fn remove_cgroups(&self) -> Vec<String> {
        let mut parents = vec![self.cgroup_root()];
        if self.options.namespace.is_none() {
            parents.push(format!("/{}", self.namespace));
        }
        let mut problems = Vec::new();
        for (hierarchy, parent) in cgroup_hierarchies()
            .into_iter()
            .flat_map(|h| parents.iter().map(move |p| (h.clone(), p)))
        {
            let top = hierarchy.join(parent.trim_start_matches('/'));
            if !top.exists() {
                continue;
            }
            let mut dirs = Vec::new();
            collect_dirs(&top, &mut dirs);
            // Children before their parents.
            dirs.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
            for dir in dirs {
                if let Err(error) = std::fs::remove_dir(&dir) {
                    problems.push(format!("rmdir {}: {error}", dir.display()));
                }
            }
        }
        problems
    }

    /// Every shim socket this daemon's tasks may have made: those noted, and the Go shim's
    /// for each container id seen.
    fn known_sockets(&self) -> BTreeSet<PathBuf> {
        let mut sockets = BTreeSet::new();
        if let Ok(footprint) = self.footprint.lock() {
            sockets.extend(footprint.sockets.iter().cloned());
            let address = self.address().display().to_string();
            for id in &footprint.ids {
                sockets.extend(go_shim_socket(&address, &self.namespace, id));
            }
        }
        sockets
    }

    fn remove_sockets(&self) -> Vec<String> {
        let sockets = self.known_sockets();
        let mut problems = Vec::new();
        for socket in sockets {
            let is_socket = std::fs::symlink_metadata(&socket)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(false);
            if is_socket {
                if let Err(error) = std::fs::remove_file(&socket) {
                    problems.push(format!("remove {}: {error}", socket.display()));
                }
            }
        }
        problems
    }

    fn remove_scratch(&mut self) -> Vec<String> {
        remove_unless_mounted(self.scratch.take(), &self.dir)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let problems = self.clean_up();
        if !problems.is_empty() {
            eprintln!(
                "containerd clean-up (namespace {}):\n  {}",
                self.namespace,
                problems.join("\n  ")
            );
        }
    }
}

/// `dir` and every directory below it.
fn collect_dirs(dir: &Path, into: &mut Vec<PathBuf>) {
    into.push(dir.to_path_buf());
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            collect_dirs(&entry.path(), into);
        }
    }
}
