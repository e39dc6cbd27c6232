//! `cargo workshop status` and `hint`: the progress table, the next step, and the
//! progress file they read and write.

use crate::fixture::Fixture;

fn stdout(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

/// With nothing done and nothing recorded, every hole is open and no test ran.
#[test]
fn status_of_a_fresh_workspace() {
    let fixture = Fixture::new();
    insta::assert_snapshot!(stdout(fixture.cmd().arg("status")));
    assert!(!fixture.root().join("target").exists(), "status builds nothing");
}

/// A recorded progress file shows in the tests column; chapter 1 done moves the marker on.
#[test]
fn status_from_a_progress_file() {
    let fixture = Fixture::new();
    fixture.write(
        "progress.json",
        r#"{
  "version": 1,
  "chapters": {
    "demo": { "hints_shown": 1, "tests": { "outcome": "passed", "passed": 3, "failed": 0, "at": 1 } },
    "more": { "hints_shown": 0, "tests": { "outcome": "failed", "passed": 0, "failed": 1, "at": 2 } }
  }
}"#,
    );
    fixture.write("exercises/01-demo/answer.rs", &fixture.solution(1));
    insta::assert_snapshot!(stdout(fixture.cmd().arg("status")));
}

/// Holes are counted in the learner's file; the next step names the first open hole in
/// the book's order by its function, and links its book section.
#[test]
fn status_counts_filled_holes() {
    let fixture = Fixture::new();
    fixture.fill_first_hole();
    let out = stdout(fixture.cmd().arg("status"));
    assert!(out.contains("A demo chapter    1/2  not run"), "{out}");
    assert!(
        out.contains(
            "Next: chapter 1, hole 2 of 2: fill `double` in exercises/01-demo/answer.rs \
             (the book: http://127.0.0.1:3000/containers.html#doubling) — then `cargo workshop check 1`"
        ),
        "{out}"
    );
}

/// Status keys progress by chapter id: renaming a chapter's folder keeps its record.
#[test]
fn progress_survives_a_renamed_folder() {
    let fixture = Fixture::new();
    fixture.write(
        "progress.json",
        r#"{"version":1,"chapters":{"more":{"tests":{"outcome":"failed","passed":0,"failed":1,"at":2}}}}"#,
    );
    std::fs::rename(fixture.root().join("chapters/02-more"), fixture.root().join("chapters/03-more"))
        .unwrap();
    std::fs::rename(fixture.root().join("exercises/02-more"), fixture.root().join("exercises/03-more"))
        .unwrap();
    let out = stdout(fixture.cmd().arg("status"));
    assert!(out.contains("3  More              0/1  failed 1/1"), "{out}");
}

/// Hints escalate one level per call for the hole the first failing test points at,
/// say when the last one was shown, and are recorded per hole.
#[test]
fn hints_escalate() {
    let fixture = Fixture::new();
    let first = stdout(fixture.cmd().args(["hint", "1"]));
    let second = stdout(fixture.cmd().args(["hint", "1"]));
    let third = stdout(fixture.cmd().args(["hint", "1"]));
    let none_left = stdout(fixture.cmd().args(["hint", "1"]));
    insta::assert_snapshot!("hint_first", first);
    assert!(second.contains("Hint 2 of 3:\n  It is a number between 41 and 43."), "{second}");
    insta::assert_snapshot!("hint_last", third);
    insta::assert_snapshot!("hint_none_left", none_left);
    let progress: serde_json::Value = serde_json::from_str(&fixture.progress()).unwrap();
    assert_eq!(progress["version"], 2);
    assert_eq!(progress["chapters"]["demo"]["hints_shown"], serde_json::json!({ "answer": 3 }));
    let mut failures: Vec<(String, String)> = progress["chapters"]["demo"]["tests"]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["test"].as_str().unwrap().to_owned(), f["hole"].as_str().unwrap().to_owned()))
        .collect();
    failures.sort();
    assert_eq!(failures, [("answers_42".into(), "answer".into()), ("doubles".into(), "double".into())]);
}

/// The first run records the tests; the next hint reads that record instead of running
/// them again, until a file of the chapter is saved.
#[test]
fn hint_reads_the_last_run_while_it_is_fresh() {
    let fixture = Fixture::new();
    let first = stdout(fixture.cmd().args(["hint", "1"]));
    assert!(first.starts_with("Running chapter 1's tests"), "{first}");
    let second = stdout(fixture.cmd().args(["hint", "1"]));
    assert!(second.starts_with("Chapter 1, hole 1 of 2: `answer`"), "{second}");
    // The learner fills the first hole: the record is stale, and the next failing test
    // points at the second hole.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fixture.fill_first_hole();
    let third = stdout(fixture.cmd().args(["hint", "1"]));
    assert!(third.starts_with("Running chapter 1's tests"), "{third}");
    assert!(third.contains("Chapter 1, hole 2 of 2: `double` in exercises/01-demo/answer.rs"), "{third}");
    assert!(third.contains("The first failing test, doubles, points at it."), "{third}");
    assert!(third.contains("The book: http://127.0.0.1:3000/containers.html#doubling"), "{third}");
    assert!(third.contains("Hint 1 of 3:\n  Twice a number"), "{third}");
}

/// A hole filled with a wrong answer has no todo!() message: the tests lists point at it.
#[test]
fn a_wrong_answer_is_pointed_at_by_its_tests() {
    let fixture = Fixture::new();
    fixture.fill_first_hole();
    fixture.fill("exercises/01-demo/answer.rs", "Multiply n by two.", "n * 3");
    let out = stdout(fixture.cmd().args(["hint", "1"]));
    assert!(out.contains("hole 2 of 2: `double`"), "{out}");
    assert!(out.contains("The first failing test, doubles, points at it."), "{out}");
}

/// With every hole filled and a test failing, the next step names the hole that test
/// points at, from the recorded check.
#[test]
fn status_names_a_filled_hole_whose_test_fails() {
    let fixture = Fixture::new();
    fixture.fill_first_hole();
    fixture.fill("exercises/01-demo/answer.rs", "Multiply n by two.", "n * 3");
    fixture.cmd().args(["check", "1"]).assert().code(1);
    let out = stdout(fixture.cmd().arg("status"));
    assert!(
        out.contains("Next: chapter 1, hole 2 of 2: tests fail at `double` in exercises/01-demo/answer.rs"),
        "{out}"
    );
}

/// When every test passes there is no hint to give, and the tool says so.
#[test]
fn no_hint_when_every_test_passes() {
    let fixture = Fixture::new();
    fixture.write("exercises/01-demo/answer.rs", &fixture.solution(1));
    let out = stdout(fixture.cmd().args(["hint", "1"]));
    assert!(out.contains("Every test of chapter 1 passes: no hint needed."), "{out}");
}

/// `hint --all` shows every level of the hole and counts them all as shown.
#[test]
fn all_hints_at_once() {
    let fixture = Fixture::new();
    let out = stdout(fixture.cmd().args(["hint", "1", "--all"]));
    assert!(
        out.contains("Hint 1 of 3") && out.contains("Hint 2 of 3") && out.contains("Hint 3 of 3"),
        "{out}"
    );
    let progress: serde_json::Value = serde_json::from_str(&fixture.progress()).unwrap();
    assert_eq!(progress["chapters"]["demo"]["hints_shown"]["answer"], 3);
}

/// `hint` without a chapter gives the current chapter's hint.
#[test]
fn hint_defaults_to_the_current_chapter() {
    let fixture = Fixture::new();
    let out = stdout(fixture.cmd().arg("hint"));
    assert!(out.contains("Chapter 1, hole 1 of 2: `answer`"), "{out}");
}

/// `reset` clears the hints shown, also when the files are already fresh.
#[test]
fn reset_clears_the_hints_shown() {
    let fixture = Fixture::new();
    stdout(fixture.cmd().args(["hint", "1"]));
    let out = stdout(fixture.cmd().args(["reset", "1", "--yes"]));
    assert!(out.contains("already fresh; the hints shown are cleared"), "{out}");
    let progress: serde_json::Value = serde_json::from_str(&fixture.progress()).unwrap();
    assert!(progress["chapters"]["demo"].get("hints_shown").is_none(), "{progress}");
    let again = stdout(fixture.cmd().args(["hint", "1"]));
    assert!(again.contains("Hint 1 of 3:"), "{again}");
}

/// An unknown chapter is an error that lists the chapters there are.
#[test]
fn unknown_chapter() {
    let fixture = Fixture::new();
    fixture
        .cmd()
        .args(["hint", "9"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no chapter 9; chapters here are 1, 2"));
}
