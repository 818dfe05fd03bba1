//! Bounded reads of kernel-generated files through one buffer.
//!
//! cgroupfs and procfs files are generated when read and never block, so they are read on the
//! loop; none is read past [`MAX_FILE`]. A Stats call reads twenty-odd files through one
//! [`Files`], which allocates its buffer once for the call and drops it with the call.
//!
//! A cgroup file is one seq_file record, generated whole and handed out in as few reads as the
//! buffer allows: a read that leaves the buffer room to spare has reached the end, and the
//! `read` that would return 0 is skipped (a quarter of a Stats call's syscalls). Multi-record
//! files (`/proc/partitions`, `/proc/<pid>/cgroup`) can return less than asked before their
//! end, so they are read until a read returns 0; `/proc/self/mountinfo`, which runs to
//! megabytes on a busy node, is read line by line and only the lines asked for are kept
//! ([`kept_lines`]).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::libc;

use crate::error::{Error, Result};

/// The largest file read. A container's cgroup files are small (`memory.stat` is under 2 KiB);
/// the longest, blkio's, hold six lines of about 25 bytes for each device the cgroup used.
pub const MAX_FILE: usize = 1 << 20;

/// The buffer's first size: every common cgroup file fits, so most reads need no growth.
const FIRST_CAPACITY: usize = 4096;

/// The longest line [`kept_lines`] considers: a mountinfo line holds two paths of at most
/// `PATH_MAX` (4096) bytes, escaped, and its options.
const MAX_LINE: usize = 64 << 10;

/// How a file hands out its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Records {
    /// One record (every cgroupfs file): a short read is the end.
    One,
    /// Many (procfs tables): only a read of 0 is the end.
    Many,
}

/// A reader of cgroup files that remembers whether any of them existed.
#[derive(Debug, Default)]
pub(super) struct Files {
    /// Zero-filled to its length; `buffer[..len]` holds the last file read.
    buffer: Vec<u8>,
    len: usize,
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
        let read = self.fill(&path, Records::One);
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
        match self.fill(path, Records::Many)? {
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
    fn fill(&mut self, path: &Path, records: Records) -> Result<bool> {
        self.len = 0;
        // O_NONBLOCK: should a FIFO ever stand where a cgroup file should be, the open must not
        // wait for a writer.
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(Error::os(format!("open {}", path.display()), e)),
        };
        let too_large = || {
            Error::invalid(
                path.display().to_string(),
                format!("larger than {MAX_FILE} bytes"),
            )
        };
        loop {
            if self.len == self.buffer.len() {
                if self.len > MAX_FILE {
                    return Err(too_large());
                }
                let grown = (self.len * 2).clamp(FIRST_CAPACITY, MAX_FILE + 1);
                self.buffer.resize(grown, 0);
            }
            let Some(spare) = self.buffer.get_mut(self.len..) else {
                return Err(too_large());
            };
            let asked = spare.len();
            match file.read(spare) {
                Ok(0) => break,
                Ok(n) => {
                    self.len += n;
                    if records == Records::One && n < asked {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_missing(&e) => return Ok(false),
                Err(e) => return Err(Error::os(format!("read {}", path.display()), e)),
            }
        }
        if self.len > MAX_FILE {
            return Err(too_large());
        }
        Ok(true)
    }

    /// The file read last, as text: up to its first byte that is not UTF-8, which a kernel file
    /// never has, so that a stray byte costs only what follows it.
    fn text(&self) -> &str {
        let content = self.buffer.get(..self.len).unwrap_or_default();
        match std::str::from_utf8(content) {
            Ok(text) => text,
            Err(e) => content
                .get(..e.valid_up_to())
                .and_then(|valid| std::str::from_utf8(valid).ok())
                .unwrap_or_default(),
        }
    }
}

/// The lines of `path` that `keep` selects, read through a small buffer however long the file
/// is (`/proc/self/mountinfo` of a busy node runs to megabytes, of which the shim keeps the few
/// cgroup lines); `None` when it is missing. A line over [`MAX_LINE`] bytes, or not UTF-8, is
/// skipped; what is kept is bounded by [`MAX_FILE`].
pub(super) fn kept_lines(path: &Path, keep: impl Fn(&str) -> bool) -> Result<Option<String>> {
    let failed = |e| Error::os(format!("read {}", path.display()), e);
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(Error::os(format!("open {}", path.display()), e)),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut kept = String::new();
    loop {
        line.clear();
        let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
        if (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(failed)?
            == 0
        {
            break;
        }
        if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
            skip_line(&mut reader).map_err(failed)?;
            continue;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            continue;
        };
        if keep(text.trim_end_matches('\n')) {
            if kept.len() + text.len() > MAX_FILE {
                return Err(Error::invalid(
                    path.display().to_string(),
                    format!("more than {MAX_FILE} bytes of lines to keep"),
                ));
            }
            kept.push_str(text);
        }
    }
    Ok(Some(kept))
}

/// Consumes the rest of the current line.
fn skip_line(reader: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(());
            }
            None => {
                let len = buffer.len();
                reader.consume(len);
            }
        }
    }
}
