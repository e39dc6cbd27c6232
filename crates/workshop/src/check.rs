//! `cargo workshop check N`: runs `cargo test -p chapter-N` and reads the result.
//!
//! Cargo's own chatter is hidden unless asked for: compiler messages arrive as
//! JSON (`--message-format=json-diagnostic-rendered-ansi`), so only the errors
//! are shown, and libtest's text output is parsed for its `test result:` lines
//! and for each failed test's panic message (where `todo!()` puts the hint).

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use anstyle::{AnsiColor, Style};
use serde::Deserialize;

use std::collections::BTreeSet;

use crate::chapter::Chapter;
use crate::hints::{ChapterHoles, Hole};
use crate::progress::{unix_now, FailedTest, Outcome, TestRecord};
use crate::status::relative;

/// What went wrong while running the chapter's tests (not the tests failing).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot run `{cargo} test` in {root}: {source}; is cargo on your PATH?")]
    Spawn { cargo: String, root: PathBuf, source: std::io::Error },
    #[error("reading the output of `cargo test`: {source}")]
    Output { source: std::io::Error },
}

/// A test that failed, with what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The test's path, `process::runs_a_command`.
    pub name: String,
    /// The panic message, `not yet implemented: <hint>` for an open hole.
    pub message: String,
    /// Where it panicked, `exercises/01-big-bang/process.rs:75:5`, `..` resolved.
    pub location: Option<String>,
}

/// One compiler error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The error as rustc renders it (with ANSI colour).
    pub rendered: String,
    /// The file of its primary span, relative to the workspace root.
    pub file: Option<PathBuf>,
}

/// How a `cargo test` run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The tests ran (summed over every test binary).
    Tested { passed: u32, failed: u32, failures: Vec<Failure> },
    /// Something did not compile.
    DidNotCompile { errors: Vec<CompileError> },
    /// Cargo failed before any test ran and without a compiler error; the last
    /// lines it printed say why.
    CargoFailed { stderr_tail: String },
}

impl CheckOutcome {
    /// The progress record of this outcome, each failing test with the hole it points
    /// at (`open` holds the ids of the holes still `todo!()`); none when cargo itself failed.
    pub fn record(&self, holes: &ChapterHoles, open: &BTreeSet<String>) -> Option<TestRecord> {
        let at = unix_now();
        let is_open = |h: &Hole| open.contains(&h.meta.id);
        match self {
            Self::Tested { passed, failed, failures } => Some(TestRecord {
                outcome: if *failed == 0 { Outcome::Passed } else { Outcome::Failed },
                passed: *passed,
                failed: *failed,
                at,
                failures: failures
                    .iter()
                    .map(|f| FailedTest {
                        test: f.name.clone(),
                        hole: holes.for_failure(f, &is_open).map(|i| holes.holes[i].meta.id.clone()),
                    })
                    .collect(),
            }),
            Self::DidNotCompile { .. } => Some(TestRecord {
                outcome: Outcome::DidNotCompile,
                passed: 0,
                failed: 0,
                at,
                failures: Vec::new(),
            }),
            Self::CargoFailed { .. } => None,
        }
    }

    /// The hole the first failing test points at, in the book's order, with that test.
    pub fn pointed<'h>(
        &self,
        holes: &'h ChapterHoles,
        open: &BTreeSet<String>,
    ) -> Option<(&'h Hole, &Failure)> {
        let Self::Tested { failures, .. } = self else { return None };
        holes
            .first_pointed(failures, &|h: &Hole| open.contains(&h.meta.id))
            .map(|(i, f)| (&holes.holes[i], f))
    }

    /// True when every test ran and passed.
    pub fn passed(&self) -> bool {
        matches!(self, Self::Tested { failed: 0, .. })
    }

    /// The report a learner reads, styled with ANSI codes (print it through
    /// `anstream`, which drops them when stdout is not a terminal).
    pub fn report(&self, chapter: &Chapter) -> String {
        let n = chapter.number;
        let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
        let green = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
        let bold = Style::new().bold();
        let dim = Style::new().dimmed();
        let mut out = String::new();
        match self {
            Self::Tested { passed, failed: 0, .. } => {
                out += &format!("{green}✓ chapter {n}: all {passed} tests passed{green:#}\n");
            }
            Self::Tested { passed, failed, failures } => {
                let total = passed + failed;
                out += &format!("{red}✗ chapter {n}: {failed} of {total} tests failed{red:#}\n");
                // Tests that reached the same todo!() are one group, whatever else their
                // messages say (each test words its own failure around the panic of a
                // process it started); other failures are grouped when they are alike.
                let mut groups: Vec<(String, Option<String>, Vec<&str>)> = Vec::new();
                for f in failures {
                    let (message, location) = match todo_reached(&f.message) {
                        Some((todo, place)) => (todo, place.or_else(|| f.location.clone())),
                        None => (f.message.clone(), f.location.clone()),
                    };
                    match groups.iter_mut().find(|(m, l, _)| *m == message && *l == location) {
                        Some((_, _, names)) => names.push(&f.name),
                        None => groups.push((message, location, vec![&f.name])),
                    }
                }
                for (message, location, names) in groups {
                    out += "\n";
                    for name in names {
                        out += &format!("  {bold}{name}{bold:#}\n");
                    }
                    for line in message.lines() {
                        out += &format!("      {line}\n");
                    }
                    if let Some(location) = location {
                        out += &format!("      {dim}at {location}{dim:#}\n");
                    }
                }
            }
            Self::DidNotCompile { errors } => {
                let mut files: Vec<String> = Vec::new();
                for file in errors.iter().filter_map(|e| e.file.as_ref()) {
                    let file = file.display().to_string();
                    if !files.contains(&file) {
                        files.push(file);
                    }
                }
                out += &format!("{red}✗ chapter {n} does not compile{red:#}");
                if files.is_empty() {
                    out += "\n";
                } else {
                    out += &format!(": fix {bold}{}{bold:#}\n", files.join(", "));
                }
                for error in errors {
                    out += &format!("\n{}\n", error.rendered.trim_end());
                }
            }
            Self::CargoFailed { stderr_tail } => {
                out += &format!(
                    "{red}✗ `cargo test -p {}` failed before running any test:{red:#}\n{}\n",
                    chapter.package(),
                    stderr_tail.trim_end()
                );
            }
        }
        out
    }
}

/// Runs `cargo test -p chapter-N --no-fail-fast` in `root` and reads its result.
/// With `verbose`, cargo's own output and every compiler message are passed
/// through to this process's stdout/stderr as they come.
pub fn run_tests(root: &Path, chapter: &Chapter, verbose: bool) -> Result<CheckOutcome, CheckError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut child = Command::new(&cargo)
        .args(["test", "--package", &chapter.package(), "--no-fail-fast"])
        .arg("--message-format=json-diagnostic-rendered-ansi")
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if verbose { Stdio::inherit() } else { Stdio::piped() })
        .spawn()
        .map_err(|source| CheckError::Spawn { cargo: cargo.clone(), root: root.to_owned(), source })?;

    // Read stderr on its own thread so that neither pipe fills up and blocks cargo.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });

    let mut libtest = String::new();
    let mut errors = Vec::new();
    // A first check compiles the chapter's tests and what they use, for a minute or
    // two: with cargo's output hidden, one line that moves says it is working.
    let progress = !verbose && std::io::stderr().is_terminal();
    let mut compiled = 0;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|source| CheckError::Output { source })?;
        match serde_json::from_str::<CargoMessage>(&line) {
            Ok(CargoMessage { reason, message: Some(message), .. }) if reason == "compiler-message" => {
                if verbose {
                    anstream::print!("{}", message.rendered.as_deref().unwrap_or_default());
                }
                if let Some(error) = message.into_error(root) {
                    errors.push(error);
                }
            }
            Ok(CargoMessage { reason, fresh: false, target: Some(target), .. })
                if progress && reason == "compiler-artifact" =>
            {
                compiled += 1;
                let name: String = target.name.chars().take(30).collect();
                eprint!("\r\x1b[2K  compiling the tests: {compiled} done, last {name}");
            }
            Ok(CargoMessage { reason, .. }) if progress && compiled > 0 && reason == "build-finished" => {
                eprint!("\r\x1b[2K");
            }
            Ok(_) => {}
            Err(_) => {
                if verbose {
                    println!("{line}");
                }
                libtest.push_str(&line);
                libtest.push('\n');
            }
        }
    }
    let status = child.wait().map_err(|source| CheckError::Output { source })?;
    let stderr = stderr.map(|t| t.join().unwrap_or_default()).unwrap_or_default();

    if !errors.is_empty() {
        return Ok(CheckOutcome::DidNotCompile { errors });
    }
    let summary = parse_libtest(&libtest);
    if summary.binaries == 0 && !status.success() {
        return Ok(CheckOutcome::CargoFailed { stderr_tail: tail(&stderr, 15) });
    }
    Ok(CheckOutcome::Tested { passed: summary.passed, failed: summary.failed, failures: summary.failures })
}

/// The `not yet implemented: <hint>` line of a failure's message, and where that
/// panic happened when the message says (`… panicked at <file>:<line>:<col>:` just
/// before it, as a process the test started prints it).
fn todo_reached(message: &str) -> Option<(String, Option<String>)> {
    let lines: Vec<&str> = message.lines().collect();
    let at = lines.iter().position(|l| l.trim_start().starts_with("not yet implemented"))?;
    let place = lines[..at].iter().rev().find_map(|l| {
        let (_, after) = l.split_once(" panicked at ")?;
        Some(after.trim_end_matches(':').to_owned())
    });
    Some((lines[at].trim().to_owned(), place))
}

/// What libtest printed, summed over test binaries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibtestSummary {
    /// How many `test result:` lines there were.
    pub binaries: u32,
    pub passed: u32,
    pub failed: u32,
    pub failures: Vec<Failure>,
}

/// Parses libtest's text output: the `test result:` lines and the
/// `---- name stdout ----` sections of failed tests.
pub fn parse_libtest(output: &str) -> LibtestSummary {
    let mut summary = LibtestSummary::default();
    let mut section: Option<(String, Vec<&str>)> = None;
    let close = |section: &mut Option<(String, Vec<&str>)>, summary: &mut LibtestSummary| {
        if let Some((name, lines)) = section.take() {
            let (message, location) = panic_message(&lines);
            summary.failures.push(Failure { name, message, location });
        }
    };
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("---- ").and_then(|l| l.strip_suffix(" stdout ----")) {
            close(&mut section, &mut summary);
            section = Some((name.to_owned(), Vec::new()));
        } else if let Some(result) = line.strip_prefix("test result: ") {
            close(&mut section, &mut summary);
            summary.binaries += 1;
            for part in result.split(';') {
                let mut words = part.split_whitespace().rev();
                let (Some(kind), Some(count)) = (words.next(), words.next()) else { continue };
                let count: u32 = count.parse().unwrap_or(0);
                match kind {
                    "passed" => summary.passed += count,
                    "failed" => summary.failed += count,
                    _ => {}
                }
            }
        } else if line == "failures:" {
            close(&mut section, &mut summary);
        } else if let Some((_, lines)) = section.as_mut() {
            lines.push(line);
        }
    }
    close(&mut section, &mut summary);
    summary
}

/// The panic message in a failed test's output section and where it panicked,
/// or the section itself (trimmed) when the test failed without panicking.
fn panic_message(lines: &[&str]) -> (String, Option<String>) {
    let start = lines.iter().position(|l| l.starts_with("thread '") && l.contains(" panicked at "));
    let Some(start) = start else {
        return (lines.iter().take(10).copied().collect::<Vec<_>>().join("\n").trim().to_owned(), None);
    };
    // `thread 'name' (1234) panicked at chapters/x/src/../../../exercises/x/f.rs:75:5:`
    let location = lines[start]
        .split_once(" panicked at ")
        .map(|(_, at)| at.trim_end_matches(':'))
        .filter(|at| !at.is_empty())
        .map(|at| normalize(Path::new(at)).display().to_string());
    let body: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("note: run with `RUST_BACKTRACE") && **l != "stack backtrace:")
        .copied()
        .collect();
    (tidy(body.join("\n").trim()), location)
}

/// A message without what differs between two runs of the same failure: the thread
/// ids a nested panic prints (`thread 'main' (10045) panicked at`), and the `..` of a
/// path rustc gives a file included with `#[path]`. Tests that fail the same way then
/// read the same, and are listed together.
fn tidy(message: &str) -> String {
    message.lines().map(tidy_line).collect::<Vec<_>>().join("\n")
}

fn tidy_line(line: &str) -> String {
    let Some(start) = line.find("thread '") else { return line.to_owned() };
    let (before, rest) = line.split_at(start);
    let Some(name_end) = rest["thread '".len()..].find('\'').map(|i| i + "thread '".len() + 1) else {
        return line.to_owned();
    };
    let (thread, mut after) = rest.split_at(name_end);
    // ` (1234)`, the thread id Rust 1.89+ prints, goes.
    if let Some(id) = after.strip_prefix(" (") {
        if let Some(close) = id.find(')') {
            if close > 0 && id[..close].bytes().all(|b| b.is_ascii_digit()) {
                after = &id[close + 1..];
            }
        }
    }
    // ` panicked at chapters/x/src/../../../exercises/x/f.rs:75:5:` is shown resolved.
    let after = match after.strip_prefix(" panicked at ") {
        Some(at) => {
            let (path, tail) = at.split_once(':').unwrap_or((at, ""));
            let colon = if at.contains(':') { ":" } else { "" };
            format!(" panicked at {}{colon}{tail}", normalize(Path::new(path)).display())
        }
        None => after.to_owned(),
    };
    format!("{before}{thread}{after}")
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The parts of a cargo JSON message that `check` reads.
#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    message: Option<Diagnostic>,
    /// On a `compiler-artifact`: false when the crate was compiled just now.
    #[serde(default)]
    fresh: bool,
    /// On a `compiler-artifact`: the crate's target.
    target: Option<ArtifactTarget>,
}

#[derive(Deserialize)]
struct ArtifactTarget {
    name: String,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    rendered: Option<String>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    is_primary: bool,
}

impl Diagnostic {
    /// This diagnostic as an error to show, if it is one worth showing
    /// (not a warning, not rustc's closing "aborting due to" line).
    fn into_error(self, root: &Path) -> Option<CompileError> {
        if self.level != "error" || self.message.starts_with("aborting due to") {
            return None;
        }
        let file = self
            .spans
            .iter()
            .find(|s| s.is_primary)
            .map(|s| relative(root, &normalize(&root.join(&s.file_name))));
        // Show `exercises/01-x/f.rs`, not `chapters/01-x/src/../../../exercises/01-x/f.rs`.
        let mut rendered = self.rendered.unwrap_or(self.message);
        for span in &self.spans {
            let short = relative(root, &normalize(&root.join(&span.file_name)));
            rendered = rendered.replace(&span.file_name, &short.display().to_string());
        }
        Some(CompileError { rendered, file })
    }
}

/// Resolves `.` and `..` without touching the file system: rustc names a file
/// included with `#[path]` as `chapters/01-x/src/../../../exercises/01-x/f.rs`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The todo!() a test's own words wrap is found with the place it panicked at;
    /// a failure that is no todo!() is none.
    #[test]
    fn a_todo_inside_a_message_is_found() {
        let message = "ls / failed: \nthread 'main' panicked at exercises/01-x/p.rs:77:5:\n\
                       not yet implemented: Resolve the rootfs.\n";
        assert_eq!(
            todo_reached(message),
            Some((
                "not yet implemented: Resolve the rootfs.".to_owned(),
                Some("exercises/01-x/p.rs:77:5".to_owned())
            ))
        );
        assert_eq!(
            todo_reached("not yet implemented: Add them."),
            Some(("not yet implemented: Add them.".to_owned(), None))
        );
        assert_eq!(todo_reached("assertion `left == right` failed\n  left: 1\n right: 2"), None);
    }

    const OUTPUT: &str = "
running 2 tests
test adds ... ok
test answers ... FAILED

failures:

---- answers stdout ----

thread 'answers' (77) panicked at chapters/01-demo/src/../../../exercises/01-demo/answer.rs:3:5:
not yet implemented: Return the answer.
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    answers

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 3 tests
test a ... ok
test b ... ok
test c ... ok

test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    /// Summary lines are summed over binaries; each failure keeps its panic message.
    #[test]
    fn parses_libtest_output() {
        let summary = parse_libtest(OUTPUT);
        assert_eq!(summary.binaries, 2);
        assert_eq!((summary.passed, summary.failed), (4, 1));
        assert_eq!(
            summary.failures,
            vec![Failure {
                name: "answers".into(),
                message: "not yet implemented: Return the answer.".into(),
                location: Some("exercises/01-demo/answer.rs:3:5".into()),
            }]
        );
    }

    /// Paths through `..` are resolved lexically.
    #[test]
    fn tidies_nested_panics() {
        let nested = "the runtime exited before writing its pid file; its stderr:\n\
                      thread 'main' (10045) panicked at chapters/02-x/src/../../../exercises/02-x/kind.rs:51:9:\n\
                      not yet implemented: Map each namespace.";
        let other = nested.replace("10045", "10046");
        assert_eq!(tidy(nested), tidy(&other), "the same failure reads the same");
        assert_eq!(
            tidy(nested).lines().nth(1),
            Some("thread 'main' panicked at exercises/02-x/kind.rs:51:9:")
        );
        assert_eq!(tidy_line("thread 'it' (77) said hi"), "thread 'it' said hi");
        assert_eq!(tidy_line("no thread here"), "no thread here");
        assert_eq!(tidy_line("thread 'x' (not an id)"), "thread 'x' (not an id)");
    }

    #[test]
    fn normalizes_included_paths() {
        assert_eq!(
            normalize(Path::new("/w/chapters/01-x/src/../../../exercises/01-x/f.rs")),
            PathBuf::from("/w/exercises/01-x/f.rs")
        );
    }
}
