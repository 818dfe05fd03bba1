//! `ctr` for the tests: every command with the daemon's address and the test's namespace, its
//! output captured, and a timeout that kills it and fails with what it printed.
//!
//! Containers run on the shared busybox rootfs ([`crate::bundle::rootfs`]) with
//! `ctr run --rootfs`, which needs no image and no snapshotter. What that takes (measured with
//! containerd 1.6.20 and the Go runc shim):
//!
//! * **`--env PATH=/bin`.** Without an image config the process gets no `PATH` at all, and runc
//!   fails with `exec: "sh": executable file not found in $PATH`.
//! * **`--read-only`**, so that no container writes into the rootfs every test shares. ctr's
//!   default spec mounts a tmpfs on `/run`, and runc creates a missing mount point *in the
//!   rootfs on the host* even for a read-only root (it remounts read-only afterwards), so
//!   [`Ctr`] makes `run/` once itself. ctr's spec has no `/tmp` mount; the helpers add a
//!   tmpfs there so that containers have somewhere to write.
//! * **`--fifo-dir`** in the daemon's scratch directory. `ctr run -d` leaves its FIFO directory
//!   behind until `ctr task delete`, and without the flag that is `/run/containerd/fifo/<n>`.
//! * **stdin EOF races `ctr run`** (and `ctr task start`). ctr calls CloseIO when its stdin
//!   reaches EOF, but only once the Create RPC has returned: its stdin copy starts as soon as
//!   the shim opens the FIFO, and an EOF that comes first (`echo hi | ctr run ... cat`) is never
//!   passed on, so `cat` waits for ever. `ctr task exec` arms CloseIO after Exec returns; the Go
//!   shim opens an exec's FIFO only at Start, so it escapes the race, but a shim that opens it
//!   at Exec would not. The attached helpers therefore write the input at once but close ctr's stdin only
//!   when the shim reports the process RUNNING (asked over the raw ttrpc client, which is how
//!   they learn the Start RPC was sent, after ctr armed its CloseIO).
//! * **A terminal starts at 0 x 0.** ctr sends its first ResizePty only once Start returned
//!   (run and exec alike), so a process that asks for its size at once can see no size at all
//!   (busybox `stty size` then prints `stty: standard input`, and sometimes still exits 0):
//!   poll until the size is set. Later resizes arrive as ctr gets SIGWINCH.
//! * **The container's init is pid 1 of its pid namespace**, so a plain `ctr task kill`
//!   (SIGTERM) does nothing to a `sleep` without a handler: kill with `-s SIGKILL`.
//! * `ctr task delete` refuses a running task; `ctr task delete --force` kills it first.
//!   `ctr run` exits with the container's exit status, and with 1 and a `ctr: ...` message on
//!   stderr when ctr itself failed. `ctr task delete` exits 0 whatever the status and names a
//!   non-zero one only in a warning ([`Ctr::delete_task_status`]).
//! * **`ctr run -d` reads the output FIFOs until it exits**, copying to its own stdout, and
//!   drops what it read last (16 KiB once, measured): a test of what a detached container
//!   writes must hold the output back until ctr is gone.
//! * **`ctr task attach`** returns the task's exit status once it exited, and deletes the task
//!   (the container stays).
//! * **`--runc-root <dir>`** puts runc's state in `<dir>/<namespace>`, as the default root
//!   does (the Go shim adds the namespace).

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::bundle;
use crate::driver;
use crate::footprint::{read_address, Footprint};
use crate::host::which;
use crate::pty::Terminal;
use crate::ttrpc_client::{self, code, status, Client, TASK_SERVICE};

/// How long a ctr command may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the attached helpers ask the shim whether the process runs yet.
const STATUS_POLL: Duration = Duration::from_millis(5);
/// How often [`Ctr::wait_for_status`] lists tasks.
const TASK_LS_POLL: Duration = Duration::from_millis(20);
/// How much of each stream a failure message quotes.
const QUOTE_BYTES: usize = 4000;
/// The writable `/tmp` every container gets (ctr's `--mount` syntax).
const TMP_MOUNT: &str = "type=tmpfs,source=tmpfs,destination=/tmp,options=nosuid:nodev";

/// A ctr client bound to one daemon and namespace. Cheap to clone; a clone can go to another
/// thread.
#[derive(Debug, Clone)]
pub struct Ctr {
    binary: PathBuf,
    address: PathBuf,
    namespace: String,
    runtime: String,
    rootfs: PathBuf,
    fifo_dir: PathBuf,
    spec_dir: PathBuf,
    bundles: PathBuf,
    timeout: Duration,
    footprint: Arc<Mutex<Footprint>>,
}

/// What a finished ctr command printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// ctr's arguments after `--address` and `--namespace`.
    pub args: Vec<String>,
    /// ctr's exit status (the container's or exec's exit code for attached runs).
    pub status: ExitStatus,
    /// Everything on ctr's stdout (the process's stdout for attached runs).
    pub stdout: Vec<u8>,
    /// Everything on ctr's stderr (the process's stderr, then ctr's own messages).
    pub stderr: Vec<u8>,
    /// From spawn to exit.
    pub elapsed: Duration,
}

impl Output {
    /// The exit code; `None` when ctr died of a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Whether ctr exited 0.
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

    /// Itself, failing the test with the whole story unless ctr exited 0.
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

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ctr {}: {} after {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args.join(" "),
            self.status,
            self.elapsed,
            quote(&self.stdout),
            quote(&self.stderr)
        )
    }
}

/// One row of `ctr task ls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The container id.
    pub id: String,
    /// The init's pid.
    pub pid: u32,
    /// `CREATED`, `RUNNING`, `STOPPED`, `PAUSED`, ...
    pub status: String,
}

/// What ctr's stdin is.
enum Stdin {
    Null,
    /// Bytes written at once; the pipe is closed once `probe` reports the process started.
    Feed {
        bytes: Vec<u8>,
        probe: StartProbe,
    },
}

/// Asks the shim serving a task whether one of its processes has started.
struct StartProbe {
    bundle: PathBuf,
    id: String,
    exec_id: String,
    client: Option<Client>,
    /// Where the socket is noted: an attached `run --rm` removes the bundle that names it
    /// before any later ctr command could read it.
    footprint: Arc<Mutex<Footprint>>,
}

impl StartProbe {
    /// Whether State says the process runs or ran. Any failure (no bundle yet, no socket,
    /// NotFound for an exec not created yet) is "not yet".
    fn started(&mut self) -> bool {
        if self.client.is_none() {
            let Some(socket) = read_address(&self.bundle) else {
                return false;
            };
            if let Ok(mut footprint) = self.footprint.lock() {
                footprint.sockets.insert(socket.clone());
            }
            let Ok(mut client) = Client::connect(&socket) else {
                return false;
            };
            client.set_timeout(Duration::from_secs(5));
            self.client = Some(client);
        }
        let Some(client) = self.client.as_mut() else {
            return false;
        };
        let request = ttrpc_client::process_request(&self.id, &self.exec_id);
        match client.call(TASK_SERVICE, "State", &request) {
            Ok(reply) if reply.code == code::OK => reply
                .fields()
                .ok()
                .and_then(|fields| fields.uint(4))
                .is_some_and(|state| state >= status::RUNNING),
            Ok(_) => false,
            Err(_) => {
                self.client = None;
                false
            }
        }
    }
}

/// Writes `bytes`, then holds the pipe open until the process started (or ctr finished, or the
/// deadline passed) and closes it: see the module documentation for why.
fn feed(
    mut stdin: ChildStdin,
    bytes: Vec<u8>,
    mut probe: StartProbe,
    finished: Arc<AtomicBool>,
    deadline: Instant,
) {
    // EPIPE just means ctr is gone, which the main thread reports.
    let _ = stdin.write_all(&bytes);
    while !finished.load(Ordering::SeqCst) && Instant::now() < deadline {
        if probe.started() {
            break;
        }
        driver::pause(STATUS_POLL);
    }
    drop(stdin);
}

fn read_all(mut pipe: impl Read + Send + 'static, done: mpsc::Sender<()>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = done.send(());
        bytes
    })
}

impl Ctr {
    /// A client for the daemon at `address`; [`crate::containerd::Containerd::ctr`] makes them.
    pub(crate) fn new(
        address: PathBuf,
        namespace: String,
        runtime: String,
        daemon_dir: &Path,
        bundles: PathBuf,
        footprint: Arc<Mutex<Footprint>>,
    ) -> Ctr {
        let rootfs = bundle::rootfs();
        std::fs::create_dir_all(rootfs.join("run")).expect("create run/ in the shared rootfs");
        Ctr {
            binary: which("ctr").expect("ctr is not installed (apt-get install containerd)"),
            address,
            namespace,
            runtime,
            rootfs,
            fifo_dir: daemon_dir.join("fifo"),
            spec_dir: daemon_dir.join("specs"),
            bundles,
            timeout: DEFAULT_TIMEOUT,
            footprint,
        }
    }

    /// The same client with another timeout for each command.
    pub fn with_timeout(mut self, timeout: Duration) -> Ctr {
        self.timeout = timeout;
        self
    }

    /// The same client with another `--runtime` for run and create.
    pub fn with_runtime(mut self, runtime: &str) -> Ctr {
        self.runtime = runtime.into();
        self
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `ctr --address <sock> --namespace <ns>`, for a caller that spawns ctr itself.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--address")
            .arg(&self.address)
            .arg("--namespace")
            .arg(&self.namespace);
        command
    }

    /// Runs `ctr <args>` with stdin on /dev/null; an error only when it could not run or did not
    /// finish in time (then it was killed, and the error holds what it printed).
    pub fn try_output(&self, args: &[&str]) -> Result<Output, String> {
        let args = args.iter().map(|s| s.to_string()).collect();
        self.execute(args, Stdin::Null)
    }

    /// Runs `ctr <args>`, failing the test if it does not finish in time. A non-zero exit is
    /// the caller's to judge.
    pub fn output(&self, args: &[&str]) -> Output {
        self.try_output(args)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Runs `ctr <args>`, failing the test unless it exits 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        self.output(args).ok()
    }

    fn execute(&self, args: Vec<String>, stdin: Stdin) -> Result<Output, String> {
        let mut command = self.command();
        command
            .args(&args)
            .env("TZ", "UTC")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.stdin(match stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Feed { .. } => Stdio::piped(),
        });
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut child = command
            .spawn()
            .map_err(|e| format!("spawn ctr {}: {e}", args.join(" ")))?;
        let (done, ended) = mpsc::channel();
        let stdout = child.stdout.take().map(|pipe| read_all(pipe, done.clone()));
        let stderr = child.stderr.take().map(|pipe| read_all(pipe, done));
        let finished = Arc::new(AtomicBool::new(false));
        let feeder = match (stdin, child.stdin.take()) {
            (Stdin::Feed { bytes, probe }, Some(pipe)) => {
                let finished = Arc::clone(&finished);
                Some(thread::spawn(move || {
                    feed(pipe, bytes, probe, finished, deadline)
                }))
            }
            _ => None,
        };
        // Both pipes reach EOF when ctr exits (it forks nothing that could keep them open).
        let mut open = 2;
        while open > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match ended.recv_timeout(left) {
                Ok(()) => open -= 1,
                Err(_) => break,
            }
        }
        // Closed pipes mean ctr is exiting; open ones at the deadline mean it hangs.
        let mut exited = None;
        if open == 0 {
            let grace = deadline + Duration::from_secs(1);
            while exited.is_none() && Instant::now() < grace {
                exited = child.try_wait().map_err(|e| format!("wait for ctr: {e}"))?;
                if exited.is_none() {
                    driver::pause(Duration::from_millis(1));
                }
            }
        }
        let timed_out = exited.is_none();
        let status = match exited {
            Some(status) => status,
            None => {
                let _ = child.kill();
                child
                    .wait()
                    .map_err(|e| format!("wait for killed ctr: {e}"))?
            }
        };
        finished.store(true, Ordering::SeqCst);
        let collect = |reader: Option<JoinHandle<Vec<u8>>>| {
            reader
                .and_then(|handle| handle.join().ok())
                .unwrap_or_default()
        };
        let output = Output {
            args,
            status,
            stdout: collect(stdout),
            stderr: collect(stderr),
            elapsed: started.elapsed(),
        };
        if let Some(feeder) = feeder {
            let _ = feeder.join();
        }
        self.record_footprint();
        if timed_out {
            return Err(format!(
                "ctr did not finish within {:?} and was killed\n{output}",
                self.timeout
            ));
        }
        Ok(output)
    }

    fn record_footprint(&self) {
        if let Ok(mut footprint) = self.footprint.lock() {
            footprint.record_bundles(&self.bundles);
        }
    }

    fn record_id(&self, id: &str) {
        if let Ok(mut footprint) = self.footprint.lock() {
            footprint.ids.insert(id.to_string());
        }
    }

    /// `ctr run` of `argv` as container `id`; finish with [`Launch::attached`],
    /// [`Launch::detached`] or [`Launch::terminal`].
    pub fn run(&self, id: &str, argv: &[&str]) -> Launch<'_> {
        Launch::new(
            self,
            Kind::Run {
                id: id.into(),
                argv: argv.iter().map(|s| s.to_string()).collect(),
            },
        )
    }

    /// `ctr task start` of container `id` (made by [`Ctr::create`]). Attached, ctr deletes the
    /// task once it exited; the container stays.
    pub fn start(&self, id: &str) -> Launch<'_> {
        Launch::new(self, Kind::Start { id: id.into() })
    }

    /// `ctr task exec --exec-id <exec_id>` of `argv` in task `id`.
    pub fn exec(&self, id: &str, exec_id: &str, argv: &[&str]) -> Launch<'_> {
        Launch::new(
            self,
            Kind::Exec {
                id: id.into(),
                exec_id: exec_id.into(),
                argv: argv.iter().map(|s| s.to_string()).collect(),
            },
        )
    }

    /// `ctr container create` of container `id` running `argv` on the shared rootfs, with or
    /// without a terminal, for [`Ctr::start`]. The spec is [`crate::bundle::config`]'s, given
    /// with `--config`: ctr 1.6's `container create` (unlike `run`) reorders its arguments, so
    /// `create --rootfs <dir> <id> sh -c <script>` takes `-c` for its own flag and fails with
    /// `identifier "-c" must match ...`.
    pub fn create(&self, id: &str, argv: &[&str], terminal: bool) -> Output {
        self.record_id(id);
        let spec = bundle::config(&bundle::ConfigOptions {
            args: argv.iter().map(|s| s.to_string()).collect(),
            terminal,
            pid_namespace: true,
            rootfs: self.rootfs.clone(),
        });
        std::fs::create_dir_all(&self.spec_dir).expect("create the spec directory");
        let path = self.spec_dir.join(format!("{id}.json"));
        let text = serde_json::to_vec_pretty(&spec).expect("a spec serializes");
        std::fs::write(&path, text).expect("write the container's spec");
        let args = [
            "containers",
            "create",
            "--runtime",
            &self.runtime,
            "--config",
            &path.display().to_string(),
            id,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        self.execute(args, Stdin::Null)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn container_flags(&self) -> Vec<String> {
        [
            "--runtime",
            &self.runtime,
            "--read-only",
            "--env",
            "PATH=/bin",
            "--mount",
            TMP_MOUNT,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// `ctr task ls`, or why it failed.
    pub fn try_tasks(&self) -> Result<Vec<Task>, String> {
        let output = self.try_output(&["tasks", "ls"])?;
        if !output.success() {
            return Err(output.to_string());
        }
        Ok(output
            .stdout_text()
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut columns = line.split_whitespace();
                let id = columns.next()?.to_string();
                let pid = columns.next()?.parse().ok()?;
                let status = columns.next()?.to_string();
                Some(Task { id, pid, status })
            })
            .collect())
    }

    /// `ctr task ls`.
    pub fn tasks(&self) -> Vec<Task> {
        self.try_tasks().unwrap_or_else(|error| panic!("{error}"))
    }

    /// Task `id` in `ctr task ls`, if listed.
    pub fn task(&self, id: &str) -> Option<Task> {
        self.tasks().into_iter().find(|task| task.id == id)
    }

    /// Polls `ctr task ls` until task `id` has `status`, failing the test after `timeout`.
    pub fn wait_for_status(&self, id: &str, status: &str, timeout: Duration) -> Task {
        let deadline = Instant::now() + timeout;
        loop {
            let task = self.task(id);
            if let Some(task) = task.as_ref().filter(|task| task.status == status) {
                return task.clone();
            }
            assert!(
                Instant::now() < deadline,
                "task {id} did not become {status} within {timeout:?}: {task:?}"
            );
            driver::pause(TASK_LS_POLL);
        }
    }

    /// The pids `ctr task ps` lists for task `id`.
    pub fn pids(&self, id: &str) -> Vec<u32> {
        self.ok(&["tasks", "ps", id])
            .stdout_text()
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next()?.parse().ok())
            .collect()
    }

    /// `ctr container ls -q`, or why it failed.
    pub fn try_container_ids(&self) -> Result<Vec<String>, String> {
        let output = self.try_output(&["containers", "ls", "-q"])?;
        if !output.success() {
            return Err(output.to_string());
        }
        Ok(output
            .stdout_text()
            .split_whitespace()
            .map(str::to_string)
            .collect())
    }

    /// `ctr task kill -s <signal> <id>`: the init only.
    pub fn kill(&self, id: &str, signal: &str) -> Output {
        self.output(&["tasks", "kill", "-s", signal, id])
    }

    /// `ctr task kill --exec-id <exec_id> -s <signal> <id>`.
    pub fn kill_exec(&self, id: &str, exec_id: &str, signal: &str) -> Output {
        self.output(&["tasks", "kill", "--exec-id", exec_id, "-s", signal, id])
    }

    /// `ctr task delete <id>`.
    pub fn delete_task(&self, id: &str) -> Output {
        self.output(&["tasks", "delete", id])
    }

    /// `ctr task delete <id>`, failing the test unless it succeeds, and the exit status
    /// containerd's Delete reported. ctr 1.6 exits 0 whatever the status and names a non-zero
    /// one only in a warning on stderr: `task <id> exit with non-zero exit code <n>`.
    pub fn delete_task_status(&self, id: &str) -> u32 {
        let output = self.delete_task(id).ok();
        let stderr = output.stderr_text();
        let marker = "exit with non-zero exit code ";
        match stderr.split_once(marker) {
            None => 0,
            Some((_, rest)) => rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|digits| digits.parse().ok())
                .unwrap_or_else(|| panic!("no exit status after {marker:?}: {output}")),
        }
    }

    /// `ctr task pause <id>`.
    pub fn pause(&self, id: &str) -> Output {
        self.output(&["tasks", "pause", id])
    }

    /// `ctr task resume <id>`.
    pub fn resume(&self, id: &str) -> Output {
        self.output(&["tasks", "resume", id])
    }

    /// `ctr container delete <id>`.
    pub fn delete_container(&self, id: &str) -> Output {
        self.output(&["containers", "delete", id])
    }

    /// The bundle directory of task `id`.
    pub fn bundle(&self, id: &str) -> PathBuf {
        self.bundles.join(id)
    }
}

enum Kind {
    Run {
        id: String,
        argv: Vec<String>,
    },
    Start {
        id: String,
    },
    Exec {
        id: String,
        exec_id: String,
        argv: Vec<String>,
    },
}

/// How ctr stays with the process it launches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Attached to its stdio, without a terminal; ctr exits with the process.
    Attached,
    /// `-d`: ctr returns once the process started.
    Detached,
    /// `-t`: attached on a terminal, which must be ctr's own stdin.
    Terminal,
}

/// A `ctr run`, `ctr task start` or `ctr task exec` being put together.
pub struct Launch<'a> {
    ctr: &'a Ctr,
    kind: Kind,
    flags: Vec<String>,
    stdin: Vec<u8>,
}

impl<'a> Launch<'a> {
    fn new(ctr: &'a Ctr, kind: Kind) -> Launch<'a> {
        Launch {
            ctr,
            kind,
            flags: Vec::new(),
            stdin: Vec::new(),
        }
    }

    /// An extra ctr flag (or a flag's value: call once for each word).
    pub fn flag(mut self, flag: &str) -> Launch<'a> {
        self.flags.push(flag.into());
        self
    }

    /// An environment variable for the process, `NAME=value` (run only; exec inherits the
    /// container's).
    pub fn env(self, assignment: &str) -> Launch<'a> {
        self.flag("--env").flag(assignment)
    }

    /// `--rm`: remove the container once it exits (run only, not with detached).
    pub fn rm(self) -> Launch<'a> {
        self.flag("--rm")
    }

    /// `--mount` of the host directory `source` at `destination`, read-write: how a test
    /// watches or steers a container without going through its stdio. `destination` belongs
    /// under `/tmp` (the container's tmpfs), so that runc makes no mount point in the shared
    /// rootfs.
    pub fn bind(self, source: &Path, destination: &str) -> Launch<'a> {
        let mount = format!(
            "type=bind,src={},dst={destination},options=rbind:rw",
            source.display()
        );
        self.flag("--mount").flag(&mount)
    }

    /// What the attached process reads on stdin; without it, stdin is empty. Either way the
    /// process sees EOF once it runs.
    pub fn stdin(mut self, bytes: &[u8]) -> Launch<'a> {
        self.stdin = bytes.to_vec();
        self
    }

    fn id(&self) -> &str {
        match &self.kind {
            Kind::Run { id, .. } | Kind::Start { id } | Kind::Exec { id, .. } => id,
        }
    }

    /// ctr's arguments for `mode`.
    fn args(&self, mode: Mode) -> Vec<String> {
        let ctr = self.ctr;
        let fifo_dir = ctr.fifo_dir.display().to_string();
        let mut args: Vec<String> = Vec::new();
        let mode_flag = match mode {
            Mode::Attached => None,
            Mode::Detached => Some("-d".to_string()),
            Mode::Terminal => Some("-t".to_string()),
        };
        match &self.kind {
            Kind::Run { id, argv } => {
                args.extend(["run".into(), "--fifo-dir".into(), fifo_dir]);
                args.extend(ctr.container_flags());
                args.extend(self.flags.iter().cloned());
                args.extend(mode_flag);
                args.extend([
                    "--rootfs".into(),
                    ctr.rootfs.display().to_string(),
                    id.clone(),
                ]);
                args.extend(argv.iter().cloned());
            }
            Kind::Start { id } => {
                args.extend([
                    "tasks".into(),
                    "start".into(),
                    "--fifo-dir".into(),
                    fifo_dir,
                ]);
                args.extend(self.flags.iter().cloned());
                // A terminal comes from the container's spec (`create -t`), not from a flag.
                args.extend(mode_flag.filter(|_| mode == Mode::Detached));
                args.push(id.clone());
            }
            Kind::Exec { id, exec_id, argv } => {
                args.extend(["tasks".into(), "exec".into(), "--fifo-dir".into(), fifo_dir]);
                args.extend(["--exec-id".into(), exec_id.clone()]);
                args.extend(self.flags.iter().cloned());
                args.extend(mode_flag);
                args.push(id.clone());
                args.extend(argv.iter().cloned());
            }
        }
        args
    }

    /// ctr's whole command line for `mode` (the binary, `--address`, `--namespace`, then what
    /// the other finishers run), for a caller that runs it its own way: timed without the
    /// helpers' reader threads, with its stdout read as a stream, or under `script`.
    pub fn command_line(self, mode: Mode) -> Vec<String> {
        self.ctr.record_id(self.id());
        let mut line = vec![
            self.ctr.binary.display().to_string(),
            "--address".into(),
            self.ctr.address.display().to_string(),
            "--namespace".into(),
            self.ctr.namespace.clone(),
        ];
        line.extend(self.args(mode));
        line
    }

    /// Runs attached without a terminal: the input is fed to stdin, and stdout, stderr and the
    /// exit code come back. Fails the test only on a timeout.
    pub fn attached(self) -> Output {
        let ctr = self.ctr;
        let id = self.id().to_string();
        ctr.record_id(&id);
        let exec_id = match &self.kind {
            Kind::Exec { exec_id, .. } => exec_id.clone(),
            _ => String::new(),
        };
        let probe = StartProbe {
            bundle: ctr.bundle(&id),
            id,
            exec_id,
            client: None,
            footprint: Arc::clone(&ctr.footprint),
        };
        let args = self.args(Mode::Attached);
        let stdin = Stdin::Feed {
            bytes: self.stdin,
            probe,
        };
        ctr.execute(args, stdin)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Runs with `-d`: ctr returns once the process started. Fails the test only on a timeout.
    pub fn detached(self) -> Output {
        self.ctr.record_id(self.id());
        self.ctr
            .execute(self.args(Mode::Detached), Stdin::Null)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Runs with `-t` on a terminal of `rows` x `cols` the test owns ([`Terminal`]): ctr sends
    /// that size as its first ResizePty and forwards every later [`Terminal::resize`].
    pub fn terminal(self, rows: u16, cols: u16) -> Terminal {
        self.ctr.record_id(self.id());
        let mut command = self.ctr.command();
        command.args(self.args(Mode::Terminal)).env("TZ", "UTC");
        Terminal::spawn(command, rows, cols)
            .unwrap_or_else(|error| panic!("spawn ctr on a terminal: {error}"))
    }
}
