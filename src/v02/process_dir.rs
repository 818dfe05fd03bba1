//! The process directory the daemon makes for each process (the shim's working directory): the
//! `exit` and `control` FIFOs it opened before starting the shim, and `exitStatus`.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fstat, Mode};

use crate::error::{Error, Result};
use crate::io::fifo;

/// The exit FIFO's name.
pub const EXIT_FIFO: &str = "exit";
/// The control FIFO's name.
pub const CONTROL_FIFO: &str = "control";
/// The exit status file's name.
pub const EXIT_STATUS: &str = "exitStatus";
/// `process.json`'s name.
pub const PROCESS_JSON: &str = "process.json";

/// The process directory, by its absolute path.
#[derive(Debug, Clone)]
pub struct ProcessDir {
    /// The absolute path.
    pub path: PathBuf,
}

impl ProcessDir {
    /// A file in the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens `exit` (write side, held for the shim's whole life and never written: its hang-up
    /// is the daemon's exit notification) or `control` (read-write, so it never sees EOF)
    /// without blocking: the daemon opened its side before starting the shim, so a missing reader
    /// on `exit` is an error, not a wait.
    pub fn open_fifo(&self, name: &str, access: OFlag) -> Result<OwnedFd> {
        let path = self.file(name);
        let flags = access | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = open(&path, flags, Mode::empty()).map_err(|e| match e {
            Errno::ENXIO => Error::invalid(
                format!("open {}", path.display()),
                "no reader: the daemon must open it before starting the shim",
            ),
            e => Error::os(format!("open {}", path.display()), e),
        })?;
        let stat =
            fstat(fd.as_fd()).map_err(|e| Error::os(format!("fstat {}", path.display()), e))?;
        if !fifo::is_fifo(&stat) {
            return Err(Error::invalid(
                format!("open {}", path.display()),
                "not a FIFO",
            ));
        }
        Ok(fd)
    }

    /// Writes `exitStatus` as bare decimal. A failure is ignored: the daemon may have removed
    /// the process directory already, and then nobody will read it.
    pub fn write_exit_status(&self, code: i32) {
        if let Ok(mut file) = File::create(self.file(EXIT_STATUS)) {
            let _ = file.write_all(code.to_string().as_bytes());
        }
    }
}
