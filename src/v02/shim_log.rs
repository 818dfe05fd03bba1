//! `shim-log.json`: the only channel through which the shim can tell the daemon why it failed.
//!
//! The daemon reads it only when the shim died before the `pid` file appeared, decoding a stream of
//! concatenated `{"level": ..., "msg": ...}` objects and reporting the first `error` one. The shape
//! is the original's byte for byte (the space after `"level":`, no newline), except that the
//! message is JSON-escaped: the original wrote raw quotes and the daemon then reported a JSON
//! syntax error instead of the message.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::Error;

/// The log file's name, relative to the process directory.
pub const SHIM_LOG: &str = "shim-log.json";

/// Severity of an entry. The daemon acts only on `Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A fatal shim error, written just before exiting with status 1.
    Error,
    /// Something went wrong that the shim survived.
    Warn,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
        }
    }
}

/// One entry, exactly as it is appended to the file.
pub fn entry(level: Level, msg: &str) -> String {
    // Serialising a &str cannot fail; the fallback keeps this total anyway.
    let msg = serde_json::to_string(msg).unwrap_or_else(|_| String::from("\"\""));
    format!("{{\"level\": \"{}\",\"msg\": {}}}", level.as_str(), msg)
}

/// The open log file.
#[derive(Debug)]
pub struct ShimLog {
    file: File,
}

impl ShimLog {
    /// Creates or appends to the log at `path`, as the original's very first action did.
    /// `O_SYNC` so that an entry is on disk before the shim exits and the daemon looks.
    pub fn open(path: &Path) -> io::Result<ShimLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o666)
            .custom_flags(nix::libc::O_SYNC)
            .open(path)?;
        Ok(ShimLog { file })
    }

    /// Appends one entry. A failure is ignored on purpose: the daemon may have removed the process
    /// directory already (an exec that ended, a start failure), and nobody is left to read it.
    pub fn write(&self, level: Level, msg: &str) {
        let _ = (&self.file).write_all(entry(level, msg).as_bytes());
    }
}

/// `error` as the original shim worded a client FIFO it could not open (docker shows it as
/// `shim error: containerd-shim: opening <path> failed: <why>`, and users search for it).
pub fn in_original_words(error: Error, fifos: &[&String]) -> Error {
    let original = |context: &str| {
        fifos.iter().find_map(|path| {
            let path = if path.is_empty() {
                crate::io::fifo::DEV_NULL
            } else {
                path.as_str()
            };
            (context == format!("open {path}"))
                .then(|| format!("containerd-shim: opening {path} failed"))
        })
    };
    match error {
        Error::Os { context, source } => Error::Os {
            context: original(&context).unwrap_or(context),
            source,
        },
        Error::Invalid { context, reason } => Error::Invalid {
            context: original(&context).unwrap_or(context),
            reason,
        },
        other => other,
    }
}

/// `name` with its first letter in upper case, as the original began its warnings.
pub fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
