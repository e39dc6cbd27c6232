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

/// Holes are counted in the learner's file: one filled of two, the next is hole 2.
#[test]
fn status_counts_filled_holes() {
    let fixture = Fixture::new();
    fixture.fill_first_hole();
    let out = stdout(fixture.cmd().arg("status"));
    assert!(out.contains("A demo chapter    1/2  not run"), "{out}");
    assert!(
        out.contains(
            "Next: chapter 1, hole 2 of 2 in exercises/01-demo/answer.rs — run `cargo workshop check 1`"
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

/// Hints escalate one per call, say when the last one was shown, and are recorded.
#[test]
fn hints_escalate() {
    let fixture = Fixture::new();
    let first = stdout(fixture.cmd().args(["hint", "1"]));
    let second = stdout(fixture.cmd().args(["hint", "1"]));
    let none_left = stdout(fixture.cmd().args(["hint", "1"]));
    insta::assert_snapshot!("hint_first", first);
    insta::assert_snapshot!("hint_last", second);
    insta::assert_snapshot!("hint_none_left", none_left);
    insta::assert_snapshot!("progress_after_hints", fixture.progress());
}

/// `hint --all` shows every hint and counts them all as shown.
#[test]
fn all_hints_at_once() {
    let fixture = Fixture::new();
    let out = stdout(fixture.cmd().args(["hint", "1", "--all"]));
    assert!(out.contains("Hint 1 of 2") && out.contains("Hint 2 of 2"), "{out}");
    let progress: serde_json::Value = serde_json::from_str(&fixture.progress()).unwrap();
    assert_eq!(progress["chapters"]["demo"]["hints_shown"], 2);
}

/// `hint` without a chapter gives the current chapter's hint.
#[test]
fn hint_defaults_to_the_current_chapter() {
    let fixture = Fixture::new();
    let out = stdout(fixture.cmd().arg("hint"));
    assert!(out.starts_with("Hint 1 of 2 for chapter 1:"), "{out}");
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
