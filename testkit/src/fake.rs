//! Containers run by the `fake-runtime` binary, which records every call and fails on demand
//! (its modes are documented at the top of `src/bin/fake-runtime.rs`).
//!
//! A [`Fake`] keeps what the fake reports in its container's scratch directory, outside the state
//! directory, so that the record survives the daemon (or a test) removing that: one JSON line per
//! runtime call, the pid of the process the fake started, and a private `TMPDIR` for the shim's
//! console-socket directories.

use std::path::{Path, PathBuf};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::assertions::assert_empty_dir;
use crate::container::Container;
use crate::process::Proc;
use crate::procfs::alive;
use crate::spec::Spec;

/// A container run by the fake runtime.
#[derive(Debug)]
pub struct Fake {
    /// The container; its runtime is the fake (or whatever the spec named instead).
    pub container: Container,
    calls: PathBuf,
    children: PathBuf,
    tmpdir: PathBuf,
}

/// One call of the runtime, as the fake recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Its argv, without the program.
    pub argv: Vec<String>,
    /// Its working directory.
    pub cwd: PathBuf,
    /// Its blocked signal mask (`SigBlk` of `/proc/self/status`, hexadecimal).
    pub sigblk: String,
    /// Its parent-death signal.
    pub pdeathsig: i64,
    /// The descriptors it had open.
    pub fds: Vec<i64>,
}

impl Fake {
    /// A container for `spec` (usually made by [`Spec::fake`]) that reports through files of its
    /// own. `TMPDIR` becomes private unless `spec` sets one.
    pub fn new(spec: Spec) -> Fake {
        let has_tmpdir = spec.env.iter().any(|(name, _)| name == "TMPDIR");
        let mut container = Container::new(spec);
        let calls = container.scratch().join("runtime-calls.jsonl");
        let children = container.scratch().join("children");
        std::fs::create_dir(&children).expect("create the fake's children directory");
        for (name, path) in [
            ("FAKE_RUNTIME_LOG", &calls),
            ("FAKE_RUNTIME_STATE", &children),
        ] {
            let value = path.display().to_string();
            container.spec.env.push((name.into(), value));
        }
        let tmpdir = if has_tmpdir {
            PathBuf::new()
        } else {
            container.private_tmpdir()
        };
        Fake {
            container,
            calls,
            children,
            tmpdir,
        }
    }

    /// The fake starting `/bin/sh -c <child>` on the host.
    pub fn sh(child: &str) -> Fake {
        Fake::new(Spec::fake(child))
    }

    /// The shim's private `TMPDIR` (canonical); empty when the spec chose its own.
    pub fn tmpdir(&self) -> &Path {
        &self.tmpdir
    }

    /// Every runtime call so far.
    pub fn calls(&self) -> Vec<Call> {
        let text = std::fs::read_to_string(&self.calls).unwrap_or_default();
        text.lines()
            .map(|line| {
                let call: Value = serde_json::from_str(line).expect("a fake runtime log line");
                let strings = |key: &str| -> Vec<String> {
                    call[key]
                        .as_array()
                        .expect("a list")
                        .iter()
                        .map(|s| s.as_str().expect("a string").to_string())
                        .collect()
                };
                Call {
                    argv: strings("argv"),
                    cwd: PathBuf::from(call["cwd"].as_str().expect("cwd")),
                    sigblk: call["sigblk"].as_str().expect("sigblk").to_string(),
                    pdeathsig: call["pdeathsig"].as_i64().expect("pdeathsig"),
                    fds: call["fds"]
                        .as_array()
                        .expect("fds")
                        .iter()
                        .map(|fd| fd.as_i64().expect("a descriptor"))
                        .collect(),
                }
            })
            .collect()
    }

    /// The argv of every call so far.
    pub fn argvs(&self) -> Vec<Vec<String>> {
        self.calls().into_iter().map(|call| call.argv).collect()
    }

    /// The subcommand of each call, in order: what follows the `--log <file> --log-format json`
    /// of create, exec and restore, and the container's `runtimeArgs`.
    pub fn subcommands(&self) -> Vec<String> {
        let runtime_args = self.container.spec.runtime_args.len();
        self.argvs()
            .into_iter()
            .map(|argv| {
                let logged = if argv.first().map(String::as_str) == Some("--log") {
                    4
                } else {
                    0
                };
                argv.get(logged + runtime_args).cloned().unwrap_or_default()
            })
            .collect()
    }

    /// The value after `flag` in the first call that has it.
    pub fn flag_value(&self, flag: &str) -> Option<String> {
        self.argvs().iter().find_map(|argv| {
            let at = argv.iter().position(|word| word == flag)?;
            argv.get(at + 1).cloned()
        })
    }

    /// Fails unless the last call was `delete <id>`.
    pub fn assert_deleted_last(&self, what: &str) {
        let argvs = self.argvs();
        let delete = [
            &self.container.spec.runtime_args[..],
            &["delete".into(), self.container.id.clone()],
        ]
        .concat();
        assert_eq!(argvs.last(), Some(&delete), "{what}: calls {argvs:?}");
    }

    /// Every runtime call so far started with no blocked signal, SIGKILL as its parent-death
    /// signal, and only the three descriptors it was given.
    pub fn assert_calls_started_clean(&self) {
        let calls = self.calls();
        assert!(!calls.is_empty(), "no runtime call");
        for call in calls {
            assert_eq!(call.sigblk, "0000000000000000", "{call:?}");
            assert_eq!(call.pdeathsig, Signal::SIGKILL as i64, "{call:?}");
            assert_eq!(call.fds, [0, 1, 2], "{call:?}");
        }
    }

    /// The process the fake started for this container, if it started one.
    pub fn child(&self) -> Option<i32> {
        std::fs::read_to_string(self.children.join(&self.container.id))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The fake started a process, and it is gone: the shim killed what the runtime left.
    pub fn assert_child_killed(&self, what: &str) {
        let child = self
            .child()
            .unwrap_or_else(|| panic!("{what}: the fake started no process"));
        assert!(
            !alive(child),
            "{what}: the runtime's leftover {child} still runs"
        );
    }

    /// Nothing the shim or the runtime made is left: no process the fake started, and nothing in
    /// the private `TMPDIR`.
    pub fn assert_nothing_left(&self, what: &str) {
        if let Some(child) = self.child() {
            assert!(
                !alive(child),
                "{what}: the runtime's child {child} outlived the shim"
            );
        }
        if !self.tmpdir.as_os_str().is_empty() {
            assert_empty_dir(&self.tmpdir, &format!("{what}: TMPDIR"));
        }
    }

    /// The documented refusal ([`Proc::refused`]) with a message containing `needle`, and nothing
    /// left behind; returns the message.
    pub fn assert_refused(&self, proc: &mut Proc, what: &str, needle: &str) -> String {
        let error = proc.refused();
        assert!(
            error.contains(needle),
            "{what}: {error:?} does not name {needle:?}"
        );
        self.assert_nothing_left(what);
        error
    }
}

impl Drop for Fake {
    /// A failed test must not leave the fake's child running. The pid is checked to still be that
    /// child (its environment names this fake's call log) before anything is killed.
    fn drop(&mut self) {
        let Some(child) = self.child() else {
            return;
        };
        let environ = std::fs::read(format!("/proc/{child}/environ")).unwrap_or_default();
        let ours = format!("FAKE_RUNTIME_LOG={}", self.calls.display());
        if environ
            .split(|&b| b == 0)
            .any(|entry| entry == ours.as_bytes())
        {
            let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
        }
    }
}
