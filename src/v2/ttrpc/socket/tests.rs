//! Unit tests of [`super`].

use std::io::Read as _;
use std::os::unix::net::UnixStream;

use super::*;

#[test]
fn a_peer_that_reads_slowly_but_never_all_keeps_the_outgoing_buffer_bounded() {
    let (ours, mut peer) = UnixStream::pair().expect("socketpair");
    ours.set_nonblocking(true).expect("non-blocking");
    let mut socket = FramedSocket::new(OwnedFd::from(ours), None);
    let frame = vec![7u8; 100 * 1024];
    let mut read = vec![0u8; 100 * 1024];
    // A backlog first, more than the kernel holds; then each round a frame is queued and the
    // peer reads as much: the backlog never empties, and 25 MB pass through it.
    socket.outgoing().extend_from_slice(&vec![7u8; 1 << 20]);
    assert!(socket.flush(), "the socket broke");
    let mut written = 0;
    for _ in 0..250 {
        socket.outgoing().extend_from_slice(&frame);
        assert!(socket.flush(), "the socket broke");
        written += frame.len();
        peer.read_exact(&mut read).expect("read");
    }
    assert_eq!(written, 250 * frame.len());
    assert!(
        socket.pending() > 0,
        "the backlog emptied: the test proves nothing"
    );
    // What waits, with room to double: not all 26 MB ever queued.
    assert!(
        socket.outgoing_capacity() <= 2 * (socket.pending() + 2 * frame.len()),
        "{} bytes allocated for {} pending",
        socket.outgoing_capacity(),
        socket.pending()
    );
}
