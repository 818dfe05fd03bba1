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

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::ctr::Ctr;
use crate::driver;
use crate::harness::{self, Scratch};

/// The Go runc shim's runtime name (`/usr/bin/containerd-shim-runc-v2`).
pub const GO_RUNC_RUNTIME: &str = "io.containerd.runc.v2";
/// The Go runc shim of Debian's containerd package, which containerd finds on its `PATH`.
pub const GO_RUNC_BINARY: &str = "/usr/bin/containerd-shim-runc-v2";
/// tinyshim's runtime name.
pub const TINYSHIM_RUNTIME: &str = "io.containerd.tinyshim.v2";
/// The binary containerd resolves [`TINYSHIM_RUNTIME`] to.
pub const TINYSHIM_BINARY: &str = "containerd-shim-tinyshim-v2";
/// Where runc shims put their sockets, whatever the daemon's `--state`.
pub const SHIM_SOCKET_DIR: &str = "/run/containerd/s";
/// The parent of runc's per-namespace state directories the runc shims use.
pub const RUNC_STATE_DIR: &str = "/run/containerd/runc";
/// The runtime v2 plugin's directory in the daemon's state (bundles) and root (work dirs).
pub const TASK_PLUGIN_DIR: &str = "io.containerd.runtime.v2.task";

/// How long [`Containerd::start`] and [`Containerd::restart`] wait for the daemon to answer.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long stopping waits after SIGTERM before it sends SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Time allowed to each `ctr` command of the clean-up.
const CLEANUP_CTR_TIMEOUT: Duration = Duration::from_secs(15);
/// `sun_path` holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
/// How much of the daemon's log an error message quotes.
const LOG_TAIL_BYTES: u64 = 8 * 1024;

/// The CRI plugin, off unless [`Options::cri`] asks for it.
const CRI_PLUGIN: &str = "io.containerd.grpc.v1.cri";

/// Plugins this daemon does without; the module documentation says why each one.
const DISABLED_PLUGINS: [&str; 7] = [
    CRI_PLUGIN,
    "io.containerd.internal.v1.opt",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.overlayfs",
];

/// CRI's containerd namespace: fixed, and so shared by every CRI-enabled daemon on the host.
pub const CRI_NAMESPACE: &str = "k8s.io";
/// dockerd's containerd namespace (its `--containerd-namespace` default).
pub const DOCKER_NAMESPACE: &str = "moby";
/// The CRI runtime handler (`RunPodSandboxRequest.runtime_handler`) that selects the shim under
/// test by tinyshim's own runtime name, `io.containerd.tinyshim.v2`. The default handler, `""`,
/// is `runc`, `io.containerd.runc.v2`, which resolves to the shim under test installed as
/// `containerd-shim-runc-v2`.
pub const CRI_TINYSHIM_HANDLER: &str = "tinyshim";
/// The runc shim's binary name, which the CRI daemon finds first on its `PATH`.
const RUNC_SHIM_BINARY: &str = "containerd-shim-runc-v2";

/// The environment variable that chooses the v2 shim the tests drive: `go` for the Go runc
/// shim, `tinyshim` or nothing for tinyshim's. [`ShimUnderTest::selected`] is the one place
/// that reads it.
pub const SHIM_SELECTOR_ENV: &str = "TINYSHIM_V2_SHIM";

/// The v2 shim the tests drive. The tests of what containerd sees run against either, which
/// proves them against the Go shim before tinyshim's exists; the tests of what only tinyshim
/// promises call [`require_tinyshim`] first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShimUnderTest {
    /// tinyshim's `containerd-shim-tinyshim-v2`, as cargo built it (the default).
    Tinyshim,
    /// The Go `containerd-shim-runc-v2` of the containerd package.
    Go,
}

impl ShimUnderTest {
    /// The shim [`SHIM_SELECTOR_ENV`] selects, read once per test process. Any other value
    /// fails the test rather than fall back to a shim nobody asked for.
    pub fn selected() -> ShimUnderTest {
        static SELECTED: OnceLock<ShimUnderTest> = OnceLock::new();
        *SELECTED.get_or_init(|| {
            let value = std::env::var(SHIM_SELECTOR_ENV).unwrap_or_default();
            match value.as_str() {
                "" | "tinyshim" => ShimUnderTest::Tinyshim,
                "go" => ShimUnderTest::Go,
                other => panic!("{SHIM_SELECTOR_ENV}={other:?}: expected `go` or `tinyshim`"),
            }
        })
    }

    /// The daemon's options that make it run this shim for [`Ctr::run`] and [`Ctr::create`].
    pub fn options(self) -> Options {
        match self {
            ShimUnderTest::Tinyshim => Options::tinyshim(),
            ShimUnderTest::Go => Options::go_shim(),
        }
    }

    /// The shim's executable.
    pub fn binary(self) -> PathBuf {
        match self {
            ShimUnderTest::Tinyshim => harness::workspace_binary(TINYSHIM_BINARY),
            ShimUnderTest::Go => PathBuf::from(GO_RUNC_BINARY),
        }
    }
}

/// Fails the test at once unless tinyshim is under test. For the tests of what only tinyshim
/// promises (`promise`), which the Go shim does not keep: under the Go shim they could only
/// fail for a known reason or, worse, pass without checking anything.
pub fn require_tinyshim(promise: &str) {
    if ShimUnderTest::selected() == ShimUnderTest::Go {
        panic!(
            "tinyshim-only test ({promise}): {SHIM_SELECTOR_ENV}=go selects the Go shim, which \
             does not make this promise; run it with {SHIM_SELECTOR_ENV} unset, or leave it out \
             with `-- --skip tinyshim_only`"
        );
    }
}

/// How to start the daemon.
#[derive(Debug, Clone)]
pub struct Options {
    /// The runtime `ctr run` and `ctr container create` select (`--runtime`).
    pub runtime: String,
    /// A directory put first on the daemon's `PATH`: the one holding the shim binary under test,
    /// so that [`Options::runtime`] resolves to it.
    pub shim_dir: Option<PathBuf>,
    /// Extra environment for the daemon, which every shim it starts inherits.
    pub env: Vec<(String, String)>,
    /// How long start and restart wait for the daemon to answer.
    pub start_timeout: Duration,
    /// The daemon's log level. At `debug` (the tests', whose failures quote the log) containerd
    /// also passes `-debug` to every shim, which then logs more itself; a benchmark wants
    /// `info`, containerd's own default.
    pub log_level: String,
    /// The CRI plugin on, for [`crate::cri::Cri`]: see [`Options::cri`].
    pub cri: bool,
    /// A namespace other daemons on the host may use too (`k8s.io` for CRI, `moby` for
    /// dockerd) instead of one of the daemon's own; the clean-up then removes only what the
    /// ids this daemon used left in it.
    pub namespace: Option<String>,
    /// The shim under test linked as `containerd-shim-runc-v2` (and as
    /// `containerd-shim-tinyshim-v2`) in a directory first on the daemon's `PATH`, so that
    /// `io.containerd.runc.v2` resolves to it: how Docker 20.10 and CRI's default runtime
    /// reach it.
    pub shim_as_runc_v2: bool,
}

impl Options {
    /// The Go runc shim, from the containerd package.
    pub fn go_shim() -> Options {
        Options {
            runtime: GO_RUNC_RUNTIME.into(),
            shim_dir: None,
            env: Vec::new(),
            start_timeout: DEFAULT_START_TIMEOUT,
            log_level: "debug".into(),
            cri: false,
            namespace: None,
            shim_as_runc_v2: false,
        }
    }

    /// A daemon with the CRI plugin on, in namespace [`CRI_NAMESPACE`], whose sandbox image is
    /// the test kit's busybox image ([`crate::image`], imported and known to CRI before
    /// [`Containerd::start`] returns). Both routes to the shim under test are configured, and a
    /// pod picks one by its runtime handler: `""` (runtime `runc`, type `io.containerd.runc.v2`,
    /// the shim installed as `containerd-shim-runc-v2` first on the daemon's `PATH`) or
    /// [`CRI_TINYSHIM_HANDLER`] (type `io.containerd.tinyshim.v2`, with an options table whose
    /// `ConfigPath` CRI passes on as `runtimeoptions.v1.Options`). Under
    /// `TINYSHIM_V2_SHIM=go` both names are the Go shim, and the tinyshim runtime has no
    /// options table, which the Go shim cannot decode.
    pub fn cri() -> Options {
        Options {
            cri: true,
            namespace: Some(CRI_NAMESPACE.into()),
            shim_as_runc_v2: true,
            ..Options::go_shim()
        }
    }

    /// The daemon behind a [`crate::docker::Dockerd`]: dockerd 20.10 runs every container as
    /// `io.containerd.runc.v2` in namespace [`DOCKER_NAMESPACE`], so the shim under test is
    /// installed as `containerd-shim-runc-v2`.
    pub fn for_dockerd() -> Options {
        Options {
            namespace: Some(DOCKER_NAMESPACE.into()),
            shim_as_runc_v2: true,
            ..Options::go_shim()
        }
    }

    /// tinyshim's v2 shim as cargo built it for this test run.
    pub fn tinyshim() -> Options {
        let binary = harness::workspace_binary(TINYSHIM_BINARY);
        Options {
            runtime: TINYSHIM_RUNTIME.into(),
            shim_dir: binary.parent().map(Path::to_path_buf),
            ..Options::go_shim()
        }
    }

    /// tinyshim's v2 shim by its runtime name, found on the daemon's PATH through
    /// [`Options::shim_dir`], which the caller sets.
    pub fn tinyshim_named() -> Options {
        Options {
            runtime: TINYSHIM_RUNTIME.into(),
            ..Options::go_shim()
        }
    }

    /// The shim [`ShimUnderTest::selected`] chooses.
    pub fn under_test() -> Options {
        ShimUnderTest::selected().options()
    }

    /// With an environment variable for the daemon and its shims.
    pub fn env(mut self, name: &str, value: &str) -> Options {
        self.env.push((name.into(), value.into()));
        self
    }
}

/// What this daemon's shims may have left on the host outside the scratch directory, gathered
/// while the test runs because the bundle directories that name them go away with their tasks.
#[derive(Debug, Default)]
pub(crate) struct Footprint {
    /// Container ids this namespace has used.
    pub(crate) ids: BTreeSet<String>,
    /// Shim sockets read from bundles' `address` files or found listening in shim processes.
    pub(crate) sockets: BTreeSet<PathBuf>,
}

impl Footprint {
    /// Notes every bundle of `bundles` (a namespace's directory of the v2 task plugin's state):
    /// its container id and the socket in its `address` file.
    pub(crate) fn record_bundles(&mut self, bundles: &Path) {
        for entry in std::fs::read_dir(bundles).into_iter().flatten().flatten() {
            if let Some(id) = entry.file_name().to_str() {
                self.ids.insert(id.to_string());
            }
            if let Some(socket) = read_address(&entry.path()) {
                self.sockets.insert(socket);
            }
        }
    }
}

/// The socket path in `<bundle>/address`, without its `unix://` scheme.
pub fn read_address(bundle: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(bundle.join("address")).ok()?;
    let text = text.trim();
    let path = text.strip_prefix("unix://").unwrap_or(text);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

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
    /// Starts a daemon with `options` in a fresh scratch directory and waits until it answers,
    /// failing the test with its log if it does not within [`Options::start_timeout`].
    pub fn start(options: Options) -> Containerd {
        harness::require_runc();
        let containerd = harness::which("containerd")
            .expect("containerd is not installed (apt-get install containerd)");
        let scratch = Scratch::new("ctd");
        let dir = scratch.path().to_path_buf();
        let longest = dir.join("ttrpc.sock");
        assert!(
            longest.as_os_str().len() <= MAX_SOCKET_PATH,
            "{} is too long for a unix socket: use a shorter CARGO_TARGET_DIR",
            longest.display()
        );
        let namespace = options.namespace.clone().unwrap_or_else(unused_namespace);
        let mut daemon = Containerd {
            options,
            namespace,
            dir,
            child: None,
            footprint: Arc::default(),
            scratch: Some(scratch),
        };
        for sub in ["root", "state", "fifo"] {
            std::fs::create_dir_all(daemon.dir.join(sub)).expect("create the daemon's dirs");
        }
        if daemon.options.shim_as_runc_v2 {
            daemon.install_shim_as_runc_v2();
        }
        if daemon.options.cri {
            daemon.prepare_cri();
        }
        std::fs::write(daemon.config_path(), daemon.config_text()).expect("write config.toml");
        if let Err(error) = daemon.launch(&containerd) {
            panic!("{error}");
        }
        if daemon.options.cri {
            // CRI made its namespace itself.
            daemon.import_sandbox_image();
        } else if daemon.options.namespace.is_none() {
            // ctr events needs the namespace to exist to probe its subscription
            // (crate::events).
            daemon
                .ctr()
                .ok(&["namespaces", "create", &daemon.namespace.clone()]);
        }
        daemon
    }

    /// The daemon's `PATH` directory with the shim under test under both shim names.
    fn install_shim_as_runc_v2(&mut self) {
        let bin = self.dir.join("bin");
        std::fs::create_dir_all(&bin).expect("create the daemon's bin/");
        let shim = ShimUnderTest::selected().binary();
        for name in [RUNC_SHIM_BINARY, TINYSHIM_BINARY] {
            std::os::unix::fs::symlink(&shim, bin.join(name))
                .unwrap_or_else(|e| panic!("link {} as {name}: {e}", shim.display()));
        }
        self.options.shim_dir = Some(bin);
    }

    /// The CRI daemon's empty CNI directories, the pods' log directory and the file named by
    /// the tinyshim runtime's `ConfigPath`.
    fn prepare_cri(&mut self) {
        for sub in [self.cni_dir().join("bin"), self.cni_dir().join("conf")] {
            std::fs::create_dir_all(sub).expect("create the CRI daemon's dirs");
        }
        std::fs::create_dir_all(self.pod_logs_dir()).expect("create the pods' log dir");
        // What 1.6 sends as runtimeoptions.v1.Options.config_path: runc options in TOML.
        let root = serde_json::to_string(&self.own_name_runc_root().display().to_string())
            .expect("a string serializes");
        std::fs::write(
            self.cri_runtime_config(),
            format!(
                "# runc options for tinyshim under its own name (CRI ConfigPath)\nRoot = {root}\n"
            ),
        )
        .expect("write the tinyshim runtime's ConfigPath file");
    }

    /// Imports [`crate::image::docker_archive`] as [`crate::image::IMAGE_NAME`] and waits until
    /// CRI lists it: CRI learns of an image ctr imported from an event, and a pod started
    /// before that would make it try to pull the sandbox image from the network.
    fn import_sandbox_image(&self) {
        let archive = crate::image::docker_archive();
        self.ctr().ok(&[
            "images",
            "import",
            "--snapshotter",
            "native",
            &archive.display().to_string(),
        ]);
        let cri = self.cri();
        let deadline = Instant::now() + self.options.start_timeout;
        while !cri.has_image(crate::image::IMAGE_NAME) {
            assert!(
                Instant::now() < deadline,
                "CRI did not list the imported {} within {:?}; containerd's log:\n{}",
                crate::image::IMAGE_NAME,
                self.options.start_timeout,
                self.log_tail()
            );
            driver::pause(Duration::from_millis(10));
        }
    }

    /// A CRI client for this daemon (started with [`Options::cri`]).
    pub fn cri(&self) -> crate::cri::Cri {
        assert!(self.options.cri, "this containerd was started without CRI");
        crate::cri::Cri::connect(self.cri_daemon()).unwrap_or_else(|error| panic!("{error}"))
    }

    fn cri_daemon(&self) -> crate::cri::Daemon {
        crate::cri::Daemon {
            address: self.address(),
            log: self.log_path(),
            cgroup_root: self.cgroup_root(),
            pod_logs: self.pod_logs_dir(),
            footprint: Arc::clone(&self.footprint),
        }
    }

    /// The empty CNI `bin` and `conf` directories' parent: host-network pods need no CNI.
    fn cni_dir(&self) -> PathBuf {
        self.dir.join("cni")
    }

    /// Where the tests put their pods' log directories (`PodSandboxConfig.log_directory`).
    pub fn pod_logs_dir(&self) -> PathBuf {
        self.dir.join("pod-logs")
    }

    /// The tinyshim runtime's `ConfigPath` file.
    pub fn cri_runtime_config(&self) -> PathBuf {
        self.dir.join("tinyshim-runc.toml")
    }

    /// The runc root the tinyshim runtime's `ConfigPath` file names, in this daemon's scratch
    /// directory: runc keeps the state of its containers in `<this>/k8s.io`.
    pub fn own_name_runc_root(&self) -> PathBuf {
        self.dir.join("runc-own-name")
    }

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

    /// Whether the daemon process is alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
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

    /// The socket of the shim serving task `id`, from its bundle's `address` file.
    pub fn task_socket(&self, id: &str) -> PathBuf {
        let bundle = self.bundle(id);
        let socket = read_address(&bundle)
            .unwrap_or_else(|| panic!("{} has no address file", bundle.display()));
        self.footprint
            .lock()
            .expect("footprint lock")
            .sockets
            .insert(socket.clone());
        socket
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

    /// The shim processes serving this daemon's namespace (not the short-lived `start` and
    /// `delete` invocations), by pid.
    pub fn shim_pids(&self) -> Vec<i32> {
        self.shim_processes()
            .into_iter()
            .filter(|(_, argv)| {
                !matches!(
                    argv.last().map(String::as_str),
                    Some("start") | Some("delete")
                )
            })
            .map(|(pid, _)| pid)
            .collect()
    }

    /// The shim process listening on task `id`'s socket.
    pub fn shim_pid(&self, id: &str) -> i32 {
        let socket = self.task_socket(id);
        self.find_shim_pid(id).unwrap_or_else(|| {
            panic!(
                "no shim of namespace {} listens on {} (shims: {:?})",
                self.namespace,
                socket.display(),
                self.shim_pids()
            )
        })
    }

    /// The shim process listening on task `id`'s socket, or `None` while there is no bundle,
    /// `address` file or listening shim (yet): for a caller that looks for the shim while ctr
    /// is still starting it.
    pub fn find_shim_pid(&self, id: &str) -> Option<i32> {
        let socket = read_address(&self.bundle(id))?;
        if let Ok(mut footprint) = self.footprint.lock() {
            footprint.sockets.insert(socket.clone());
        }
        self.shim_pids()
            .into_iter()
            .find(|&pid| listening_unix_sockets(pid).contains(&socket))
    }

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

    /// SIGTERM, then waits for the daemon to exit (SIGKILL after 10 s). Its shims keep running.
    pub fn stop(&mut self) -> ExitStatus {
        self.terminate()
            .unwrap_or_else(|e| panic!("stop containerd: {e}"))
    }

    /// SIGKILL, as for the daemon-restart tests: the shims must survive it.
    pub fn kill(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("containerd was started");
        let _ = child.kill();
        child.wait().expect("wait for containerd")
    }

    /// Starts the daemon again on the same root, state, sockets and config (stopping it first if
    /// it runs) and waits until it answers again.
    pub fn restart(&mut self) {
        if self.is_running() {
            self.stop();
        }
        let containerd = harness::which("containerd").expect("containerd is installed");
        if let Err(error) = self.launch(&containerd) {
            panic!("{error}");
        }
    }

    fn config_text(&self) -> String {
        // A JSON string is also a valid TOML basic string: same quotes, same escapes.
        let quoted = |path: PathBuf| {
            serde_json::to_string(&path.display().to_string()).expect("a string serializes")
        };
        let disabled: Vec<String> = DISABLED_PLUGINS
            .iter()
            .filter(|name| !(self.options.cri && **name == CRI_PLUGIN))
            .map(|name| format!("\"{name}\""))
            .collect();
        let mut text = format!(
            "version = 2\n\
             root = {root}\n\
             state = {state}\n\
             disabled_plugins = [{disabled}]\n\
             \n\
             [grpc]\n  address = {grpc}\n\
             \n\
             [ttrpc]\n  address = {ttrpc}\n\
             \n\
             [debug]\n  address = \"\"\n  level = {level}\n\
             \n\
             [metrics]\n  address = \"\"\n",
            root = quoted(self.root()),
            state = quoted(self.state()),
            disabled = disabled.join(", "),
            grpc = quoted(self.address()),
            ttrpc = quoted(self.ttrpc_address()),
            level = serde_json::to_string(&self.options.log_level).expect("a string serializes"),
        );
        if self.options.cri {
            text.push_str(&self.cri_config_text());
        }
        text
    }

    /// The CRI plugin's table (see [`Options::cri`]). `restrict_oom_score_adj` keeps the pods'
    /// OOM scores at or above the test's own (CRI would give the pause process -998), and
    /// AppArmor is off so that on a host that has it CRI loads no profile into its kernel.
    fn cri_config_text(&self) -> String {
        let quoted = |path: PathBuf| {
            serde_json::to_string(&path.display().to_string()).expect("a string serializes")
        };
        let cri = format!("[plugins.\"{CRI_PLUGIN}\"]");
        let runtimes = format!("[plugins.\"{CRI_PLUGIN}\".containerd.runtimes");
        // The Go shim cannot decode the runtimeoptions.v1.Options CRI would then send (its
        // `start` fails with "type with url runtimeoptions.v1.Options: not found"), so it gets
        // none under tinyshim's name.
        let options = match ShimUnderTest::selected() {
            ShimUnderTest::Tinyshim => format!(
                "\n{runtimes}.{CRI_TINYSHIM_HANDLER}.options]\n  ConfigPath = {}\n",
                quoted(self.cri_runtime_config())
            ),
            ShimUnderTest::Go => String::new(),
        };
        format!(
            "\n{cri}\n\
             \x20 sandbox_image = \"{image}\"\n\
             \x20 disable_apparmor = true\n\
             \x20 restrict_oom_score_adj = true\n\
             \x20 enable_selinux = false\n\
             \n{cri_table}.containerd]\n\
             \x20 snapshotter = \"native\"\n\
             \x20 default_runtime_name = \"runc\"\n\
             \n{runtimes}.runc]\n\
             \x20 runtime_type = \"{GO_RUNC_RUNTIME}\"\n\
             \n{runtimes}.{CRI_TINYSHIM_HANDLER}]\n\
             \x20 runtime_type = \"{TINYSHIM_RUNTIME}\"\n\
             {options}\
             \n{cri_table}.cni]\n\
             \x20 bin_dir = {cni_bin}\n\
             \x20 conf_dir = {cni_conf}\n",
            image = crate::image::IMAGE_NAME,
            cri_table = format!("[plugins.\"{CRI_PLUGIN}\""),
            options = options,
            cni_bin = quoted(self.cni_dir().join("bin")),
            cni_conf = quoted(self.cni_dir().join("conf")),
        )
    }

    fn launch(&mut self, containerd: &Path) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("open {}: {e}", self.log_path().display()))?;
        let log_err = log.try_clone().map_err(|e| format!("dup the log: {e}"))?;
        let mut path = std::env::var_os("PATH").unwrap_or_default();
        if let Some(dir) = &self.options.shim_dir {
            let mut first = dir.clone().into_os_string();
            first.push(":");
            first.push(&path);
            path = first;
        }
        let mut command = Command::new(containerd);
        command
            .arg("--config")
            .arg(self.config_path())
            .current_dir(&self.dir)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        for (name, value) in &self.options.env {
            command.env(name, value);
        }
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", containerd.display()))?;
        self.child = Some(child);
        self.wait_until_answering(started)?;
        if self.options.cri {
            let cri = crate::cri::Cri::connect(self.cri_daemon())?;
            cri.wait_until_serving(self.options.start_timeout)?;
        }
        Ok(())
    }

    fn wait_until_answering(&mut self, started: Instant) -> Result<(), String> {
        let deadline = started + self.options.start_timeout;
        let ctr = self.ctr().with_timeout(Duration::from_secs(5));
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "containerd exited ({status}) before answering; its log:\n{}",
                        self.log_tail()
                    ));
                }
            }
            // A refused connection means a stale socket file from before a restart: asking ctr
            // then would only fail more slowly.
            if UnixStream::connect(self.address()).is_ok()
                && ctr.try_output(&["version"]).is_ok_and(|o| o.success())
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                if let Some(child) = self.child.as_mut() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(format!(
                    "containerd did not answer within {:?}; its log:\n{}",
                    self.options.start_timeout,
                    self.log_tail()
                ));
            }
            driver::pause(Duration::from_millis(5));
        }
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

    fn terminate(&mut self) -> io::Result<ExitStatus> {
        let child = self
            .child
            .as_mut()
            .ok_or_else(|| io::Error::other("containerd was never started"))?;
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait();
            }
            driver::pause(Duration::from_millis(5));
        }
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
            if let Some(containerd) = harness::which("containerd") {
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

    /// The shim processes of this daemon: its namespace and its gRPC address on their command
    /// lines (a namespace alone is not enough: every CRI daemon uses `k8s.io`, every dockerd
    /// `moby`).
    fn shim_processes(&self) -> Vec<(i32, Vec<String>)> {
        let address = self.address().display().to_string();
        shim_processes(&self.namespace)
            .into_iter()
            .filter(|(_, argv)| has_flag(argv, "address", &address))
            .collect()
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

    /// Removes the scratch directory unless something is still mounted inside, which
    /// `remove_dir_all` would walk into (a bind mount of the shared rootfs, say).
    fn remove_scratch(&mut self) -> Vec<String> {
        let Some(scratch) = self.scratch.take() else {
            return Vec::new();
        };
        let left = unmount_all_under(&self.dir);
        if left.is_empty() {
            drop(scratch);
            Vec::new()
        } else {
            std::mem::forget(scratch);
            vec![format!(
                "kept {}: still mounted inside: {left:?}",
                self.dir.display()
            )]
        }
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

/// A namespace name no other daemon on the host uses: the test process's pid and a counter,
/// skipping any whose runc directory a crashed earlier run left behind.
fn unused_namespace() -> String {
    loop {
        let name = format!("tinyshim-{}", harness::unique());
        if !Path::new(RUNC_STATE_DIR).join(&name).exists() {
            return name;
        }
    }
}

/// Where the Go runc shim puts the socket of container `id`: `/run/containerd/s/` and the hex
/// SHA-256 of `<grpc address>/<namespace>/<id>` (computed by coreutils' `sha256sum`).
pub fn go_shim_socket(grpc_address: &str, namespace: &str, id: &str) -> Option<PathBuf> {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    stdin
        .write_all(format!("{grpc_address}/{namespace}/{id}").as_bytes())
        .ok()?;
    drop(stdin);
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let hex = text.split_whitespace().next()?;
    (hex.len() == 64).then(|| Path::new(SHIM_SOCKET_DIR).join(hex))
}

/// `/proc/<pid>/cmdline` split at its NULs.
pub fn cmdline(pid: i32) -> Option<Vec<String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        bytes
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect(),
    )
}

/// Whether `argv` carries `namespace` as its `-namespace` flag, in any of Go's flag spellings.
fn has_namespace_flag(argv: &[String], namespace: &str) -> bool {
    has_flag(argv, "namespace", namespace)
}

/// Whether `argv` carries flag `name` with `value`, in any of Go's flag spellings.
fn has_flag(argv: &[String], name: &str, value: &str) -> bool {
    let (single, double) = (format!("-{name}"), format!("--{name}"));
    let (single_eq, double_eq) = (format!("-{name}="), format!("--{name}="));
    argv.iter().enumerate().any(|(index, arg)| {
        if *arg == single || *arg == double {
            return argv.get(index + 1).is_some_and(|v| v == value);
        }
        arg.strip_prefix(&single_eq)
            .or_else(|| arg.strip_prefix(&double_eq))
            .is_some_and(|v| v == value)
    })
}

/// The mount points of every cgroup hierarchy, v1 controllers and the v2 one, from
/// `/proc/self/mountinfo`.
pub fn cgroup_hierarchies() -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fstype = after.split(' ').next()?;
            let point = before.split(' ').nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(unescape_mountinfo(point)))
        })
        .collect()
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

/// Every process named `containerd-shim*` with `namespace` on its command line, with its argv.
/// The name check keeps out `ctr --namespace <ns>`.
pub fn shim_processes(namespace: &str) -> Vec<(i32, Vec<String>)> {
    let mut found = Vec::new();
    for pid in crate::procfs::pids() {
        let Some(argv) = cmdline(pid) else {
            continue;
        };
        let is_shim = argv
            .first()
            .and_then(|arg0| Path::new(arg0).file_name())
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("containerd-shim"));
        if is_shim && has_namespace_flag(&argv, namespace) {
            found.push((pid, argv));
        }
    }
    found.sort_unstable();
    found
}

/// The paths of the unix sockets `pid` listens on, from its descriptors and `/proc/net/unix`.
pub fn listening_unix_sockets(pid: i32) -> Vec<PathBuf> {
    /// `__SO_ACCEPTCON` in `/proc/net/unix`'s flags column: a listening socket.
    const ACCEPTING: u32 = 1 << 16;
    let inodes: BTreeSet<u64> = crate::procfs::fd_targets(pid)
        .into_iter()
        .filter_map(|target| {
            let text = target.to_str()?;
            text.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Num RefCount Protocol Flags Type St Inode Path
            let columns: Vec<&str> = line.split_whitespace().collect();
            let flags = u32::from_str_radix(columns.get(3)?, 16).ok()?;
            let inode: u64 = columns.get(6)?.parse().ok()?;
            let path = columns.get(7)?;
            (flags & ACCEPTING != 0 && inodes.contains(&inode) && path.starts_with('/'))
                .then(|| PathBuf::from(path))
        })
        .collect()
}

/// Every mount point, from `/proc/self/mountinfo`.
fn mount_points() -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_mountinfo(field)))
        .collect()
}

/// Unmounts (lazily, deepest first) everything mounted at or below `dir`, and returns what is
/// still mounted there.
pub(crate) fn unmount_all_under(dir: &Path) -> Vec<PathBuf> {
    let mut mounts = mounts_under(dir);
    mounts.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    for mount in &mounts {
        let _ = Command::new("umount").arg("-l").arg(mount).status();
    }
    mounts_under(dir)
}

/// Mount points at or below `dir`.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    mount_points()
        .into_iter()
        .filter(|mount| mount.starts_with(dir))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as three octal digits after a backslash.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let octal = bytes.get(index + 1..index + 4).and_then(|digits| {
            let text = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[index], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                index += 4;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
