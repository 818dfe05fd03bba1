//! The v2 shim's socket as a server: who may connect, and what a peer that sends garbage
//! costs. (What each call answers is in `v2_bad_input.rs`.)

use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tinyshim::v2::server::{
    ANSWERS_LIMIT, CONNECTION_IN_FLIGHT, FRAMES_LIMIT, FRAME_PATIENCE, MAX_IN_FLIGHT,
};
use tinyshim_testkit::binaries::workspace_binary;
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::Ctr;
use tinyshim_testkit::procfs::{proc_status, rss_kib};
use tinyshim_testkit::ttrpc_client::{
    code, header, process_request, Client, Request, TASK_SERVICE, TYPE_REQUEST,
};

/// `nobody`.
const OTHER_UID: &str = "65534";

/// A daemon running tinyshim with task `id` sleeping, its ctr, and the task's socket.
fn one_sleeping(id: &str) -> (Containerd, Ctr, PathBuf) {
    let containerd = Containerd::start(Options::tinyshim());
    let ctr = containerd.ctr();
    ctr.run(id, &["sleep", "600"]).detached().ok();
    let socket = containerd.task_socket(id);
    (containerd, ctr, socket)
}

fn state_of(client: &mut Client, id: &str) -> i32 {
    let payload = process_request(id, "");
    client
        .call(TASK_SERVICE, "State", &payload)
        .expect("a State answer")
        .code
}

/// A second name for the task's socket in a directory anyone may enter, on the same tmpfs:
/// `/run/containerd` is root's alone, which would stop another user before the shim sees it.
struct OpenDoor {
    dir: PathBuf,
    link: PathBuf,
    socket: PathBuf,
}

impl OpenDoor {
    fn new(socket: PathBuf) -> OpenDoor {
        let dir = PathBuf::from(format!("/run/tinyshim-door-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let link = dir.join("shim.sock");
        std::fs::hard_link(&socket, &link).expect("link the socket");
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        OpenDoor { dir, link, socket }
    }

    fn probe(&self, uid: &str, id: &str) -> String {
        let output = Command::new(workspace_binary("ttrpc-probe"))
            .arg(&self.link)
            .args([uid, id])
            .output()
            .expect("run ttrpc-probe");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

impl Drop for OpenDoor {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions(&self.socket, std::fs::Permissions::from_mode(0o600));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_peer_of_another_user_is_hung_up_on_and_the_owner_still_served() {
    let (_containerd, ctr, socket) = one_sleeping("peer");
    let mode = std::fs::metadata(&socket)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the socket is its owner's alone");
    let door = OpenDoor::new(socket);
    assert_eq!(door.probe(OTHER_UID, "peer"), "closed");
    assert_eq!(door.probe("0", "peer"), "code 0");
    drop(door);
    assert_eq!(ctr.task("peer").expect("the task").status, "RUNNING");
}

#[test]
fn a_flood_of_garbage_leaves_the_shim_answering_with_flat_memory() {
    let (containerd, _ctr, socket) = one_sleeping("flooded");
    let shim = containerd.shim_pid("flooded");
    let before = rss_kib(shim);
    // Noise nobody chose (xorshift), frames announcing every length up to 4 GiB, and 4 MiB frames
    // that trickle in, on several connections at once, for three seconds.
    let mut noise = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        noise
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut peak = before;
    let mut sent = 0usize;
    while Instant::now() < deadline {
        let mut streams: Vec<UnixStream> = (0..4)
            .map(|_| UnixStream::connect(&socket).expect("connect"))
            .collect();
        for stream in &mut streams {
            stream
                .set_write_timeout(Some(Duration::from_millis(200)))
                .expect("timeout");
            let mut chunk = header(
                next() as u32 | 0x10_0000,
                next() as u32 | 1,
                TYPE_REQUEST,
                0,
            );
            chunk.extend((0..64 * 1024).map(|_| next() as u8));
            chunk.extend(header(4 << 20, 3, TYPE_REQUEST, 0));
            chunk.extend(std::iter::repeat_n(0u8, 1 << 20));
            // A peer that stops reading and writing is the shim's to bear: a timeout is fine.
            if stream.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
        }
        peak = peak.max(rss_kib(shim));
    }
    assert!(sent > 8 << 20, "only {sent} bytes sent");
    // One frame being decoded per connection at most (4 MiB), so the growth stays far under
    // what the peers sent.
    assert!(
        peak < before + 24 * 1024,
        "shim RSS went from {before} to {peak} KiB after {sent} bytes of garbage"
    );
    assert_eq!(proc_status(shim, "Threads").as_deref(), Some("1"));
    let mut client = Client::connect(&socket).expect("a new connection");
    assert_eq!(state_of(&mut client, "flooded"), 0, "still answering");
}

#[test]
fn many_connections_with_calls_in_flight_are_all_answered_and_closing_them_stops_nothing() {
    let (_containerd, ctr, socket) = one_sleeping("busy");
    let mut clients: Vec<Client> = (0..50)
        .map(|_| Client::connect(&socket).expect("connect"))
        .collect();
    let payload = process_request("busy", "");
    let mut streams = Vec::new();
    for client in &mut clients {
        let request = Request::new(TASK_SERVICE, "State", &payload);
        let ids: Vec<u32> = (0..8)
            .map(|_| client.send(&request).expect("send"))
            .collect();
        streams.push(ids);
    }
    for (client, ids) in clients.iter_mut().zip(&streams) {
        for id in ids.iter().rev() {
            assert_eq!(client.reply(*id).expect("an answer").code, 0);
        }
    }
    // Half hang up with a Wait in flight; the shim serves the rest and the task goes on.
    let wait = process_request("busy", "");
    for client in clients.iter_mut().take(25) {
        let request = Request::new(TASK_SERVICE, "Wait", &wait);
        client.send(&request).expect("send a Wait");
    }
    clients.drain(..25);
    for client in &mut clients {
        assert_eq!(state_of(client, "busy"), 0);
    }
    assert_eq!(ctr.task("busy").expect("the task").status, "RUNNING");
}

#[test]
fn waits_parked_by_peers_that_hung_up_are_freed_and_every_caller_is_still_answered() {
    let (containerd, ctr, socket) = one_sleeping("parked");
    let shim = containerd.shim_pid("parked");
    let wait = Request::new(TASK_SERVICE, "Wait", &process_request("parked", ""));
    // More peers than calls may be in flight in all, each parking a Wait on the running init
    // and hanging up: had their Waits stayed parked, the bound would refuse every call after.
    let before = rss_kib(shim);
    for _ in 0..MAX_IN_FLIGHT + 500 {
        let mut client = Client::connect(&socket).expect("connect");
        client.send(&wait).expect("send a Wait");
    }
    let mut client = Client::connect(&socket).expect("connect");
    assert_eq!(state_of(&mut client, "parked"), code::OK);
    let exec = ctr.exec("parked", "e1", &["true"]).attached();
    assert_eq!(exec.code(), Some(0), "containerd is still answered: {exec}");
    let after = rss_kib(shim);
    assert!(
        after < before + 4 * 1024,
        "shim RSS went from {before} to {after} KiB for Waits nobody can receive"
    );
}

#[test]
fn one_connection_parks_no_more_than_its_bound_and_the_others_are_still_served() {
    let (_containerd, ctr, socket) = one_sleeping("greedy");
    let wait = Request::new(TASK_SERVICE, "Wait", &process_request("greedy", ""));
    let mut greedy = Client::connect(&socket).expect("connect");
    for _ in 0..CONNECTION_IN_FLIGHT {
        greedy.send(&wait).expect("send a Wait");
    }
    let refused = greedy.send(&wait).expect("send one Wait more");
    let reply = greedy.reply(refused).expect("the refusal");
    assert_eq!(reply.code, code::RESOURCE_EXHAUSTED, "{reply:?}");
    assert_eq!(
        reply.message,
        format!("{CONNECTION_IN_FLIGHT} calls in flight on this connection")
    );
    let mut other = Client::connect(&socket).expect("connect");
    assert_eq!(state_of(&mut other, "greedy"), code::OK);
    // The parked Waits are answered when the init exits, on the connection that parked them.
    ctr.ok(&["tasks", "kill", "-s", "SIGKILL", "greedy"]);
    let last = refused - 2;
    assert_eq!(greedy.reply(last).expect("a Wait answered").code, code::OK);
}

/// A peer writing `bytes` as fast as the shim takes them, without blocking and without ever
/// reading; `more` makes the next bytes once these are written.
struct Pusher<F: FnMut() -> Vec<u8>> {
    stream: UnixStream,
    outbox: Vec<u8>,
    more: F,
    sent: usize,
}

impl<F: FnMut() -> Vec<u8>> Pusher<F> {
    fn connect(socket: &std::path::Path, more: F) -> Pusher<F> {
        let stream = UnixStream::connect(socket).expect("connect");
        stream.set_nonblocking(true).expect("non-blocking");
        Pusher {
            stream,
            outbox: Vec::new(),
            more,
            sent: 0,
        }
    }

    /// Writes until the socket is full; false once the shim takes nothing more.
    fn push(&mut self) -> bool {
        let mut moved = false;
        loop {
            if self.outbox.is_empty() {
                self.outbox = (self.more)();
                if self.outbox.is_empty() {
                    return moved;
                }
            }
            match self.stream.write(&self.outbox) {
                Ok(count) => {
                    self.outbox.drain(..count);
                    self.sent += count;
                    moved = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return moved,
                Err(_) => return false,
            }
        }
    }
}

/// Pushes on every peer for `period`, and returns the shim's highest RSS meanwhile.
fn push_all<F: FnMut() -> Vec<u8>>(peers: &mut [Pusher<F>], shim: i32, period: Duration) -> u64 {
    let deadline = Instant::now() + period;
    let mut peak = rss_kib(shim);
    while Instant::now() < deadline {
        for peer in peers.iter_mut() {
            peer.push();
        }
        peak = peak.max(rss_kib(shim));
        std::thread::sleep(Duration::from_millis(5));
    }
    peak
}

#[test]
fn peers_that_send_calls_and_never_read_the_answers_cost_a_bounded_total() {
    let (containerd, ctr, socket) = one_sleeping("unread");
    let shim = containerd.shim_pid("unread");
    let before = rss_kib(shim);
    let request = Request::new(TASK_SERVICE, "State", &process_request("unread", "")).encode();
    let mut peers: Vec<_> = (0..200)
        .map(|_| {
            let request = request.clone();
            let mut stream_id = 1u32;
            Pusher::connect(&socket, move || {
                let mut batch = Vec::new();
                for _ in 0..256 {
                    batch.extend(header(request.len() as u32, stream_id, TYPE_REQUEST, 0));
                    batch.extend(&request);
                    stream_id += 2;
                }
                batch
            })
        })
        .collect();
    let peak = push_all(&mut peers, shim, Duration::from_secs(5));
    let sent: usize = peers.iter().map(|peer| peer.sent).sum();
    // Each peer's answers fill its socket's buffer first, which is the kernel's: a peer whose
    // shim keeps a megabyte for it has sent far more than that.
    assert!(sent > 32 << 20, "only {sent} bytes of calls sent");
    // The bound, what peers with nothing unread may add to it in one turn each (16 answers),
    // and the allocator's slack.
    let ceiling = (ANSWERS_LIMIT >> 10) as u64 + 12 * 1024;
    assert!(
        peak < before + ceiling,
        "shim RSS went from {before} to {peak} KiB for 200 peers that read no answer ({sent} \
         bytes of calls sent)"
    );
    let exec = ctr.exec("unread", "e1", &["echo", "served"]).attached();
    assert_eq!(
        exec.stdout_text(),
        "served\n",
        "containerd is still served: {exec}"
    );
}

#[test]
fn half_sent_large_frames_cost_a_bounded_total_and_stale_ones_are_dropped_for_a_waiting_peer() {
    let (containerd, ctr, socket) = one_sleeping("halves");
    let shim = containerd.shim_pid("halves");
    let before = rss_kib(shim);
    // Each announces a 4 MiB frame and sends all of it but the last byte.
    let mut peers: Vec<_> = (0..40)
        .map(|_| {
            let mut once = true;
            Pusher::connect(&socket, move || {
                if !std::mem::take(&mut once) {
                    return Vec::new();
                }
                let mut frame = header(4 << 20, 1, TYPE_REQUEST, 0);
                frame.resize(frame.len() + (4 << 20) - 1, 0);
                frame
            })
        })
        .collect();
    let peak = push_all(&mut peers, shim, Duration::from_secs(3));
    let ceiling = (FRAMES_LIMIT >> 10) as u64 + 8 * 1024;
    assert!(
        peak < before + ceiling,
        "shim RSS went from {before} to {peak} KiB for 40 half-sent 4 MiB frames"
    );
    let exec = ctr.exec("halves", "e1", &["echo", "served"]).attached();
    assert_eq!(
        exec.stdout_text(),
        "served\n",
        "containerd is still served: {exec}"
    );
    // A whole large call waits for room until the stale halves are hung up.
    let mut waiting = Client::connect(&socket).expect("connect");
    waiting.set_timeout(FRAME_PATIENCE * 2);
    let large = process_request(&"x".repeat(64 * 1024), "");
    let reply = waiting
        .call(TASK_SERVICE, "State", &large)
        .expect("an answer");
    assert_eq!(reply.code, code::NOT_FOUND, "{reply:?}");
}
