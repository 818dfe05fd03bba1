//! `containerd-shim <id> <bundle> <runtime>`: argv, the log file and the exit status; the rest is
//! in [`tinyshim::v02`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tinyshim::error::Error;
use tinyshim::v02::shim_log::{Level, ShimLog, SHIM_LOG};
use tinyshim::v02::{self, Args};

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
    tinyshim::io::inherited::close_above(2);
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
        Ok(args) => v02::run(&args, &log),
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
