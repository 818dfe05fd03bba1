//! The daemon's side of a process's FIFOs: reading its non-blocking readers to EOF or until
//! enough arrived, both output streams at once so that neither can block the other, and what
//! is still queued in a pipe. Every read has a deadline and fails the test when it passes.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Reads `file` (a non-blocking FIFO reader) until EOF, failing the test after `timeout`.
pub fn read_to_eof(file: &mut File, timeout: Duration) -> Vec<u8> {
    read_fifo(file, timeout, |_| false).0
}

/// Reads `file` (a non-blocking FIFO reader) until what was read satisfies `enough`, failing the
/// test after `timeout` or at an EOF that came first. Returns everything read, which may go past
/// the point where `enough` first held.
pub fn read_until(
    file: &mut File,
    timeout: Duration,
    enough: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let (out, eof) = read_fifo(file, timeout, enough);
    assert!(
        !eof,
        "EOF before the expected output; read: {:?}",
        String::from_utf8_lossy(tail(&out))
    );
    out
}

/// Reads `file` (a non-blocking FIFO reader) until EOF (true) or until `enough` holds for what was
/// read (false), failing the test after `timeout`.
pub fn read_fifo(
    file: &mut File,
    timeout: Duration,
    mut enough: impl FnMut(&[u8]) -> bool,
) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return (out, true),
            Ok(n) => {
                out.extend_from_slice(&buffer[..n]);
                if enough(&out) {
                    return (out, false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(
                    !left.is_zero(),
                    "no EOF or expected output within {timeout:?}; read so far: {:?}",
                    String::from_utf8_lossy(tail(&out))
                );
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                let _ = poll(
                    &mut fds,
                    PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
                );
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read FIFO: {e}"),
        }
    }
}

/// Reads stdout and stderr at once, each until it holds at least its wanted number of bytes,
/// failing the test after `timeout`. A FIFO that no writer has opened yet reads as EOF, which is
/// no reason to stop here.
pub fn read_at_least(streams: [(&mut File, &mut Vec<u8>, usize); 2], timeout: Duration) {
    let [(out, out_data, out_want), (err, err_data, err_want)] = streams;
    read_both(
        [Some(out), Some(err)],
        [out_data, err_data],
        timeout,
        |data, _| [data[0].len() >= out_want, data[1].len() >= err_want],
    );
}

/// Reads the readers given to EOF, both at once, failing the test after `timeout`.
pub fn read_to_eof_both(files: [Option<&mut File>; 2], timeout: Duration) -> [Vec<u8>; 2] {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let open = [files[0].is_some(), files[1].is_some()];
    read_both(files, [&mut out, &mut err], timeout, |_, eof| {
        [eof[0] || !open[0], eof[1] || !open[1]]
    });
    [out, err]
}

/// Reads both `files` into `data` until `done(data, eof)` holds for both.
fn read_both(
    mut files: [Option<&mut File>; 2],
    data: [&mut Vec<u8>; 2],
    timeout: Duration,
    done: impl Fn([&Vec<u8>; 2], [bool; 2]) -> [bool; 2],
) {
    let deadline = Instant::now() + timeout;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut eof = [false; 2];
    loop {
        for (i, file) in files.iter_mut().enumerate() {
            let Some(file) = file else { continue };
            loop {
                match file.read(&mut buffer) {
                    Ok(0) => {
                        eof[i] = true;
                        break;
                    }
                    Ok(n) => data[i].extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => panic!("read FIFO: {e}"),
                }
            }
        }
        if done([&*data[0], &*data[1]], eof) == [true, true] {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "stdout: {} bytes, EOF {}; stderr: {} bytes, EOF {}; not done within {timeout:?}",
            data[0].len(),
            eof[0],
            data[1].len(),
            eof[1]
        );
        let mut fds: Vec<PollFd<'_>> = files
            .iter()
            .flatten()
            .map(|file| PollFd::new(file.as_fd(), PollFlags::POLLIN))
            .collect();
        // A reader at EOF is readable for good: poll briefly rather than spin on it.
        let _ = poll(&mut fds, PollTimeout::from(100u16));
    }
}

fn tail(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.len().saturating_sub(200)..]
}

/// Bytes waiting in the pipe or FIFO behind `file`.
pub fn queued_bytes(file: &File) -> usize {
    let mut count: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to a live local; the
    // descriptor is borrowed from `file` for the duration of the call.
    let result = unsafe {
        nix::libc::ioctl(
            file.as_raw_fd(),
            nix::libc::FIONREAD,
            &mut count as *mut nix::libc::c_int,
        )
    };
    assert_eq!(result, 0, "FIONREAD: {}", io::Error::last_os_error());
    count as usize
}
