//! Support for the integration tests and the benchmarks: the built binaries, a busybox root
//! filesystem, scratch directories, and a harness that plays the daemon's side through
//! [`crate::driver`].
//!
//! The tests need root, runc and busybox-static (`.ci/run` installs them). Where they are
//! missing the tests fail with a message saying so: a check that did not run is not a pass.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde_json::{json, Value};

use crate::bundle;
use crate::driver::{self, ProcessDir, ProcessOptions};

/// The shim's switch that forces the copy path (its README documents it).
pub const NO_SPLICE_ENV: &str = "TINYSHIM_NO_SPLICE";
/// The shim's switch that selects the legacy `--console /dev/pts/N` protocol.
pub const LEGACY_CONSOLE_ENV: &str = "TINYSHIM_LEGACY_CONSOLE";

/// The cargo profile directory the running test or benchmark was built into (`target/debug` or
/// `target/release`): cargo puts test executables in its `deps` folder and the workspace's
/// binaries beside it.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running executable");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    dir
}

/// A binary of the workspace, built by the same cargo run as the test.
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.exists(),
        "{} was not built (run the tests with cargo test at the workspace root)",
        path.display()
    );
    path
}

/// The v0.2 shim under test: the one cargo built, or `TINYSHIM_SHIM` (the benchmarks point it at
/// the statically linked release binary that `make build` installs).
pub fn shim_binary() -> PathBuf {
    std::env::var_os("TINYSHIM_SHIM")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_binary("containerd-shim"))
}

/// The failure-injecting runtime.
pub fn fake_runtime() -> String {
    workspace_binary("fake-runtime").display().to_string()
}

/// Where tests keep files that outlive one test: cargo's `target/tmp`.
pub fn target_tmp() -> PathBuf {
    let profile = profile_dir();
    let target = profile.parent().map(Path::to_path_buf).unwrap_or(profile);
    target.join("tmp")
}

/// The first executable file named `name` in a `PATH` directory.
pub fn which(name: &str) -> Option<PathBuf> {
    let search = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&search)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Fails the test, loudly, when the machine cannot run real containers.
pub fn require_runc() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the integration tests run real containers and need root"
    );
    assert!(
        which("runc").is_some(),
        "runc is not installed (apt-get install runc; .ci/run does it)"
    );
    assert!(
        Path::new(bundle::HOST_BUSYBOX).exists(),
        "busybox-static is not installed (apt-get install busybox-static; .ci/run does it)"
    );
}

/// The shared read-only busybox root filesystem.
pub fn rootfs() -> PathBuf {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS
        .get_or_init(|| {
            let dir = target_tmp().join("busybox-rootfs");
            bundle::busybox_rootfs(&dir).expect("build the busybox rootfs")
        })
        .clone()
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh, empty directory under the target's temp dir.
    pub fn new(label: &str) -> Scratch {
        let dir = target_tmp()
            .join("scratch")
            .join(format!("{label}-{}", unique()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A number unique within this test process.
pub fn unique() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// The two ways the shim moves bytes: every test of pumping runs on both (see
/// [`on_both_pump_paths`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpPath {
    /// `splice(2)`, the default.
    Splice,
    /// `read`/`write` through a buffer, forced by `TINYSHIM_NO_SPLICE=1`.
    Copy,
}

/// For each `name` given, a module `name` with the tests `splice` and `copy` calling
/// `name(PumpPath::Splice)` and `name(PumpPath::Copy)`; `PumpPath` must be in scope.
#[macro_export]
macro_rules! on_both_pump_paths {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn splice() {
                super::$name(super::PumpPath::Splice)
            }

            #[test]
            fn copy() {
                super::$name(super::PumpPath::Copy)
            }
        }
    )+};
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The process's argv.
    pub args: Vec<String>,
    /// A terminal instead of pipes.
    pub terminal: bool,
    /// Own pid namespace (default true).
    pub pid_namespace: bool,
    /// Make a stdin FIFO (default true).
    pub stdin: bool,
    /// The runtime (default `runc`).
    pub runtime: String,
    /// `runtimeArgs`.
    pub runtime_args: Vec<String>,
    /// Environment added to the shim's (and so the runtime's).
    pub env: Vec<(String, String)>,
}

impl Spec {
    /// A shell command in busybox.
    pub fn sh(script: &str) -> Spec {
        Spec {
            args: vec!["sh".into(), "-c".into(), script.into()],
            terminal: false,
            pid_namespace: true,
            stdin: true,
            runtime: "runc".into(),
            runtime_args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// `args` as the process itself, without a shell.
    pub fn command(args: &[&str]) -> Spec {
        let mut spec = Spec::sh("");
        spec.args = args.iter().map(|s| s.to_string()).collect();
        spec
    }

    /// The same process through the fake runtime; `FAKE_CHILD` runs on the host's `/bin/sh`.
    pub fn fake(child_script: &str) -> Spec {
        let mut spec = Spec::sh(child_script);
        spec.runtime = fake_runtime();
        spec.env.push(("FAKE_CHILD".into(), child_script.into()));
        spec
    }

    /// With a terminal.
    pub fn tty(mut self) -> Spec {
        self.terminal = true;
        self
    }

    /// Without a stdin FIFO.
    pub fn no_stdin(mut self) -> Spec {
        self.stdin = false;
        self
    }

    /// With an environment variable for the shim.
    pub fn env(mut self, name: &str, value: &str) -> Spec {
        self.env.push((name.into(), value.into()));
        self
    }

    /// With the copy path forced.
    pub fn copy_path(self) -> Spec {
        self.env(NO_SPLICE_ENV, "1")
    }

    /// On the given pump path.
    pub fn on(self, path: PumpPath) -> Spec {
        match path {
            PumpPath::Splice => self,
            PumpPath::Copy => self.copy_path(),
        }
    }

    /// The OCI process object.
    pub fn process(&self) -> Value {
        json!({
            "terminal": self.terminal,
            "user": {"uid": 0, "gid": 0},
            "args": self.args,
            "env": ["PATH=/bin", "TERM=xterm", "HOME=/root"],
            "cwd": "/",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                              "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"]},
            "noNewPrivileges": true,
        })
    }
}

/// One shim-supervised process: its directory (the daemon's descriptors) and the shim.
#[derive(Debug)]
pub struct Proc {
    /// The process directory and the daemon's ends.
    pub dir: ProcessDir,
    /// The shim.
    pub shim: Child,
}

impl Proc {
    /// The shim's pid.
    pub fn shim_pid(&self) -> i32 {
        self.shim.id() as i32
    }

    /// Waits for the pid file, panicking with the shim's error if it never comes.
    pub fn wait_pid(&mut self) -> i32 {
        match self
            .dir
            .wait_for_pid(&mut self.shim, Duration::from_secs(30))
        {
            Ok(pid) => pid,
            Err(e) => panic!("the shim did not start the process: {e}"),
        }
    }

    /// Reads the stdout FIFO to EOF.
    pub fn read_stdout(&mut self, timeout: Duration) -> Vec<u8> {
        let file = self.dir.stdout.as_mut().expect("stdout reader");
        read_to_eof(file, timeout)
    }

    /// Reads the stderr FIFO to EOF.
    pub fn read_stderr(&mut self, timeout: Duration) -> Vec<u8> {
        let file = self.dir.stderr.as_mut().expect("stderr reader");
        read_to_eof(file, timeout)
    }

    /// Waits for the shim to exit, killing it and failing the test after `timeout`.
    pub fn wait_shim(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.shim.try_wait().expect("try_wait shim") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.shim.kill();
                let _ = self.shim.wait();
                panic!("the shim did not exit within {timeout:?}");
            }
            driver::pause(Duration::from_millis(10));
        }
    }

    /// Writes `bytes` to the stdin FIFO through a writer of its own, closed afterwards (the
    /// daemon's writer for one `docker attach` input).
    pub fn type_in(&self, bytes: &[u8]) {
        let path = self.dir.stdin_path.as_ref().expect("a stdin FIFO");
        let mut writer = driver::open_fifo_writer(path).expect("open the stdin FIFO for writing");
        writer.write_all(bytes).expect("write stdin");
    }

    /// Waits for the exit FIFO to hang up and the shim to exit 0, and returns the raw
    /// `exitStatus`, which must have been written by the time the FIFO hung up.
    pub fn finish(&mut self, timeout: Duration) -> Vec<u8> {
        assert!(self.dir.wait_exit(timeout), "the exit FIFO did not hang up");
        let status = std::fs::read(self.dir.dir.join("exitStatus"));
        let shim = self.wait_shim(timeout);
        assert!(shim.success(), "shim exit status {shim}");
        status.expect("exitStatus written before the exit FIFO hung up")
    }

    /// `shim-log.json`'s content.
    pub fn shim_log(&self) -> String {
        std::fs::read_to_string(self.dir.dir.join("shim-log.json")).unwrap_or_default()
    }

    /// The entries of `shim-log.json`, each checked to be a JSON object.
    pub fn shim_log_entries(&self) -> Vec<Value> {
        parse_shim_log(&self.shim_log())
    }

    /// The messages of the `error` entries.
    pub fn shim_errors(&self) -> Vec<String> {
        self.shim_log_entries()
            .into_iter()
            .filter(|e| e["level"] == "error")
            .map(|e| e["msg"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.shim.try_wait() {
            let _ = self.shim.kill();
            let _ = self.shim.wait();
        }
    }
}

/// The entries of a `shim-log.json` text, failing the test unless it is a stream of JSON values.
pub fn parse_shim_log(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|entry| entry.expect("shim-log.json holds valid JSON"))
        .collect()
}

/// A container: its bundle and state directory, in one scratch directory.
#[derive(Debug)]
pub struct Container {
    /// The container id.
    pub id: String,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The state directory (`<state>/<id>/<process>` are the process directories).
    pub state: PathBuf,
    /// The spec it was made from.
    pub spec: Spec,
    scratch: Scratch,
}

impl Container {
    /// Writes the bundle for `spec`.
    pub fn new(spec: Spec) -> Container {
        if spec.runtime == "runc" {
            require_runc();
        }
        let scratch = Scratch::new("c");
        let bundle = scratch.path().join("bundle");
        bundle::write_bundle(
            &bundle,
            &bundle::ConfigOptions {
                args: spec.args.clone(),
                terminal: spec.terminal,
                pid_namespace: spec.pid_namespace,
                rootfs: rootfs(),
            },
        )
        .expect("write bundle");
        Container {
            id: format!("ts-{}", unique()),
            state: scratch.path().join("state"),
            bundle,
            spec,
            scratch,
        }
    }

    /// The scratch directory, for extra files.
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    /// `process.json` options for the container's init.
    pub fn init_options(&self) -> ProcessOptions {
        ProcessOptions {
            process: self.spec.process(),
            stdin: self.spec.stdin,
            runtime_args: self.spec.runtime_args.clone(),
            ..ProcessOptions::default()
        }
    }

    /// Makes the process directory for `options` and spawns a shim on it.
    pub fn spawn(&self, process_id: &str, options: &ProcessOptions) -> Proc {
        self.spawn_in(self.process_dir(process_id, options))
    }

    /// Like [`Container::spawn`], with `prepare` run on the process directory just before the
    /// shim starts: to rewrite `process.json`, or close the daemon's readers.
    pub fn spawn_prepared(
        &self,
        process_id: &str,
        options: &ProcessOptions,
        prepare: impl FnOnce(&mut ProcessDir),
    ) -> Proc {
        let mut dir = self.process_dir(process_id, options);
        prepare(&mut dir);
        self.spawn_in(dir)
    }

    /// Makes the process directory for `options` with the daemon's ends open, without a shim
    /// yet: a test can write to `control` before the shim exists.
    pub fn process_dir(&self, process_id: &str, options: &ProcessOptions) -> ProcessDir {
        ProcessDir::create(&self.state, &self.id, process_id, options).expect("create process dir")
    }

    /// Spawns a shim on a directory made by [`Container::process_dir`].
    pub fn spawn_in(&self, dir: ProcessDir) -> Proc {
        let env: Vec<(&str, &str)> = self
            .spec
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let shim = dir
            .spawn_shim(
                &shim_binary(),
                &self.id,
                &self.bundle,
                &self.spec.runtime,
                &env,
            )
            .expect("spawn shim");
        Proc { dir, shim }
    }

    /// Spawns the init's shim.
    pub fn spawn_init(&self) -> Proc {
        self.spawn("init", &self.init_options())
    }

    /// Spawns the init's shim, waits for the pid file and runs `runc start`.
    pub fn run(&self) -> (Proc, i32) {
        let mut init = self.spawn_init();
        let pid = init.wait_pid();
        self.start();
        (init, pid)
    }

    /// `runc start`.
    pub fn start(&self) {
        driver::runtime_start(&self.spec.runtime, &self.spec.runtime_args, &self.id)
            .expect("runtime start");
    }

    /// Spawns a shim for an exec process running `args` in the container.
    pub fn spawn_exec(&self, exec_id: &str, args: &[&str], terminal: bool) -> Proc {
        let mut spec = self.spec.clone();
        spec.args = args.iter().map(|s| s.to_string()).collect();
        spec.terminal = terminal;
        let options = ProcessOptions {
            process: spec.process(),
            exec: true,
            stdin: true,
            runtime_args: self.spec.runtime_args.clone(),
            ..ProcessOptions::default()
        };
        self.spawn(exec_id, &options)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.spec.runtime == "runc" {
            let _ = driver::run_runtime("runc", &[], &["delete", "--force", &self.id]);
        }
    }
}

/// Reads `file` (a non-blocking FIFO reader) until EOF, failing the test after `timeout`.
pub fn read_to_eof(file: &mut File, timeout: Duration) -> Vec<u8> {
    read_fifo(file, timeout, |_| false).0
}

/// Reads `file` (a non-blocking FIFO reader) until what was read satisfies `enough`, failing the
/// test after `timeout` or at an EOF that came first. Returns everything read, which may go past
/// the point where `enough` first held.
pub fn read_until(
    file: &mut File,
    timeout: Duration,
    enough: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let (out, eof) = read_fifo(file, timeout, enough);
    assert!(
        !eof,
        "EOF before the expected output; read: {:?}",
        String::from_utf8_lossy(&out[out.len().saturating_sub(200)..])
    );
    out
}

/// Reads `file` (a non-blocking FIFO reader) until EOF (true) or until `enough` holds for what was
/// read (false), failing the test after `timeout`.
pub fn read_fifo(
    file: &mut File,
    timeout: Duration,
    mut enough: impl FnMut(&[u8]) -> bool,
) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return (out, true),
            Ok(n) => {
                out.extend_from_slice(&buffer[..n]);
                if enough(&out) {
                    return (out, false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(
                    !left.is_zero(),
                    "no EOF or expected output within {timeout:?}; read so far: {:?}",
                    String::from_utf8_lossy(&out[out.len().saturating_sub(200)..])
                );
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                let _ = poll(
                    &mut fds,
                    PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
                );
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read FIFO: {e}"),
        }
    }
}

/// Polls `condition` every 10 ms until it holds, failing the test with `what` after `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        driver::pause(Duration::from_millis(10));
    }
}

/// A field of `/proc/<pid>/status`, e.g. `Threads`.
pub fn proc_status(pid: i32, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

/// The children of `pid` with their state letter (`Z` for a zombie).
pub fn children(pid: i32) -> Vec<(i32, char)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // Fields after the command name, which may contain spaces, start after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = rest.split(' ');
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let parent: i32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if parent == pid {
            found.push((child, state));
        }
    }
    found
}

/// Whether a process exists (a zombie counts).
pub fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The descriptors open in `pid`.
pub fn open_fds(pid: i32) -> Vec<i32> {
    let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    fds.sort_unstable();
    fds
}

/// The fake runtime's recorded calls.
pub fn recorded_calls(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("fake runtime log line"))
        .collect()
}

/// A recorded call's argv as one string.
pub fn argv_text(call: &Value) -> String {
    call["argv"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
