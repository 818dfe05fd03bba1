//! A process on a terminal the test owns: `ctr run -t` and `ctr task exec -t` insist on a real
//! terminal on their stdin, read its size for the first ResizePty, and send another on every
//! SIGWINCH.
//!
//! The pseudo-terminal is opened close-on-exec (`posix_openpt(O_CLOEXEC)`, the slave with
//! `O_CLOEXEC`): a parallel test forking at the wrong moment would otherwise inherit the slave
//! and keep the master from ever reading EIO. It starts in raw mode without ONLCR, so what the
//! child writes arrives byte for byte: no echo of input written before ctr switches to raw mode
//! itself, and no second `\r` before the `\r\n` the container's own terminal already made of
//! each `\n` (ctr's raw mode keeps output processing on, so a terminal with ONLCR would add one). The child gets it as its controlling terminal in a session of its own, so that
//! [`Terminal::resize`] (TIOCSWINSZ on the master) makes the kernel send it SIGWINCH.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, Winsize};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, OutputFlags, SetArg};

use crate::driver;

nix::ioctl_write_ptr_bad!(
    /// TIOCSWINSZ: sets a terminal's size; the kernel sends SIGWINCH to its foreground group.
    set_window_size,
    nix::libc::TIOCSWINSZ,
    Winsize
);
nix::ioctl_write_int_bad!(
    /// TIOCSCTTY: makes a terminal the caller's controlling terminal (the caller leads a session
    /// without one).
    set_controlling_terminal,
    nix::libc::TIOCSCTTY
);

/// How long [`Terminal::finish`] waits for the master to report the slave closed once the child
/// exited.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the output a failure message quotes.
const QUOTE_BYTES: usize = 2000;

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    /// The master read EIO or EOF: every slave descriptor is closed and all output is in.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    captured: Mutex<Captured>,
    grew: Condvar,
}

/// A child running on a pseudo-terminal, its output captured as it comes.
pub struct Terminal {
    child: Child,
    master: File,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    started: Instant,
}

/// What a finished terminal session produced.
#[derive(Debug, Clone)]
pub struct TerminalOutput {
    /// The child's exit status.
    pub status: ExitStatus,
    /// Everything written to the terminal, byte for byte.
    pub output: Vec<u8>,
    /// From spawn to exit.
    pub elapsed: Duration,
}

impl TerminalOutput {
    /// The output as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    /// The output as text, failing the test unless the command exited 0.
    pub fn success_text(&self) -> String {
        assert!(self.status.success(), "{:?}: {}", self.status, self.text());
        self.text()
    }
}

/// A shell script that waits until its terminal has a size (ctr sends its first ResizePty only
/// after Start, so a process on a terminal starts at 0x0), then prints it as `size=<rows> <cols>`.
pub const PRINT_TERMINAL_SIZE: &str =
    "while s=$(stty size 2>/dev/null); [ -z \"$s\" ] || [ \"$s\" = '0 0' ]; \
                                       do sleep 0.01; done; echo \"size=$s\"";

fn quote(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(QUOTE_BYTES);
    format!("{:?}", String::from_utf8_lossy(&bytes[start..]))
}

fn window(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Terminal {
    /// Spawns `command` with a new terminal of `rows` x `cols` as its stdin, stdout, stderr and
    /// controlling terminal.
    pub fn spawn(mut command: Command, rows: u16, cols: u16) -> io::Result<Terminal> {
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let slave_path = ptsname_r(&master)?;
        // std opens with O_CLOEXEC; the child's copies are made by dup2, which clears it.
        let slave = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(&slave_path)?;
        let mut termios = tcgetattr(&slave)?;
        cfmakeraw(&mut termios);
        // ctr's raw mode turns OPOST back on (containerd/console's setRaw), which would bring
        // ONLCR back with it: without the flag there is nothing for OPOST to do.
        termios.output_flags.remove(OutputFlags::ONLCR);
        tcsetattr(&slave, SetArg::TCSANOW, &termios)?;
        let master = File::from(OwnedFd::from(master));
        resize_fd(&master, rows, cols)?;
        command
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: the closure runs in the forked child before exec and only makes two system
        // calls, setsid(2) and ioctl(2), both async-signal-safe; it touches no memory shared
        // with the parent. Fd 0 is the slave by then (std dup2s stdio before pre_exec hooks).
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                set_controlling_terminal(0, 0)?;
                Ok(())
            });
        }
        let started = Instant::now();
        let child = command.spawn()?;
        // The command holds the parent's slave descriptors: the master reads EIO only once
        // they are closed too.
        drop(command);
        let shared = Arc::new(Shared::default());
        let reader = {
            let mut master = master.try_clone()?;
            let shared = Arc::clone(&shared);
            thread::spawn(move || capture(&mut master, &shared))
        };
        Ok(Terminal {
            child,
            master,
            shared,
            reader: Some(reader),
            started,
        })
    }

    /// Types `bytes` on the terminal (raw mode: no line editing, `\r` is not turned into `\n`).
    pub fn write(&self, bytes: &[u8]) {
        (&self.master)
            .write_all(bytes)
            .expect("write to the terminal's master");
    }

    /// Sets the terminal's size, which sends the child SIGWINCH.
    pub fn resize(&self, rows: u16, cols: u16) {
        resize_fd(&self.master, rows, cols).expect("TIOCSWINSZ on the terminal's master");
    }

    /// Everything written to the terminal so far.
    pub fn output(&self) -> Vec<u8> {
        self.shared
            .captured
            .lock()
            .expect("terminal output lock")
            .bytes
            .clone()
    }

    /// Waits until the output contains `needle` and returns the output so far, failing the test
    /// after `timeout` or when the terminal closed first.
    pub fn wait_for(&self, needle: &[u8], timeout: Duration) -> Vec<u8> {
        let captured = self.shared.captured.lock().expect("terminal output lock");
        let contains = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        let (captured, _) = self
            .shared
            .grew
            .wait_timeout_while(captured, timeout, |c| !c.closed && !contains(&c.bytes))
            .expect("terminal output lock");
        if contains(&captured.bytes) {
            return captured.bytes.clone();
        }
        panic!(
            "{:?} did not appear on the terminal within {timeout:?} (closed: {}); output: {}",
            String::from_utf8_lossy(needle),
            captured.closed,
            quote(&captured.bytes)
        );
    }

    /// Waits for the child to exit and for all its output, failing the test (after killing the
    /// child) if it does not exit within `timeout`.
    pub fn finish(mut self, timeout: Duration) -> TerminalOutput {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => driver::pause(Duration::from_millis(2)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "the terminal's child did not exit within {timeout:?}; output: {}",
                        quote(&self.output())
                    );
                }
            }
        };
        let elapsed = self.started.elapsed();
        let captured = self.shared.captured.lock().expect("terminal output lock");
        let (mut captured, _) = self
            .shared
            .grew
            .wait_timeout_while(captured, DRAIN_TIMEOUT, |c| !c.closed)
            .expect("terminal output lock");
        assert!(
            captured.closed,
            "the child exited but the terminal did not close within {DRAIN_TIMEOUT:?}: \
             another process holds the slave"
        );
        let output = std::mem::take(&mut captured.bytes);
        drop(captured);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        TerminalOutput {
            status,
            output,
            elapsed,
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn resize_fd(master: &File, rows: u16, cols: u16) -> io::Result<()> {
    let size = window(rows, cols);
    // SAFETY: TIOCSWINSZ reads one `struct winsize` through the pointer, which points to a live
    // local of exactly that type; the descriptor is the open master.
    unsafe { set_window_size(master.as_raw_fd(), &size) }?;
    Ok(())
}

/// Reads the master until every slave is closed (EIO on Linux) and keeps what it read.
fn capture(master: &mut File, shared: &Shared) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = master.read(&mut buffer);
        let mut captured = shared.captured.lock().expect("terminal output lock");
        match read {
            Ok(n) if n > 0 => captured.bytes.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // EIO once the last slave closes, or anything else that ends the capture.
            _ => {
                captured.closed = true;
                shared.grew.notify_all();
                return;
            }
        }
        shared.grew.notify_all();
    }
}

#[cfg(test)]
mod tests;
