//! Comparing what the tests got with what they expected, with failures that say where the two
//! part rather than print megabytes, and the expected text of the tests' favourite output,
//! busybox `seq`.

use std::path::{Path, PathBuf};

/// Fails unless `dir` is empty.
pub fn assert_empty_dir(dir: &Path, what: &str) {
    let left: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read directory")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    assert!(left.is_empty(), "{what}: left behind in {dir:?}: {left:?}");
}

/// Busybox `seq 1 <last>` output, built without formatting each number.
pub fn seq_text(last: u64) -> Vec<u8> {
    let mut text = Vec::new();
    let mut digits = vec![b'0'];
    for _ in 0..last {
        // Increment the decimal digits in place.
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
        text.extend_from_slice(&digits);
        text.push(b'\n');
    }
    text
}

/// Asserts `got == expected`, naming the first difference rather than printing megabytes.
pub fn assert_same_bytes(got: &[u8], expected: &[u8]) {
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        let around = |bytes: &[u8]| {
            String::from_utf8_lossy(&bytes[at.saturating_sub(20)..(at + 20).min(bytes.len())])
                .into_owned()
        };
        panic!(
            "{} bytes instead of {}; first difference at byte {at}: {:?} instead of {:?}",
            got.len(),
            expected.len(),
            around(got),
            around(expected)
        );
    }
}
