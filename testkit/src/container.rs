//! A container run through the v0.2 shim the way the daemon runs it, through [`crate::driver`]:
//! its bundle on the shared busybox rootfs and its state directory, in one scratch directory,
//! and a shim spawned per process.

use std::path::{Path, PathBuf};

use crate::binaries::shim_binary;
use crate::bundle;
use crate::driver::{self, ProcessDir, ProcessOptions};
use crate::host::require_runc;
use crate::process::Proc;
use crate::scratch::{canonical, unique, Scratch};
use crate::spec::Spec;

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
                rootfs: bundle::rootfs(),
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
