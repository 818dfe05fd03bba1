//! What the environment asks of the shim, read once at start-up and passed down: nothing deeper
//! in the code reads the environment.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Forces the copy path instead of `splice(2)`.
pub const NO_SPLICE_ENV: &str = "TINYSHIM_NO_SPLICE";
/// Selects the legacy `--console /dev/pts/N` protocol for terminals.
pub const LEGACY_CONSOLE_ENV: &str = "TINYSHIM_LEGACY_CONSOLE";

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
        }
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
