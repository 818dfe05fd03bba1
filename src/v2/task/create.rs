//! Create: the container and its init, made by `runc create` and answered when it returns
//! (TaskCreate goes out then); a launch that fails is answered with runc's own words, and what
//! runc may have left is deleted. A Create from a checkpoint only makes the init's stdio and is
//! answered at once (pid 0, as the Go shim answers): `runc restore` makes and starts the process
//! in one call, which its Start runs.

use std::path::{Path, PathBuf};

use crate::process::phase::Rules;
use crate::process::{Failure, LaunchPlan, ProcessKey};
use crate::supervisor::LaunchAt;
use crate::v2::bundle;
use crate::v2::log::Level;
use crate::v2::proto::events::{TaskCreate, TaskIo};
use crate::v2::proto::google::TypeUrl;
use crate::v2::proto::runc::Options;
use crate::v2::proto::runtimeoptions::RuntimeOptions;
use crate::v2::proto::task::{CreateTaskRequest, CreateTaskResponse, Empty};
use crate::v2::proto::ttrpc::Code;
use crate::v2::rootfs;
use crate::v2::runc::{CommandLines, Settings};
use crate::v2::runtime_options;
use crate::v2::ttrpc::call::CallError;

use super::launch::{failure_message, launch_process};
use super::policy;
use super::records::{valid_id, Container, Io, Served};
use super::{shim_error, Answer, Child, Outside, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn create(
        &mut self,
        out: &mut Outside,
        request: CreateTaskRequest,
    ) -> Answer<Step<CreateTaskResponse>> {
        if !valid_id(&request.id) {
            return Err(CallError::new(
                Code::InvalidArgument,
                format!("invalid container id {:?}", request.id),
            ));
        }
        if self.containers.contains_key(&request.id) {
            return Err(CallError::new(
                Code::AlreadyExists,
                format!("container {} already exists", request.id),
            ));
        }
        let bundle = PathBuf::from(&request.bundle);
        let config = bundle::load_config(&bundle).map_err(shim_error)?;
        let options = match &request.options {
            Some(any) if any.type_url == <Options as TypeUrl>::TYPE_URL => {
                Some(any.unpack::<Options>().map_err(|e| {
                    CallError::new(Code::InvalidArgument, format!("runtime options: {e}"))
                })?)
            }
            // What CRI sends a runtime it does not take for runc: where its TOML options are.
            Some(any) if any.type_url == <RuntimeOptions as TypeUrl>::TYPE_URL => {
                let options = any.unpack::<RuntimeOptions>().map_err(|e| {
                    CallError::new(Code::InvalidArgument, format!("runtime options: {e}"))
                })?;
                Some(runtime_options::runc_options(&options).map_err(shim_error)?)
            }
            Some(any) if !any.type_url.is_empty() => {
                let message = format!(
                    "{}: ignored runtime options of type {}",
                    request.id, any.type_url
                );
                out.log.write(Level::Warning, &message);
                None
            }
            _ => None,
        };
        let settings = Settings::new(options.as_ref(), &self.namespace);
        let runtime = settings
            .runtime(&out.core.config().search_path)
            .map_err(shim_error)?;
        bundle::save_settings(&bundle, &settings).map_err(shim_error)?;
        let io = Io {
            stdin: request.stdin,
            stdout: request.stdout,
            stderr: request.stderr,
            terminal: request.terminal,
        };
        rootfs::mount_all(&bundle, &request.rootfs).map_err(shim_error)?;
        let unmount = |error: CallError| {
            if !request.rootfs.is_empty() {
                if let Err(e) = rootfs::unmount_all(&bundle) {
                    out.log.write(Level::Warning, &e.to_string());
                }
            }
            error
        };
        let restoring = !request.checkpoint.is_empty();
        let rules = Rules {
            // `runc restore --detach` leaves the process running.
            start_after_launch: restoring,
            kill_all_on_exit: !config.own_pid_namespace,
        };
        let at = if restoring {
            LaunchAt::Start
        } else {
            LaunchAt::Now
        };
        let lines = CommandLines {
            settings: &settings,
            id: &request.id,
            bundle: &bundle,
        };
        let (checkpoint, parent) = (
            Path::new(&request.checkpoint),
            Some(Path::new(&request.parent_checkpoint)).filter(|p| !p.as_os_str().is_empty()),
        );
        let owner = settings.io_owner;
        let launched = launch_process(
            out,
            &request.id,
            &self.namespace,
            &io,
            owner,
            (rules, at),
            |console| LaunchPlan {
                runtime: runtime.clone(),
                launch: if restoring {
                    lines.restore(checkpoint, parent, console)
                } else {
                    lines.create(console)
                },
                cwd: Some(bundle.clone()),
                pid_file: lines.init_pid_file(),
                start: (!restoring).then(|| lines.start()),
                kill_all: Some(lines.kill(nix::libc::SIGKILL as u32, true)),
            },
        );
        let (key, logger) = launched.map_err(unmount)?;
        self.served
            .insert(key, Served::new(&request.id, None, logger));
        let id = request.id;
        self.containers.insert(
            id.clone(),
            Box::new(Container {
                id: id.clone(),
                bundle,
                settings,
                runtime,
                init: key,
                io,
                execs: Default::default(),
                paused: false,
                deleting: false,
                rootfs: request.rootfs,
                checkpoint: request.checkpoint,
                cgroup: None,
                oom: None,
            }),
        );
        if restoring {
            self.publish_create(out, &id, 0);
            return Ok(Step::Answer(CreateTaskResponse { pid: 0 }));
        }
        Ok(Step::OnLaunch(key))
    }

    /// A launch returned with its process: Create or an exec's Start is answered.
    pub(super) fn launched(&mut self, out: &mut Outside, key: ProcessKey) {
        let Some(served) = self.served.get_mut(&key) else {
            return;
        };
        if served.exec_id.is_some() {
            return self.exec_launched(out, key);
        }
        let pid = policy::pid(Self::phase(out, key));
        let id = served.id.clone();
        self.watch_cgroup(out, &id, pid as i32);
        let restored = self
            .containers
            .get(&id)
            .is_some_and(|c| !c.checkpoint.is_empty());
        if restored {
            // The init's Start ran `runc restore`: it is that Start which is answered.
            return self.started(out, key);
        }
        if let Some(reply) = self.served.get_mut(&key).and_then(|s| s.owes.take()) {
            out.answer(reply, Ok(CreateTaskResponse { pid }));
        }
        self.publish_create(out, &id, pid);
    }

    /// TaskCreate of container `id`, whose init has `pid`.
    fn publish_create(&mut self, out: &mut Outside, id: &str, pid: u32) {
        let Some(container) = self.containers.get(id) else {
            return;
        };
        let event = TaskCreate {
            container_id: container.id.clone(),
            bundle: container.bundle.display().to_string(),
            rootfs: container.rootfs.clone(),
            io: Some(TaskIo {
                stdin: container.io.stdin.clone(),
                stdout: container.io.stdout.clone(),
                stderr: container.io.stderr.clone(),
                terminal: container.io.terminal,
            }),
            checkpoint: container.checkpoint.clone(),
            pid,
        };
        out.publish(&event);
    }

    /// A launch failed: Create or an exec's Start is answered with why.
    pub(super) fn launch_failed(&mut self, out: &mut Outside, key: ProcessKey, failure: Failure) {
        let Some(served) = self.served.get_mut(&key) else {
            return;
        };
        if served.exec_id.is_some() {
            return self.exec_launch_failed(out, key, failure);
        }
        let id = served.id.clone();
        let owes = served.owes.take();
        self.answer_waits(out, key);
        let Some(container) = self.containers.remove(&id) else {
            return;
        };
        let message = failure_message(failure, "create", &container.bundle);
        if let Some(reply) = owes {
            out.answer::<Empty>(reply, Err(CallError::new(Code::Unknown, message)));
        }
        // runc may have left a half-made container: nobody waits for its removal, and the
        // return of a call nobody waits for is ignored.
        let lines = CommandLines {
            settings: &container.settings,
            id: &container.id,
            bundle: &container.bundle,
        };
        let _ = out.core.spawn_call(
            &container.runtime,
            &lines.delete(),
            Some(&container.bundle),
            true,
            Child::Cleanup,
        );
        self.drop_container(out, container);
    }
}
