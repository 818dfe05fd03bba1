//! The section's one private containerd 1.6 with its CRI plugin (the test kit's
//! [`Options::cri`]: namespace `k8s.io`, host-network pods, the kit's busybox image, logging at
//! `info` as in the v2 section), and its pods, each with a sleeping container, through one of
//! two runtime handlers:
//!
//! * `""`, CRI's default runtime `runc` of type `io.containerd.runc.v2`: the Go shim, which the
//!   daemon finds on its `PATH` (Debian's `/usr/bin/containerd-shim-runc-v2`). The kit's
//!   `shim_as_runc_v2` is off, so nothing shadows it.
//! * [`CRI_TINYSHIM_HANDLER`], of type `io.containerd.tinyshim.v2`: tinyshim's shim, linked as
//!   `containerd-shim-tinyshim-v2` in a directory of the section's own that the kit puts first
//!   on the daemon's `PATH` ([`Options::shim_dir`]); the same binary the v2 section measures
//!   (`TINYSHIM_SHIM_V2`, else the one cargo built). CRI passes it the kit's `ConfigPath` of
//!   runc options (a runc root in the daemon's scratch directory), as a kubelet's node would.
//!
//! A pod's shim is the one process listening on the socket in the sandbox's bundle (`address`),
//! checked to run the route's binary, to listen for the sleeping container too, and to be that
//! container's parent: every figure is charged to that one process and no other.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tinyshim_testkit::containerd::options::{
    Options, CRI_TINYSHIM_HANDLER, GO_RUNC_BINARY, TINYSHIM_BINARY,
};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::{Cri, Pod};
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::{driver, host, procfs};

use super::attempt;
use crate::supervisor::v2::{GoRunc, TinyshimV2, V2Shim};

/// What the pods' sleeping containers run.
const SLEEPER: [&str; 2] = ["sleep", "600"];
/// How long a shim may take to exit once its pod was removed.
const SHIM_EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// One shim and how a pod selects it.
pub struct Route {
    /// The shim's names and colours, shared with the v2 section.
    pub shim: Box<dyn V2Shim>,
    /// `RunPodSandboxRequest.runtime_handler`.
    pub handler: &'static str,
    /// The executable the daemon resolves the handler to, canonical, or why there is none.
    pub binary: Result<PathBuf, String>,
    /// The name it must have in the section's `PATH` directory, if it is not on `PATH` already.
    link_as: Option<&'static str>,
}

impl Route {
    /// tinyshim's shim under its own runtime name.
    pub fn tinyshim() -> Route {
        let shim = TinyshimV2;
        Route {
            binary: shim.runtime().map(PathBuf::from),
            shim: Box::new(shim),
            handler: CRI_TINYSHIM_HANDLER,
            link_as: Some(TINYSHIM_BINARY),
        }
    }

    /// The Go shim, CRI's default.
    pub fn go() -> Route {
        let shim = GoRunc;
        let binary = shim.runtime().and_then(|_| {
            let name = Path::new(GO_RUNC_BINARY).file_name().unwrap_or_default();
            host::which(&name.to_string_lossy())
                .and_then(|path| std::fs::canonicalize(path).ok())
                .ok_or_else(|| format!("{} is not on PATH", name.to_string_lossy()))
        });
        Route {
            binary,
            shim: Box::new(shim),
            handler: "",
            link_as: None,
        }
    }
}

/// A running pod, its sleeping container and the shim serving both.
pub struct PodShim {
    /// Its route's index: the shim's column.
    pub shim: usize,
    /// The pod.
    pub pod: Pod,
    /// The sleeping container's id.
    pub sleeper: String,
    /// The shim's pid.
    pub pid: i32,
}

/// The daemon, its CRI client and the directory of the shim it finds first.
pub struct CriDaemon {
    containerd: Containerd,
    cri: Cri,
    /// Outlives the daemon: it holds the link the daemon resolves tinyshim's handler through.
    shim_dir: Scratch,
}

impl CriDaemon {
    /// Starts the daemon with `routes`' links in its `PATH` directory, failing the benchmark
    /// with its log if it does not answer.
    pub fn start(routes: &[Route]) -> CriDaemon {
        let shim_dir = Scratch::new("bench-cri-shims");
        for route in routes {
            if let (Some(name), Ok(binary)) = (route.link_as, &route.binary) {
                std::os::unix::fs::symlink(binary, shim_dir.path().join(name))
                    .unwrap_or_else(|e| panic!("link {} as {name}: {e}", binary.display()));
            }
        }
        let options = Options {
            log_level: "info".into(),
            shim_as_runc_v2: false,
            shim_dir: Some(shim_dir.path().to_path_buf()),
            ..Options::cri()
        };
        let containerd = Containerd::start(options);
        let cri = containerd.cri();
        CriDaemon {
            containerd,
            cri,
            shim_dir,
        }
    }

    /// The CRI client.
    pub fn cri(&self) -> &Cri {
        &self.cri
    }

    /// A pod named `name` through `route` (the `index`-th) with its sleeping container, once
    /// both run; a pod that started but fails the checks is removed again.
    pub fn start_pod(&self, index: usize, route: &Route, name: &str) -> Result<PodShim, String> {
        let cri = &self.cri;
        let pod = attempt(|| Ok(cri.run_pod(name, route.handler)))?;
        let checked = attempt(|| {
            let sleeper = cri.run_container(&pod, "sleeper", &SLEEPER);
            let pid = self.pod_shim(route, &pod, &sleeper)?;
            Ok((sleeper, pid))
        });
        match checked {
            Ok((sleeper, pid)) => Ok(PodShim {
                shim: index,
                pod,
                sleeper,
                pid,
            }),
            Err(error) => {
                let _ = attempt(|| {
                    cri.stop_pod(&pod.id);
                    cri.remove_pod(&pod.id);
                    Ok(())
                });
                Err(error)
            }
        }
    }

    /// The shim serving `pod` and its container `sleeper`, checked as the module says.
    fn pod_shim(&self, route: &Route, pod: &Pod, sleeper: &str) -> Result<i32, String> {
        let pid = self
            .containerd
            .find_shim_pid(&pod.id)
            .ok_or_else(|| format!("no shim listens on pod {}'s socket", pod.id))?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map_err(|e| format!("the exe of shim {pid}: {e}"))?;
        let binary = route.binary.as_ref()?;
        if exe != *binary {
            return Err(format!(
                "the pod's shim {pid} runs {}, not {}",
                exe.display(),
                binary.display()
            ));
        }
        let serving = self.containerd.find_shim_pid(sleeper);
        if serving != Some(pid) {
            return Err(format!(
                "container {sleeper} is served by {serving:?}, not by its pod's shim {pid}"
            ));
        }
        let container = self.cri.container_pid(sleeper);
        let parent = procfs::proc_status(container, "PPid");
        if parent != Some(pid.to_string()) {
            return Err(format!(
                "container {sleeper}'s process {container} has parent {parent:?}, not the \
                 pod's shim {pid}"
            ));
        }
        Ok(pid)
    }

    /// Stops and removes the pod, then waits for its shim to exit.
    pub fn remove_pod(&self, pod: PodShim) -> Result<(), String> {
        let cri = &self.cri;
        attempt(|| {
            cri.stop_pod(&pod.pod.id);
            cri.remove_pod(&pod.pod.id);
            Ok(())
        })?;
        let deadline = Instant::now() + SHIM_EXIT_TIMEOUT;
        while !procfs::ended(pod.pid) {
            if Instant::now() > deadline {
                return Err(format!(
                    "shim {} still runs {SHIM_EXIT_TIMEOUT:?} after its pod was removed",
                    pod.pid
                ));
            }
            driver::pause(Duration::from_millis(5));
        }
        // CRI leaves the logs to the kubelet, and each run writes hundreds of MiB of them.
        let logs = pod.pod.log_directory();
        std::fs::remove_dir_all(&logs).map_err(|e| format!("remove {}: {e}", logs.display()))
    }

    /// What the daemon's pods left on the host ([`Containerd::leftovers`]).
    pub fn leftovers(&self) -> Vec<String> {
        self.containerd.leftovers()
    }

    /// Stops the daemon after removing whatever pods remain; returns what went wrong.
    pub fn shut_down(self) -> Vec<String> {
        let CriDaemon {
            containerd,
            cri,
            shim_dir,
        } = self;
        drop(cri);
        let problems = containerd.shut_down();
        drop(shim_dir);
        problems
    }
}
