//! The v2 shim's descriptors and listen queue under floods of connections (tinyshim only: the
//! bounds are its own): idle peers never take the descriptors the shim needs, containerd gets
//! in whatever they hold, accepting recovers once they are gone, and a burst of connections to a
//! shim that is not accepting waits in the queue instead of being refused.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::Command;

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use nix::unistd::Pid;
use tinyshim::v2::server::DESCRIPTOR_RESERVE;
use tinyshim_testkit::containerd::options::{require_tinyshim, Options};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::fifos::ClientFifos;
use tinyshim_testkit::procfs::open_fds;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::ttrpc_client::{code, exec_request, process_request, Client, TASK_SERVICE};
use tinyshim_testkit::wait::{eventually, LONG};

/// The descriptor limit the shim is lowered to.
const SHIM_NOFILE: u64 = 160;

/// Raises this test's own descriptor limit to hold `wanted` sockets.
fn allow_descriptors(wanted: u64) {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < wanted {
        setrlimit(Resource::RLIMIT_NOFILE, wanted.min(hard), hard).expect("setrlimit");
    }
}

fn state_code(socket: &std::path::Path, id: &str) -> i32 {
    let mut client = Client::connect(socket).expect("connect");
    client
        .call(TASK_SERVICE, "State", &process_request(id, ""))
        .expect("a State answer")
        .code
}

#[test]
fn idle_peers_never_take_the_shims_reserve_and_containerd_still_gets_in_and_gets_the_exit() {
    require_tinyshim("connections keep a reserve of descriptors free");
    allow_descriptors(4096);
    let mut containerd = Containerd::start(Options::tinyshim());
    let ctr = containerd.ctr();
    ctr.run("c1", &["sleep", "600"]).detached().ok();
    let socket = containerd.task_socket("c1");
    let shim = containerd.shim_pid("c1");
    let lowered = Command::new("prlimit")
        .arg(format!("--pid={shim}"))
        .arg(format!("--nofile={SHIM_NOFILE}:{SHIM_NOFILE}"))
        .status()
        .expect("run prlimit");
    assert!(lowered.success(), "prlimit failed");

    // Far more idle peers than the shim has descriptors, all kept open.
    let idle: Vec<UnixStream> = (0..2 * SHIM_NOFILE)
        .map(|_| UnixStream::connect(&socket).expect("connect an idle peer"))
        .collect();
    eventually(LONG, "the shim to take in the idle peers", || {
        state_code(&socket, "c1") == code::OK
    });
    let held = open_fds(shim).len() as u64;
    assert!(
        held + DESCRIPTOR_RESERVE <= SHIM_NOFILE + 1,
        "the shim holds {held} of its {SHIM_NOFILE} descriptors"
    );

    // A new containerd reconnects and finds the task; its exit comes through.
    containerd.kill();
    containerd.restart();
    let ctr = containerd.ctr();
    assert_eq!(
        ctr.task("c1").expect("c1 after the restart").status,
        "RUNNING"
    );
    ctr.kill("c1", "SIGKILL").ok();
    ctr.wait_for_status("c1", "STOPPED", LONG);

    drop(idle);
    assert_eq!(state_code(&socket, "c1"), code::OK);
    assert_eq!(ctr.delete_task_status("c1"), 137);
}

#[test]
fn a_burst_of_connections_to_a_shim_that_is_not_accepting_waits_in_its_listen_queue() {
    require_tinyshim("the listen queue is the system's longest");
    allow_descriptors(4096);
    let containerd = Containerd::start(Options::tinyshim());
    let ctr = containerd.ctr();
    ctr.run("c1", &["sleep", "600"]).detached().ok();
    let path = containerd.task_socket("c1");
    let shim = containerd.shim_pid("c1");
    let address = UnixAddr::new(&path).expect("the socket's address");
    kill(Pid::from_raw(shim), Signal::SIGSTOP).expect("stop the shim");
    let mut refused = 0;
    let mut queued = Vec::new();
    for _ in 0..2000 {
        let peer = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("socket");
        // A unix socket connects at once or not at all: EAGAIN is a full queue.
        match connect(peer.as_raw_fd(), &address) {
            Ok(()) => queued.push(peer),
            Err(Errno::EAGAIN) => refused += 1,
            Err(error) => panic!("connect: {error}"),
        }
    }
    kill(Pid::from_raw(shim), Signal::SIGCONT).expect("continue the shim");
    assert_eq!(refused, 0, "{refused} of 2000 connections refused");
    drop(queued);
    assert_eq!(state_code(&path, "c1"), code::OK);
}

/// Exec and Start of `exec` in task `c1`.
fn start_exec(client: &mut Client, id: &str, exec: &[u8]) {
    let added = client.call(TASK_SERVICE, "Exec", exec).expect("Exec");
    assert_eq!(added.code, code::OK, "{added:?}");
    let started = client
        .call(TASK_SERVICE, "Start", &process_request("c1", id))
        .expect("Start");
    assert_eq!(started.code, code::OK, "{started:?}");
}

/// What an exec with stdin, stdout and stderr FIFOs holds in the shim, as the
/// README accounts for each: for stdin the FIFO's reader, the shim's own writer on it (the
/// container's stdin stays open across a client or daemon restart, until CloseIO) and the
/// pipe's writer to the container; for each output the pipe's reader from the container, the
/// FIFO's writer to the client and the shim's own idle reader on it.
const FIFO_EXEC_DESCRIPTORS: usize = 9;

#[test]
fn an_exec_without_stdio_costs_the_shim_no_descriptor_and_one_with_fifos_nine() {
    require_tinyshim("a /dev/null stdio is the container's own");
    let containerd = Containerd::start(Options::tinyshim());
    let ctr = containerd.ctr();
    ctr.run("c1", &["sleep", "600"]).detached().ok();
    let shim = containerd.shim_pid("c1");
    let mut client = Client::connect(&containerd.task_socket("c1")).expect("connect");
    // The connection is the shim's once a call on it was answered.
    let state = client.call(TASK_SERVICE, "State", &process_request("c1", ""));
    assert_eq!(state.expect("State").code, code::OK);
    let before = open_fds(shim).len();
    for n in 0..100 {
        let id = format!("null{n}");
        let exec = exec_request("c1", &id, &["sleep", "600"], ["", "", ""]);
        start_exec(&mut client, &id, &exec);
    }
    let after_null = open_fds(shim).len();
    assert_eq!(after_null, before, "100 execs without stdio");
    let scratch = Scratch::new("exec-fifos");
    let mut fifos = Vec::new();
    for n in 0..20 {
        let id = format!("fifo{n}");
        let client_fifos = ClientFifos::new(scratch.path(), &id);
        let [stdin, stdout, stderr] = client_fifos.path_strings();
        let exec = exec_request("c1", &id, &["sleep", "600"], [&stdin, &stdout, &stderr]);
        start_exec(&mut client, &id, &exec);
        fifos.push(client_fifos);
    }
    let after_fifos = open_fds(shim).len();
    assert_eq!(
        after_fifos - after_null,
        20 * FIFO_EXEC_DESCRIPTORS,
        "20 execs with FIFOs"
    );
}
