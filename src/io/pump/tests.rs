//! Unit tests of [`super`].

use super::*;
use crate::event_loop::EventLoop;
use nix::fcntl::OFlag;
use nix::sys::signal::{raise, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// A signalfd cannot be spliced from (EINVAL), as a PTY could not on older kernels: the pump
/// must switch to read/write by itself and still move every byte.
#[test]
fn a_pair_splice_refuses_falls_back_to_copying() {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGUSR2);
    mask.thread_block().expect("block SIGUSR2");
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .expect("signalfd");
    raise(Signal::SIGUSR2).expect("raise");
    let source = signals.as_fd().try_clone_to_owned().expect("dup");
    let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).expect("pipe");
    let mut event_loop = EventLoop::new().expect("epoll");
    let mut pump = Pump::new(
        Endpoint::plain(source),
        Endpoint::plain(write),
        false,
        &mut event_loop,
        ((), ()),
    )
    .expect("pump");
    assert!(!pump.copying());
    assert_eq!(pump.run(&mut event_loop), Flow::Wait);
    assert!(pump.copying(), "switched to read/write");
    let mut info = [0u8; 256];
    let n = nix::unistd::read(&read, &mut info).expect("read the pipe");
    // One signalfd_siginfo, whose first field is the signal number.
    assert_eq!(n, 128);
    assert_eq!(info[..4], (Signal::SIGUSR2 as u32).to_ne_bytes());
    mask.thread_unblock().expect("unblock SIGUSR2");
}
