//! The serving shim's log: lines in logrus's text format written to the bundle's `log` FIFO,
//! which containerd opened before starting the shim and copies into its own log. Writes never
//! block: a line that does not fit while containerd is not reading is dropped.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::SystemTime;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::rfc3339::rfc3339_nano_utc;

/// The FIFO's name in the bundle.
pub const LOG_FIFO: &str = "log";

/// A line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something failed that the shim survived, or a client's request failed.
    Warning,
    /// What the shim did, for `-debug` only.
    Debug,
}

/// The log.
#[derive(Debug)]
pub struct Log {
    fifo: Option<OwnedFd>,
    debug: bool,
}

impl Log {
    /// The bundle's log FIFO, or nothing if it cannot be opened without blocking (no reader:
    /// containerd is not there). `debug` keeps debug lines.
    pub fn open(bundle: &Path, debug: bool) -> Log {
        let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        Log {
            fifo: open(&bundle.join(LOG_FIFO), flags, Mode::empty()).ok(),
            debug,
        }
    }

    /// The FIFO, to give the process's stderr to.
    pub fn fifo(&self) -> Option<&OwnedFd> {
        self.fifo.as_ref()
    }

    /// Writes one line.
    pub fn write(&self, level: Level, message: &str) {
        let Some(fifo) = &self.fifo else {
            return;
        };
        if level == Level::Debug && !self.debug {
            return;
        }
        let level = match level {
            Level::Warning => "warning",
            Level::Debug => "debug",
        };
        let line = format!(
            "time=\"{}\" level={level} msg={}\n",
            rfc3339_nano_utc(SystemTime::now()),
            quoted(message)
        );
        // A full FIFO (containerd not reading) drops the line rather than block the shim.
        let _ = nix::unistd::write(fifo, line.as_bytes());
    }
}

/// `message` in double quotes with quotes, backslashes and control characters escaped, as
/// logrus quotes a value.
fn quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 2);
    out.push('"');
    for c in message.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
