//! The shims of a daemon: the shim under test installed where containerd looks for it, and the
//! shim processes serving the daemon found again by their command lines, with their sockets.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::options::{ShimUnderTest, TINYSHIM_BINARY};
use super::Containerd;
use crate::footprint::read_address;
use crate::procfs::{cmdline, listening_unix_sockets};

/// Where runc shims put their sockets, whatever the daemon's `--state`.
pub const SHIM_SOCKET_DIR: &str = "/run/containerd/s";
/// The runc shim's binary name, which the CRI daemon finds first on its `PATH`.
const RUNC_SHIM_BINARY: &str = "containerd-shim-runc-v2";

impl Containerd {
    /// The daemon's `PATH` directory with the shim under test under both shim names.
    pub(super) fn install_shim_as_runc_v2(&mut self) {
        let bin = self.dir.join("bin");
        std::fs::create_dir_all(&bin).expect("create the daemon's bin/");
        let shim = ShimUnderTest::selected().binary();
        for name in [RUNC_SHIM_BINARY, TINYSHIM_BINARY] {
            std::os::unix::fs::symlink(&shim, bin.join(name))
                .unwrap_or_else(|e| panic!("link {} as {name}: {e}", shim.display()));
        }
        self.options.shim_dir = Some(bin);
    }

    /// The socket of the shim serving task `id`, from its bundle's `address` file.
    pub fn task_socket(&self, id: &str) -> PathBuf {
        let bundle = self.bundle(id);
        let socket = read_address(&bundle)
            .unwrap_or_else(|| panic!("{} has no address file", bundle.display()));
        self.footprint
            .lock()
            .expect("footprint lock")
            .sockets
            .insert(socket.clone());
        socket
    }

    /// The shim processes serving this daemon's namespace (not the short-lived `start` and
    /// `delete` invocations), by pid.
    pub fn shim_pids(&self) -> Vec<i32> {
        self.shim_processes()
            .into_iter()
            .filter(|(_, argv)| {
                !matches!(
                    argv.last().map(String::as_str),
                    Some("start") | Some("delete")
                )
            })
            .map(|(pid, _)| pid)
            .collect()
    }

    /// The shim process listening on task `id`'s socket.
    pub fn shim_pid(&self, id: &str) -> i32 {
        let socket = self.task_socket(id);
        self.find_shim_pid(id).unwrap_or_else(|| {
            panic!(
                "no shim of namespace {} listens on {} (shims: {:?})",
                self.namespace,
                socket.display(),
                self.shim_pids()
            )
        })
    }

    /// The shim process listening on task `id`'s socket, or `None` while there is no bundle,
    /// `address` file or listening shim (yet): for a caller that looks for the shim while ctr
    /// is still starting it.
    pub fn find_shim_pid(&self, id: &str) -> Option<i32> {
        let socket = read_address(&self.bundle(id))?;
        if let Ok(mut footprint) = self.footprint.lock() {
            footprint.sockets.insert(socket.clone());
        }
        self.shim_pids()
            .into_iter()
            .find(|&pid| listening_unix_sockets(pid).contains(&socket))
    }

    /// The shim processes of this daemon: its namespace and its gRPC address on their command
    /// lines (a namespace alone is not enough: every CRI daemon uses `k8s.io`, every dockerd
    /// `moby`).
    pub(super) fn shim_processes(&self) -> Vec<(i32, Vec<String>)> {
        let address = self.address().display().to_string();
        shim_processes(&self.namespace)
            .into_iter()
            .filter(|(_, argv)| has_flag(argv, "address", &address))
            .collect()
    }
}

/// Where the Go runc shim puts the socket of container `id`: `/run/containerd/s/` and the hex
/// SHA-256 of `<grpc address>/<namespace>/<id>` (computed by coreutils' `sha256sum`).
pub fn go_shim_socket(grpc_address: &str, namespace: &str, id: &str) -> Option<PathBuf> {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    stdin
        .write_all(format!("{grpc_address}/{namespace}/{id}").as_bytes())
        .ok()?;
    drop(stdin);
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let hex = text.split_whitespace().next()?;
    (hex.len() == 64).then(|| Path::new(SHIM_SOCKET_DIR).join(hex))
}

/// Whether `argv` carries `namespace` as its `-namespace` flag, in any of Go's flag spellings.
fn has_namespace_flag(argv: &[String], namespace: &str) -> bool {
    has_flag(argv, "namespace", namespace)
}

/// Whether `argv` carries flag `name` with `value`, in any of Go's flag spellings.
fn has_flag(argv: &[String], name: &str, value: &str) -> bool {
    let (single, double) = (format!("-{name}"), format!("--{name}"));
    let (single_eq, double_eq) = (format!("-{name}="), format!("--{name}="));
    argv.iter().enumerate().any(|(index, arg)| {
        if *arg == single || *arg == double {
            return argv.get(index + 1).is_some_and(|v| v == value);
        }
        arg.strip_prefix(&single_eq)
            .or_else(|| arg.strip_prefix(&double_eq))
            .is_some_and(|v| v == value)
    })
}

/// Every process named `containerd-shim*` with `namespace` on its command line, with its argv.
/// The name check keeps out `ctr --namespace <ns>`.
pub fn shim_processes(namespace: &str) -> Vec<(i32, Vec<String>)> {
    let mut found = Vec::new();
    for pid in crate::procfs::pids() {
        let Some(argv) = cmdline(pid) else {
            continue;
        };
        let is_shim = argv
            .first()
            .and_then(|arg0| Path::new(arg0).file_name())
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("containerd-shim"));
        if is_shim && has_namespace_flag(&argv, namespace) {
            found.push((pid, argv));
        }
    }
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests;
