//! Which daemon a test starts and which v2 shim it runs: [`Options`], and [`ShimUnderTest`], the
//! one choice between tinyshim's shim and the Go runc shim that every test of what containerd
//! sees follows. Also the runtime names, binaries and namespaces the daemons use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::binaries::workspace_binary;

/// The Go runc shim's runtime name (`/usr/bin/containerd-shim-runc-v2`).
pub const GO_RUNC_RUNTIME: &str = "io.containerd.runc.v2";
/// The Go runc shim of Debian's containerd package, which containerd finds on its `PATH`.
pub const GO_RUNC_BINARY: &str = "/usr/bin/containerd-shim-runc-v2";
/// tinyshim's runtime name.
pub const TINYSHIM_RUNTIME: &str = "io.containerd.tinyshim.v2";
/// The binary containerd resolves [`TINYSHIM_RUNTIME`] to.
pub const TINYSHIM_BINARY: &str = "containerd-shim-tinyshim-v2";

/// How long [`Containerd::start`](super::Containerd::start) and [`Containerd::restart`](super::Containerd::restart) wait for the daemon to answer.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(20);

/// CRI's containerd namespace: fixed, and so shared by every CRI-enabled daemon on the host.
pub const CRI_NAMESPACE: &str = "k8s.io";
/// dockerd's containerd namespace (its `--containerd-namespace` default).
pub const DOCKER_NAMESPACE: &str = "moby";
/// The CRI runtime handler (`RunPodSandboxRequest.runtime_handler`) that selects the shim under
/// test by tinyshim's own runtime name, `io.containerd.tinyshim.v2`. The default handler, `""`,
/// is `runc`, `io.containerd.runc.v2`, which resolves to the shim under test installed as
/// `containerd-shim-runc-v2`.
pub const CRI_TINYSHIM_HANDLER: &str = "tinyshim";

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

    /// The daemon's options that make it run this shim for [`Ctr::run`](crate::ctr::Ctr::run) and [`Ctr::create`](crate::ctr::Ctr::create).
    pub fn options(self) -> Options {
        match self {
            ShimUnderTest::Tinyshim => Options::tinyshim(),
            ShimUnderTest::Go => Options::go_shim(),
        }
    }

    /// The shim's executable.
    pub fn binary(self) -> PathBuf {
        match self {
            ShimUnderTest::Tinyshim => workspace_binary(TINYSHIM_BINARY),
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
    /// [`Containerd::start`](super::Containerd::start) returns). Both routes to the shim under test are configured, and a
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
        let binary = workspace_binary(TINYSHIM_BINARY);
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
