//! What the environment asks of the shim, read once at start-up and passed down: nothing deeper
//! in the code reads the environment.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Forces the copy path instead of `splice(2)`.
pub const NO_SPLICE_ENV: &str = "TINYSHIM_NO_SPLICE";
/// Selects the legacy `--console /dev/pts/N` protocol for terminals.
pub const LEGACY_CONSOLE_ENV: &str = "TINYSHIM_LEGACY_CONSOLE";

/// How long a v2 runtime call may run, in seconds; `0` for as long as it takes.
pub const RUNTIME_TIMEOUT_ENV: &str = "TINYSHIM_RUNTIME_TIMEOUT";
/// A v2 runtime call's time limit when the environment names none: far beyond what a healthy
/// runc takes (milliseconds; seconds on a loaded host), well within containerd's patience for
/// a task it cannot see (it gives up on a shim that does not start in a minute, but waits for a
/// call as long as its client does).
pub const DEFAULT_RUNTIME_TIMEOUT: Duration = Duration::from_secs(120);
/// How many times the time limit `checkpoint` and `restore` get: criu copies the whole memory
/// of the container.
const CRIU_FACTOR: u32 = 5;

/// The shim's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Move stdio with `read`/`write` through a buffer instead of `splice(2)`.
    pub force_copy: bool,
    /// Create terminals in the shim and pass `--console <slave>` (runtimes before runc 1.0).
    pub legacy_console: bool,
    /// Where console-socket directories are made: `$TMPDIR` (default `/tmp`), made absolute
    /// against the working directory the shim started in, because the runtime connects to the
    /// socket from the bundle.
    pub console_dir: PathBuf,
    /// `$PATH`, where runtimes are looked up.
    pub search_path: OsString,
    /// `$TTRPC_ADDRESS`, containerd's ttrpc socket (v2), if set.
    pub ttrpc_address: Option<PathBuf>,
    /// How long a runtime call may run before it is killed with its process group; `None` for
    /// as long as it takes. The v0.2 frontend sets none: its daemon bounds the shim itself.
    pub runtime_timeout: Option<Duration>,
}

impl Config {
    /// Reads the environment; `cwd` is the shim's working directory at start-up.
    pub fn from_env(cwd: &Path) -> Config {
        let switch = |name: &str| switch_is_on(std::env::var_os(name).as_deref());
        Config {
            force_copy: switch(NO_SPLICE_ENV),
            legacy_console: switch(LEGACY_CONSOLE_ENV),
            console_dir: temporary_dir(std::env::var_os("TMPDIR").as_deref(), cwd),
            search_path: std::env::var_os("PATH").unwrap_or_default(),
            ttrpc_address: std::env::var_os("TTRPC_ADDRESS")
                .filter(|a| !a.is_empty())
                .map(PathBuf::from),
            runtime_timeout: timeout_from(std::env::var_os(RUNTIME_TIMEOUT_ENV).as_deref()),
        }
    }

    /// How long a runtime call of `subcommand` may run.
    pub fn time_limit(&self, subcommand: &str) -> Option<Duration> {
        let limit = self.runtime_timeout?;
        Some(match subcommand {
            "checkpoint" | "restore" => limit.saturating_mul(CRIU_FACTOR),
            _ => limit,
        })
    }
}

/// The runtime timeout a `$TINYSHIM_RUNTIME_TIMEOUT` value names: whole seconds, `0` for none;
/// unset or not a number, the default.
pub fn timeout_from(value: Option<&OsStr>) -> Option<Duration> {
    match value
        .and_then(OsStr::to_str)
        .map(str::trim)
        .map(str::parse::<u64>)
    {
        Some(Ok(0)) => None,
        Some(Ok(seconds)) => Some(Duration::from_secs(seconds)),
        _ => Some(DEFAULT_RUNTIME_TIMEOUT),
    }
}

/// Whether a `TINYSHIM_*` switch is on: any value but empty or `0`.
pub fn switch_is_on(value: Option<&OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty() && value != "0")
}

/// `$TMPDIR` as an absolute path: empty or unset means `/tmp`, a relative one is taken from
/// `cwd`, as Go's `filepath.Abs` made it for the original's console socket.
pub fn temporary_dir(tmpdir: Option<&OsStr>, cwd: &Path) -> PathBuf {
    match tmpdir.filter(|dir| !dir.is_empty()).map(Path::new) {
        None => PathBuf::from("/tmp"),
        Some(dir) if dir.is_absolute() => dir.to_path_buf(),
        Some(dir) => cwd.join(dir),
    }
}

#[cfg(test)]
mod tests;
