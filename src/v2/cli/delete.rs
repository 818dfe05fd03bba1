//! `delete`: what containerd runs after a task is gone, and when its shim died, to clean up
//! with the shim's binary alone: `runc delete --force` with the settings the serving shim kept
//! in the bundle, the rootfs unmounted, the socket of a shim that died removed, and a
//! DeleteResponse on stdout (the pid of the init, if
//! its pid file is still there, and 137, as for a process SIGKILLed with its shim).
//!
//! It runs after every normal task delete too, when nothing is left: then runc says so, which
//! is no error. Warnings go to stderr, which containerd logs.

use std::ffi::OsStr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use prost::Message;

use crate::error::Error;
use crate::runtime::pid_file;
use crate::v2::bundle;
use crate::v2::cli::args::Args;
use crate::v2::cli::start::{ADDRESS_FILE, SOCKET_DIR};
use crate::v2::proto::google::Timestamp;
use crate::v2::proto::task::DeleteResponse;
use crate::v2::rootfs;
use crate::v2::runc::{CommandLines, Settings, INIT_PID_FILE};

/// Removes the socket the bundle's `address` file names if no shim answers on it any more (one
/// that was SIGKILLed leaves it behind); a socket still answering is a live shim's, serving
/// other containers of the group.
fn remove_dead_socket(bundle: &Path, warnings: &mut Vec<Error>) {
    let Ok(address) = std::fs::read_to_string(bundle.join(ADDRESS_FILE)) else {
        return;
    };
    let Some(path) = address.trim().strip_prefix("unix://") else {
        return;
    };
    let path = Path::new(path);
    if !path.starts_with(SOCKET_DIR) {
        // Only ever a shim socket: the file is the bundle's, and the bundle can be written by
        // whoever made the task.
        return;
    }
    if let Err(e) = UnixStream::connect(path) {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            if let Err(e) = std::fs::remove_file(path) {
                warnings.push(Error::os(format!("remove {}", path.display()), e));
            }
        }
    }
}

/// The status reported for a task whose shim is gone.
const KILLED: u32 = 128 + 9;

/// Cleans up the task of `args` in its bundle (`-bundle`, else `cwd`); returns the encoded
/// DeleteResponse, and what went wrong, to print.
pub fn delete(args: &Args, cwd: &Path, search: &OsStr) -> (Vec<u8>, Vec<Error>) {
    let bundle = args.bundle.as_deref().map(Path::new).unwrap_or(cwd);
    let mut warnings = Vec::new();
    let settings =
        bundle::load_settings(bundle).unwrap_or_else(|| Settings::new(None, &args.namespace));
    match settings.runtime(search) {
        Ok(runtime) => {
            let lines = CommandLines {
                settings: &settings,
                id: &args.id,
                bundle,
            };
            let command = lines.delete();
            let ran = Command::new(&runtime.program)
                .args(&command.args)
                .current_dir(bundle)
                .stdin(Stdio::null())
                .output();
            match ran {
                Ok(output) if output.status.success() => {}
                Ok(output) => {
                    let said = String::from_utf8_lossy(&output.stderr);
                    // Nothing left to delete is the normal case after a task delete.
                    if !said.contains("does not exist") {
                        warnings.push(Error::invalid(
                            format!("{} delete --force {}", runtime.name, args.id),
                            said.trim(),
                        ));
                    }
                }
                Err(e) => warnings.push(Error::os(format!("run {}", runtime.program.display()), e)),
            }
        }
        Err(e) => warnings.push(e),
    }
    if let Err(e) = rootfs::unmount_all(bundle) {
        warnings.push(e);
    }
    remove_dead_socket(bundle, &mut warnings);
    let pid = pid_file::read(&bundle.join(INIT_PID_FILE)).map_or(0, |pid| pid as u32);
    let response = DeleteResponse {
        pid,
        exit_status: KILLED,
        exited_at: Some(Timestamp::from(SystemTime::now())),
    };
    (response.encode_to_vec(), warnings)
}
