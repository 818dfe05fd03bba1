//! runc as the v2 shim runs it: the settings a task's runc options give, and the command lines,
//! in the forms the Go runc shim (through go-runc) uses, so that runc's state and logs are where
//! containerd's tools and the `delete` subcommand look for them.
//!
//! ```text
//! runc --root R --log B/log.json --log-format json [--systemd-cgroup] <subcommand> ...
//!   create --bundle B --pid-file B/init.pid [--console-socket S] [--no-pivot] [--no-new-keyring] ID
//!   start ID
//!   exec --process F --pid-file B/<exec>.pid [--console-socket S] --detach ID
//!   kill [--all] ID <signal number>        delete [--force] ID
//!   pause ID    resume ID    ps --format json ID    update --resources F ID
//!   checkpoint --image-path I --work-path W [--leave-running] [criu flags] ID
//!   restore --image-path I [--work-path W] [--parent-path P] --detach --pid-file B/init.pid
//!           [--console-socket S] [--no-pivot] --no-subreaper --bundle B ID
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::runtime::ConsoleArg;
use crate::runtime::{CommandLine, Runtime};
use crate::v2::proto::runc::{CheckpointOptions, Options};

/// Where runc keeps its state by default: `<this>/<namespace>`.
pub const DEFAULT_ROOT: &str = "/run/containerd/runc";

/// The pid file of the init process in the bundle.
pub const INIT_PID_FILE: &str = "init.pid";

/// runc's log in the bundle, where it writes why a call failed.
pub const LOG_FILE: &str = "log.json";

/// What a task's runc options decide, kept in the bundle for the `delete` subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The runtime binary's name or path.
    pub binary: String,
    /// `--root`.
    pub root: PathBuf,
    /// `--systemd-cgroup`.
    pub systemd_cgroup: bool,
    /// `create --no-pivot`.
    pub no_pivot_root: bool,
    /// `create --no-new-keyring`.
    pub no_new_keyring: bool,
    /// Owner of the stdio pipes.
    pub io_owner: (u32, u32),
    /// `restore --work-path`; `None` leaves it to runc.
    #[serde(default)]
    pub criu_work_path: Option<PathBuf>,
}

impl Settings {
    /// The settings of `options` (absent: the defaults) in `namespace`.
    pub fn new(options: Option<&Options>, namespace: &str) -> Settings {
        let defaults = Options::default();
        let options = options.unwrap_or(&defaults);
        let binary = if options.binary_name.is_empty() {
            "runc".to_string()
        } else {
            options.binary_name.clone()
        };
        // Each namespace has its own directory under the root, as the Go shim keeps them.
        let root = if options.root.is_empty() {
            Path::new(DEFAULT_ROOT)
        } else {
            Path::new(&options.root)
        }
        .join(namespace);
        Settings {
            binary,
            root,
            systemd_cgroup: options.systemd_cgroup,
            no_pivot_root: options.no_pivot_root,
            no_new_keyring: options.no_new_keyring,
            io_owner: (options.io_uid, options.io_gid),
            criu_work_path: (!options.criu_work_path.is_empty())
                .then(|| PathBuf::from(&options.criu_work_path)),
        }
    }

    /// The runtime binary, resolved on `search` (a `PATH`).
    pub fn runtime(&self, search: &std::ffi::OsStr) -> Result<Runtime> {
        Runtime::find(&self.binary, search)
    }
}

/// The command lines of one container's runc calls.
#[derive(Debug, Clone)]
pub struct CommandLines<'a> {
    /// The settings.
    pub settings: &'a Settings,
    /// The container id.
    pub id: &'a str,
    /// The bundle.
    pub bundle: &'a Path,
}

impl CommandLines<'_> {
    fn global(&self, subcommand: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--root".into(),
            self.settings.root.clone().into(),
            "--log".into(),
            self.bundle.join(LOG_FILE).into(),
            "--log-format".into(),
            "json".into(),
        ];
        if self.settings.systemd_cgroup {
            args.push("--systemd-cgroup".into());
        }
        args.push(subcommand.into());
        args
    }

    /// `create`, with the console flag the process's stdio asks for.
    pub fn create(&self, console: ConsoleArg<'_>) -> CommandLine {
        let mut args = self.global("create");
        args.extend(["--bundle".into(), self.bundle.into()]);
        args.extend(["--pid-file".into(), self.init_pid_file().into()]);
        console.push_to(&mut args);
        if self.settings.no_pivot_root {
            args.push("--no-pivot".into());
        }
        if self.settings.no_new_keyring {
            args.push("--no-new-keyring".into());
        }
        args.push(self.id.into());
        CommandLine {
            args,
            subcommand: "create",
        }
    }

    /// `restore --detach` of the checkpoint `image` (and its `parent`): the process made and
    /// started in one call, as `create` then `start` would.
    pub fn restore(
        &self,
        image: &Path,
        parent: Option<&Path>,
        console: ConsoleArg<'_>,
    ) -> CommandLine {
        let mut args = self.global("restore");
        args.extend(["--image-path".into(), image.into()]);
        if let Some(work) = &self.settings.criu_work_path {
            args.extend(["--work-path".into(), work.into()]);
        }
        if let Some(parent) = parent {
            args.extend(["--parent-path".into(), parent.into()]);
        }
        args.push("--detach".into());
        args.extend(["--pid-file".into(), self.init_pid_file().into()]);
        console.push_to(&mut args);
        if self.settings.no_pivot_root {
            args.push("--no-pivot".into());
        }
        args.push("--no-subreaper".into());
        args.extend(["--bundle".into(), self.bundle.into(), self.id.into()]);
        CommandLine {
            args,
            subcommand: "restore",
        }
    }

    /// `checkpoint` to `image`, criu working in `work`, as `options` ask: the container goes on
    /// running unless they say `exit`.
    pub fn checkpoint(
        &self,
        image: &Path,
        work: &Path,
        options: &CheckpointOptions,
    ) -> CommandLine {
        let mut args = self.global("checkpoint");
        args.extend(["--image-path".into(), image.into()]);
        args.extend(["--work-path".into(), work.into()]);
        if !options.exit {
            args.push("--leave-running".into());
        }
        let flags = [
            (options.open_tcp, "--tcp-established"),
            (options.external_unix_sockets, "--ext-unix-sk"),
            (options.terminal, "--shell-job"),
            (options.file_locks, "--file-locks"),
        ];
        args.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, flag)| flag.into()),
        );
        for namespace in &options.empty_namespaces {
            args.extend(["--empty-ns".into(), namespace.into()]);
        }
        if !options.parent_path.is_empty() {
            args.extend(["--parent-path".into(), (&options.parent_path).into()]);
        }
        args.push(self.id.into());
        CommandLine {
            args,
            subcommand: "checkpoint",
        }
    }

    /// The init's pid file.
    pub fn init_pid_file(&self) -> PathBuf {
        self.bundle.join(INIT_PID_FILE)
    }

    /// `start`.
    pub fn start(&self) -> CommandLine {
        let mut args = self.global("start");
        args.push(self.id.into());
        CommandLine {
            args,
            subcommand: "start",
        }
    }

    /// `exec --detach` of the process described in `process_file`.
    pub fn exec(
        &self,
        process_file: &Path,
        pid_file: &Path,
        console: ConsoleArg<'_>,
    ) -> CommandLine {
        let mut args = self.global("exec");
        args.extend(["--process".into(), process_file.into()]);
        args.extend(["--pid-file".into(), pid_file.into()]);
        console.push_to(&mut args);
        args.push("--detach".into());
        args.push(self.id.into());
        CommandLine {
            args,
            subcommand: "exec",
        }
    }

    /// `kill`, of every process of the container with `all`.
    pub fn kill(&self, signal: u32, all: bool) -> CommandLine {
        let mut args = self.global("kill");
        if all {
            args.push("--all".into());
        }
        args.push(self.id.into());
        args.push(signal.to_string().into());
        CommandLine {
            args,
            subcommand: "kill",
        }
    }

    /// `delete --force`: the container may still run (a Delete after a failed start, the
    /// `delete` subcommand after a dead shim), and runc then kills it first.
    pub fn delete(&self) -> CommandLine {
        let mut args = self.global("delete");
        args.push("--force".into());
        args.push(self.id.into());
        CommandLine {
            args,
            subcommand: "delete",
        }
    }

    /// `pause` or `resume`.
    pub fn freeze(&self, pause: bool) -> CommandLine {
        let subcommand = if pause { "pause" } else { "resume" };
        let mut args = self.global(subcommand);
        args.push(self.id.into());
        CommandLine { args, subcommand }
    }

    /// `update --resources <file>`: the container's resources as the OCI `LinuxResources` JSON
    /// in `resources` (runc also reads `-` as stdin; crun reads only a file).
    pub fn update(&self, resources: &Path) -> CommandLine {
        let mut args = self.global("update");
        args.extend(["--resources".into(), resources.into(), self.id.into()]);
        CommandLine {
            args,
            subcommand: "update",
        }
    }

    /// `ps --format json`: the container's pids as a JSON list.
    pub fn ps(&self) -> CommandLine {
        let mut args = self.global("ps");
        args.extend(["--format".into(), "json".into(), self.id.into()]);
        CommandLine {
            args,
            subcommand: "ps",
        }
    }
}

/// Why runc failed, from its log: the message of the last `error` entry, if any. runc writes
/// one JSON object per line; at most the last [`LOG_TAIL`] bytes are read.
pub fn last_error(bundle: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(bundle.join(LOG_FILE)).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(LOG_TAIL)))
        .ok()?;
    let mut tail = Vec::new();
    file.take(LOG_TAIL).read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    text.lines().rev().find_map(|line| {
        let entry: serde_json::Value = serde_json::from_str(line).ok()?;
        (entry["level"] == "error")
            .then(|| entry["msg"].as_str().map(str::to_owned))
            .flatten()
    })
}

/// How much of runc's log is read for its last error.
pub const LOG_TAIL: u64 = 16 * 1024;

/// The pids `runc ps --format json` printed.
pub fn parse_ps(output: &[u8]) -> Option<Vec<u32>> {
    serde_json::from_slice::<Option<Vec<u32>>>(output)
        .ok()
        .map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests;
