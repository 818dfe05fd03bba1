//! A CRI client for the tests, making the calls the kubelet makes, to a private CRI-enabled
//! containerd ([`crate::containerd::options::Options::cri`], [`crate::containerd::Containerd::cri`]).
//!
//! It is blocking: each method runs its gRPC call on a current-thread tokio runtime of its own
//! under a deadline, and a call that does not answer by then fails the test with the call, the
//! deadline and the tail of containerd's log, instead of hanging it. gRPC errors come back to the
//! caller from the `try_` methods; the others fail the test with the status.
//!
//! What the pods look like (as the kubelet would make them, minus what needs a network):
//!
//! * **Host network** (`namespace_options.network = NODE`): CRI then sets up no network
//!   namespace and calls no CNI plugin, so the daemon's empty CNI directories are enough.
//! * **A cgroup parent per pod** under the daemon's own ([`Cri::pod_config`]), which the
//!   daemon's clean-up removes: runc removes a container's cgroup, never the pod's.
//! * **Logs** in a directory per pod under the daemon's scratch directory, one file per
//!   container, in CRI's format ([`parse_log`]).
//! * The image is the test kit's busybox image ([`crate::image::IMAGE_NAME`]), also the
//!   sandbox (pause) image.
//!
//! Facts about containerd 1.6.20's CRI these helpers rely on (measured):
//!
//! * Container exits come from the shim's Wait, not from events; ContainerStatus says EXITED
//!   once CRI has deleted the task, and its log writer may still be writing the last of the
//!   output then.
//! * ExecSync waits for the end of the exec's stdout and stderr (EOF on their FIFOs) before it
//!   deletes the exec and answers, also after its own `timeout` killed the exec: a shim that
//!   holds those FIFOs open makes ExecSync never answer.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

use api::{
    ContainerConfig, ContainerMetadata, ContainerState, ContainerStatus, ExecSyncResponse,
    ImageSpec, LinuxContainerConfig, LinuxContainerSecurityContext, LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext, NamespaceMode, NamespaceOption, PodSandboxConfig,
    PodSandboxMetadata, PodSandboxStatus,
};
pub use k8s_cri::v1 as api;
/// The gRPC status of a failed call, and its code.
pub use tonic::{Code, Status};

use crate::driver;
use crate::footprint::Footprint;

/// How long a CRI call may take unless told otherwise: far longer than any takes on a loaded
/// 2-core machine (RunPodSandbox, the slowest, well under a second here), so only a hang
/// reaches it.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// How often the waiting helpers ask again.
const POLL: Duration = Duration::from_millis(20);
/// How much of containerd's log a failure quotes.
const LOG_TAIL_LINES: usize = 40;

/// The daemon a [`Cri`] talks to: where it is, and where its pods' cgroups and logs go.
#[derive(Debug, Clone)]
pub(crate) struct Daemon {
    /// containerd's gRPC socket.
    pub(crate) address: PathBuf,
    /// containerd's log, quoted when a call fails.
    pub(crate) log: PathBuf,
    /// The cgroup parent of every pod.
    pub(crate) cgroup_root: String,
    /// The parent of every pod's log directory.
    pub(crate) pod_logs: PathBuf,
    /// Where container ids are noted for the daemon's clean-up.
    pub(crate) footprint: Arc<Mutex<Footprint>>,
}

/// A blocking CRI client (runtime.v1) bound to one daemon.
pub struct Cri {
    daemon: Daemon,
    runtime: tokio::runtime::Runtime,
    service: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
    deadline: Duration,
}

/// A pod this client ran: its sandbox id and the config every CreateContainer repeats.
#[derive(Debug, Clone)]
pub struct Pod {
    /// The sandbox id (64 hex digits, also the pause container's containerd id).
    pub id: String,
    /// The config it was run with.
    pub config: PodSandboxConfig,
}

impl Pod {
    /// The pod's log directory on the host.
    pub fn log_directory(&self) -> PathBuf {
        PathBuf::from(&self.config.log_directory)
    }

    /// The pod's cgroup parent, as CRI and runc use it (cgroupfs driver).
    pub fn cgroup_parent(&self) -> String {
        self.config
            .linux
            .as_ref()
            .map(|linux| linux.cgroup_parent.clone())
            .unwrap_or_default()
    }
}

impl Cri {
    /// Connects to the daemon's socket, failing with a message if it does not answer.
    pub(crate) fn connect(daemon: Daemon) -> Result<Cri, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("a tokio runtime for the CRI client: {e}"))?;
        let socket = daemon.address.clone();
        let connect = async move {
            Endpoint::try_from("http://[::]")
                .expect("a constant URI")
                .connect_with_connector(service_fn(move |_: Uri| {
                    let socket = socket.clone();
                    async move { Ok::<_, io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
                }))
                .await
        };
        let channel = runtime
            .block_on(async { tokio::time::timeout(DEFAULT_DEADLINE, connect).await })
            .map_err(|_| {
                format!(
                    "no CRI connection to {} within {DEFAULT_DEADLINE:?}",
                    daemon.address.display()
                )
            })?
            .map_err(|e| format!("connect to CRI at {}: {e}", daemon.address.display()))?;
        Ok(Cri {
            service: RuntimeServiceClient::new(channel.clone()),
            images: ImageServiceClient::new(channel),
            daemon,
            runtime,
            deadline: DEFAULT_DEADLINE,
        })
    }

    /// The same client with another deadline for each call.
    pub fn with_deadline(mut self, deadline: Duration) -> Cri {
        self.deadline = deadline;
        self
    }

    /// Runs one call under `deadline`, failing the test if it does not answer in time.
    fn call<T, F>(&self, what: &str, deadline: Duration, call: F) -> Result<T, tonic::Status>
    where
        F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call_within(deadline, call).unwrap_or_else(|_| {
            panic!(
                "CRI {what} did not answer within {deadline:?}; containerd's last words on \
                 it:\n{}",
                self.log_tail(what)
            )
        })
    }

    /// Runs one call under `deadline`; `Err` when it did not answer in time.
    fn call_within<T, F>(
        &self,
        deadline: Duration,
        call: F,
    ) -> Result<Result<T, tonic::Status>, tokio::time::error::Elapsed>
    where
        F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.runtime
            .block_on(async { tokio::time::timeout(deadline, call).await })
            .map(|result| result.map(tonic::Response::into_inner))
    }

    /// Waits until the CRI plugin serves: it answers "server is not initialized yet" while it
    /// loads its containers and reconnects to their shims, which a restarted daemon does after
    /// it already answers ctr. Returns the last refusal if it never serves within `timeout`.
    pub(crate) fn wait_until_serving(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut service = self.service.clone();
            let request = api::StatusRequest { verbose: false };
            let refusal = match self.call_within(self.deadline, service.status(request)) {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(status)) => status.to_string(),
                Err(_) => format!("no answer within {:?}", self.deadline),
            };
            if Instant::now() > deadline {
                return Err(format!("CRI Status within {timeout:?}: {refusal}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops and removes every pod the daemon has, as a clean-up does: returns what failed
    /// instead of failing the test, each call under `deadline`.
    pub(crate) fn remove_every_pod(&self, deadline: Duration) -> Vec<String> {
        let mut service = self.service.clone();
        let listed = self.call_within(
            deadline,
            service.list_pod_sandbox(api::ListPodSandboxRequest { filter: None }),
        );
        let pods = match listed {
            Ok(Ok(response)) => response.items,
            Ok(Err(status)) => return vec![format!("CRI ListPodSandbox: {status}")],
            Err(_) => return vec![format!("CRI ListPodSandbox: no answer within {deadline:?}")],
        };
        let mut problems = Vec::new();
        for pod in pods {
            let stop = api::StopPodSandboxRequest {
                pod_sandbox_id: pod.id.clone(),
            };
            let remove = api::RemovePodSandboxRequest {
                pod_sandbox_id: pod.id.clone(),
            };
            let mut stopper = self.service.clone();
            let mut remover = self.service.clone();
            let outcomes = [
                (
                    "StopPodSandbox",
                    self.call_within(deadline, stopper.stop_pod_sandbox(stop))
                        .map(|r| r.map(drop)),
                ),
                (
                    "RemovePodSandbox",
                    self.call_within(deadline, remover.remove_pod_sandbox(remove))
                        .map(|r| r.map(drop)),
                ),
            ];
            for (what, outcome) in outcomes {
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(status)) => problems.push(format!("CRI {what} {}: {status}", pod.id)),
                    Err(_) => problems.push(format!(
                        "CRI {what} {}: no answer within {deadline:?}",
                        pod.id
                    )),
                }
            }
        }
        problems
    }

    /// The last lines of containerd's log that name the container or pod `what` names (by
    /// its 64-digit id) or that container's execs, or the last lines of all when it names
    /// none.
    pub fn log_tail(&self, what: &str) -> String {
        let log = std::fs::read_to_string(&self.daemon.log).unwrap_or_default();
        let mut ids = hex_ids(what);
        // An exec is logged under an id of its own, which CRI names once beside the
        // container's.
        let execs: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("Generated exec id"))
            .filter(|line| ids.iter().any(|id| line.contains(id)))
            .flat_map(hex_ids)
            .collect();
        ids.extend(execs);
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| ids.is_empty() || ids.iter().any(|id| line.contains(id)))
            .collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    /// `result`'s value, or a failed test naming `what` and the status.
    fn ok<T>(&self, what: &str, result: Result<T, tonic::Status>) -> T {
        result.unwrap_or_else(|status| {
            panic!(
                "CRI {what}: {:?}: {}; containerd's last words on it:\n{}",
                status.code(),
                status.message(),
                self.log_tail(what)
            )
        })
    }

    fn note_id(&self, id: &str) {
        if let Ok(mut footprint) = self.daemon.footprint.lock() {
            footprint.ids.insert(id.to_string());
        }
    }

    /// Version: the runtime's name and version, as the kubelet asks first.
    pub fn version(&self) -> api::VersionResponse {
        let mut service = self.service.clone();
        let request = api::VersionRequest {
            version: "v1".into(),
        };
        let result = self.call("Version", self.deadline, service.version(request));
        self.ok("Version", result)
    }

    /// Whether ImageStatus finds `image`.
    pub fn has_image(&self, image: &str) -> bool {
        let mut images = self.images.clone();
        let request = api::ImageStatusRequest {
            image: Some(image_spec(image)),
            verbose: false,
        };
        let result = self.call("ImageStatus", self.deadline, images.image_status(request));
        self.ok("ImageStatus", result).image.is_some()
    }

    /// A host-network pod named `name`, with a cgroup parent and a log directory of its own
    /// (created here), as [`Cri::run_pod`] runs it.
    pub fn pod_config(&self, name: &str) -> PodSandboxConfig {
        let log_directory = self.daemon.pod_logs.join(name);
        std::fs::create_dir_all(&log_directory).expect("create the pod's log directory");
        PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: name.into(),
                uid: format!("uid-{name}"),
                namespace: "tinyshim-tests".into(),
                attempt: 0,
            }),
            log_directory: log_directory.display().to_string(),
            linux: Some(LinuxPodSandboxConfig {
                cgroup_parent: format!("{}/{name}", self.daemon.cgroup_root),
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: Some(NamespaceOption {
                        network: NamespaceMode::Node as i32,
                        pid: NamespaceMode::Container as i32,
                        ipc: NamespaceMode::Pod as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// RunPodSandbox of [`Cri::pod_config`]`(name)` with `runtime_handler` (`""` for the
    /// default runtime, or [`crate::containerd::options::CRI_TINYSHIM_HANDLER`]).
    pub fn run_pod(&self, name: &str, runtime_handler: &str) -> Pod {
        let config = self.pod_config(name);
        self.run_pod_with(config, runtime_handler)
    }

    /// RunPodSandbox of `config`.
    pub fn run_pod_with(&self, config: PodSandboxConfig, runtime_handler: &str) -> Pod {
        let mut service = self.service.clone();
        let request = api::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: runtime_handler.into(),
        };
        let result = self.call(
            "RunPodSandbox",
            self.deadline,
            service.run_pod_sandbox(request),
        );
        let id = self.ok("RunPodSandbox", result).pod_sandbox_id;
        self.note_id(&id);
        Pod { id, config }
    }

    /// StopPodSandbox: every container of the pod is killed, then the sandbox.
    pub fn stop_pod(&self, pod_id: &str) {
        let mut service = self.service.clone();
        let request = api::StopPodSandboxRequest {
            pod_sandbox_id: pod_id.into(),
        };
        let result = self.call(
            &format!("StopPodSandbox {pod_id}"),
            self.deadline,
            service.stop_pod_sandbox(request),
        );
        self.ok(&format!("StopPodSandbox {pod_id}"), result);
    }

    /// RemovePodSandbox (after [`Cri::stop_pod`]).
    pub fn remove_pod(&self, pod_id: &str) {
        let mut service = self.service.clone();
        let request = api::RemovePodSandboxRequest {
            pod_sandbox_id: pod_id.into(),
        };
        let result = self.call(
            &format!("RemovePodSandbox {pod_id}"),
            self.deadline,
            service.remove_pod_sandbox(request),
        );
        self.ok(&format!("RemovePodSandbox {pod_id}"), result);
    }

    /// PodSandboxStatus.
    pub fn pod_status(&self, pod_id: &str) -> PodSandboxStatus {
        let mut service = self.service.clone();
        let request = api::PodSandboxStatusRequest {
            pod_sandbox_id: pod_id.into(),
            verbose: false,
        };
        let result = self.call(
            &format!("PodSandboxStatus {pod_id}"),
            self.deadline,
            service.pod_sandbox_status(request),
        );
        self.ok(&format!("PodSandboxStatus {pod_id}"), result)
            .status
            .expect("PodSandboxStatus has a status")
    }

    /// CreateContainer of `config` in `pod`; returns the container id.
    pub fn create_container(&self, pod: &Pod, config: ContainerConfig) -> String {
        let mut service = self.service.clone();
        let request = api::CreateContainerRequest {
            pod_sandbox_id: pod.id.clone(),
            config: Some(config),
            sandbox_config: Some(pod.config.clone()),
        };
        let result = self.call(
            "CreateContainer",
            self.deadline,
            service.create_container(request),
        );
        let id = self.ok("CreateContainer", result).container_id;
        self.note_id(&id);
        id
    }

    /// StartContainer.
    pub fn start_container(&self, id: &str) {
        let mut service = self.service.clone();
        let request = api::StartContainerRequest {
            container_id: id.into(),
        };
        let result = self.call(
            &format!("StartContainer {id}"),
            self.deadline,
            service.start_container(request),
        );
        self.ok(&format!("StartContainer {id}"), result);
    }

    /// CreateContainer and StartContainer of [`container_config`]`(name, argv)`.
    pub fn run_container(&self, pod: &Pod, name: &str, argv: &[&str]) -> String {
        self.run_container_with(pod, container_config(name, argv))
    }

    /// CreateContainer and StartContainer of `config`.
    pub fn run_container_with(&self, pod: &Pod, config: ContainerConfig) -> String {
        let id = self.create_container(pod, config);
        self.start_container(&id);
        id
    }

    /// StopContainer with a grace period of `timeout` seconds (then SIGKILL).
    pub fn stop_container(&self, id: &str, timeout: i64) {
        let mut service = self.service.clone();
        let request = api::StopContainerRequest {
            container_id: id.into(),
            timeout,
        };
        // CRI itself waits up to the grace period before it kills.
        let deadline = self.deadline + Duration::from_secs(timeout.max(0) as u64);
        let result = self.call(
            &format!("StopContainer {id}"),
            deadline,
            service.stop_container(request),
        );
        self.ok(&format!("StopContainer {id}"), result);
    }

    /// RemoveContainer.
    pub fn remove_container(&self, id: &str) {
        let mut service = self.service.clone();
        let request = api::RemoveContainerRequest {
            container_id: id.into(),
        };
        let result = self.call(
            &format!("RemoveContainer {id}"),
            self.deadline,
            service.remove_container(request),
        );
        self.ok(&format!("RemoveContainer {id}"), result);
    }

    /// ContainerStatus.
    pub fn container_status(&self, id: &str) -> ContainerStatus {
        let mut service = self.service.clone();
        let request = api::ContainerStatusRequest {
            container_id: id.into(),
            verbose: false,
        };
        let result = self.call(
            &format!("ContainerStatus {id}"),
            self.deadline,
            service.container_status(request),
        );
        self.ok(&format!("ContainerStatus {id}"), result)
            .status
            .expect("ContainerStatus has a status")
    }

    /// The host pid of a running container's process, from ContainerStatus's verbose info (the
    /// JSON containerd adds under `info`).
    pub fn container_pid(&self, id: &str) -> i32 {
        let mut service = self.service.clone();
        let request = api::ContainerStatusRequest {
            container_id: id.into(),
            verbose: true,
        };
        let what = format!("ContainerStatus {id} (verbose)");
        let result = self.call(&what, self.deadline, service.container_status(request));
        let info = self.ok(&what, result).info;
        let pid = info
            .get("info")
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|value| value["pid"].as_i64());
        pid.and_then(|pid| i32::try_from(pid).ok())
            .unwrap_or_else(|| panic!("{what}: no pid in {info:?}"))
    }

    /// Polls ContainerStatus until the container is in `state`, failing the test after
    /// `timeout` with the last status.
    pub fn wait_for_state(
        &self,
        id: &str,
        state: ContainerState,
        timeout: Duration,
    ) -> ContainerStatus {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.container_status(id);
            if status.state == state as i32 {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "container {id} not {state:?} within {timeout:?}: {status:?}"
            );
            driver::pause(POLL);
        }
    }

    /// The container's log so far, parsed ([`parse_log`]); empty while there is no file.
    pub fn log(&self, id: &str) -> Vec<LogLine> {
        let path = self.container_status(id).log_path;
        parse_log(&std::fs::read_to_string(path).unwrap_or_default())
    }

    /// Polls the container's log until its stdout holds `needle`, failing the test after
    /// `timeout` with what was logged.
    pub fn wait_for_output(&self, id: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let stdout = logged_output(&self.log(id), "stdout");
            if stdout.contains(needle) {
                return stdout;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} not in the log of {id} within {timeout:?}; its stdout: {stdout:?}"
            );
            driver::pause(POLL);
        }
    }

    /// ExecSync of `cmd` with CRI's own `timeout` in seconds (0: none). The deadline of the
    /// call is the client's plus that timeout, so that only a hang fails the test.
    pub fn try_exec_sync(
        &self,
        id: &str,
        cmd: &[&str],
        timeout: i64,
    ) -> Result<ExecSyncResponse, tonic::Status> {
        let mut service = self.service.clone();
        let request = api::ExecSyncRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            timeout,
        };
        let deadline = self.deadline + Duration::from_secs(timeout.max(0) as u64);
        let what = format!("ExecSync {cmd:?} in {id}");
        self.call(&what, deadline, service.exec_sync(request))
    }

    /// ExecSync of `cmd` without a timeout, failing the test on an error.
    pub fn exec_sync(&self, id: &str, cmd: &[&str]) -> ExecSyncResponse {
        let result = self.try_exec_sync(id, cmd, 0);
        self.ok(&format!("ExecSync {cmd:?} in {id}"), result)
    }

    /// ReopenContainerLog: CRI closes the container's log file and opens its path again (after
    /// a log rotation renamed it).
    pub fn reopen_container_log(&self, id: &str) {
        let mut service = self.service.clone();
        let request = api::ReopenContainerLogRequest {
            container_id: id.into(),
        };
        let result = self.call(
            &format!("ReopenContainerLog {id}"),
            self.deadline,
            service.reopen_container_log(request),
        );
        self.ok(&format!("ReopenContainerLog {id}"), result);
    }

    /// The raw runtime service, for a call the helpers do not wrap, with [`Cri::block_on`].
    pub fn runtime_service(&self) -> RuntimeServiceClient<Channel> {
        self.service.clone()
    }

    /// Runs any call of [`Cri::runtime_service`] under the client's deadline.
    pub fn block_on<T, F>(&self, what: &str, call: F) -> Result<T, tonic::Status>
    where
        F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call(what, self.deadline, call)
    }
}

/// The 64-digit hex ids in `text`.
fn hex_ids(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|word| word.len() == 64)
        .collect()
}

/// An image reference for CRI.
fn image_spec(image: &str) -> ImageSpec {
    ImageSpec {
        image: image.into(),
        ..Default::default()
    }
}

/// A container named `name` of the test kit's image running `argv` (as the command, so the
/// image's `Cmd` is not appended), logging to `<name>.log` in its pod's log directory.
pub fn container_config(name: &str, argv: &[&str]) -> ContainerConfig {
    ContainerConfig {
        metadata: Some(ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(image_spec(crate::image::IMAGE_NAME)),
        command: argv.iter().map(|s| s.to_string()).collect(),
        log_path: format!("{name}.log"),
        linux: Some(LinuxContainerConfig {
            security_context: Some(LinuxContainerSecurityContext::default()),
            ..Default::default()
        }),
        labels: HashMap::new(),
        ..Default::default()
    }
}

/// The same config with the container in the host's pid namespace, where its init is an
/// ordinary process: one that signals itself dies of it (pid 1 of a namespace ignores
/// signals it has no handler for).
pub fn in_host_pid_namespace(mut config: ContainerConfig) -> ContainerConfig {
    let linux = config.linux.get_or_insert_with(Default::default);
    let security = linux.security_context.get_or_insert_with(Default::default);
    security.namespace_options = Some(NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: NamespaceMode::Node as i32,
        ipc: NamespaceMode::Pod as i32,
        ..Default::default()
    });
    config
}

/// The same config with a host directory bind-mounted read-write at `container_path`.
pub fn with_mount(
    mut config: ContainerConfig,
    host: &Path,
    container_path: &str,
) -> ContainerConfig {
    config.mounts.push(api::Mount {
        container_path: container_path.into(),
        host_path: host.display().to_string(),
        ..Default::default()
    });
    config
}

/// One line of a CRI container log: `<RFC 3339 time> <stdout|stderr> <F|P> <text>`, where `P`
/// marks a partial line that the next one continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `stdout` or `stderr`.
    pub stream: String,
    /// Whether the line ended (`F`) or goes on in the next entry (`P`).
    pub full: bool,
    /// The text, without its newline.
    pub text: String,
}

/// Parses a CRI container log, failing the test on a line that is not in CRI's format.
pub fn parse_log(text: &str) -> Vec<LogLine> {
    text.lines()
        .map(|line| {
            let mut parts = line.splitn(4, ' ');
            let (Some(_time), Some(stream), Some(tag), Some(text)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                panic!("not a CRI log line: {line:?}");
            };
            assert!(
                matches!(stream, "stdout" | "stderr") && matches!(tag, "F" | "P"),
                "not a CRI log line: {line:?}"
            );
            LogLine {
                stream: stream.into(),
                full: tag == "F",
                text: text.into(),
            }
        })
        .collect()
}

/// What a container wrote to `stream` according to its CRI log, partial lines joined, one
/// `\n`-terminated line per full entry.
pub fn logged_output(lines: &[LogLine], stream: &str) -> String {
    let mut out = String::new();
    for line in lines.iter().filter(|line| line.stream == stream) {
        out.push_str(&line.text);
        if line.full {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cri_log_gives_each_stream_with_partial_lines_joined() {
        let log = "2026-01-01T00:00:00.1Z stdout P par\n\
                   2026-01-01T00:00:00.2Z stderr F err 1\n\
                   2026-01-01T00:00:00.3Z stdout F tial\n\
                   2026-01-01T00:00:00.4Z stdout F \n";
        let lines = parse_log(log);
        assert_eq!(logged_output(&lines, "stdout"), "partial\n\n");
        assert_eq!(logged_output(&lines, "stderr"), "err 1\n");
    }
}
