//! Unit tests of [`super`].

use super::*;
use nix::fcntl::OFlag;
use std::os::fd::AsFd;

fn pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).expect("pipe")
}

#[test]
fn readiness_leads_to_the_route_it_was_registered_with() {
    let mut event_loop = EventLoop::new().expect("loop");
    let (read_a, write_a) = pipe();
    let (read_b, _write_b) = pipe();
    let a = event_loop
        .register(read_a.as_fd(), Interest::READABLE, 'a')
        .expect("a");
    let b = event_loop
        .register(read_b.as_fd(), Interest::READABLE, 'b')
        .expect("b");
    assert!(a.is_some() && b.is_some() && a != b);
    nix::unistd::write(&write_a, b"x").expect("write");
    let mut ready = Vec::new();
    event_loop.wait(&mut ready).expect("wait");
    assert_eq!(ready, vec!['a']);
}

#[test]
fn a_deregistered_token_is_reused_and_no_longer_routed() {
    let mut event_loop = EventLoop::new().expect("loop");
    let (read, _write) = pipe();
    let token = event_loop
        .register(read.as_fd(), Interest::READABLE, 1)
        .expect("register")
        .expect("a pipe is pollable");
    event_loop.again(token);
    event_loop.deregister(read.as_fd(), token);
    assert_eq!(event_loop.registered(), 0);
    let (other, _w) = pipe();
    let reused = event_loop
        .register(other.as_fd(), Interest::READABLE, 2)
        .expect("again");
    assert_eq!(reused, Some(token), "the slab hands the slot out again");
    let mut ready = Vec::new();
    event_loop.set_timer(Instant::now(), 3);
    event_loop.wait(&mut ready).expect("wait");
    assert_eq!(ready, vec![3], "the yield of the removed owner was dropped");
}

#[test]
fn a_yielded_source_runs_again_without_waiting_and_only_once() {
    let mut event_loop = EventLoop::new().expect("loop");
    let (read, _write) = pipe();
    let token = event_loop
        .register(read.as_fd(), Interest::READABLE, 'y')
        .expect("register")
        .expect("pollable");
    event_loop.again(token);
    event_loop.again(token);
    let mut ready = Vec::new();
    let started = Instant::now();
    event_loop.set_timer(started + Duration::from_secs(60), 'z');
    event_loop.wait(&mut ready).expect("wait");
    assert_eq!(ready, vec!['y']);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn deadlines_fire_once_in_time_and_cancelled_ones_never() {
    let mut event_loop = EventLoop::new().expect("loop");
    let start = Instant::now();
    event_loop.set_timer(start + Duration::from_millis(30), "late");
    let cancelled = event_loop.set_timer(start + Duration::from_millis(10), "x");
    event_loop.cancel_timer(cancelled);
    let mut ready = Vec::new();
    while ready.is_empty() {
        event_loop.wait(&mut ready).expect("wait");
    }
    assert_eq!(ready, vec!["late"]);
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn dev_null_cannot_be_watched_and_takes_no_token() {
    let mut event_loop = EventLoop::new().expect("loop");
    let null = std::fs::File::open("/dev/null").expect("open /dev/null");
    assert_eq!(
        event_loop
            .register(null.as_fd(), Interest::READABLE, ())
            .expect("register"),
        None
    );
    assert_eq!(event_loop.registered(), 0);
}
