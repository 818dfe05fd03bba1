//! OCI bundles for the demo, the tests and the benchmarks: a busybox root filesystem built from
//! the host's static busybox (the tests and the benchmarks share one, [`rootfs`]), and a
//! `config.json` close to `runc spec`'s default.

use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::scratch::target_tmp;

/// Where Debian's busybox-static installs the binary.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// Builds (once) a busybox root filesystem at `dir`: `bin/busybox` plus one symlink per applet.
/// The work happens in a sibling directory renamed into place, so concurrent callers (parallel
/// test binaries) never see a half-built tree.
pub fn busybox_rootfs(dir: &Path) -> io::Result<PathBuf> {
    if dir.join("bin/sh").exists() {
        return Ok(dir.to_path_buf());
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = parent.join(format!(".rootfs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    for sub in ["bin", "proc", "sys", "dev", "tmp", "etc", "root"] {
        std::fs::create_dir_all(staging.join(sub))?;
    }
    std::fs::copy(HOST_BUSYBOX, staging.join("bin/busybox")).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("copy {HOST_BUSYBOX}: {e} (install busybox-static)"),
        )
    })?;
    let list = std::process::Command::new(HOST_BUSYBOX)
        .arg("--list")
        .output()?;
    for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
        if applet != "busybox" && !applet.contains('/') {
            symlink("busybox", staging.join("bin").join(applet))?;
        }
    }
    std::fs::write(
        staging.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n",
    )?;
    std::fs::write(staging.join("etc/group"), "root:x:0:\n")?;
    match std::fs::rename(&staging, dir) {
        Ok(()) => Ok(dir.to_path_buf()),
        // Another process won the race: use its tree.
        Err(_) if dir.join("bin/sh").exists() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dir.to_path_buf())
        }
        Err(e) => Err(e),
    }
}

/// The shared read-only busybox root filesystem.
pub fn rootfs() -> PathBuf {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS
        .get_or_init(|| {
            let dir = target_tmp().join("busybox-rootfs");
            busybox_rootfs(&dir).expect("build the busybox rootfs")
        })
        .clone()
}

/// Options of a generated `config.json`.
#[derive(Debug, Clone)]
pub struct ConfigOptions {
    /// The process's argv.
    pub args: Vec<String>,
    /// `process.terminal`.
    pub terminal: bool,
    /// Give the container its own pid namespace (the default). Without one, orphans of the
    /// container's processes are reparented to the shim, which tests its reaping.
    pub pid_namespace: bool,
    /// The rootfs path (absolute), mounted read-only so that many bundles can share it.
    pub rootfs: PathBuf,
}

/// A `config.json` for `options`, close to `runc spec` (OCI runtime-spec 1.0).
pub fn config(options: &ConfigOptions) -> Value {
    let capabilities = json!([
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_SYS_CHROOT",
    ]);
    let mut namespaces = vec![
        json!({"type": "network"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    if options.pid_namespace {
        namespaces.insert(0, json!({"type": "pid"}));
    }
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": options.terminal,
            "user": {"uid": 0, "gid": 0},
            "args": options.args,
            "env": ["PATH=/bin", "TERM=xterm", "HOME=/root"],
            "cwd": "/",
            "capabilities": {
                "bounding": capabilities, "effective": capabilities,
                "permitted": capabilities, "ambient": capabilities,
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true,
        },
        "root": {"path": options.rootfs, "readonly": true},
        "hostname": "tinyshim",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=1777"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    })
}

/// Writes a bundle directory holding `config.json` for `options`.
pub fn write_bundle(dir: &Path, options: &ConfigOptions) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_vec_pretty(&config(options)).map_err(io::Error::other)?;
    std::fs::write(dir.join("config.json"), text)
}
