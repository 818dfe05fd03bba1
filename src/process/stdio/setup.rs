//! What a frontend asks for a process's stdio, and opening where its outputs go.

use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::fifo;
use crate::process::output::{ClientOutput, FifoEnd};

/// Where an output stream goes.
#[derive(Debug)]
pub enum OutputTarget<'a> {
    /// A client FIFO (empty means `/dev/null`), with the shim's own idle reader on it.
    Fifo(&'a str),
    /// A file, appended to (a v2 `file://` log URI); made with its directories if missing.
    File(&'a Path),
    /// A pipe whose other end a logger reads (a v2 `binary://` log URI).
    Pipe(OwnedFd),
}

/// What a frontend asks for a process's stdio.
#[derive(Debug)]
pub struct StdioSetup<'a> {
    /// The client's stdin FIFO; empty means `/dev/null`.
    pub stdin: &'a str,
    /// Where stdout goes.
    pub stdout: OutputTarget<'a>,
    /// Where stderr goes (ignored for a terminal, which has no stderr).
    pub stderr: OutputTarget<'a>,
    /// A terminal instead of pipes.
    pub terminal: bool,
    /// Owner of the pipes and of a legacy terminal: the container's root.
    pub owner: (u32, u32),
    /// When the shim's writers on the output FIFOs close.
    pub fifo_end: FifoEnd,
    /// Hand `/dev/null` (an empty path or `/dev/null` itself) to the container rather than
    /// pumping through the shim: the v2 shim does so, like the Go shim, and a process without
    /// stdio then costs it no descriptor. The v0.2 protocol gives the container the shim's
    /// three pipes whatever the paths.
    pub null_to_container: bool,
}

impl StdioSetup<'_> {
    /// Whether `path` goes to the container as `/dev/null` itself.
    pub(super) fn null(&self, path: &str) -> bool {
        self.null_to_container && (path.is_empty() || path == fifo::DEV_NULL)
    }

    pub(super) fn null_output(&self, target: &OutputTarget<'_>) -> bool {
        matches!(target, OutputTarget::Fifo(path) if self.null(path))
    }
}

/// Opens where an output goes: the client's end kept by the shim (for a FIFO) and the pump's
/// sink.
pub(super) fn open_target(target: OutputTarget<'_>) -> Result<(Option<ClientOutput>, OwnedFd)> {
    match target {
        OutputTarget::Fifo(path) => Ok(ClientOutput::split(path, fifo::open_client_fifo(path)?)),
        OutputTarget::File(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::os(format!("mkdir -p {}", dir.display()), e))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o644)
                .custom_flags(nix::libc::O_CLOEXEC)
                .open(path)
                .map_err(|e| Error::os(format!("open {}", path.display()), e))?;
            Ok((None, file.into()))
        }
        OutputTarget::Pipe(fd) => Ok((None, fd)),
    }
}
