//! `fake-runtime`: an OCI runtime stand-in for failure injection in the integration tests.
//!
//! The shim passes its environment to the runtime, so a test sets these on the shim:
//!
//! * `FAKE_RUNTIME_LOG=<file>`: append one JSON line per call: `argv`, `cwd`, the blocked signal
//!   mask (`sigblk`), the open descriptors (`fds`) and the pdeathsig.
//! * `FAKE_START=<mode>` for `create`, `exec` and `restore`:
//!   * `ok` (default): start `/bin/sh -c "$FAKE_CHILD"` (default `sleep 3600`) detached, so that
//!     it is reparented to the shim, write its pid to `--pid-file`, exit 0;
//!   * `fail`: write an error to `--log` and exit 1 (after starting the child, like a runc that
//!     failed half-way, when `FAKE_FAIL_CHILD=1`);
//!   * `pid:<content>`: write `<content>` verbatim to the pid file and exit 0 (still starting the
//!     child when `FAKE_PID_CHILD=1`);
//!   * `nopid`: exit 0 without a pid file;
//!   * `hang`: sleep forever;
//!   * `stderr:<bytes>`: write that many bytes to stderr, then as `ok`.
//! * `FAKE_CONSOLE=<mode>` when `--console-socket` is given: `send` (default: a real PTY master,
//!   the child gets the slave), `none` (never connect), `close` (connect, send nothing), `two`
//!   (two descriptors), `notty` (a pipe), `nofd` (bytes without a descriptor). With `--console
//!   <slave>` (legacy) the child opens the slave as its stdio, except with `none`.
//! * `FAKE_CONSOLE_CHILD=1`: in the console modes that send no usable terminal, start the child
//!   anyway (without a terminal) and write its pid, like a runtime that started the process but
//!   botched its console.
//! * `FAKE_CHILD_EXITS_FIRST=1`: wait until the child has exited (without reaping it) before
//!   writing the pid file, like a process that dies at once, before the shim got its terminal.
//! * `FAKE_STAMP=<file>` and `FAKE_EXEC=<runtime>` (for the benchmark): append the
//!   `CLOCK_MONOTONIC` time in nanoseconds at which this runtime started to `<file>`, then exec
//!   `<runtime>` with the same arguments, so that a shim's own start-up can be told apart from the
//!   real runtime's time.
//! * `FAKE_KILL_EXIT`, `FAKE_DELETE_EXIT`: exit codes of `kill` and `delete` (default 0). `kill`
//!   SIGKILLs the pid recorded at start under `$FAKE_RUNTIME_STATE/<id>` when that is set.

use std::fs::OpenOptions;
use std::io::{IoSlice, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The value following `flag` in `argv`.
fn flag_value<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    argv.iter()
        .position(|a| a == flag)
        .and_then(|i| argv.get(i + 1))
        .map(String::as_str)
}

fn record(argv: &[String]) {
    let Some(log) = env("FAKE_RUNTIME_LOG") else {
        return;
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    fds.sort_unstable();
    // The read_dir handle itself was one of them; it is closed now.
    let fds: Vec<i32> = fds
        .into_iter()
        .filter(|fd| Path::new(&format!("/proc/self/fd/{fd}")).exists())
        .collect();
    let mut pdeathsig: nix::libc::c_int = 0;
    // SAFETY: PR_GET_PDEATHSIG writes one c_int through the pointer, which points to a live local.
    unsafe {
        nix::libc::prctl(
            nix::libc::PR_GET_PDEATHSIG,
            &mut pdeathsig as *mut nix::libc::c_int,
        );
    }
    let line = serde_json::json!({
        "argv": argv,
        "cwd": std::env::current_dir().unwrap_or_default(),
        "sigblk": field("SigBlk:"),
        "fds": fds,
        "pdeathsig": pdeathsig,
    });
    // One write per line: with O_APPEND it lands whole, so a test polling the log never reads
    // half a line (`writeln!` may split it into several writes).
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(log) {
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Some(stamp) = env("FAKE_STAMP") {
        let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128)
            .unwrap_or_default();
        if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(stamp) {
            let _ = file.write_all(format!("{now}\n").as_bytes());
        }
    }
    if let Some(runtime) = env("FAKE_EXEC") {
        let error = std::process::Command::new(&runtime).args(&argv).exec();
        eprintln!("fake-runtime: exec {runtime}: {error}");
        return ExitCode::from(127);
    }
    record(&argv);
    let subcommand = argv
        .iter()
        .find(|a| ["create", "exec", "restore", "kill", "delete", "start"].contains(&a.as_str()))
        .cloned()
        .unwrap_or_default();
    match subcommand.as_str() {
        "create" | "exec" | "restore" => start(&argv),
        "kill" => {
            if let (Some(state), Some(id)) = (
                env("FAKE_RUNTIME_STATE"),
                argv.get(argv.len().wrapping_sub(2)),
            ) {
                if let Ok(pid) = std::fs::read_to_string(Path::new(&state).join(id)) {
                    if let Ok(pid) = pid.trim().parse::<i32>() {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
            }
            exit_code("FAKE_KILL_EXIT")
        }
        "delete" => exit_code("FAKE_DELETE_EXIT"),
        _ => ExitCode::SUCCESS,
    }
}

fn exit_code(variable: &str) -> ExitCode {
    ExitCode::from(env(variable).and_then(|v| v.parse().ok()).unwrap_or(0u8))
}

fn start(argv: &[String]) -> ExitCode {
    let mode = env("FAKE_START").unwrap_or_else(|| "ok".into());
    let pid_file = flag_value(argv, "--pid-file").map(PathBuf::from);
    let log = flag_value(argv, "--log").map(PathBuf::from);
    let id = argv.last().cloned().unwrap_or_default();
    let (mode, detail) = mode.split_once(':').unwrap_or((mode.as_str(), ""));
    match mode {
        "hang" => loop {
            nix::unistd::pause();
        },
        "fail" => {
            if env("FAKE_FAIL_CHILD").is_some() {
                let _ = spawn_child(argv, &id);
            }
            if let Some(log) = log {
                let _ = std::fs::write(
                    log,
                    "{\"level\":\"error\",\"msg\":\"fake runtime failed as asked\",\"time\":\"2017-01-01T00:00:00Z\"}\n",
                );
            }
            return ExitCode::from(1);
        }
        "nopid" => return ExitCode::SUCCESS,
        "pid" => {
            if env("FAKE_PID_CHILD").is_some() {
                let _ = spawn_child(argv, &id);
            }
            if let Some(pid_file) = pid_file {
                let _ = std::fs::write(pid_file, detail.as_bytes());
            }
            return ExitCode::SUCCESS;
        }
        "stderr" => {
            let count: usize = detail.parse().unwrap_or(0);
            let chunk = vec![b'E'; 64 * 1024];
            let mut left = count;
            let mut stderr = std::io::stderr().lock();
            while left > 0 {
                let n = left.min(chunk.len());
                if stderr.write_all(&chunk[..n]).is_err() {
                    break;
                }
                left -= n;
            }
        }
        _ => {}
    }
    let pid = match spawn_child(argv, &id) {
        Ok(Some(pid)) => pid,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-runtime: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(pid_file) = pid_file {
        let _ = std::fs::write(pid_file, pid.to_string());
    }
    ExitCode::SUCCESS
}

/// Starts the "container process", with its terminal when one is asked for. `Ok(None)` when the
/// console mode says to stop short.
fn spawn_child(argv: &[String], id: &str) -> std::io::Result<Option<u32>> {
    let script = env("FAKE_CHILD").unwrap_or_else(|| "sleep 3600".into());
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(&script);
    if let Some(socket_path) = flag_value(argv, "--console-socket") {
        let console = env("FAKE_CONSOLE").unwrap_or_else(|| "send".into());
        match console_socket(socket_path, &console)? {
            Some(slave) => {
                command
                    .stdin(Stdio::from(slave.try_clone()?))
                    .stdout(Stdio::from(slave.try_clone()?))
                    .stderr(Stdio::from(slave));
            }
            None if env("FAKE_CONSOLE_CHILD").is_some() => {}
            None => return Ok(None),
        }
    } else if let Some(slave_path) = flag_value(argv, "--console") {
        // `none`: a runtime that ignores the console; the child keeps the runtime's stdio.
        if env("FAKE_CONSOLE").as_deref() != Some("none") {
            let open = || OpenOptions::new().read(true).write(true).open(slave_path);
            command.stdin(open()?).stdout(open()?).stderr(open()?);
        }
    }
    // SAFETY: setsid is async-signal-safe; it makes the child its own session so that it does
    // not share the runtime's controlling terminal.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()?;
            Ok(())
        });
    }
    let child = command.spawn()?;
    if let Some(state) = env("FAKE_RUNTIME_STATE") {
        let _ = std::fs::write(Path::new(&state).join(id), child.id().to_string());
    }
    if env("FAKE_CHILD_EXITS_FIRST").is_some() {
        // WNOWAIT leaves the zombie for the shim to reap once this runtime exits.
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let flags = nix::sys::wait::WaitPidFlag::WEXITED | nix::sys::wait::WaitPidFlag::WNOWAIT;
        nix::sys::wait::waitid(nix::sys::wait::Id::Pid(pid), flags)?;
    }
    Ok(Some(child.id()))
}

/// Plays the runtime's side of `--console-socket` in the way `mode` says; returns the slave for
/// the child when a master was sent.
fn console_socket(path: &str, mode: &str) -> std::io::Result<Option<OwnedFd>> {
    if mode == "none" {
        return Ok(None);
    }
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    connect(sock.as_raw_fd(), &UnixAddr::new(path)?)?;
    let name = b"/dev/pts/fake";
    let iov = [IoSlice::new(name)];
    let send = |fds: &[i32]| -> std::io::Result<()> {
        let cmsg = [ControlMessage::ScmRights(fds)];
        sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)?;
        Ok(())
    };
    match mode {
        "close" => Ok(None),
        "nofd" => {
            sendmsg::<()>(sock.as_raw_fd(), &iov, &[], MsgFlags::empty(), None)?;
            Ok(None)
        }
        "notty" => {
            let (read, _write) = nix::unistd::pipe()?;
            send(&[read.as_raw_fd()])?;
            Ok(None)
        }
        _ => {
            let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
            grantpt(&master)?;
            unlockpt(&master)?;
            let slave_path = ptsname_r(&master)?;
            let slave: OwnedFd = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&slave_path)?
                .into();
            if mode == "two" {
                send(&[master.as_raw_fd(), slave.as_raw_fd()])?;
                return Ok(None);
            }
            send(&[master.as_raw_fd()])?;
            Ok(Some(slave))
        }
    }
}
