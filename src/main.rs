//! `containerd-shim <id> <bundle> <runtime>`: argv, the log file and the exit status; the rest is
//! in [`tinyshim::lifecycle`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use tinyshim::error::Error;
use tinyshim::lifecycle::{self, Args};
use tinyshim::log::{Level, ShimLog, SHIM_LOG};

const USAGE: &str = "\
usage: containerd-shim <id> <bundle> <runtime>

A drop-in replacement for the containerd v0.2.x shim. The daemon starts it with the process
directory (holding process.json, exit and control) as its working directory.

Environment:
  TINYSHIM_NO_SPLICE=1       copy through a buffer instead of splice(2)
  TINYSHIM_LEGACY_CONSOLE=1  create the PTY and pass --console /dev/pts/N (runtimes before runc 1.0)
";

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    match argv.get(1).and_then(|a| a.to_str()) {
        Some("--version" | "-v") => {
            println!("containerd-shim (tinyshim) {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    ensure_standard_descriptors();
    let log = match ShimLog::open(Path::new(SHIM_LOG)) {
        Ok(log) => log,
        Err(e) => {
            // Without its log the shim cannot tell the daemon anything; stderr is /dev/null
            // under the daemon but not when run by hand.
            eprintln!("containerd-shim: open {SHIM_LOG}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match parse_args(&argv) {
        Ok(args) => lifecycle::run(&args, &log),
        Err(error) => {
            log.write(Level::Error, &error.to_string());
            return ExitCode::FAILURE;
        }
    };
    if let Some(error) = &outcome.error {
        log.write(Level::Error, &error.to_string());
    }
    ExitCode::from(outcome.code)
}

fn parse_args(argv: &[OsString]) -> Result<Args, Error> {
    let usage = || {
        Error::invalid(
            "containerd-shim arguments",
            format!(
                "expected <id> <bundle> <runtime>, got {} argument(s)",
                argv.len().saturating_sub(1)
            ),
        )
    };
    let [_, id, bundle, runtime] = argv else {
        return Err(usage());
    };
    let text = |arg: &OsString, what: &str| match arg.to_str() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(Error::invalid(
            "containerd-shim arguments",
            format!("{what} must be non-empty UTF-8"),
        )),
    };
    Ok(Args {
        id: text(id, "id")?,
        bundle: PathBuf::from(bundle),
        runtime: text(runtime, "runtime")?,
    })
}

/// The daemon gives the shim `/dev/null` on fds 0, 1 and 2. Should any be closed, the first files
/// the shim opens would take those numbers and a runtime child would inherit them as its stdio.
fn ensure_standard_descriptors() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only reads the descriptor table entry; it takes no pointer and neither
        // takes nor closes `fd`, which may well be closed (that is the question).
        if unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) } == -1 {
            // Opens take the lowest free number, which is this one; it must stay open for good.
            if let Ok(null) = open(Path::new("/dev/null"), OFlag::O_RDWR, Mode::empty()) {
                std::mem::forget(null);
            }
        }
    }
}
