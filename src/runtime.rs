//! The OCI runtime: building its command lines (pure functions, unit-tested against the byte-exact
//! forms of PROTOCOL.md section T) and spawning it.
//!
//! Runtime children are spawned from the loop and never waited for here: the reaper learns their
//! exit with every other child's, so no status can be stolen. Each child gets
//! `PR_SET_PDEATHSIG=SIGKILL`, which is sound because the shim has exactly one thread (the "parent"
//! of pdeathsig is the forking thread). std resets `SIGPIPE` in the child but not the signal mask,
//! so the child unblocks every signal itself: the runtime, and through it the container, must not
//! inherit the signals the shim blocks for its signalfd.

use std::ffi::OsString;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpid, getppid, Pid};

use crate::error::{Error, Result};
use crate::spec::CheckpointConfig;

/// How the runtime is told about the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleArg<'a> {
    /// No terminal: the process gets the stdio pipes.
    None,
    /// `--console-socket <path>`: the runtime sends the PTY master over this socket.
    Socket(&'a Path),
    /// `--console <slave>`: legacy runtimes open the slave the shim created.
    Legacy(&'a Path),
}

/// One runtime invocation context: which binary, for which container and process directory.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The name the daemon passed (`runc`, `docker-runc`, an absolute path), for messages.
    pub name: String,
    /// The executable, resolved through `PATH` once.
    pub program: PathBuf,
    /// Global flags from `runtimeArgs`.
    pub args: Vec<String>,
    /// The container id.
    pub id: String,
    /// The bundle directory, the cwd of create, exec and restore.
    pub bundle: PathBuf,
    /// The absolute process directory (the shim's cwd), where `log.json` and `pid` go.
    pub process_dir: PathBuf,
}

impl Runtime {
    /// Resolves `name` the way Go's `exec.LookPath` did for the original.
    pub fn new(
        name: &str,
        args: Vec<String>,
        id: &str,
        bundle: &Path,
        process_dir: &Path,
    ) -> Result<Runtime> {
        let program =
            look_path(name).ok_or_else(|| Error::RuntimeNotInstalled(name.to_string()))?;
        Ok(Runtime {
            name: name.to_string(),
            program,
            args,
            id: id.to_string(),
            bundle: bundle.to_path_buf(),
            process_dir: process_dir.to_path_buf(),
        })
    }

    /// `SD/pid`, as passed to `--pid-file`.
    pub fn pid_file(&self) -> PathBuf {
        self.process_dir.join("pid")
    }

    /// `--log SD/log.json --log-format json [runtimeArgs] <subcommand>`.
    fn logged(&self, subcommand: &str) -> Vec<OsString> {
        let mut argv: Vec<OsString> = vec![
            "--log".into(),
            self.process_dir.join("log.json").into(),
            "--log-format".into(),
            "json".into(),
        ];
        argv.extend(self.args.iter().map(OsString::from));
        argv.push(subcommand.into());
        argv
    }

    /// `--pid-file SD/pid <id>`, the common suffix.
    fn finish(&self, argv: &mut Vec<OsString>) {
        argv.push("--pid-file".into());
        argv.push(self.pid_file().into());
        argv.push(self.id.clone().into());
    }

    /// `create --bundle B [--console-socket S | --console P] [--no-pivot] --pid-file SD/pid ID`.
    pub fn create_argv(&self, console: ConsoleArg<'_>, no_pivot: bool) -> Vec<OsString> {
        let mut argv = self.logged("create");
        argv.push("--bundle".into());
        argv.push(self.bundle.clone().into());
        push_console(&mut argv, console);
        if no_pivot {
            argv.push("--no-pivot".into());
        }
        self.finish(&mut argv);
        argv
    }

    /// `exec -d --process SD/process.json [console] --pid-file SD/pid ID`.
    pub fn exec_argv(&self, console: ConsoleArg<'_>) -> Vec<OsString> {
        let mut argv = self.logged("exec");
        argv.push("-d".into());
        argv.push("--process".into());
        argv.push(self.process_dir.join("process.json").into());
        push_console(&mut argv, console);
        self.finish(&mut argv);
        argv
    }

    /// `restore -d --image-path CP --work-path CP/criu.work/restore-<time> [--shell-job]
    /// [--tcp-established] [--ext-unix-sk] [--no-pivot] [--empty-ns NS]... [console]
    /// --pid-file SD/pid ID`. The console flag is this shim's addition: the original passed none
    /// and then waited forever for a terminal that never came.
    pub fn restore_argv(
        &self,
        checkpoint: &Path,
        config: &CheckpointConfig,
        console: ConsoleArg<'_>,
        no_pivot: bool,
        now: SystemTime,
    ) -> Vec<OsString> {
        let mut argv = self.logged("restore");
        argv.push("-d".into());
        argv.push("--image-path".into());
        argv.push(checkpoint.into());
        argv.push("--work-path".into());
        argv.push(
            checkpoint
                .join("criu.work")
                .join(format!("restore-{}", rfc3339_nano_utc(now)))
                .into(),
        );
        let flags = [
            (config.shell, "--shell-job"),
            (config.tcp, "--tcp-established"),
            (config.unix_sockets, "--ext-unix-sk"),
            (no_pivot, "--no-pivot"),
        ];
        argv.extend(flags.iter().filter(|(on, _)| *on).map(|(_, f)| f.into()));
        for ns in &config.empty_ns {
            argv.push("--empty-ns".into());
            argv.push(ns.into());
        }
        push_console(&mut argv, console);
        self.finish(&mut argv);
        argv
    }

    /// `[runtimeArgs] kill --all ID SIGKILL` (no `--log`, like the original).
    pub fn kill_all_argv(&self) -> Vec<OsString> {
        let mut argv: Vec<OsString> = self.args.iter().map(OsString::from).collect();
        argv.extend(["kill", "--all", &self.id, "SIGKILL"].map(OsString::from));
        argv
    }

    /// `[runtimeArgs] delete ID`.
    pub fn delete_argv(&self) -> Vec<OsString> {
        let mut argv: Vec<OsString> = self.args.iter().map(OsString::from).collect();
        argv.extend(["delete", &self.id].map(OsString::from));
        argv
    }

    /// Spawns the runtime with `argv`, in `cwd` (the shim's own when `None`), with the given
    /// stdio, and returns its pid without waiting.
    pub fn spawn(&self, argv: &[OsString], cwd: Option<&Path>, stdio: [Stdio; 3]) -> Result<Pid> {
        let [stdin, stdout, stderr] = stdio;
        let mut command = Command::new(&self.program);
        command
            .args(argv)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr);
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        let shim = getpid();
        let unblocked = SigSet::empty();
        // SAFETY: the closure runs in the forked child before exec and makes only three raw
        // syscalls (rt_sigprocmask, prctl, getppid), all async-signal-safe; it allocates nothing
        // (the signal set is built before the fork, the error from a raw errno).
        unsafe {
            command.pre_exec(move || {
                sigprocmask(SigmaskHow::SIG_SETMASK, Some(&unblocked), None)?;
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                // The shim may have died between fork and prctl; the signal would never come.
                if getppid() != shim {
                    return Err(io::Error::from_raw_os_error(nix::libc::ESRCH));
                }
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| {
            Error::os(
                format!("spawn {} {}", self.name, subcommand_of(argv, &self.args)),
                e,
            )
        })?;
        // Dropping `Child` neither waits nor kills: the reaper collects the status.
        Ok(Pid::from_raw(child.id() as i32))
    }
}

/// The subcommand in `argv`, for messages: the first word after the global flags.
fn subcommand_of<'a>(argv: &'a [OsString], args: &[String]) -> std::borrow::Cow<'a, str> {
    let skip = if argv.first().map(|a| a == "--log").unwrap_or(false) {
        4 + args.len()
    } else {
        args.len()
    };
    argv.get(skip)
        .map(|a| a.to_string_lossy())
        .unwrap_or_default()
}

fn push_console(argv: &mut Vec<OsString>, console: ConsoleArg<'_>) {
    match console {
        ConsoleArg::None => {}
        ConsoleArg::Socket(path) => {
            argv.push("--console-socket".into());
            argv.push(path.into());
        }
        ConsoleArg::Legacy(path) => {
            argv.push("--console".into());
            argv.push(path.into());
        }
    }
}

/// Go's `exec.LookPath`: a name with a slash is used as is if it is an executable file; otherwise
/// the first executable regular file named `name` in a `PATH` directory (an empty entry means
/// the current directory).
pub fn look_path(name: &str) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let path = PathBuf::from(name);
        return is_executable(&path).then_some(path);
    }
    let search = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&search)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".").join(name)
            } else {
                dir.join(name)
            }
        })
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Go's `time.RFC3339Nano` in UTC: `2006-01-02T15:04:05.999999999Z`, trailing zeros of the
/// fraction trimmed and the dot dropped when the fraction is zero.
pub fn rfc3339_nano_utc(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let of_day = seconds % 86_400;
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    let nanos = since_epoch.subsec_nanos();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
