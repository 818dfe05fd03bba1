//! The runtime command lines of the v0.2 protocol, byte for byte as section T of the protocol
//! (docs/PROTOCOL-v0.2.md) gives them: pure functions, unit-tested against those forms.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::rfc3339::rfc3339_nano_utc;

use crate::runtime::CommandLine;
use crate::runtime::ConsoleArg;
use crate::v02::process_json::CheckpointConfig;

/// The command lines of one process: which container, which process directory.
#[derive(Debug, Clone)]
pub struct CommandLines {
    /// Global flags from `runtimeArgs`.
    pub args: Vec<String>,
    /// The container id.
    pub id: String,
    /// The bundle directory, the cwd of create, exec and restore.
    pub bundle: PathBuf,
    /// The absolute process directory (the shim's cwd), where `log.json` and `pid` go.
    pub process_dir: PathBuf,
}

impl CommandLines {
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
    pub fn create(&self, console: ConsoleArg<'_>, no_pivot: bool) -> CommandLine {
        let mut argv = self.logged("create");
        argv.push("--bundle".into());
        argv.push(self.bundle.clone().into());
        console.push_to(&mut argv);
        if no_pivot {
            argv.push("--no-pivot".into());
        }
        self.finish(&mut argv);
        command(argv, "create")
    }

    /// `exec -d --process SD/process.json [console] --pid-file SD/pid ID`.
    pub fn exec(&self, console: ConsoleArg<'_>) -> CommandLine {
        let mut argv = self.logged("exec");
        argv.push("-d".into());
        argv.push("--process".into());
        argv.push(self.process_dir.join("process.json").into());
        console.push_to(&mut argv);
        self.finish(&mut argv);
        command(argv, "exec")
    }

    /// `restore -d --image-path CP --work-path CP/criu.work/restore-<time> [--shell-job]
    /// [--tcp-established] [--ext-unix-sk] [--no-pivot] [--empty-ns NS]... [console]
    /// --pid-file SD/pid ID`. The console flag is this shim's addition: the original passed none
    /// and then waited forever for a terminal that never came.
    pub fn restore(
        &self,
        checkpoint: &Path,
        config: &CheckpointConfig,
        console: ConsoleArg<'_>,
        no_pivot: bool,
        now: SystemTime,
    ) -> CommandLine {
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
        console.push_to(&mut argv);
        self.finish(&mut argv);
        command(argv, "restore")
    }

    /// `[runtimeArgs] kill --all ID SIGKILL` (no `--log`, like the original).
    pub fn kill_all(&self) -> CommandLine {
        let mut argv: Vec<OsString> = self.args.iter().map(OsString::from).collect();
        argv.extend(["kill", "--all", &self.id, "SIGKILL"].map(OsString::from));
        command(argv, "kill")
    }

    /// `[runtimeArgs] delete ID`.
    pub fn delete(&self) -> CommandLine {
        let mut argv: Vec<OsString> = self.args.iter().map(OsString::from).collect();
        argv.extend(["delete", &self.id].map(OsString::from));
        command(argv, "delete")
    }
}

fn command(args: Vec<OsString>, subcommand: &'static str) -> CommandLine {
    CommandLine { args, subcommand }
}

#[cfg(test)]
mod tests;
