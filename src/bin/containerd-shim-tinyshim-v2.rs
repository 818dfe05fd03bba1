//! `containerd-shim-tinyshim-v2`: the containerd runtime v2 shim (runtime
//! `io.containerd.tinyshim.v2`, or installed as `containerd-shim-runc-v2`). The argv picks
//! `start`, `delete` or serving; the rest is in [`tinyshim::v2`].

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::process::ExitCode;

use nix::sys::socket::{getsockname, UnixAddr};
use tinyshim::config::Config;
use tinyshim::v2::cli::args::{self, Action};
use tinyshim::v2::cli::{delete, start};
use tinyshim::v2::log::{Level, Log};
use tinyshim::v2::shim;

/// Where `start` puts the listening socket of the serving shim.
const LISTENER_FD: i32 = 3;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("containerd-shim-tinyshim-v2: {error}");
            return ExitCode::FAILURE;
        }
    };
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            eprintln!("containerd-shim-tinyshim-v2: getcwd: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.action {
        Action::Version => {
            println!(
                "containerd-shim-tinyshim-v2 (tinyshim) {}",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Action::Start => match start::start(&args, &cwd) {
            Ok(address) => {
                print!("{address}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        },
        Action::Delete => {
            let config = Config::from_env(&cwd);
            let (response, warnings) = delete::delete(&args, &cwd, &config.search_path);
            for warning in warnings {
                eprintln!("{warning}");
            }
            match std::io::stdout().write_all(&response) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Action::Serve => serve(&args, &cwd),
    }
}

fn serve(args: &args::Args, cwd: &std::path::Path) -> ExitCode {
    // First, before the shim opens anything of its own.
    tinyshim::io::inherited::close_above(LISTENER_FD.unsigned_abs());
    let log = Log::open(cwd, args.debug);
    // Anything the process itself prints (an abort) lands in containerd's log too.
    if let Some(fifo) = log.fifo() {
        // SAFETY: dup2 takes no pointers; the FIFO is open for the call, and fd 2 is
        // /dev/null, owned by nothing in the program but std's stderr, which then writes to
        // the FIFO.
        unsafe {
            nix::libc::dup2(fifo.as_raw_fd(), 2);
        }
    }
    let is_socket = std::fs::metadata(format!("/proc/self/fd/{LISTENER_FD}"))
        .is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        log.write(
            Level::Warning,
            "no listening socket on fd 3: run by `start`, not by hand",
        );
        return ExitCode::FAILURE;
    }
    // SAFETY: fd 3 is the listening socket `start` passed (checked above) and nothing else in
    // this process owns it.
    let listener = unsafe { OwnedFd::from_raw_fd(LISTENER_FD) };
    let _ = nix::fcntl::fcntl(
        &listener,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    let _ = tinyshim::io::pipe::set_nonblocking(&listener);
    let socket_path = getsockname::<UnixAddr>(LISTENER_FD)
        .ok()
        .and_then(|addr| addr.path().map(|p| p.to_path_buf()));
    match shim::serve(args, listener, socket_path, log, Config::from_env(cwd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            Log::open(cwd, false).write(Level::Warning, &error.to_string());
            ExitCode::FAILURE
        }
    }
}
