//! A private containerd for one test: its own root, state, sockets, config and log in a scratch
//! directory, its own namespace, and a clean-up that leaves nothing behind on the host.
//!
//! Each test starts one ([`Containerd::start`]) and drives it through [`crate::ctr::Ctr`]. The
//! daemon answers in about 40 ms here, so a daemon per test costs little.
//!
//! Facts this module is built on (containerd 1.6.20, runc 1.1.5, measured here):
//!
//! * **Not everything follows `--state`.** The Go runc shim puts its socket at
//!   `/run/containerd/s/<sha256(grpc address + "/" + namespace + "/" + id)>` and runc's state
//!   at `/run/containerd/runc/<namespace>/<id>`, whatever the daemon's state directory is. Two
//!   daemons therefore share `/run/containerd`, and only a namespace unique across the whole
//!   host keeps their containers apart. runc leaves `/run/containerd/runc/<namespace>` behind
//!   (empty) after the last container, and a shim that was SIGKILLed leaves its socket.
//! * **Runtime lookup.** containerd looks for `containerd-shim-<name>-<version>` in its own
//!   working directory first, then on its `PATH`, then next to its own binary (`/usr/bin`, where
//!   the Go shim lives). The daemon here runs in its scratch directory, which holds no shim, with
//!   the shim under test's directory first on `PATH`; it caches each resolved path for its
//!   lifetime.
//! * **Plugins.** CRI is disabled unless [`Options::cri`] asks for it (with empty CNI
//!   directories, host-network pods and an image of the test kit's own), so are the snapshotters that
//!   cannot work here (aufs runs `modprobe`, btrfs and zfs need their filesystems, devmapper is
//!   unconfigured), overlayfs (`ctr run --rootfs` needs no snapshot) and the `opt` plugin, which
//!   would create `/opt/containerd` on the host. The v1 `linux` runtime must stay: the tasks
//!   service refuses to load without one, and then `ctr run` fails with "unknown service
//!   containerd.services.tasks.v1.Tasks". The metadata plugin needs at least one snapshotter,
//!   so `native` stays too.
//! * **Shims outlive the daemon**, by design: SIGTERM or SIGKILL on containerd leaves every shim
//!   and container running, and a restarted daemon on the same root and state reconnects to
//!   them. So stopping the daemon is not a clean-up; deleting the tasks first is.
//! * **Shim processes** carry `-namespace <ns>` on their command line (the Go shim's daemon:
//!   `containerd-shim-runc-v2 -namespace <ns> -id <id> -address <grpc socket> [-debug]`), which
//!   is how [`Containerd::shim_pids`] finds the ones serving this daemon.
//!
//! The daemon is one [`Containerd`], whose methods are spread by concern:
//!
//! * [`options`]: how to start it, and which v2 shim it runs ([`options::ShimUnderTest`]);
//! * `daemon.rs`: starting, stopping, killing and restarting its process;
//! * `config.rs`: its `config.toml`;
//! * `cri_plugin.rs`: what a CRI-enabled daemon needs (its directories, the tinyshim runtime's
//!   `ConfigPath` file, the sandbox image) and its CRI client;
//! * [`shims`]: how containerd finds the shim under test, and how the tests find the shims
//!   serving the daemon and their sockets;
//! * `cleanup.rs`: what its containers leave on the host, and the clean-up that removes it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

use crate::ctr::Ctr;
use crate::footprint::Footprint;
use crate::scratch::{unique, Scratch};

use options::Options;

mod cleanup;
mod config;
mod cri_plugin;
mod daemon;
pub mod options;
pub mod shims;

/// The parent of runc's per-namespace state directories the runc shims use.
pub const RUNC_STATE_DIR: &str = "/run/containerd/runc";
/// The runtime v2 plugin's directory in the daemon's state (bundles) and root (work dirs).
pub const TASK_PLUGIN_DIR: &str = "io.containerd.runtime.v2.task";
/// How much of the daemon's log an error message quotes.
const LOG_TAIL_BYTES: u64 = 8 * 1024;

/// A containerd daemon of the test's own.
#[derive(Debug)]
pub struct Containerd {
    options: Options,
    namespace: String,
    dir: PathBuf,
    child: Option<Child>,
    footprint: Arc<Mutex<Footprint>>,
    /// Removed by the clean-up, after checking that nothing is mounted inside; never dropped
    /// blindly.
    scratch: Option<Scratch>,
}

impl Containerd {
    /// The cgroup parent under which every pod or dockerd container of this daemon should
    /// live (`/tinyshim-<scratch dir name>`): one per daemon, so that its clean-up can remove
    /// what runc leaves of it in every hierarchy without touching another test's.
    pub fn cgroup_root(&self) -> String {
        let name = self
            .dir
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("ctd");
        format!("/tinyshim-{name}")
    }

    /// The namespace every command of this daemon's [`Ctr`] uses.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The gRPC socket (`ctr --address`, the shims' `-address`).
    pub fn address(&self) -> PathBuf {
        self.dir.join("grpc.sock")
    }

    /// The ttrpc socket (the shims' `TTRPC_ADDRESS`, where they publish events).
    pub fn ttrpc_address(&self) -> PathBuf {
        self.dir.join("ttrpc.sock")
    }

    /// `--root`.
    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// `--state`.
    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// The daemon's log (stdout and stderr, every start appended; shims' stderr is copied in).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("containerd.log")
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let Ok(mut file) = File::open(self.log_path()) else {
            return "(no log)".into();
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)));
        let mut tail = Vec::new();
        let _ = file.read_to_end(&mut tail);
        String::from_utf8_lossy(&tail).into_owned()
    }

    /// A ctr client for this daemon and namespace.
    pub fn ctr(&self) -> Ctr {
        Ctr::new(
            self.address(),
            self.namespace.clone(),
            self.options.runtime.clone(),
            &self.dir,
            self.bundles_dir(),
            Arc::clone(&self.footprint),
        )
    }

    /// `<state>/io.containerd.runtime.v2.task/<namespace>`, which holds one bundle per task.
    pub fn bundles_dir(&self) -> PathBuf {
        self.state().join(TASK_PLUGIN_DIR).join(&self.namespace)
    }

    /// The bundle directory of task `id` (it exists while the task does).
    pub fn bundle(&self, id: &str) -> PathBuf {
        self.bundles_dir().join(id)
    }

    /// runc's state directory for this namespace, as the runc shims set `--root`.
    pub fn runc_root(&self) -> PathBuf {
        Path::new(RUNC_STATE_DIR).join(&self.namespace)
    }

    /// The ids runc knows in this namespace (`runc --root <runc_root> list -q`).
    pub fn runc_containers(&self) -> Vec<String> {
        let output = Command::new("runc")
            .arg("--root")
            .arg(self.runc_root())
            .args(["list", "-q"])
            .output()
            .expect("runc list");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A namespace name no other daemon on the host uses: the test process's pid and a counter,
/// skipping any whose runc directory a crashed earlier run left behind.
fn unused_namespace() -> String {
    loop {
        let name = format!("tinyshim-{}", unique());
        if !Path::new(RUNC_STATE_DIR).join(&name).exists() {
            return name;
        }
    }
}
