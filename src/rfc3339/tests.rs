//! Unit tests of [`super`].

use super::*;
use std::time::Duration;

#[test]
fn rfc3339_nano_trims_like_go() {
    let at = |s, n| rfc3339_nano_utc(UNIX_EPOCH + Duration::new(s, n));
    assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
    assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
    assert_eq!(at(1_700_000_000, 100_000_000), "2023-11-14T22:13:20.1Z");
    assert_eq!(
        at(4_102_444_799, 999_999_999),
        "2099-12-31T23:59:59.999999999Z"
    );
}
