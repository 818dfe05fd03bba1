//! Unit tests of [`super`].

use super::*;
use crate::event_loop::EventLoop;
use nix::fcntl::OFlag;
use nix::sys::signal::{raise, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::OwnedFd;

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

/// One turn of the loop without waiting: the routes of what is ready now.
fn ready_now(event_loop: &mut EventLoop<&'static str>) -> Vec<&'static str> {
    event_loop.set_timer(std::time::Instant::now(), "now");
    let mut ready = Vec::new();
    event_loop.wait(&mut ready).expect("epoll_wait");
    ready.retain(|route| *route != "now");
    ready
}

/// Writes `bytes` until the pipe takes no more.
fn fill(pipe: &OwnedFd) {
    while nix::unistd::write(pipe, &[0u8; 4096]).is_ok() {}
}

/// A splicing pump from one pipe to another, its ends routed as "source" and "sink".
fn pipe_pump(source: OwnedFd, sink: OwnedFd, event_loop: &mut EventLoop<&'static str>) -> Pump {
    Pump::new(
        Endpoint::plain(source),
        Endpoint::plain(sink),
        false,
        event_loop,
        ("source", "sink"),
    )
    .expect("pump")
}

#[test]
fn a_source_waiting_on_a_full_sink_wakes_nobody_until_the_sink_has_room() {
    let flags = OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let (source_read, source_write) = nix::unistd::pipe2(flags).expect("pipe");
    let (sink_read, sink_write) = nix::unistd::pipe2(flags).expect("pipe");
    fill(&sink_write);
    let mut event_loop = EventLoop::new().expect("epoll");
    let mut pump = pipe_pump(source_read, sink_write, &mut event_loop);
    ready_now(&mut event_loop);
    nix::unistd::write(&source_write, b"first").expect("write");
    assert_eq!(ready_now(&mut event_loop), ["source"]);
    assert_eq!(pump.run(&mut event_loop), Flow::Wait, "the sink is full");

    // The container goes on writing into its pipe: nothing the shim could move.
    for _ in 0..8 {
        nix::unistd::write(&source_write, &[1u8; 512]).expect("write");
    }
    assert_eq!(ready_now(&mut event_loop), Vec::<&str>::new());

    // The reader makes room, and reads until the source is empty.
    let mut buffer = vec![0u8; 1 << 16];
    let mut moved = 0;
    while moved < 5 + 8 * 512 {
        while nix::unistd::read(&sink_read, &mut buffer).is_ok() {}
        assert!(ready_now(&mut event_loop).contains(&"sink"));
        assert_eq!(pump.run(&mut event_loop), Flow::Wait);
        moved = pump.moved() as usize;
    }
    // The sink has room: the source is watched again.
    nix::unistd::write(&source_write, b"again").expect("write");
    assert_eq!(ready_now(&mut event_loop), ["source"]);
}

#[test]
fn a_source_that_ran_dry_with_room_in_the_sink_stays_watched() {
    let flags = OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let (source_read, source_write) = nix::unistd::pipe2(flags).expect("pipe");
    let (_sink_read, sink_write) = nix::unistd::pipe2(flags).expect("pipe");
    let mut event_loop = EventLoop::new().expect("epoll");
    let mut pump = pipe_pump(source_read, sink_write, &mut event_loop);
    ready_now(&mut event_loop);
    nix::unistd::write(&source_write, b"one").expect("write");
    assert_eq!(pump.run(&mut event_loop), Flow::Wait, "the source ran dry");
    ready_now(&mut event_loop);
    nix::unistd::write(&source_write, b"two").expect("write");
    assert_eq!(ready_now(&mut event_loop), ["source"]);
}
