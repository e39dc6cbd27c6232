//! A hole still open, seen from a later test. When a process a test started (a
//! runtime, a container's init) reaches a `todo!()`, its panic goes to its stderr, and
//! the test's own assertion, about orphans or exit codes, says nothing of it. These
//! helpers find the panic in that stderr so the assertion can say what to do first.

/// The libtest/std panic line of a `todo!()`: `not yet implemented: <hint>`.
const TODO: &str = "not yet implemented";

/// The lines of `stderr` that tell which hole was reached: the `panicked at` line
/// before the `todo!()` message (file and line), and the message with its hint.
pub fn open_hole(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines.iter().position(|l| l.contains(TODO))?;
    let place = lines[..at].iter().rev().find(|l| l.contains(" panicked at ")).map(|l| {
        let from = l.find(" panicked at ").map_or(0, |i| i + " panicked at ".len());
        l[from..].trim_end_matches(':').to_owned()
    });
    Some(match place {
        Some(place) => format!("{} (at {place})", lines[at].trim()),
        None => lines[at].trim().to_owned(),
    })
}

/// A paragraph to append to an assertion's message: empty when no hole was reached,
/// else which one, and that it comes first.
pub fn note(stderr: &str) -> String {
    match open_hole(stderr) {
        Some(hole) => format!(
            "\n\nThis test reached a hole you have not filled yet, so what it checks could not happen:\n  \
             {hole}\nFill that hole first; this test needs it."
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANIC: &str = "starting\nthread 'main' (77) panicked at chapters/02-namespaces/src/../../../exercises/02-namespaces/init.rs:98:13:\nnot yet implemented: Reap every child that has exited.\nnote: run with `RUST_BACKTRACE=1`\n";

    #[test]
    fn finds_the_hole_and_its_place() {
        assert_eq!(
            open_hole(PANIC).unwrap(),
            "not yet implemented: Reap every child that has exited. (at chapters/02-namespaces/src/../../../exercises/02-namespaces/init.rs:98:13)"
        );
        assert!(note(PANIC).contains("Fill that hole first"));
    }

    #[test]
    fn says_nothing_without_a_todo() {
        assert_eq!(open_hole("thread 'main' panicked at x.rs:1:1:\nindex out of bounds\n"), None);
        assert_eq!(note("all fine\n"), "");
    }
}
