//! Bounded reads of kernel-generated files through one buffer.
//!
//! cgroupfs and procfs files are generated when read and never block, so they are read on the
//! loop; none is read past [`MAX_FILE`]. A Stats call reads twenty-odd files through one
//! [`Files`], which allocates its buffer once for the call and drops it with the call.

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::libc;

use crate::error::{Error, Result};

/// The largest file read. A container's cgroup files are small (`memory.stat` is under 2 KiB);
/// the longest, blkio's, hold six lines of about 25 bytes for each device the cgroup used.
pub const MAX_FILE: usize = 1 << 20;

/// The buffer's first size: every common cgroup file fits, so most reads need no growth.
const FIRST_CAPACITY: usize = 4096;

/// A reader of cgroup files that remembers whether any of them existed.
#[derive(Debug, Default)]
pub(super) struct Files {
    buffer: Vec<u8>,
    path: PathBuf,
    /// How many files of the cgroup were found; none means the cgroup may be gone.
    pub(super) found: usize,
}

/// Whether an error means "the file is not there": absent (`ENOENT`), or its cgroup removed
/// after the open (`ENODEV`).
pub(super) fn is_missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENODEV))
}

impl Files {
    pub(super) fn new() -> Files {
        Files::default()
    }

    /// Reads the cgroup file `dir/name`: `None` when it does not exist, counted in
    /// [`Files::found`] when it does.
    pub(super) fn read(&mut self, dir: &Path, name: &str) -> Result<Option<&str>> {
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        path.push(dir);
        path.push(name);
        let read = self.fill(&path);
        self.path = path;
        match read? {
            true => {
                self.found += 1;
                Ok(Some(self.text()))
            }
            false => Ok(None),
        }
    }

    /// Reads a file that is not the cgroup's (`/proc/partitions`, `/proc/<pid>/cgroup`), which
    /// says nothing about whether the cgroup exists.
    pub(super) fn read_host(&mut self, path: &Path) -> Result<Option<&str>> {
        match self.fill(path)? {
            true => Ok(Some(self.text())),
            false => Ok(None),
        }
    }

    /// Whether `dir/name` exists, without reading it.
    pub(super) fn exists(&mut self, dir: &Path, name: &str) -> bool {
        self.path.clear();
        self.path.push(dir);
        self.path.push(name);
        self.path.symlink_metadata().is_ok()
    }

    /// Reads `path` into the buffer; `false` when it is missing.
    fn fill(&mut self, path: &Path) -> Result<bool> {
        self.buffer.clear();
        if self.buffer.capacity() == 0 {
            self.buffer.reserve(FIRST_CAPACITY);
        }
        // O_NONBLOCK: should a FIFO ever stand where a cgroup file should be, the open must not
        // wait for a writer.
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(Error::os(format!("open {}", path.display()), e)),
        };
        let limit = u64::try_from(MAX_FILE)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        // Through `take`, which gives no size hint, so that std reads without an fstat and an
        // lseek first (the size of a generated file is meaningless anyway).
        match (&file).take(limit).read_to_end(&mut self.buffer) {
            Ok(_) => {}
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(Error::os(format!("read {}", path.display()), e)),
        }
        if self.buffer.len() > MAX_FILE {
            return Err(Error::invalid(
                path.display().to_string(),
                format!("larger than {MAX_FILE} bytes"),
            ));
        }
        Ok(true)
    }

    /// The buffer as text: up to its first byte that is not UTF-8, which a kernel file never
    /// has, so that a stray byte costs only what follows it.
    fn text(&self) -> &str {
        match std::str::from_utf8(&self.buffer) {
            Ok(text) => text,
            Err(e) => self
                .buffer
                .get(..e.valid_up_to())
                .and_then(|valid| std::str::from_utf8(valid).ok())
                .unwrap_or_default(),
        }
    }
}
