//! Waiting for what the kernel does quickly, with a deadline: a test that waits
//! without one hangs on a broken answer instead of failing with a message.

use std::time::{Duration, Instant};

/// How long a test waits for something the kernel does in milliseconds (a process to
/// exit, a status to change, a file to appear) before it calls it a failure. Generous,
/// never a measurement: a loaded 2-core VM is slow, not wrong.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Waits (at most [`PATIENCE`], then fails naming `what`) until `check` holds.
pub fn eventually(what: &str, check: impl FnMut() -> bool) {
    eventually_within(PATIENCE, what, check);
}

/// As [`eventually`], with a patience of its own (a daemon that starts slowly).
pub fn eventually_within(patience: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !check() {
        assert!(Instant::now() < deadline, "timed out after {patience:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
