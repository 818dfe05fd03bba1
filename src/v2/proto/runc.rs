//! The runc shim's options (`runtime/v2/runc/options/oci.proto`, package `containerd.runc.v1`):
//! what containerd sends for runtime `io.containerd.runc.v2`, to `start` on stdin and in
//! `CreateTaskRequest.options`, and what a shim replacing `containerd-shim-runc-v2` must accept.

use super::google::TypeUrl;

/// `containerd.runc.v1.Options`. ctr sends it empty (a 28-byte `Any`) unless `--runc-binary`,
/// `--runc-root` or `--runc-systemd-cgroup` is given; Docker sends it too.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Options {
    /// `runc create --no-pivot`.
    #[prost(bool, tag = "1")]
    pub no_pivot_root: bool,
    /// `runc create --no-new-keyring`.
    #[prost(bool, tag = "2")]
    pub no_new_keyring: bool,
    /// The cgroup to move the shim into.
    #[prost(string, tag = "3")]
    pub shim_cgroup: String,
    /// Owner uid of the stdio pipes.
    #[prost(uint32, tag = "4")]
    pub io_uid: u32,
    /// Owner gid of the stdio pipes.
    #[prost(uint32, tag = "5")]
    pub io_gid: u32,
    /// The runtime binary; empty means `runc`.
    #[prost(string, tag = "6")]
    pub binary_name: String,
    /// `runc --root`; empty means the default.
    #[prost(string, tag = "7")]
    pub root: String,
    /// CRIU binary for checkpoints.
    #[prost(string, tag = "8")]
    pub criu_path: String,
    /// `runc --systemd-cgroup`.
    #[prost(bool, tag = "9")]
    pub systemd_cgroup: bool,
    /// Default checkpoint image directory.
    #[prost(string, tag = "10")]
    pub criu_image_path: String,
    /// Default checkpoint work directory.
    #[prost(string, tag = "11")]
    pub criu_work_path: String,
}

impl TypeUrl for Options {
    const TYPE_URL: &'static str = "containerd.runc.v1.Options";
}

/// `containerd.runc.v1.ProcessDetails`: the `ProcessInfo.info` the Go runc shim gives an exec
/// process in a Pids answer.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ProcessDetails {
    /// The process's exec id.
    #[prost(string, tag = "1")]
    pub exec_id: String,
}

impl TypeUrl for ProcessDetails {
    const TYPE_URL: &'static str = "containerd.runc.v1.ProcessDetails";
}

/// `containerd.runc.v1.CheckpointOptions`: how Checkpoint runs criu. Docker sends only `exit`;
/// containerd 2.x's CRI sends `work_path` to `io.containerd.runc.v2` and nothing to any other
/// runtime; ctr sends `exit`, `image_path` and `work_path`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CheckpointOptions {
    /// Stop the container once checkpointed (otherwise it goes on running).
    #[prost(bool, tag = "1")]
    pub exit: bool,
    /// `--tcp-established`.
    #[prost(bool, tag = "2")]
    pub open_tcp: bool,
    /// `--ext-unix-sk`.
    #[prost(bool, tag = "3")]
    pub external_unix_sockets: bool,
    /// `--shell-job`.
    #[prost(bool, tag = "4")]
    pub terminal: bool,
    /// `--file-locks`.
    #[prost(bool, tag = "5")]
    pub file_locks: bool,
    /// `--empty-ns`, once for each.
    #[prost(string, repeated, tag = "6")]
    pub empty_namespaces: Vec<String>,
    /// Accepted and not passed on, as by the Go shim.
    #[prost(string, tag = "7")]
    pub cgroups_mode: String,
    /// Where the image goes; empty: the request's path.
    #[prost(string, tag = "8")]
    pub image_path: String,
    /// Where criu works and logs; empty: a directory in the bundle, removed afterwards.
    #[prost(string, tag = "9")]
    pub work_path: String,
    /// `--parent-path` (containerd 2.x).
    #[prost(string, tag = "10")]
    pub parent_path: String,
}

impl TypeUrl for CheckpointOptions {
    const TYPE_URL: &'static str = "containerd.runc.v1.CheckpointOptions";
}
