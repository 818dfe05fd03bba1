//! Unit tests of [`super`].

use super::*;

fn messages(bytes: &[u8]) -> Vec<Message> {
    let mut parser = ControlParser::new();
    let mut out = Vec::new();
    parser.feed(bytes, |m| out.push(m));
    out
}

fn resize(width: u16, height: u16) -> Message {
    Message::Resize { width, height }
}

#[test]
fn the_daemon_lines_parse() {
    assert_eq!(messages(b"0 0 0\n"), vec![Message::CloseStdin]);
    assert_eq!(messages(b"1 80 24\n"), vec![resize(80, 24)]);
    assert_eq!(
        messages(b"1 80 24\n0 0 0\n1 132 43\n"),
        vec![resize(80, 24), Message::CloseStdin, resize(132, 43)]
    );
}

#[test]
fn a_line_is_acted_on_only_once_its_newline_arrives() {
    assert_eq!(messages(b"1 80 24"), vec![]);
}

#[test]
fn blanks_and_signs_and_leading_zeros_are_accepted() {
    assert_eq!(messages(b"  1\t080  +024 \r\n"), vec![resize(80, 24)]);
    assert_eq!(messages(b"0 -5 99999999\n"), vec![Message::CloseStdin]);
}

#[test]
fn sizes_outside_u16_are_ignored_not_truncated() {
    assert_eq!(messages(b"1 65536 24\n"), vec![]);
    assert_eq!(messages(b"1 80 -1\n"), vec![]);
    assert_eq!(messages(b"1 65535 0\n"), vec![resize(65535, 0)]);
}

#[test]
fn malformed_lines_are_skipped_and_the_next_line_still_parses() {
    let cases: &[&[u8]] = &[
        b"",
        b"garbage",
        b"1 80",
        b"1 80 24 7",
        b"0x1 80 24",
        b"1 0x50 24",
        b"1 80.5 24",
        b"1 8e1 24",
        b"1 - 24",
        b"1 +-80 24",
        b"1\x0080 24",
        b"\xff\xfe 1 2",
        b"2 80 24",
        b"-1 80 24",
        b"99999999999999999999 1 1",
        b"1 99999999999999999999999 24",
    ];
    for case in cases {
        let mut bytes = case.to_vec();
        bytes.extend_from_slice(b"\n1 10 20\n");
        assert_eq!(messages(&bytes), vec![resize(10, 20)], "case {case:?}");
    }
}

#[test]
fn an_endless_line_keeps_memory_bounded_and_is_skipped_whole() {
    let mut parser = ControlParser::new();
    let mut out = Vec::new();
    let chunk = [b'7'; 4096];
    for _ in 0..1024 {
        parser.feed(&chunk, |m| out.push(m));
        assert!(parser.pending() <= MAX_LINE);
    }
    // The tail of the long line looks valid on its own but belongs to the skipped line.
    parser.feed(b" 1 80 24\n1 1 2\n", |m| out.push(m));
    assert_eq!(out, vec![resize(1, 2)]);
}

#[test]
fn a_line_of_exactly_max_line_bytes_is_accepted() {
    let mut line = b"1 80 ".to_vec();
    line.resize(MAX_LINE - 2, b'0');
    line.extend_from_slice(b"24\n");
    assert_eq!(line.len(), MAX_LINE + 1);
    assert_eq!(messages(&line), vec![resize(80, 24)]);
    let mut longer = b"1 80 0".to_vec();
    longer.extend_from_slice(&line[5..]);
    assert_eq!(messages(&longer), vec![]);
}

#[test]
fn any_chunking_gives_the_same_messages() {
    let stream: &[u8] = b"1 80 24\n\xff\x00junk\n0 0 0\n1 65536 1\n   1 1 1   \n3 3 3\n1 200 50\n";
    let whole = messages(stream);
    assert_eq!(whole.len(), 4);
    for split in 0..stream.len() {
        let mut parser = ControlParser::new();
        let mut out = Vec::new();
        parser.feed(&stream[..split], |m| out.push(m));
        parser.feed(&stream[split..], |m| out.push(m));
        assert_eq!(out, whole, "split at {split}");
    }
    let mut parser = ControlParser::new();
    let mut out = Vec::new();
    for byte in stream {
        parser.feed(std::slice::from_ref(byte), |m| out.push(m));
    }
    assert_eq!(out, whole);
}
