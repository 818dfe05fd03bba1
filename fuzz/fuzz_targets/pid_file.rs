//! The `pid` file parser on hostile bytes: it accepts exactly what Go's `strconv.Atoi` would read
//! as a pid in `1..=PID_MAX_LIMIT` with no sign (digits only), and its error message stays short
//! whatever the file holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyshim::runtime::pid_file::{parse, PID_MAX_LIMIT};

/// The expected pid, through the standard library's own integer parsing.
fn expect(data: &[u8]) -> Option<i32> {
    if data.is_empty() || !data.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    // Leading zeros parse fine; only the value can overflow, and then it is out of range anyway.
    let value = text.parse::<u64>().ok()?;
    (1..=PID_MAX_LIMIT as u64)
        .contains(&value)
        .then_some(value as i32)
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse(data);
    assert_eq!(parsed.clone().ok(), expect(data), "{data:?}");
    if let Err(error) = parsed {
        let message = error.to_string();
        assert!(message.len() < 256, "message of {} bytes", message.len());
    }
});
