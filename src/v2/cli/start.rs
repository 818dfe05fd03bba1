//! `start`: find or make the shim that serves a task, and print its address.
//!
//! containerd runs it in the task's bundle and reads everything it prints (stdout and stderr
//! together) as the address, after EOF on both. So on success it prints exactly
//! `unix:///run/containerd/s/<hash>` and nothing on stderr, and the serving shim it starts holds
//! neither of them.
//!
//! The socket's name is the SHA-256 of `<containerd address>/<namespace>/<group>`, where the
//! group is the container's grouping annotation, or its id: containers of one pod get the same
//! name, and the second `start` finds the first one's shim answering there and only prints its
//! address. A socket file nobody answers on is left over from a shim that died, and is replaced.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::sys::socket::{bind, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use prost::Message;

use crate::error::{Error, Result};
use crate::v2::bundle;
use crate::v2::cli::args::Args;
use crate::v2::proto::google::Any;
use crate::v2::proto::runc::Options;
use crate::v2::proto::runtimeoptions::RuntimeOptions;
use crate::v2::runtime_options;
use crate::v2::sha256;

/// Where runtime v2 shims put their sockets (containerd's default state directory, whatever
/// `--state` the daemon runs with).
pub const SOCKET_DIR: &str = "/run/containerd/s";

/// The file in the bundle that tells containerd where the shim is after a restart.
pub const ADDRESS_FILE: &str = "address";

/// Go's `filepath.Join`: the parts joined with `/` and cleaned (`.` and empty parts dropped,
/// `..` taking the previous part with it), as containerd hashes them.
pub fn go_join(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let rooted = joined.starts_with('/');
    let mut kept: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." if kept.last().is_some_and(|p| *p != "..") => {
                kept.pop();
            }
            ".." if rooted => {}
            part => kept.push(part),
        }
    }
    match (rooted, kept.is_empty()) {
        (true, _) => format!("/{}", kept.join("/")),
        (false, true) => ".".into(),
        (false, false) => kept.join("/"),
    }
}

/// The socket path of the shim serving `group` for containerd at `address` in `namespace`.
pub fn socket_path(address: &str, namespace: &str, group: &str) -> PathBuf {
    let digest = sha256::hex_digest(go_join(&[address, namespace, group]).as_bytes());
    Path::new(SOCKET_DIR).join(digest)
}

/// Runs `start` in the bundle `cwd`; returns the address to print, or the error to print.
pub fn start(args: &Args, cwd: &Path) -> Result<String> {
    let config = bundle::load_config(cwd)?;
    let group = bundle::group_key(&config, &args.id);
    let path = socket_path(&args.address, &args.namespace, &group);
    let address = format!("unix://{}", path.display());
    let listener = match listen_on(&path)? {
        Some(listener) => listener,
        None => {
            write_address(cwd, &address)?;
            return Ok(address);
        }
    };
    let served = write_address(cwd, &address).and_then(|()| spawn_shim(args, cwd, &listener));
    if let Err(error) = served {
        let _ = std::fs::remove_file(&path);
        return Err(error);
    }
    Ok(address)
}

/// Listens on `path`; `None` when a shim already answers there.
fn listen_on(path: &Path) -> Result<Option<OwnedFd>> {
    let dir = path.parent().unwrap_or(Path::new(SOCKET_DIR));
    std::fs::create_dir_all(dir).map_err(|e| Error::os(format!("mkdir {}", dir.display()), e))?;
    let address =
        UnixAddr::new(path).map_err(|e| Error::os(format!("socket {}", path.display()), e))?;
    for _ in 0..2 {
        let listener = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| Error::os("socket AF_UNIX", e))?;
        match bind(listener.as_raw_fd(), &address) {
            Ok(()) => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::os(format!("chmod {}", path.display()), e))?;
                listen_fully(&listener)
                    .map_err(|e| Error::os(format!("listen {}", path.display()), e))?;
                return Ok(Some(listener));
            }
            Err(Errno::EADDRINUSE) if UnixStream::connect(path).is_ok() => return Ok(None),
            Err(Errno::EADDRINUSE) => {
                std::fs::remove_file(path)
                    .map_err(|e| Error::os(format!("remove stale socket {}", path.display()), e))?;
            }
            Err(e) => return Err(Error::os(format!("bind {}", path.display()), e)),
        }
    }
    Err(Error::invalid(
        format!("bind {}", path.display()),
        "address still in use",
    ))
}

/// Listens with the longest queue the system allows (`net.core.somaxconn`, 4 096 on current
/// kernels), as the Go shim does: a burst of containerd's connections (a pod's containers, a
/// daemon restart) must not be refused while the shim is busy. nix caps a backlog at libc's old
/// `SOMAXCONN` of 128; the kernel caps any larger one at the system's maximum.
fn listen_fully(listener: &OwnedFd) -> nix::Result<()> {
    // SAFETY: listen takes no pointers; the descriptor is a bound socket this function borrows.
    let result = unsafe { nix::libc::listen(listener.as_raw_fd(), nix::libc::c_int::MAX) };
    nix::errno::Errno::result(result).map(drop)
}

/// Writes the `address` file whole or not at all.
fn write_address(cwd: &Path, address: &str) -> Result<()> {
    let temporary = cwd.join(format!(".{ADDRESS_FILE}"));
    let path = cwd.join(ADDRESS_FILE);
    std::fs::write(&temporary, address)
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| Error::os(format!("write {}", path.display()), e))
}

/// Starts the serving shim: this binary again, without an action, in the bundle, with the
/// listener as fd 3, `/dev/null` as stdio and a process group of its own; then moves it into the
/// shim cgroup the runc options name and makes it a little likelier than containerd to be
/// chosen by the OOM killer, as the Go shim does.
fn spawn_shim(args: &Args, cwd: &Path, listener: &OwnedFd) -> Result<()> {
    let program = std::env::current_exe().map_err(|e| Error::os("readlink /proc/self/exe", e))?;
    let mut command = Command::new(&program);
    command
        .args([
            "-namespace",
            &args.namespace,
            "-id",
            &args.id,
            "-address",
            &args.address,
        ])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if args.debug {
        command.arg("-debug");
    }
    let fd = listener.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and makes only raw,
    // async-signal-safe syscalls (dup2, fcntl) on a descriptor it holds; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let placed = if fd == 3 {
                nix::libc::fcntl(3, nix::libc::F_SETFD, 0)
            } else {
                nix::libc::dup2(fd, 3)
            };
            if placed < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command
        .spawn()
        .map_err(|e| Error::os(format!("start {}", program.display()), e))?;
    let pid = child.id();
    // Not waited for: the serving shim outlives `start`, and init reaps it in the end.
    drop(child);
    if let Some(cgroup) = shim_cgroup() {
        join_cgroup(pid, &cgroup)?;
    }
    adjust_oom_score(pid);
    Ok(())
}

/// The `shim_cgroup` of the runtime options containerd wrote on stdin, if any: runc's own, or
/// CRI's for another runtime, which say where the runc options are.
fn shim_cgroup() -> Option<String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_end(&mut input)
        .ok()?;
    let any = Any::decode(input.as_slice()).ok()?;
    let options: Options = match any.unpack::<RuntimeOptions>() {
        Ok(cri) => runtime_options::runc_options(&cri).ok()?,
        Err(_) => any.unpack().ok()?,
    };
    (!options.shim_cgroup.is_empty()).then_some(options.shim_cgroup)
}

/// Moves `pid` into `cgroup`: on a unified hierarchy its one directory, on cgroup v1 the
/// directory of that name in every hierarchy that has one.
fn join_cgroup(pid: u32, cgroup: &str) -> Result<()> {
    let relative = cgroup.trim_start_matches('/');
    let root = Path::new("/sys/fs/cgroup");
    let mut targets = Vec::new();
    if root.join("cgroup.controllers").exists() {
        targets.push(root.join(relative));
    } else if let Ok(hierarchies) = std::fs::read_dir(root) {
        targets.extend(
            hierarchies
                .flatten()
                .map(|h| h.path().join(relative))
                .filter(|dir| dir.join("cgroup.procs").exists()),
        );
    }
    if targets.is_empty() {
        return Err(Error::invalid(
            format!("failed to load cgroup {cgroup}"),
            "no such cgroup",
        ));
    }
    for dir in targets {
        let procs = dir.join("cgroup.procs");
        std::fs::write(&procs, pid.to_string()).map_err(|e| {
            Error::os(
                format!("failed to join cgroup {cgroup}: write {}", procs.display()),
                e,
            )
        })?;
    }
    Ok(())
}

/// Gives `pid` containerd's OOM score plus one. Best effort, as a score cannot be read or
/// written in every environment (an unprivileged container).
fn adjust_oom_score(pid: u32) {
    let parent = nix::unistd::getppid();
    let Some(score) = std::fs::read_to_string(format!("/proc/{parent}/oom_score_adj"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
    else {
        return;
    };
    let _ = std::fs::write(
        format!("/proc/{pid}/oom_score_adj"),
        (score + 1).min(1000).to_string(),
    );
}

#[cfg(test)]
mod tests;
