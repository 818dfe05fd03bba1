//! The control-line parser on hostile bytes, split into reads the way the input itself chooses.
//!
//! Input layout: byte 0 modulo 32 is how many "cut" bytes follow; the rest is the stream written
//! into the control FIFO. Each cut byte is one read size (below 128: that many bytes, zero
//! included; from 128: the square of its low seven bits, up to 16 129), used in turn until the
//! stream is consumed; no cut bytes means one byte per read.
//!
//! Checked on every input:
//! * the chunked feed gives exactly the messages of feeding the stream at once;
//! * both equal a reference model that splits the stream at newlines and parses each complete
//!   line of at most `MAX_LINE` bytes, so a long line's tail can never pass for a message;
//! * `pending()` never exceeds `MAX_LINE` after any read, so memory is bounded on endless lines;
//! * a message comes only from a line of digits, signs and blanks, and re-encoding it in the
//!   daemon's own format parses back to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyshim::v02::control::{parse_line, ControlParser, Message, MAX_LINE};

/// How many bytes one cut byte asks to read.
fn read_size(cut: u8) -> usize {
    if cut < 128 {
        usize::from(cut)
    } else {
        let root = usize::from(cut & 0x7f);
        root * root
    }
}

fn feed_whole(stream: &[u8]) -> Vec<Message> {
    let mut parser = ControlParser::new();
    let mut out = Vec::new();
    parser.feed(stream, |m| out.push(m));
    assert!(parser.pending() <= MAX_LINE);
    out
}

fn feed_in_reads(stream: &[u8], cuts: &[u8]) -> Vec<Message> {
    let mut parser = ControlParser::new();
    let mut out = Vec::new();
    let mut rest = stream;
    // Cuts that are all zero would never consume anything: feed them once, then the rest.
    let sizes: Vec<usize> = if cuts.is_empty() {
        vec![1]
    } else {
        cuts.iter().copied().map(read_size).collect()
    };
    let progresses = sizes.iter().any(|&size| size > 0);
    let mut turn = 0;
    while !rest.is_empty() {
        let size = if progresses {
            sizes[turn % sizes.len()]
        } else if turn < sizes.len() {
            0
        } else {
            rest.len()
        };
        turn += 1;
        let (now, later) = rest.split_at(size.min(rest.len()));
        parser.feed(now, |m| out.push(m));
        assert!(
            parser.pending() <= MAX_LINE,
            "pending {} after a read",
            parser.pending()
        );
        rest = later;
    }
    out
}

/// What the parser must give, computed without its state machine.
fn reference(stream: &[u8]) -> Vec<Message> {
    let mut lines: Vec<&[u8]> = stream.split(|&b| b == b'\n').collect();
    // The piece after the last newline is an unfinished line.
    lines.pop();
    lines
        .into_iter()
        .filter(|line| line.len() <= MAX_LINE)
        .filter_map(|line| {
            let message = parse_line(line);
            if message.is_some() {
                assert!(
                    line.iter().all(|b| b" \t\r+-0123456789".contains(b)),
                    "message from {line:?}"
                );
            }
            message
        })
        .collect()
}

fn daemon_line(message: Message) -> String {
    match message {
        Message::CloseStdin => "0 0 0".to_string(),
        Message::Resize { width, height } => format!("1 {width} {height}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 32).min(rest.len());
    let (cuts, stream) = rest.split_at(count);
    let whole = feed_whole(stream);
    assert_eq!(whole, reference(stream));
    assert_eq!(feed_in_reads(stream, cuts), whole);
    for message in whole {
        assert_eq!(parse_line(daemon_line(message).as_bytes()), Some(message));
    }
});
