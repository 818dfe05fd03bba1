//! What a test runs through the v0.2 shim and how: the process, its stdio, the runtime and the
//! shim's environment, including the switches the shim documents for its own modes. A
//! [`crate::container::Container`] is made from a [`Spec`].

use serde_json::{json, Value};

use crate::binaries::fake_runtime;
use crate::pump_path::PumpPath;

/// The shim's switch that forces the copy path (its README documents it).
pub const NO_SPLICE_ENV: &str = "TINYSHIM_NO_SPLICE";
/// The shim's switch that selects the legacy `--console /dev/pts/N` protocol.
pub const LEGACY_CONSOLE_ENV: &str = "TINYSHIM_LEGACY_CONSOLE";

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
