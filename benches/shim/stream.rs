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
    let received = receive(file, u64::MAX, None, || {});
    (received.bytes, received.first_to_eof)
}

/// What the reader saw of one transfer.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Bytes read before EOF (or before the deadline).
    pub bytes: u64,
    /// From the first byte to the last one.
    pub first_to_last: Duration,
    /// From the first byte to EOF: for a writer that closes only when it exits (ctr, `script`)
    /// this includes whatever it does after the last byte.
    pub first_to_eof: Duration,
    /// The deadline passed before EOF.
    pub timed_out: bool,
}

/// Reads `file` like [`drain`], and calls `complete` once `expected` bytes have arrived, before
/// reading on to EOF: where a probe samples a supervisor that may exit soon after. Gives up at
/// `deadline`, so that a writer that never closes shows as a figure, not a hang.
pub fn receive(
    file: &mut File,
    expected: u64,
    deadline: Option<Instant>,
    mut complete: impl FnMut(),
) -> Received {
    let flags = fcntl(file.as_fd(), FcntlArg::F_GETFL).expect("F_GETFL");
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(file.as_fd(), FcntlArg::F_SETFL(flags)).expect("F_SETFL");
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let mut completed = false;
    let mut timed_out = false;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last = Some(now);
                total += n as u64;
                if !completed && total >= expected {
                    completed = true;
                    complete();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let timeout = match deadline {
                    None => PollTimeout::NONE,
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            timed_out = true;
                            break;
                        }
                        PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
                    }
                };
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                // A failed poll only makes the next read come sooner, which then says why.
                let _ = poll(&mut fds, timeout);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    let eof = Instant::now();
    let since_first = |end: Option<Instant>| match (first, end) {
        (Some(first), Some(end)) => end.duration_since(first),
        _ => Duration::ZERO,
    };
    Received {
        bytes: total,
        first_to_last: since_first(last),
        first_to_eof: since_first(Some(eof)),
        timed_out,
    }
}
