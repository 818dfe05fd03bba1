use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::*;

fn pair() -> (Client, UnixStream) {
    let (client, server) = UnixStream::pair().expect("socket pair");
    (Client::from_stream(client), server)
}

fn response(stream_id: u32, code: i32, message: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = MessageWriter::new();
    if code != 0 || !message.is_empty() {
        let status = MessageWriter::new()
            .int(1, i64::from(code))
            .string(2, message)
            .finish();
        body = body.message(1, &status);
    }
    Frame {
        stream_id,
        kind: TYPE_RESPONSE,
        flags: 0,
        payload: body.bytes(2, payload).finish(),
    }
    .encode()
}

#[test]
fn a_request_frame_is_header_then_request_message() {
    let (mut client, mut server) = pair();
    let id = client.send(&Request::new("s", "m", b"p")).expect("send");
    assert_eq!(id, 1);
    let mut bytes = [0u8; 19];
    server.read_exact(&mut bytes).expect("read frame");
    assert_eq!(
        bytes,
        [
            0,
            0,
            0,
            9,
            0,
            0,
            0,
            1,
            TYPE_REQUEST,
            0,
            0x0a,
            1,
            b's',
            0x12,
            1,
            b'm',
            0x1a,
            1,
            b'p'
        ]
    );
}

#[test]
fn timeout_and_metadata_are_fields_four_and_five() {
    let request = Request {
        timeout_nano: 2_000_000_000,
        metadata: vec![("k".into(), "v".into())],
        ..Request::new("s", "m", b"")
    };
    let encoded = request.encode();
    let fields = Fields::decode(&encoded).expect("decode");
    assert_eq!(fields.uint(4), Some(2_000_000_000));
    let pair = Fields::decode(fields.bytes(5).expect("metadata")).expect("key/value");
    assert_eq!(pair.string(1).as_deref(), Some("k"));
    assert_eq!(pair.string(2).as_deref(), Some("v"));
    assert_eq!(fields.bytes(3), None, "an empty payload is left out");
}

#[test]
fn stream_ids_are_odd_and_increasing() {
    let (mut client, _server) = pair();
    let ids: Vec<u32> = (0..3)
        .map(|_| client.send(&Request::new("s", "m", b"")).expect("send"))
        .collect();
    assert_eq!(ids, [1, 3, 5]);
}

#[test]
fn replies_are_matched_by_stream_id_in_any_order() {
    let (mut client, mut server) = pair();
    let first = client.send(&Request::new("s", "a", b"")).expect("send");
    let second = client.send(&Request::new("s", "b", b"")).expect("send");
    server
        .write_all(&response(second, 0, "", b"second"))
        .expect("write");
    server
        .write_all(&response(first, 0, "", b"first"))
        .expect("write");
    assert_eq!(client.reply(first).expect("first").payload, b"first");
    assert_eq!(client.reply(second).expect("second").payload, b"second");
}

#[test]
fn a_zero_length_response_is_ok_and_empty() {
    let (mut client, mut server) = pair();
    let id = client.send(&Request::new("s", "m", b"")).expect("send");
    server
        .write_all(&header(0, id, TYPE_RESPONSE, 0))
        .expect("write");
    let reply = client.reply(id).expect("reply");
    assert_eq!((reply.code, reply.message.as_str()), (code::OK, ""));
    assert!(reply.payload.is_empty());
}

#[test]
fn an_error_status_gives_its_code_and_message() {
    let (mut client, mut server) = pair();
    let id = client.send(&Request::new("s", "m", b"")).expect("send");
    server
        .write_all(&response(id, code::UNIMPLEMENTED, "method m", b""))
        .expect("write");
    let reply = client.reply(id).expect("reply");
    assert_eq!(reply.code, code::UNIMPLEMENTED);
    assert_eq!(reply.message, "method m");
}

#[test]
fn a_reply_split_across_writes_is_reassembled() {
    let (mut client, mut server) = pair();
    let id = client.send(&Request::new("s", "m", b"")).expect("send");
    let bytes = response(id, 0, "", b"payload");
    let writer = std::thread::spawn(move || {
        for byte in bytes {
            server.write_all(&[byte]).expect("write");
            std::thread::sleep(Duration::from_millis(1));
        }
        server
    });
    assert_eq!(client.reply(id).expect("reply").payload, b"payload");
    drop(writer.join().expect("writer"));
}

#[test]
fn a_missing_reply_times_out() {
    let (mut client, _server) = pair();
    client.set_timeout(Duration::from_millis(50));
    let id = client.send(&Request::new("s", "m", b"")).expect("send");
    let error = client.reply(id).expect_err("no reply was written");
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
}

#[test]
fn peer_closed_tells_a_hang_up_from_silence() {
    let (mut client, server) = pair();
    assert!(!client.peer_closed(Duration::from_millis(50)));
    drop(server);
    assert!(client.peer_closed(Duration::from_secs(5)));
}

#[test]
fn a_cut_off_frame_before_a_hang_up_is_reported() {
    let (mut client, mut server) = pair();
    let id = client.send(&Request::new("s", "m", b"")).expect("send");
    server
        .write_all(&header(5, id, TYPE_RESPONSE, 0))
        .expect("write");
    server.write_all(b"ab").expect("write");
    drop(server);
    let error = client.reply(id).expect_err("the frame was cut off");
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(client.partial_bytes().len(), HEADER_LEN + 2);
}
