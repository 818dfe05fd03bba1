//! Both ends of a measured transfer: the container's writer and the daemon's reader.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The size of the container's writes and of the reader's reads: the daemon's copy loop reads
/// 64 KiB at a time.
const CHUNK: usize = 64 * 1024;

/// The container's command writing `bytes` (a multiple of 64 KiB) to stdout in 64 KiB writes,
/// without newlines (a terminal would expand them).
pub fn writer_script(bytes: u64) -> String {
    format!(
        "dd if=/dev/zero bs={CHUNK} count={} 2>/dev/null",
        bytes / CHUNK as u64
    )
}

/// Reads `file` (made non-blocking) to EOF through a 64 KiB buffer, the way the daemon's copy
/// loop does; returns the bytes and the time from the first byte to EOF.
pub fn drain(file: &mut File) -> (u64, Duration) {
    let flags = fcntl(file.as_fd(), FcntlArg::F_GETFL).expect("F_GETFL");
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(file.as_fd(), FcntlArg::F_SETFL(flags)).expect("F_SETFL");
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    let mut first: Option<Instant> = None;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                first.get_or_insert_with(Instant::now);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                // A failed poll only makes the next read come sooner, which then says why.
                let _ = poll(&mut fds, PollTimeout::NONE);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    (total, first.map(|f| f.elapsed()).unwrap_or_default())
}
