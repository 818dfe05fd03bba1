//! `unprivileged-pipe`: prints the capacity, in bytes, of a pipe made by a root process without
//! CAP_SYS_RESOURCE and CAP_SYS_ADMIN, as every container process of root is. The kernel gives
//! such a pipe 8 KiB instead of 64 KiB once root's pipes hold more than
//! `fs.pipe-user-pages-soft` pages in all, which is what the pipe-capacity tests look for.

use std::process::ExitCode;

/// `CAP_SYS_ADMIN` and `CAP_SYS_RESOURCE` (linux/capability.h): either lifts the pipe limits.
const LIFTING_PIPE_LIMITS: [usize; 2] = [21, 24];

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets, two 32-bit words each.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn main() -> ExitCode {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two CapData through the pointer, which points to a live array of
    // exactly that size; the header is a live local of the kernel's layout.
    if unsafe { nix::libc::syscall(nix::libc::SYS_capget, &mut header, data.as_mut_ptr()) } != 0 {
        eprintln!("capget: {}", std::io::Error::last_os_error());
        return ExitCode::FAILURE;
    }
    for capability in LIFTING_PIPE_LIMITS {
        let (word, bit) = (capability / 32, 1u32 << (capability % 32));
        data[word].effective &= !bit;
        data[word].permitted &= !bit;
    }
    // SAFETY: as above; capset only reads through both pointers.
    if unsafe { nix::libc::syscall(nix::libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        eprintln!("capset: {}", std::io::Error::last_os_error());
        return ExitCode::FAILURE;
    }
    let (read, _write) = match nix::unistd::pipe() {
        Ok(pipe) => pipe,
        Err(e) => {
            eprintln!("pipe: {e}");
            return ExitCode::FAILURE;
        }
    };
    match nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_GETPIPE_SZ) {
        Ok(bytes) => {
            println!("{bytes}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fcntl F_GETPIPE_SZ: {e}");
            ExitCode::FAILURE
        }
    }
}
