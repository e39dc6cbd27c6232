//! `cargo xtask verify [N…]`: prove, for each chapter, that its tests check
//! something. They must PASS on the product (`--features solution`), FAIL on the
//! exercises, and FAIL with only one hole left open, for every hole: a hole no test
//! notices is a hole a learner could leave empty and be told they are done. With one
//! hole open, every test its `[[holes]]` entry lists in `tests` must be among those
//! that fail (`cargo workshop hint` trusts those lists to point at the hole).
//!
//! Variants are written over `exercises/NN-topic/` and the generated files are
//! restored afterwards (also on error or Ctrl-C's panic-free path), so verify
//! refuses to start when those files hold anything but the generated text.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::{Chapter, Workspace};
use bigbang_workshop::check::parse_libtest;
use bigbang_workshop::hints::ChapterHoles;

use crate::exercises::{self, rel};

/// How one `cargo test -p chapter-N` run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed {
        tests: u32,
    },
    Failed {
        passed: u32,
        failed: u32,
    },
    /// The code did not compile: a defect in the markers, not a test result.
    CompileError,
}

/// How a whole `cargo test` run ended, from libtest's `test result:` lines.
fn outcome(success: bool, output: &str) -> Outcome {
    let summary = parse_libtest(output);
    if success {
        Outcome::Passed { tests: summary.passed }
    } else if output.contains("could not compile") {
        Outcome::CompileError
    } else {
        Outcome::Failed { passed: summary.passed, failed: summary.failed }
    }
}

fn cargo_test(ws: &Workspace, chapter: &Chapter, solution: bool) -> Result<(Outcome, String)> {
    cargo_test_with(ws, chapter, solution, &[])
}

/// `cargo test` of the exercises with `--no-fail-fast`, so that every test binary runs
/// and every failing test is named.
fn cargo_test_all(ws: &Workspace, chapter: &Chapter) -> Result<(Outcome, String)> {
    cargo_test_with(ws, chapter, false, &["--no-fail-fast"])
}

fn cargo_test_with(
    ws: &Workspace,
    chapter: &Chapter,
    solution: bool,
    extra: &[&str],
) -> Result<(Outcome, String)> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&ws.root).args(["test", "--package", &chapter.package()]).args(extra);
    if solution {
        cmd.args(["--features", "solution"]);
    }
    let (success, text) =
        run_bounded(cmd).with_context(|| format!("running cargo test for {}", chapter.package()))?;
    Ok((outcome(success, &text), text))
}

/// How long one `cargo test` of a chapter may take, compiling included, before verify
/// calls it hung. A hole left open can hang a test (a container waiting for a `start`
/// that panicked, a pipe a stray process holds): verify must report that, not wait.
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs `cmd` in a process group of its own with its output in files (a process it
/// leaves behind cannot then hold a pipe open), killing the whole group after
/// [`TEST_TIMEOUT`]. Returns whether it succeeded and its stdout and stderr.
pub(crate) fn run_bounded(mut cmd: Command) -> Result<(bool, String)> {
    use std::os::unix::process::CommandExt;
    let out = tempfile::tempfile()?;
    let err = tempfile::tempfile()?;
    cmd.stdout(out.try_clone()?).stderr(err.try_clone()?).process_group(0);
    let mut child = cmd.spawn()?;
    let deadline = std::time::Instant::now() + TEST_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let read = |mut file: std::fs::File| -> Result<String> {
        use std::io::{Read, Seek};
        let mut text = String::new();
        file.seek(std::io::SeekFrom::Start(0))?;
        file.read_to_string(&mut text)?;
        Ok(text)
    };
    let mut text = read(out)? + &read(err)?;
    match status {
        Some(status) => Ok((status.success(), text)),
        None => {
            text.push_str(&format!(
                "\nverify: killed after {} s: a test hung (a container waiting for start? a child holding a pipe?)\n",
                TEST_TIMEOUT.as_secs()
            ));
            Ok((false, text))
        }
    }
}

/// Puts the generated exercise files back when dropped.
struct Restore<'a> {
    files: Vec<(PathBuf, String)>,
    root: &'a Path,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for (path, text) in &self.files {
            if let Err(err) = fs::write(path, text) {
                eprintln!("verify: could not restore {}: {err}", rel(self.root, path));
            }
        }
    }
}

/// One row of the table.
struct Row {
    chapter: u32,
    holes: usize,
    tests: u32,
    /// Tests named in `[[holes]]` lists, and how many of them failed with their hole open.
    listed: usize,
    listed_failing: usize,
    verdict: String,
}

/// The names of the tests libtest reports as failed (`test name ... FAILED`).
fn failing_tests(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .map(str::to_owned)
        .collect()
}

/// With only the hole `hi` of `file` open, the tests its `[[holes]]` entry lists must
/// fail; returns (listed, failing among them, problems) and prints the failing set.
fn check_listed_tests(
    holes: &ChapterHoles,
    file: &Path,
    hi: usize,
    failing: &BTreeSet<String>,
) -> (usize, usize, Vec<String>) {
    let hole = holes.holes.iter().find(|h| h.meta.file == file && h.index_in_file == hi);
    println!(
        "    {}: {} failing: {}",
        hole.map_or("(no [[holes]] entry)", |h| h.meta.id.as_str()),
        failing.len(),
        failing.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let Some(hole) = hole else {
        return (0, 0, vec![format!("the hole {} #{} has no [[holes]] entry", file.display(), hi + 1)]);
    };
    let mut problems = Vec::new();
    let mut ok = 0;
    for test in &hole.meta.tests {
        let last = |f: &String| f.rsplit("::").next().map(str::to_owned);
        if failing.contains(test)
            || (!test.contains("::") && failing.iter().any(|f| last(f).as_ref() == Some(test)))
        {
            ok += 1;
        } else {
            problems
                .push(format!("hole {}: listed test {test} passes with only this hole open", hole.meta.id));
        }
    }
    (hole.meta.tests.len(), ok, problems)
}

/// The tests of a failed run whose failure does not show a `todo!()`: with a hole
/// open, every failing test must say so, or the learner chases the wrong cause (an
/// "orphans under the init: []" when the init died at a hole). libtest prints each
/// failure's output under `---- <name> stdout ----`.
fn silent_failures(log: &str) -> Vec<String> {
    log.split("\n---- ")
        .skip(1)
        .filter(|section| !section.contains("not yet implemented"))
        .filter_map(|section| section.split(' ').next().map(str::to_owned))
        .collect()
}

fn verify_chapter(ws: &Workspace, chapter: &Chapter) -> Result<Row> {
    let mut problems = Vec::new();
    let (on_solution, log) = cargo_test(ws, chapter, true)?;
    let tests = match on_solution {
        Outcome::Passed { tests } if tests > 0 => tests,
        Outcome::Passed { .. } => {
            problems.push("no tests ran on the solution".to_owned());
            0
        }
        other => {
            eprintln!("{log}");
            problems.push(format!("the solution does not pass: {other:?}"));
            0
        }
    };
    problems.extend(crate::mistakes::check(ws, chapter)?);
    match cargo_test(ws, chapter, false)? {
        (Outcome::Failed { .. }, _) => {}
        (Outcome::Passed { .. }, _) => problems.push("tests PASS on the untouched exercises".to_owned()),
        (Outcome::CompileError, log) => {
            eprintln!("{log}");
            problems.push("the exercises do not compile".to_owned());
        }
    }

    // One hole at a time: every other hole filled in, this one left as todo!().
    let files = chapter.exercise_files(&ws.root)?;
    let tied = ChapterHoles::read(&ws.root, chapter)?;
    let (mut listed, mut listed_failing) = (0, 0);
    let mut holes = 0;
    let _restore = Restore {
        files: files
            .iter()
            .map(|f| Ok((chapter.exercise_path(&ws.root, f), chapter.render_exercise(&ws.root, f)?)))
            .collect::<Result<_>>()?,
        root: &ws.root,
    };
    for (fi, file) in files.iter().enumerate() {
        let marked = chapter.marked(&ws.root, file)?;
        for (hi, hole) in marked.holes().iter().enumerate() {
            holes += 1;
            for (fj, other) in files.iter().enumerate() {
                let text = chapter.render_with_holes(&ws.root, other, |h| fj == fi && h == hi)?;
                fs::write(chapter.exercise_path(&ws.root, other), text)?;
            }
            let place = format!("{}:{}", file.source.display(), hole.open_line);
            match cargo_test_all(ws, chapter)? {
                (Outcome::Failed { .. }, log) => {
                    println!("  chapter {}: hole at {place} is covered", chapter.number);
                    for test in silent_failures(&log) {
                        problems.push(format!(
                            "with only the hole at {place} open, {test} fails without saying a hole is \
                             open: its message must show the todo!() it reached (bigbang_testkit::holes)"
                        ));
                    }
                    let (n, ok, found) = check_listed_tests(&tied, &file.source, hi, &failing_tests(&log));
                    listed += n;
                    listed_failing += ok;
                    problems.extend(found);
                }
                (Outcome::Passed { .. }, _) => {
                    problems.push(format!("hole at {place} is not covered: every test passes with it empty"))
                }
                (Outcome::CompileError, log) => {
                    eprintln!("{log}");
                    problems.push(format!("with only the hole at {place} open the chapter does not compile"));
                }
            }
        }
    }
    if holes == 0 {
        problems.push("the chapter has no holes".to_owned());
    }
    let verdict = if problems.is_empty() { "ok".to_owned() } else { problems.join("; ") };
    Ok(Row { chapter: chapter.number, holes, tests, listed, listed_failing, verdict })
}

pub fn run(ws: &Workspace, only: &[u32]) -> Result<()> {
    let chapters: Vec<Chapter> =
        ws.chapters()?.into_iter().filter(|c| only.is_empty() || only.contains(&c.number)).collect();
    // Only the chosen chapters' files are overwritten, so only they must be pristine.
    let ours = |path: &PathBuf| {
        chapters.iter().any(|c| path.starts_with(ws.root.join(c.exercise_dir())) || path.starts_with(&c.dir))
    };
    let stale: Vec<PathBuf> = exercises::stale(ws)?.into_iter().filter(ours).collect();
    if !stale.is_empty() {
        let list: Vec<String> = stale.iter().map(|p| rel(&ws.root, p)).collect();
        bail!(
            "verify overwrites exercises/ while it works, and these differ from the generated text: {}\n\
             run `cargo xtask exercises` first (save any work of your own elsewhere)",
            list.join(", ")
        );
    }
    let mut rows = Vec::new();
    for chapter in &chapters {
        println!("verifying chapter {} ({})", chapter.number, chapter.package());
        rows.push(verify_chapter(ws, chapter)?);
    }
    println!("\n{:<8} {:>5} {:>5} {:>7}  result", "chapter", "holes", "tests", "listed");
    for row in &rows {
        let listed = format!("{}/{}", row.listed_failing, row.listed);
        println!("{:<8} {:>5} {:>5} {:>7}  {}", row.chapter, row.holes, row.tests, listed, row.verdict);
    }
    let bad = rows.iter().filter(|r| r.verdict != "ok").count();
    if bad > 0 {
        bail!("{bad} chapter(s) failed verification");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use bigbang_workshop::chapter::Workspace;

    use super::{outcome, silent_failures, verify_chapter, Outcome};

    /// A workspace with one chapter of two holes whose tests notice only the first.
    fn half_covered_workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("Cargo.toml", "[workspace]\nmembers = [\"chapters/*\", \"crates/*\"]\nresolver = \"2\"\n"),
            ("crates/demo/Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
            ("crates/demo/src/lib.rs", "pub mod calc;\n"),
            (".cargo/config.toml", "[build]\ntarget-dir = \"target\"\n"),
            (
                "crates/demo/src/calc.rs",
                "pub fn add(a: u32, b: u32) -> u32 {\n    // exercise: Add them.\n    a + b\n    // end exercise\n}\n\n\
                 pub fn sub(a: u32, b: u32) -> u32 {\n    // exercise: Subtract b from a.\n    a - b\n    // end exercise\n}\n",
            ),
            (
                "chapters/01-calc/chapter.toml",
                "id = \"calc\"\ntitle = \"Calc\"\nbuilds = \"Sums.\"\nmodule = \"crates/demo/src/calc.rs\"\n\
                 [[holes]]\nid = \"add\"\nfile = \"crates/demo/src/calc.rs\"\nsection = \"p.md#a\"\n\
                 tests = [\"adds\", \"always\"]\n\
                 [[holes]]\nid = \"sub\"\nfile = \"crates/demo/src/calc.rs\"\nsection = \"p.md#a\"\n",
            ),
            (
                "chapters/01-calc/Cargo.toml",
                "[package]\nname = \"chapter-1\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[features]\nsolution = []\n\
                 [dependencies]\ndemo = { path = \"../../crates/demo\" }\n",
            ),
            (
                "chapters/01-calc/tests/calc.rs",
                "#[test]\nfn adds() {\n    assert_eq!(chapter_1::calc::add(2, 2), 4);\n}\n#[test]\nfn always() {}\n",
            ),
        ];
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        crate::exercises::write(&Workspace::at(dir.path())).unwrap();
        dir
    }

    /// A hole no test notices is reported by its place; the covered one is not, but a
    /// test its entry lists that passes with it open is.
    #[test]
    fn an_uncovered_hole_is_reported() {
        let dir = half_covered_workspace();
        let ws = Workspace::at(dir.path());
        let chapter = ws.chapter(1).unwrap();
        let row = verify_chapter(&ws, &chapter).unwrap();
        assert_eq!((row.holes, row.tests, row.listed, row.listed_failing), (2, 2, 2, 1));
        assert_eq!(
            row.verdict,
            "hole add: listed test always passes with only this hole open; \
             hole at crates/demo/src/calc.rs:8 is not covered: every test passes with it empty"
        );
        let generated = fs::read_to_string(dir.path().join("exercises/01-calc/calc.rs")).unwrap();
        assert_eq!(generated.matches("todo!(\"").count(), 2, "verify restores the generated exercise");
    }

    /// libtest summaries of several test binaries are added up.
    #[test]
    fn a_failure_that_hides_the_todo_is_named() {
        let log = "running 2 tests\n\nfailures:\n\n---- shows stdout ----\nthread 'shows' panicked at x.rs:1:1:\n\
                   not yet implemented: Add them.\n\n---- hides stdout ----\nthread 'hides' panicked at t.rs:9:5:\n\
                   orphans under the init: []\n\nfailures:\n    hides\n    shows\n";
        assert_eq!(silent_failures(log), ["hides"]);
    }

    #[test]
    fn sums_test_results() {
        let text = "test result: ok. 2 passed; 0 failed; 0 ignored\n\
                    test result: FAILED. 1 passed; 3 failed; 0 ignored\n";
        assert_eq!(outcome(false, text), Outcome::Failed { passed: 3, failed: 3 });
        assert_eq!(outcome(true, "test result: ok. 5 passed; 0 failed;"), Outcome::Passed { tests: 5 });
        assert_eq!(outcome(false, "error: could not compile `chapter-1`"), Outcome::CompileError);
    }

    /// Failed tests are read from libtest's `... FAILED` lines, with their paths.
    #[test]
    fn reads_failing_tests() {
        let text = "test a ... ok\ntest m::b ... FAILED\ntest c ... FAILED\ntest result: FAILED. 1 passed; 2 failed\n";
        assert_eq!(super::failing_tests(text).into_iter().collect::<Vec<_>>(), ["c", "m::b"]);
    }
}
