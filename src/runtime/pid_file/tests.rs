//! Unit tests of [`super`].

use super::*;

#[test]
fn runc_output_parses() {
    assert_eq!(parse(b"4242"), Ok(4242));
    assert_eq!(parse(b"1"), Ok(1));
    assert_eq!(parse(b"0004242"), Ok(4242));
    assert_eq!(parse(b"4194304"), Ok(PID_MAX_LIMIT));
}

#[test]
fn what_the_daemon_could_not_parse_is_rejected() {
    assert_eq!(parse(b""), Err(PidFileError::Empty));
    for bad in [
        &b"abc"[..],
        b"123\n",
        b" 123",
        b"-5",
        b"+5",
        b"12a",
        b"\x00",
        b"1.0",
    ] {
        assert!(
            matches!(parse(bad), Err(PidFileError::NotDecimal(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn numbers_that_are_not_pids_are_rejected() {
    for bad in [&b"0"[..], b"4194305", b"99999999999999999999999999"] {
        assert!(
            matches!(parse(bad), Err(PidFileError::OutOfRange(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn messages_quote_the_content_escaped_and_bounded() {
    let message = parse(b"12\n\"x").unwrap_err().to_string();
    assert!(message.contains(r#""12\n\"x""#), "{message}");
    let huge = vec![b'x'; 1 << 20];
    let message = parse(&huge).unwrap_err().to_string();
    assert!(message.len() < 200, "{message}");
    assert!(message.contains("1048576 bytes"), "{message}");
}
