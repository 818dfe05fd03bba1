//! A private dockerd (Debian's docker.io 20.10) for one test, on a private containerd 1.6 whose
//! `containerd-shim-runc-v2` is the shim under test ([`crate::containerd::options::Options::for_dockerd`]),
//! driven with Debian's docker CLI (`/usr/bin/docker`, never another on `PATH`).
//!
//! dockerd 20.10 knows no shim but `io.containerd.runc.v2`: every container, and every runtime of
//! `daemon.json` (whose `path` it passes as runc's `binary_name`), goes through that name, so
//! putting the shim under test first on containerd's `PATH` is the only route.
//!
//! What dockerd writes outside its `--data-root` and `--exec-root`, and what the flags here do
//! about it (measured with 20.10.24):
//!
//! * `/etc/docker/key.json`, its trust key, unless `daemon.json` names another path
//!   (`deprecated-key-path`, which has no flag): the key goes to the scratch directory.
//! * `/run/docker/plugins`, which no option moves: removed when empty, and `/run/docker` with it.
//! * cgroups: every container's under `--cgroup-parent` (default `/docker`), which is the
//!   containerd's [`crate::containerd::Containerd::cgroup_root`], removed with it.
//! * networking: `--bridge=none --iptables=false --ip-masq=false --ip6tables=false
//!   --userland-proxy=false` touch no interface, no rule and start no proxy; containers get no
//!   network.
//! * a private bind mount of `--data-root` on itself, undone when dockerd exits cleanly; a
//!   SIGKILLed one leaves it, so the clean-up unmounts what is left under the scratch directory.
//! * `--storage-driver=vfs` (plain copies: no overlay mounts), `--live-restore` (containers
//!   outlive dockerd, which is what the restart test needs and why the clean-up removes every
//!   container before stopping it).
//!
//! Images come from `docker import` of [`crate::image::layer_tar`] ([`Docker::import_busybox`]).
//! Containers have no terminal unless asked, and run as `docker run --rm`-less by default so
//! that a test can inspect them after they exit.

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::containerd::options::Options;
use crate::containerd::Containerd;
use crate::driver;
use crate::host::which;
use crate::mounts::remove_unless_mounted;
use crate::pty::Terminal;
use crate::scratch::Scratch;

/// Debian's docker CLI: `/usr/local/bin/docker` may be another (a Docker 28 client here).
pub const DOCKER_CLI: &str = "/usr/bin/docker";
/// The image [`Docker::import_busybox`] makes.
pub const BUSYBOX_IMAGE: &str = "tsbox:1";
/// How long a docker command may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long dockerd may take to answer after it started.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long stopping dockerd waits after SIGTERM before it sends SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// How much of each stream a failure message quotes.
const QUOTE_BYTES: usize = 4000;
/// Where dockerd makes its plugin directory, whatever its roots.
const PLUGINS_DIR: &str = "/run/docker/plugins";

/// What to put in `daemon.json` beside what the test kit needs.
#[derive(Debug, Clone, Default)]
pub struct DockerOptions {
    /// Path runtimes: `"runtimes": {name: {"path": path}}`, selected with `docker run
    /// --runtime <name>`.
    pub runtimes: Vec<(String, PathBuf)>,
}

/// A dockerd of the test's own, on a containerd of its own.
pub struct Dockerd {
    containerd: Containerd,
    dir: PathBuf,
    child: Option<Child>,
    /// Removed by the clean-up once nothing is mounted inside.
    scratch: Option<Scratch>,
}

impl Dockerd {
    /// Starts a containerd and a dockerd on it, and waits until dockerd answers.
    pub fn start() -> Dockerd {
        Dockerd::start_with(DockerOptions::default())
    }

    /// [`Dockerd::start`] with `options` in `daemon.json`.
    pub fn start_with(options: DockerOptions) -> Dockerd {
        assert!(
            Path::new(DOCKER_CLI).exists() && which("dockerd").is_some(),
            "docker.io is not installed (apt-get install docker.io; make deps does it)"
        );
        let containerd = Containerd::start(Options::for_dockerd());
        let scratch = Scratch::new("dkr");
        let dir = scratch.path().to_path_buf();
        let mut daemon = Dockerd {
            containerd,
            dir,
            child: None,
            scratch: Some(scratch),
        };
        let mut config = json!({
            "deprecated-key-path": daemon.dir.join("key.json"),
        });
        if !options.runtimes.is_empty() {
            let runtimes: serde_json::Map<String, Value> = options
                .runtimes
                .iter()
                .map(|(name, path)| (name.clone(), json!({ "path": path })))
                .collect();
            config["runtimes"] = Value::Object(runtimes);
        }
        std::fs::write(
            daemon.config_path(),
            serde_json::to_vec_pretty(&config).expect("daemon.json serializes"),
        )
        .expect("write daemon.json");
        if let Err(error) = daemon.launch() {
            panic!("{error}");
        }
        daemon
    }

    /// The containerd dockerd runs on.
    pub fn containerd(&self) -> &Containerd {
        &self.containerd
    }

    /// `unix://<scratch>/docker.sock`, for `DOCKER_HOST` or `-H`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// `--exec-root`: dockerd's runtime state, runc's root among it.
    pub fn exec_root(&self) -> PathBuf {
        self.dir.join("exec")
    }

    /// The runc root dockerd hands the shim (`Options.root`), with runc's namespace directory.
    pub fn runc_root(&self) -> PathBuf {
        self.exec_root().join("runtime-runc").join("moby")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("daemon.json")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("dockerd.log")
    }

    /// dockerd's log so far (every start appended).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The docker CLI for this daemon.
    pub fn docker(&self) -> Docker {
        Docker {
            host: self.host(),
            timeout: DEFAULT_TIMEOUT,
            log: self.log_path(),
        }
    }

    fn launch(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("open dockerd's log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("dup the log: {e}"))?;
        let dockerd = which("dockerd").ok_or("dockerd is not installed")?;
        let path = |p: PathBuf| p.display().to_string();
        let mut command = Command::new(dockerd);
        command
            .args(["--data-root", &path(self.dir.join("data"))])
            .args(["--exec-root", &path(self.exec_root())])
            .args(["--pidfile", &path(self.dir.join("docker.pid"))])
            .args(["-H", &self.host()])
            .args(["--containerd", &path(self.containerd.address())])
            .args(["--config-file", &path(self.config_path())])
            .args(["--cgroup-parent", &self.containerd.cgroup_root()])
            .args(["--exec-opt", "native.cgroupdriver=cgroupfs"])
            .args(["--storage-driver", "vfs"])
            .args(["--bridge", "none"])
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
                "--userland-proxy=false",
                "--live-restore",
            ])
            .args(["--log-level", "debug"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let started = Instant::now();
        self.child = Some(command.spawn().map_err(|e| format!("spawn dockerd: {e}"))?);
        let docker = self.docker().with_timeout(Duration::from_secs(10));
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!(
                    "dockerd exited ({status}) before answering; its log:\n{}",
                    tail(&self.log())
                ));
            }
            let answering = UnixStream::connect(self.socket()).is_ok()
                && docker
                    .try_output(&["version", "--format", "{{.Server.Version}}"])
                    .is_ok_and(|o| o.success());
            if answering {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                self.terminate();
                return Err(format!(
                    "dockerd did not answer within {START_TIMEOUT:?}; its log:\n{}",
                    tail(&self.log())
                ));
            }
            driver::pause(Duration::from_millis(20));
        }
    }

    /// SIGTERM to dockerd and waits for it (SIGKILL after 20 s): with `--live-restore` the
    /// containers keep running. Returns whether it exited by itself.
    pub fn stop(&mut self) -> bool {
        self.terminate()
    }

    /// Stops dockerd (as [`Dockerd::stop`]) and starts it again on the same roots.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(error) = self.launch() {
            panic!("{error}");
        }
    }

    fn terminate(&mut self) -> bool {
        let Some(child) = self.child.as_mut() else {
            return true;
        };
        if let Ok(Some(_)) = child.try_wait() {
            self.child = None;
            return true;
        }
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        let clean = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
            driver::pause(Duration::from_millis(10));
        };
        self.child = None;
        clean
    }

    /// Everything [`Drop`] does, returning what went wrong.
    fn clean_up(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.child.is_some() {
            let docker = self.docker().with_timeout(Duration::from_secs(30));
            match docker.try_output(&["ps", "--all", "--quiet"]) {
                Ok(listed) if listed.success() => {
                    let ids = listed.stdout_text();
                    for id in ids.split_whitespace() {
                        match docker.try_output(&["rm", "--force", id]) {
                            Ok(output) if output.success() => {}
                            Ok(output) => problems.push(output.to_string()),
                            Err(error) => problems.push(error),
                        }
                    }
                }
                Ok(listed) => problems.push(listed.to_string()),
                Err(error) => problems.push(error),
            }
            if !self.terminate() {
                problems.push("dockerd did not exit within 20 s of SIGTERM".into());
            }
        }
        problems.extend(self.remove_runc_state());
        problems.extend(self.containerd.clean_up());
        for dir in [PLUGINS_DIR, "/run/docker"] {
            // Another test's dockerd may hold it: only an empty one goes.
            let _ = std::fs::remove_dir(dir);
        }
        problems.extend(self.remove_scratch());
        problems
    }

    /// runc's containers left in dockerd's runc root: deleted, killing what they ran.
    fn remove_runc_state(&self) -> Vec<String> {
        let root = self.runc_root();
        let mut problems = Vec::new();
        let root_arg = root.display().to_string();
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            problems.push(format!("runc still had container {id} in {root_arg}"));
            if let Err(error) = driver::run_runtime(
                "runc",
                &[],
                &["--root", &root_arg, "delete", "--force", &id],
            ) {
                problems.push(error.to_string());
            }
        }
        problems
    }

    fn remove_scratch(&mut self) -> Vec<String> {
        remove_unless_mounted(self.scratch.take(), &self.dir)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let problems = self.clean_up();
        if !problems.is_empty() {
            eprintln!("dockerd clean-up:\n  {}", problems.join("\n  "));
        }
    }
}

/// The docker CLI bound to one daemon.
#[derive(Debug, Clone)]
pub struct Docker {
    host: String,
    timeout: Duration,
    log: PathBuf,
}

/// What a finished docker command printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// docker's arguments.
    pub args: Vec<String>,
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// The exit code; `None` when docker died of a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Whether docker exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (lossy).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Itself, failing the test with the whole story unless docker exited 0.
    pub fn ok(self) -> Output {
        assert!(self.success(), "{self}");
        self
    }
}

fn quote(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(QUOTE_BYTES);
    let cut = if start > 0 { "[...]" } else { "" };
    format!("{cut}{}", String::from_utf8_lossy(&bytes[start..]))
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "docker {}: {}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args.join(" "),
            self.status,
            quote(&self.stdout),
            quote(&self.stderr)
        )
    }
}

impl Docker {
    /// The same client with another timeout for each command.
    pub fn with_timeout(mut self, timeout: Duration) -> Docker {
        self.timeout = timeout;
        self
    }

    /// `docker -H <host>`, for a caller that runs it its own way.
    pub fn command(&self) -> Command {
        let mut command = Command::new(DOCKER_CLI);
        command.arg("-H").arg(&self.host);
        command
    }

    /// Runs `docker <args>` with `stdin` (closed after it), or why it could not run or did not
    /// finish in time (then it was killed, and the error holds what it printed and the end of
    /// dockerd's log).
    pub fn try_run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Output, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut child = self
            .command()
            .args(&args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn docker {}: {e}", args.join(" ")))?;
        let feeder = match (stdin, child.stdin.take()) {
            (Some(bytes), Some(mut pipe)) => {
                let bytes = bytes.to_vec();
                // EPIPE means docker is gone, which its status says.
                Some(thread::spawn(move || {
                    let _ = pipe.write_all(&bytes);
                }))
            }
            _ => None,
        };
        let read = |pipe: Option<Box<dyn Read + Send>>| {
            thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = read(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = read(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let deadline = Instant::now() + self.timeout;
        let (status, timed_out) = loop {
            match child.try_wait() {
                Ok(Some(status)) => break (status, false),
                Ok(None) if Instant::now() < deadline => driver::pause(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = child.kill();
                    break (
                        child.wait().map_err(|e| format!("wait for docker: {e}"))?,
                        true,
                    );
                }
                Err(e) => return Err(format!("wait for docker: {e}")),
            }
        };
        if let Some(feeder) = feeder {
            let _ = feeder.join();
        }
        let output = Output {
            args,
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        };
        if timed_out {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            return Err(format!(
                "docker did not finish within {:?} and was killed\n{output}\n--- the end of \
                 dockerd's log:\n{}",
                self.timeout,
                tail(&log)
            ));
        }
        Ok(output)
    }

    /// `docker <args>` with stdin on /dev/null, or why it did not finish.
    pub fn try_output(&self, args: &[&str]) -> Result<Output, String> {
        self.try_run(args, None)
    }

    /// `docker <args>`, failing the test only if it does not finish in time.
    pub fn output(&self, args: &[&str]) -> Output {
        self.try_output(args)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// `docker <args>`, failing the test unless it exits 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        self.output(args).ok()
    }

    /// `docker <args>` reading `stdin`, failing the test only if it does not finish in time.
    pub fn with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.try_run(args, Some(stdin))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// `docker <args>` on a terminal of `rows` x `cols` the test owns (for `-it`).
    pub fn terminal(&self, args: &[&str], rows: u16, cols: u16) -> Terminal {
        let mut command = self.command();
        command.args(args);
        Terminal::spawn(command, rows, cols)
            .unwrap_or_else(|error| panic!("spawn docker on a terminal: {error}"))
    }

    /// Imports the busybox rootfs as [`BUSYBOX_IMAGE`], whose `CMD` sleeps until killed.
    pub fn import_busybox(&self) {
        let layer = crate::image::layer_tar().display().to_string();
        let cmd = format!(
            "CMD {}",
            serde_json::to_string(&crate::image::CMD).expect("a command serializes")
        );
        self.ok(&[
            "import",
            "--change",
            &cmd,
            "--change",
            "ENV PATH=/bin",
            &layer,
            BUSYBOX_IMAGE,
        ]);
    }

    /// `docker inspect --format <format> <id>`, trimmed.
    pub fn inspect(&self, id: &str, format: &str) -> String {
        self.ok(&["inspect", "--format", format, id])
            .stdout_text()
            .trim()
            .to_string()
    }

    /// The container's state (`running`, `paused`, `exited`, ...).
    pub fn state(&self, id: &str) -> String {
        self.inspect(id, "{{.State.Status}}")
    }

    /// The pid of the container's init on the host (0 when it does not run).
    pub fn pid(&self, id: &str) -> i32 {
        self.inspect(id, "{{.State.Pid}}")
            .parse()
            .expect("State.Pid is a number")
    }

    /// Polls `docker logs` until the container's stdout holds `needle`, failing the test after
    /// `timeout`.
    pub fn wait_for_output(&self, id: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let stdout = self.ok(&["logs", id]).stdout_text();
            if stdout.contains(needle) {
                return stdout;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} not in the logs of {id} within {timeout:?}: {stdout:?}"
            );
            driver::pause(Duration::from_millis(20));
        }
    }
}
