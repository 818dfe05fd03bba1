//! The daemon's process: started in its scratch directory with the shim under test first on its
//! `PATH`, waited for until it answers, stopped with SIGTERM (SIGKILL after a grace period),
//! killed, and started again on the same root, state, sockets and config.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::options::Options;
use super::{unused_namespace, Containerd};
use crate::driver;
use crate::host::{require_runc, which};
use crate::scratch::Scratch;

/// How long stopping waits after SIGTERM before it sends SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// `sun_path` holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

impl Containerd {
    /// Starts a daemon with `options` in a fresh scratch directory and waits until it answers,
    /// failing the test with its log if it does not within [`Options::start_timeout`].
    pub fn start(options: Options) -> Containerd {
        require_runc();
        let containerd =
            which("containerd").expect("containerd is not installed (apt-get install containerd)");
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

    /// Whether the daemon process is alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
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
        let containerd = which("containerd").expect("containerd is installed");
        if let Err(error) = self.launch(&containerd) {
            panic!("{error}");
        }
    }

    /// Spawns the daemon on the config already written and waits until it answers (and its CRI
    /// plugin serves, when on), or says why it did not.
    pub(super) fn launch(&mut self, containerd: &Path) -> Result<(), String> {
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

    /// SIGTERM, then SIGKILL after [`STOP_GRACE`]; the daemon's status.
    pub(super) fn terminate(&mut self) -> io::Result<ExitStatus> {
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
}
