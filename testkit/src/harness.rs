//! The harness of the integration tests and the benchmarks: the built binaries, scratch
//! directories, and containers run through the shim the way the daemon runs them, through
//! [`crate::driver`].
//!
//! The tests need root, runc and busybox-static (`make deps` installs them). Where they are
//! missing the tests fail with a message saying so: a check that did not run is not a pass.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use serde_json::{json, Value};

use crate::bundle;
use crate::driver::{self, ProcessDir, ProcessOptions};
use crate::pump_path::{self, PumpPath};

// The benchmarks read these through the harness.
pub use crate::procfs::{open_fds, proc_status};

/// How long a test waits for anything that must happen: far longer than any of it takes on a
/// loaded 2-core machine, so that only a hang ever reaches it.
pub const LONG: Duration = Duration::from_secs(60);

/// The shim's switch that forces the copy path (its README documents it).
pub const NO_SPLICE_ENV: &str = "TINYSHIM_NO_SPLICE";
/// The shim's switch that selects the legacy `--console /dev/pts/N` protocol.
pub const LEGACY_CONSOLE_ENV: &str = "TINYSHIM_LEGACY_CONSOLE";

// ----------------------------------------------------------------------------------------------
// Binaries and directories

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

/// A binary of the workspace, built by the same cargo as the test.
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    if !path.exists() {
        build_testkit_binaries();
    }
    assert!(
        path.exists(),
        "{} was not built (cargo build --workspace --bins builds it; make test does)",
        path.display()
    );
    path
}

/// `cargo test` builds the binaries of the packages whose integration tests it runs, and the
/// test kit has none, so on a clean target `fake-runtime` and `shim-driver` exist only if
/// something else built them. Builds them once, with the cargo running the tests (which holds
/// no lock on the target directory while tests run).
fn build_testkit_binaries() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let Some(cargo) = std::env::var_os("CARGO") else {
            return;
        };
        let mut command = Command::new(cargo);
        command
            .args([
                "build",
                "--offline",
                "--package",
                "tinyshim-testkit",
                "--bins",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir()
            .file_name()
            .is_some_and(|name| name == "release")
        {
            command.arg("--release");
        }
        let _ = command.status();
    });
}

/// The v0.2 shim under test: the one cargo built, or `TINYSHIM_SHIM` (the benchmarks point it at
/// the statically linked release binary that `make build` installs).
pub fn shim_binary() -> PathBuf {
    std::env::var_os("TINYSHIM_SHIM")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_binary("containerd-shim"))
}

/// The failure-injecting runtime (documented at the top of `src/bin/fake-runtime.rs`).
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
        "runc is not installed (apt-get install runc; make deps does it)"
    );
    assert!(
        Path::new(bundle::HOST_BUSYBOX).exists(),
        "busybox-static is not installed (apt-get install busybox-static; make deps does it)"
    );
}

/// Writes `text` to `path` as an executable script.
pub fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod 755 {}: {e}", path.display()));
}

/// How to run crun here. crun 1.8 refuses to create anything on a hybrid cgroup layout whose v2
/// hierarchy holds a controller (`cgroups in hybrid mode not supported`), which is this machine's
/// layout. Where that is the case, a wrapper unmounts the v2 hierarchy in a private mount
/// namespace and execs crun, which then manages cgroups v1 as runc does; the wrapper keeps the
/// pid the shim spawned, so nothing else changes.
pub fn crun_program(bin: &Path) -> String {
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers");
    if controllers.map(|c| c.trim().is_empty()).unwrap_or(true) {
        return "crun".into();
    }
    let wrapper = bin.join("crun-cgroup-v1");
    write_script(
        &wrapper,
        "#!/bin/sh\nexec unshare --mount --propagation private \\\n  sh -c 'umount /sys/fs/cgroup/unified && exec crun \"$@\"' crun \"$@\"\n",
    );
    wrapper.display().to_string()
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

/// The canonical form of `path`, which is how the shim names its own directory (`getcwd`).
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).expect("canonical path")
}

/// Fails unless `dir` is empty.
pub fn assert_empty_dir(dir: &Path, what: &str) {
    let left: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read directory")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    assert!(left.is_empty(), "{what}: left behind in {dir:?}: {left:?}");
}

/// Writes a checkpoint directory at `at` holding only `config.json` with `config`.
pub fn write_checkpoint(at: &Path, config: &str) -> PathBuf {
    std::fs::create_dir_all(at).expect("create checkpoint dir");
    std::fs::write(at.join("config.json"), config).expect("write checkpoint config");
    at.to_path_buf()
}

// ----------------------------------------------------------------------------------------------
// What to run

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

// ----------------------------------------------------------------------------------------------
// One process and its shim

/// One shim-supervised process: its directory (the daemon's descriptors) and the shim.
#[derive(Debug)]
pub struct Proc {
    /// The process directory and the daemon's ends.
    pub dir: ProcessDir,
    /// The shim.
    pub shim: Child,
}

/// What a process left once its shim finished normally.
#[derive(Debug)]
pub struct Finished {
    /// Everything read from the stdout FIFO until EOF (empty if the test took the reader).
    pub stdout: Vec<u8>,
    /// The same for stderr.
    pub stderr: Vec<u8>,
    /// `exitStatus` as written (decimal, no newline), read once the exit FIFO hung up; empty
    /// when there is none.
    pub exit_status: Vec<u8>,
}

impl Proc {
    /// The shim's pid.
    pub fn shim_pid(&self) -> i32 {
        self.shim.id() as i32
    }

    /// Waits for the pid file, panicking with the shim's error if it never comes.
    pub fn wait_pid(&mut self) -> i32 {
        match self.dir.wait_for_pid(&mut self.shim, LONG) {
            Ok(pid) => pid,
            Err(e) => panic!("the shim did not start the process: {e}"),
        }
    }

    /// Waits for the shim to exit, killing it and failing the test after `timeout`. The shim's
    /// I/O counters are taken for [`pump_path`] while it is a zombie, before it is reaped.
    pub fn wait_shim(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let pid = nix::unistd::Pid::from_raw(self.shim_pid());
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        loop {
            match waitid(Id::Pid(pid), flags) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(_) => {
                    pump_path::observe(self.shim_pid(), &self.dir.dir);
                    return self.shim.wait().expect("reap the shim");
                }
                // A `try_wait` reaped it already, and std kept its status.
                Err(_) => return self.shim.wait().expect("the shim's status"),
            }
            if Instant::now() > deadline {
                let _ = self.shim.kill();
                let _ = self.shim.wait();
                panic!("the shim did not exit within {timeout:?}");
            }
            driver::pause(Duration::from_millis(10));
        }
    }

    /// The daemon's writer on the stdin FIFO (the shim must hold its reader already).
    pub fn open_stdin(&self) -> File {
        let path = self.dir.stdin_path.as_ref().expect("a stdin FIFO");
        driver::open_fifo_writer(path).expect("open the stdin FIFO for writing")
    }

    /// Writes `bytes` to the stdin FIFO through a writer of its own, closed afterwards (the
    /// daemon's writer for one `docker attach` input).
    pub fn type_in(&self, bytes: &[u8]) {
        self.open_stdin().write_all(bytes).expect("write stdin");
    }

    /// The normal end: reads what is left of stdout and stderr to EOF (both at once, so that
    /// neither can block the other), waits for the exit FIFO to hang up, reads `exitStatus`,
    /// and checks that the shim exits 0 with no error entry.
    pub fn finish(&mut self) -> Finished {
        let [stdout, stderr] =
            read_to_eof_both([self.dir.stdout.as_mut(), self.dir.stderr.as_mut()], LONG);
        assert!(self.dir.wait_exit(LONG), "the exit FIFO did not hang up");
        let exit_status = std::fs::read(self.dir.dir.join("exitStatus")).unwrap_or_default();
        let shim = self.wait_shim(LONG);
        assert!(shim.success(), "shim exit {shim}; log: {}", self.shim_log());
        assert_eq!(
            self.shim_errors(),
            Vec::<String>::new(),
            "error entries from a shim that exited 0"
        );
        Finished {
            stdout,
            stderr,
            exit_status,
        }
    }

    /// The documented refusal (docs/INPUTS.md): the shim exits 1 having written exactly one
    /// entry to `shim-log.json`, an error, and the exit FIFO hangs up. Returns the message.
    pub fn refused(&mut self) -> String {
        let status = self.wait_shim(LONG);
        assert_eq!(
            status.code(),
            Some(1),
            "shim exit {status}; log: {}",
            self.shim_log()
        );
        let message = the_one_error(&self.shim_log());
        assert!(self.dir.wait_exit(LONG), "the exit FIFO did not hang up");
        message
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

/// The message of the one entry of a `shim-log.json` text, failing the test unless there is
/// exactly one and it is an error.
pub fn the_one_error(log: &str) -> String {
    let entries = parse_shim_log(log);
    assert_eq!(entries.len(), 1, "one entry in shim-log.json: {log}");
    assert_eq!(entries[0]["level"], "error", "an error: {log}");
    entries[0]["msg"].as_str().expect("msg").to_string()
}

// ----------------------------------------------------------------------------------------------
// A container

/// A container: its bundle and state directory, in one scratch directory.
#[derive(Debug)]
pub struct Container {
    /// The container id.
    pub id: String,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The state directory (`<state>/<id>/<process>` are the process directories).
    pub state: PathBuf,
    /// The spec it was made from; its `env` is read each time a shim is spawned.
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

    /// The scratch directory, for extra files; the daemon's removal of the state directory
    /// leaves it alone.
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    /// Gives the shims a `TMPDIR` of their own, to find their console-socket directories and
    /// check that nothing is left in it; returns its canonical path.
    pub fn private_tmpdir(&mut self) -> PathBuf {
        let tmp = self.scratch().join("tmp");
        std::fs::create_dir_all(&tmp).expect("create TMPDIR");
        let tmp = canonical(&tmp);
        self.spec
            .env
            .push(("TMPDIR".into(), tmp.display().to_string()));
        tmp
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

    /// `process.json` options for an exec process running `args`, with a stdin FIFO.
    pub fn exec_options(&self, args: &[&str], terminal: bool) -> ProcessOptions {
        let mut spec = self.spec.clone();
        spec.args = args.iter().map(|s| s.to_string()).collect();
        spec.terminal = terminal;
        ProcessOptions {
            process: spec.process(),
            exec: true,
            stdin: true,
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

    /// Spawns the init's shim, waits for the pid file and runs `<runtime> start`.
    pub fn run(&self) -> (Proc, i32) {
        let mut init = self.spawn_init();
        let pid = init.wait_pid();
        self.start();
        (init, pid)
    }

    /// `<runtime> start`.
    pub fn start(&self) {
        driver::runtime_start(&self.spec.runtime, &self.spec.runtime_args, &self.id)
            .expect("runtime start");
    }

    /// Spawns a shim for an exec process running `args` in the container.
    pub fn spawn_exec(&self, exec_id: &str, args: &[&str], terminal: bool) -> Proc {
        self.spawn(exec_id, &self.exec_options(args, terminal))
    }
}

impl Drop for Container {
    /// A failed test must not leave a real runtime's container behind; the fake runtime keeps no
    /// state to delete.
    fn drop(&mut self) {
        let runtime = Path::new(&self.spec.runtime);
        if runtime
            .file_name()
            .is_some_and(|name| name != "fake-runtime")
        {
            let args = ["delete", "--force", self.id.as_str()];
            let _ = driver::run_runtime(&self.spec.runtime, &self.spec.runtime_args, &args);
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The daemon's side of the FIFOs

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
        String::from_utf8_lossy(tail(&out))
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
                    String::from_utf8_lossy(tail(&out))
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

/// Reads stdout and stderr at once, each until it holds at least its wanted number of bytes,
/// failing the test after `timeout`. A FIFO that no writer has opened yet reads as EOF, which is
/// no reason to stop here.
pub fn read_at_least(streams: [(&mut File, &mut Vec<u8>, usize); 2], timeout: Duration) {
    let [(out, out_data, out_want), (err, err_data, err_want)] = streams;
    read_both(
        [Some(out), Some(err)],
        [out_data, err_data],
        timeout,
        |data, _| [data[0].len() >= out_want, data[1].len() >= err_want],
    );
}

/// Reads the readers given to EOF, both at once, failing the test after `timeout`.
pub fn read_to_eof_both(files: [Option<&mut File>; 2], timeout: Duration) -> [Vec<u8>; 2] {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let open = [files[0].is_some(), files[1].is_some()];
    read_both(files, [&mut out, &mut err], timeout, |_, eof| {
        [eof[0] || !open[0], eof[1] || !open[1]]
    });
    [out, err]
}

/// Reads both `files` into `data` until `done(data, eof)` holds for both.
fn read_both(
    mut files: [Option<&mut File>; 2],
    data: [&mut Vec<u8>; 2],
    timeout: Duration,
    done: impl Fn([&Vec<u8>; 2], [bool; 2]) -> [bool; 2],
) {
    let deadline = Instant::now() + timeout;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut eof = [false; 2];
    loop {
        for (i, file) in files.iter_mut().enumerate() {
            let Some(file) = file else { continue };
            loop {
                match file.read(&mut buffer) {
                    Ok(0) => {
                        eof[i] = true;
                        break;
                    }
                    Ok(n) => data[i].extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => panic!("read FIFO: {e}"),
                }
            }
        }
        if done([&*data[0], &*data[1]], eof) == [true, true] {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "stdout: {} bytes, EOF {}; stderr: {} bytes, EOF {}; not done within {timeout:?}",
            data[0].len(),
            eof[0],
            data[1].len(),
            eof[1]
        );
        let mut fds: Vec<PollFd<'_>> = files
            .iter()
            .flatten()
            .map(|file| PollFd::new(file.as_fd(), PollFlags::POLLIN))
            .collect();
        // A reader at EOF is readable for good: poll briefly rather than spin on it.
        let _ = poll(&mut fds, PollTimeout::from(100u16));
    }
}

fn tail(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.len().saturating_sub(200)..]
}

/// Bytes waiting in the pipe or FIFO behind `file`.
pub fn queued_bytes(file: &File) -> usize {
    let mut count: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to a live local; the
    // descriptor is borrowed from `file` for the duration of the call.
    let result = unsafe {
        nix::libc::ioctl(
            file.as_raw_fd(),
            nix::libc::FIONREAD,
            &mut count as *mut nix::libc::c_int,
        )
    };
    assert_eq!(result, 0, "FIONREAD: {}", io::Error::last_os_error());
    count as usize
}

/// Waits until the shim has read every byte written to its control FIFO. The shim acts on each
/// message in the call that read it, in its only thread, so whatever the test does next (input
/// to the container, say) comes after every message took effect.
pub fn wait_control_read(dir: &ProcessDir) {
    eventually(LONG, "the shim reads the whole control FIFO", || {
        queued_bytes(&dir.control) == 0
    });
}

/// Rewrites the `process.json` the driver wrote, as another daemon version (or an attacker)
/// would have written it.
pub fn edit_process_json(dir: &ProcessDir, edit: impl FnOnce(&mut Value)) {
    let path = dir.dir.join("process.json");
    let mut value: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read process.json")).expect("JSON");
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec(&value).expect("encode")).expect("write");
}

// ----------------------------------------------------------------------------------------------
// Waiting and comparing

/// Polls `condition` every 10 ms until it holds, failing the test with `what` after `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        driver::pause(Duration::from_millis(10));
    }
}

/// Busybox `seq 1 <last>` output, built without formatting each number.
pub fn seq_text(last: u64) -> Vec<u8> {
    let mut text = Vec::new();
    let mut digits = vec![b'0'];
    for _ in 0..last {
        // Increment the decimal digits in place.
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
        text.extend_from_slice(&digits);
        text.push(b'\n');
    }
    text
}

/// Asserts `got == expected`, naming the first difference rather than printing megabytes.
pub fn assert_same_bytes(got: &[u8], expected: &[u8]) {
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        let around = |bytes: &[u8]| {
            String::from_utf8_lossy(&bytes[at.saturating_sub(20)..(at + 20).min(bytes.len())])
                .into_owned()
        };
        panic!(
            "{} bytes instead of {}; first difference at byte {at}: {:?} instead of {:?}",
            got.len(),
            expected.len(),
            around(got),
            around(expected)
        );
    }
}

// ----------------------------------------------------------------------------------------------
// Formats the shim shares with the daemon's Go code

/// Parses Go's `time.RFC3339Nano` in UTC (`2006-01-02T15:04:05.999999999Z`), insisting on its
/// canonical form: the fraction's trailing zeros trimmed, no dot for a zero fraction.
pub fn parse_go_rfc3339_nano_utc(stamp: &str) -> Option<SystemTime> {
    let body = stamp.strip_suffix('Z')?;
    let (date_time, fraction) = match body.split_once('.') {
        Some((date_time, fraction)) => (date_time, Some(fraction)),
        None => (body, None),
    };
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            let digits = f.bytes().all(|b| b.is_ascii_digit());
            if f.is_empty() || f.len() > 9 || f.ends_with('0') || !digits {
                return None;
            }
            format!("{f:0<9}").parse::<u32>().ok()?
        }
    };
    let shape = date_time.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    if date_time.len() != 19 || !shape {
        return None;
    }
    let field = |from: usize, to: usize| date_time[from..to].parse::<i64>().ok();
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::new(u64::try_from(seconds).ok()?, nanos))
}
