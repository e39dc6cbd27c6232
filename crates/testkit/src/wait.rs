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

/// As [`eventually`], with a deadline of `patience`: for what is slower than the
/// kernel, an engine's daemon that shuts a container down or restarts it.
pub fn eventually_within(patience: Duration, what: &str, mut check: impl FnMut() -> bool) {
    until(patience, what, || if check() { Ok(()) } else { Err(String::new()) });
}

/// Waits (at most `patience`, then fails naming `what`) until `check` returns `Ok`,
/// and returns its value. `Err(seen)` says what `check` saw instead (a log, a
/// listing), shown in the failure when it is not empty.
pub fn until<T>(patience: Duration, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + patience;
    loop {
        let seen = match check() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        let shown = if seen.is_empty() { String::new() } else { format!(":\n{seen}") };
        assert!(Instant::now() < deadline, "timed out after {patience:?} waiting until {what}{shown}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The lines a child prints, read by a thread of their own so that the test can wait
/// for the next one with a deadline: a payload that never prints must fail the test,
/// not hang it. The thread ends when the child closes its end.
pub struct Lines {
    lines: std::sync::mpsc::Receiver<String>,
}

impl Lines {
    /// Reads `from` (a child's stdout) line by line.
    pub fn new(from: impl std::io::Read + Send + 'static) -> Lines {
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(from).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Lines { lines }
    }

    /// The next line, trimmed; `None` when the stream ended first or no line came
    /// within [`PATIENCE`] (the caller then stops the child and says what it printed).
    pub fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(PATIENCE).ok().map(|line| line.trim().to_owned())
    }
}
