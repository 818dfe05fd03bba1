//! Create, Exec and Start: the calls that make processes. Each checks what it can at once,
//! opens the process's stdio in the core, and spawns the runtime; the answer waits for the launch
//! (see [`crate::v2::completion`]).

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::process::phase::{Phase, Rules};
use crate::process::stdio::StdioSetup;
use crate::process::{Kind, LaunchPlan, ProcessKey, Waiter};
use crate::v2::bundle;
use crate::v2::container::{valid_id, Container, Exec, Io};
use crate::v2::daemon::{Reply, Shim};
use crate::v2::log::Level;
use crate::v2::proto::events::TaskExecAdded;
use crate::v2::proto::google::{Any, TypeUrl};
use crate::v2::proto::runc::Options;
use crate::v2::proto::task::{CreateTaskRequest, Empty, ExecProcessRequest, StartRequest};
use crate::v2::proto::ttrpc::Code;
use crate::v2::rootfs;
use crate::v2::runc::{CommandLines, Settings};
use crate::v2::service::{no_exec, shim_error, Answer, DRAIN, MAX_EXECS};
use crate::v2::stdio::{open_outputs, parse_outputs};
use crate::v2::ttrpc::request::CallError;

impl Shim {
    pub(super) fn create(&mut self, reply: Reply, r: CreateTaskRequest) -> Answer<()> {
        if !valid_id(&r.id) {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!("invalid container id {:?}", r.id),
            ));
        }
        if self.containers.contains_key(&r.id) {
            return Err(CallError::new(
                Code::AlreadyExists,
                format!("container {} already exists", r.id),
            ));
        }
        if !r.checkpoint.is_empty() {
            return Err(CallError::new(
                Code::Unimplemented,
                "restoring a checkpoint is not implemented by tinyshim",
            ));
        }
        let bundle = PathBuf::from(&r.bundle);
        let config = bundle::load_config(&bundle).map_err(shim_error)?;
        let options = match &r.options {
            Some(any) if any.type_url == <Options as TypeUrl>::TYPE_URL => {
                Some(any.unpack::<Options>().map_err(|e| {
                    CallError::new(Code::InvalidArgument, format!("runtime options: {e}"))
                })?)
            }
            // CRI sends `runtimeoptions.v1.Options` to a runtime it does not take for runc:
            // nothing in them is for this shim, which then runs with the defaults.
            Some(any) if !any.type_url.is_empty() => {
                let message = format!("{}: ignored runtime options of type {}", r.id, any.type_url);
                self.log.write(Level::Warning, &message);
                None
            }
            _ => None,
        };
        let settings = Settings::new(options.as_ref(), &self.namespace);
        let runtime = settings
            .runtime(&self.sup.config().search_path)
            .map_err(shim_error)?;
        bundle::save_settings(&bundle, &settings).map_err(shim_error)?;
        let io = Io {
            stdin: r.stdin.clone(),
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
            terminal: r.terminal,
        };
        rootfs::mount_all(&bundle, &r.rootfs).map_err(shim_error)?;
        let mounted = !r.rootfs.is_empty();
        let unmount = |error: CallError| {
            if mounted {
                rootfs::unmount_all(&bundle);
            }
            error
        };
        let rules = Rules {
            start_after_launch: false,
            kill_all_on_exit: !config.own_pid_namespace,
        };
        let key = self
            .add_process(&r.id, Kind::Init, rules, &io, &settings)
            .map_err(unmount)?;
        let lines = CommandLines {
            settings: &settings,
            id: &r.id,
            bundle: &bundle,
        };
        let plan = LaunchPlan {
            runtime: runtime.clone(),
            launch: lines.create(self.sup.console_arg(key)),
            cwd: Some(bundle.clone()),
            pid_file: lines.init_pid_file(),
            start: Some(lines.start()),
            kill_all: Some(lines.kill(nix::libc::SIGKILL as u32, true)),
        };
        if let Err(error) = self.sup.launch(key, plan) {
            self.forget_process(key);
            return Err(unmount(shim_error(error)));
        }
        self.owners.insert(key, (r.id.clone(), None));
        self.launches.insert(key, reply);
        self.containers.insert(
            r.id.clone(),
            Container {
                id: r.id.clone(),
                bundle,
                settings,
                runtime,
                init: key,
                io,
                execs: Default::default(),
                paused: false,
                deleting: false,
                rootfs: r.rootfs,
            },
        );
        Ok(())
    }

    /// Opens a process's stdio in the core.
    fn add_process(
        &mut self,
        id: &str,
        kind: Kind,
        rules: Rules,
        io: &Io,
        settings: &Settings,
    ) -> Answer<ProcessKey> {
        let outputs = parse_outputs(&io.stdout, &io.stderr)
            .map_err(|e| CallError::new(Code::InvalidArgument, e))?;
        let opened = open_outputs(&outputs, id, &self.namespace).map_err(shim_error)?;
        let setup = StdioSetup {
            stdin: &io.stdin,
            stdout: opened.stdout,
            stderr: opened.stderr,
            terminal: io.terminal,
            owner: settings.io_owner,
        };
        let key = self
            .sup
            .add_process(kind, rules, DRAIN, setup)
            .map_err(shim_error)?;
        if let Some(ready) = opened.ready {
            self.loggers.insert(key, ready);
        }
        Ok(key)
    }

    pub(super) fn exec(&mut self, reply: Reply, r: ExecProcessRequest) -> Answer<()> {
        let container = self.container(&r.id)?;
        if !valid_id(&r.exec_id) {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!("invalid exec id {:?}", r.exec_id),
            ));
        }
        if container.execs.contains_key(&r.exec_id) {
            return Err(CallError::new(
                Code::AlreadyExists,
                format!("id {} already exists", r.exec_id),
            ));
        }
        let init = self.sup.process(container.init).map(|p| p.phase);
        if matches!(
            init,
            Some(Phase::Exiting { .. } | Phase::Exited { .. } | Phase::Failed)
        ) {
            return Err(CallError::new(
                Code::FailedPrecondition,
                "cannot exec in a stopped state",
            ));
        }
        if container.execs.len() >= MAX_EXECS {
            return Err(CallError::new(
                Code::ResourceExhausted,
                format!("container {} has {MAX_EXECS} exec processes already", r.id),
            ));
        }
        let spec = r.spec.map(|Any { value, .. }| value).unwrap_or_default();
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&spec).map_err(
            |e| CallError::new(Code::InvalidArgument, format!("exec process spec: {e}")),
        )?;
        // On disk until the start, where runc reads it: memory stays flat however many execs
        // wait to be started.
        let spec_file = exec_spec_file(&container.bundle, &r.exec_id);
        std::fs::write(&spec_file, &spec)
            .map_err(|e| shim_error(Error::os(format!("write {}", spec_file.display()), e)))?;
        let exec = Exec {
            io: Io {
                stdin: r.stdin,
                stdout: r.stdout,
                stderr: r.stderr,
                terminal: r.terminal,
            },
            process: None,
            early_waiters: Vec::new(),
        };
        if let Some(container) = self.containers.get_mut(&r.id) {
            container.execs.insert(r.exec_id.clone(), exec);
        }
        let event = TaskExecAdded {
            container_id: r.id,
            exec_id: r.exec_id,
        };
        self.publisher.publish(&event, &mut self.sup.lp);
        self.answer(reply, Ok(Empty {}));
        Ok(())
    }

    pub(super) fn start(&mut self, reply: Reply, r: &StartRequest) -> Answer<()> {
        let container = self.container(&r.id)?;
        if r.exec_id.is_empty() {
            let init = container.init;
            self.sup.start(init).map_err(|refused| {
                CallError::new(
                    Code::FailedPrecondition,
                    format!("cannot start {}: the process is {:?}", r.id, refused.phase),
                )
            })?;
            self.launches.insert(init, reply);
            return Ok(());
        }
        let exec = container
            .execs
            .get(&r.exec_id)
            .ok_or_else(|| no_exec(&r.exec_id))?;
        if exec.process.is_some() {
            return Err(CallError::new(
                Code::FailedPrecondition,
                format!("process {} was started already", r.exec_id),
            ));
        }
        let (bundle, settings, runtime) = (
            container.bundle.clone(),
            container.settings.clone(),
            container.runtime.clone(),
        );
        let io = exec.io.clone();
        let spec_file = exec_spec_file(&bundle, &r.exec_id);
        let rules = Rules {
            start_after_launch: true,
            kill_all_on_exit: false,
        };
        let key = self.add_process(&r.id, Kind::Exec, rules, &io, &settings)?;
        let lines = CommandLines {
            settings: &settings,
            id: &r.id,
            bundle: &bundle,
        };
        let pid_file = exec_pid_file(&bundle, &r.exec_id);
        let plan = LaunchPlan {
            runtime,
            launch: lines.exec(&spec_file, &pid_file, self.sup.console_arg(key)),
            cwd: Some(bundle.clone()),
            pid_file,
            start: None,
            kill_all: None,
        };
        if let Err(error) = self.sup.launch(key, plan) {
            self.forget_process(key);
            return Err(shim_error(error));
        }
        let early = self
            .containers
            .get_mut(&r.id)
            .and_then(|c| c.execs.get_mut(&r.exec_id))
            .map(|exec| {
                exec.process = Some(key);
                std::mem::take(&mut exec.early_waiters)
            })
            .unwrap_or_default();
        if let Some(process) = self.sup.process_mut(key) {
            process.waiters.extend(early.into_iter().map(Waiter));
        }
        self.owners
            .insert(key, (r.id.clone(), Some(r.exec_id.clone())));
        self.launches.insert(key, reply);
        Ok(())
    }
}

/// Where an exec's OCI process goes for `runc exec --process`.
pub fn exec_spec_file(bundle: &Path, exec_id: &str) -> PathBuf {
    bundle.join(format!(".tinyshim-exec-{exec_id}.json"))
}

/// Where `runc exec` writes an exec's pid.
pub fn exec_pid_file(bundle: &Path, exec_id: &str) -> PathBuf {
    bundle.join(format!("{exec_id}.pid"))
}
