//! The daemon's side of the protocol, as containerd v0.2.x plays it: make the process directory,
//! its FIFOs and `process.json`, open the daemon's ends, spawn the shim, wait for the `pid` file,
//! send control messages, and watch the exit FIFO hang up.
//!
//! `shim-driver` (the demo), the integration tests and the benchmarks all use this module, so
//! they exercise the shim exactly as the daemon would.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;
use nix::unistd::mkfifo;
use serde_json::{json, Value};

/// How often the daemon polls for the `pid` file (containerd v0.2.x: every 15 ms).
pub const PID_POLL: Duration = Duration::from_millis(15);

/// What to write into `process.json` besides the OCI process.
#[derive(Debug, Clone, Default)]
pub struct ProcessOptions {
    /// The OCI `process` object (args, env, cwd, user, terminal, ...).
    pub process: Value,
    /// An exec process rather than the container's init.
    pub exec: bool,
    /// Make a stdin FIFO; without one the shim gets `""`, which means `/dev/null`.
    pub stdin: bool,
    /// `runtimeArgs`.
    pub runtime_args: Vec<String>,
    /// `noPivotRoot`.
    pub no_pivot_root: bool,
    /// `checkpoint` (a directory), for a restore.
    pub checkpoint: String,
    /// `rootUID` and `rootGID`.
    pub root_ids: (u32, u32),
}

impl ProcessOptions {
    /// Whether the process has a terminal.
    pub fn terminal(&self) -> bool {
        self.process["terminal"].as_bool().unwrap_or(false)
    }
}

/// A process directory `SD = <state>/<id>/<process id>` with the daemon's descriptors open.
#[derive(Debug)]
pub struct ProcessDir {
    /// `<state>/<id>`.
    pub container_dir: PathBuf,
    /// The process directory, the shim's cwd.
    pub dir: PathBuf,
    /// The daemon's read end of `exit` (`O_RDONLY|O_NONBLOCK`, opened before the shim starts).
    pub exit: OwnedFd,
    /// The daemon's `control` (`O_RDWR|O_NONBLOCK`).
    pub control: File,
    /// The client stdin FIFO, if any.
    pub stdin_path: Option<PathBuf>,
    /// The client stdout FIFO.
    pub stdout_path: PathBuf,
    /// The client stderr FIFO (created even for a terminal, as docker does, and never opened by
    /// the shim then).
    pub stderr_path: PathBuf,
    /// The daemon's stdout reader, opened before the shim starts.
    pub stdout: Option<File>,
    /// The daemon's stderr reader.
    pub stderr: Option<File>,
}

/// Opens a FIFO's read side without blocking, as the daemon does.
pub fn open_fifo_reader(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
}

/// Opens a FIFO's write side without blocking; fails with ENXIO while no reader exists.
pub fn open_fifo_writer(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
}

impl ProcessDir {
    /// Creates the directory, FIFOs and `process.json`, and opens the daemon's ends of `exit`,
    /// `control`, stdout and stderr, in the daemon's order.
    pub fn create(
        state_dir: &Path,
        id: &str,
        process_id: &str,
        options: &ProcessOptions,
    ) -> io::Result<ProcessDir> {
        let container_dir = state_dir.join(id);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&container_dir)?;
        let dir = container_dir.join(process_id);
        std::fs::DirBuilder::new().mode(0o755).create(&dir)?;
        let fifo = |path: &Path, mode: u32| {
            mkfifo(path, Mode::from_bits_truncate(mode)).map_err(io::Error::from)
        };
        let stdin_path = options
            .stdin
            .then(|| container_dir.join(format!("{process_id}-stdin")));
        let stdout_path = container_dir.join(format!("{process_id}-stdout"));
        let stderr_path = container_dir.join(format!("{process_id}-stderr"));
        for path in stdin_path.iter().chain([&stdout_path, &stderr_path]) {
            fifo(path, 0o700)?;
        }
        let path_text =
            |p: Option<&PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_default();
        let mut state = options.process.clone();
        if !state.is_object() {
            state = json!({});
        }
        let extra = json!({
            "exec": options.exec,
            "containerdStdin": path_text(stdin_path.as_ref()),
            "containerdStdout": path_text(Some(&stdout_path)),
            "containerdStderr": path_text(Some(&stderr_path)),
            "runtimeArgs": options.runtime_args,
            "noPivotRoot": options.no_pivot_root,
            "checkpoint": options.checkpoint,
            "rootUID": options.root_ids.0,
            "rootGID": options.root_ids.1,
        });
        if let (Some(state), Some(extra)) = (state.as_object_mut(), extra.as_object()) {
            state.extend(extra.clone());
        }
        let mut text = serde_json::to_vec(&state).map_err(io::Error::other)?;
        text.push(b'\n');
        std::fs::write(dir.join("process.json"), text)?;
        fifo(&dir.join("exit"), 0o755)?;
        fifo(&dir.join("control"), 0o755)?;
        let exit = open(
            &dir.join("exit"),
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        let control = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(dir.join("control"))?;
        let stdout = Some(open_fifo_reader(&stdout_path)?);
        let stderr = if options.terminal() {
            None
        } else {
            Some(open_fifo_reader(&stderr_path)?)
        };
        Ok(ProcessDir {
            container_dir,
            dir,
            exit,
            control,
            stdin_path,
            stdout_path,
            stderr_path,
            stdout,
            stderr,
        })
    }

    /// Spawns `shim <id> <bundle> <runtime>` in the process directory with `/dev/null` stdio and
    /// its own process group, as containerd does. `env` is added to the inherited environment.
    pub fn spawn_shim(
        &self,
        shim: &Path,
        id: &str,
        bundle: &Path,
        runtime: &str,
        env: &[(&str, &str)],
    ) -> io::Result<Child> {
        Command::new(shim)
            .args([id.as_ref(), bundle.as_os_str(), runtime.as_ref()])
            .current_dir(&self.dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
    }

    /// Waits for the `pid` file like the daemon: the pid once it parses, or the shim's error
    /// (from `shim-log.json`, else the runtime's `log.json`) if the shim exits first.
    pub fn wait_for_pid(&self, shim: &mut Child, timeout: Duration) -> Result<i32, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(pid) = self.read_pid() {
                return Ok(pid);
            }
            if let Ok(Some(status)) = shim.try_wait() {
                if let Some(pid) = self.read_pid() {
                    return Ok(pid);
                }
                return Err(self.start_error().unwrap_or_else(|| {
                    format!("containerd: container not started (shim exited with {status})")
                }));
            }
            if Instant::now() >= deadline {
                return Err(format!("no pid file after {timeout:?}"));
            }
            pause(PID_POLL);
        }
    }

    /// The `pid` file, if it holds what the daemon accepts.
    pub fn read_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.dir.join("pid")).ok()?;
        text.parse().ok()
    }

    /// The error the daemon would report for a shim that died before the pid file appeared.
    pub fn start_error(&self) -> Option<String> {
        let first_error = |path: PathBuf, prefix: &str| -> Option<String> {
            let bytes = std::fs::read(path).ok()?;
            serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<Value>()
                .map_while(Result::ok)
                .find(|entry| entry["level"] == "error")
                .map(|entry| format!("{prefix}{}", entry["msg"].as_str().unwrap_or_default()))
        };
        first_error(self.dir.join("shim-log.json"), "shim error: ")
            .or_else(|| first_error(self.dir.join("log.json"), "oci runtime error: "))
    }

    /// Writes one control line, `"<kind> <width> <height>\n"`.
    pub fn send_control(&self, kind: i64, width: i64, height: i64) -> io::Result<()> {
        (&self.control).write_all(format!("{kind} {width} {height}\n").as_bytes())
    }

    /// Asks the shim to resize the terminal.
    pub fn resize(&self, width: u16, height: u16) -> io::Result<()> {
        self.send_control(1, i64::from(width), i64::from(height))
    }

    /// Asks the shim to drop its stdin writer.
    pub fn close_stdin(&self) -> io::Result<()> {
        self.send_control(0, 0, 0)
    }

    /// Whether the exit FIFO hung up within `timeout`: the daemon's "process exited".
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let millis = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.exit.as_fd(), PollFlags::empty())];
            match poll(&mut fds, millis) {
                Ok(_) => {
                    let hung_up = fds[0]
                        .revents()
                        .is_some_and(|r| r.contains(PollFlags::POLLHUP));
                    if hung_up {
                        return true;
                    }
                    if left.is_zero() {
                        return false;
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return false,
            }
        }
    }

    /// `exitStatus`, as the daemon parses it.
    pub fn exit_status(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("exitStatus"))
            .ok()?
            .parse()
            .ok()
    }

    /// Removes the container directory, as the daemon does after an init exit.
    pub fn remove(&self) -> io::Result<()> {
        std::fs::remove_dir_all(&self.container_dir)
    }
}

/// `<runtime> [runtimeArgs] start <id>`, as containerd runs it once the pid file appeared.
pub fn runtime_start(runtime: &str, runtime_args: &[String], id: &str) -> io::Result<()> {
    run_runtime(runtime, runtime_args, &["start", id])
}

/// Runs `<runtime> [runtimeArgs] <args>` to completion; a non-zero exit is an error holding its
/// output.
pub fn run_runtime(runtime: &str, runtime_args: &[String], args: &[&str]) -> io::Result<()> {
    let output = Command::new(runtime)
        .args(runtime_args)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{runtime} {}: {}: {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// The OCI `process` object of a bundle's `config.json`.
pub fn bundle_process(bundle: &Path) -> io::Result<Value> {
    let text = std::fs::read(bundle.join("config.json"))?;
    let config: Value = serde_json::from_slice(&text).map_err(io::Error::other)?;
    Ok(config["process"].clone())
}

/// Sleeps for `duration` in `poll(2)` on no descriptor.
pub fn pause(duration: Duration) {
    let timeout = PollTimeout::try_from(duration).unwrap_or(PollTimeout::MAX);
    let _ = poll(&mut [], timeout);
}
