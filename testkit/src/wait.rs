//! Waiting for what must happen: every wait of the tests has a deadline, so that a hang fails
//! the test instead of stalling the suite.

use std::time::{Duration, Instant};

use crate::driver;

/// How long a test waits for anything that must happen: far longer than any of it takes on a
/// loaded 2-core machine, so that only a hang ever reaches it.
pub const LONG: Duration = Duration::from_secs(60);

/// Polls `condition` every 10 ms until it holds, failing the test with `what` after `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        driver::pause(Duration::from_millis(10));
    }
}
