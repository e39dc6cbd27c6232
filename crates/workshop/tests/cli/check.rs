//! `cargo workshop check` on a real (tiny) Cargo workspace: failing on todo!(),
//! passing once the learner's file is right, and a compile error pointed at its file.

use crate::fixture::Fixture;

fn progress_tests(fixture: &Fixture, id: &str) -> serde_json::Value {
    let progress: serde_json::Value = serde_json::from_str(&fixture.progress()).unwrap();
    progress["chapters"][id]["tests"].clone()
}

/// Fails with the todo!() hint, passes when fixed, points at the learner's file on a
/// compile error; each result is recorded under the chapter's id.
#[test]
fn check_fails_then_passes() {
    let fixture = Fixture::new();

    // Fresh exercise: two of three tests hit a todo!().
    let out = fixture.cmd().args(["check", "1"]).assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("✗ chapter 1: 2 of 3 tests failed"), "{out}");
    assert!(out.contains("not yet implemented: Return the answer to everything."), "{out}");
    assert!(out.contains("not yet implemented: Multiply n by two."), "{out}");
    assert!(out.contains("at exercises/01-demo/answer.rs:"), "{out}");
    // The hole the first failing test points at, in the book's order, by its function.
    assert!(
        out.contains(
            "The first failing test, answers_42, points at `answer` in exercises/01-demo/answer.rs; \
             the book teaches it at http://127.0.0.1:3000/containers.html#containers"
        ),
        "{out}"
    );
    assert!(out.contains("Next: chapter 1, hole 1 of 2: fill `answer`"), "{out}");
    let tests = progress_tests(&fixture, "demo");
    assert_eq!(
        (tests["outcome"].as_str(), tests["passed"].as_u64(), tests["failed"].as_u64()),
        (Some("failed"), Some(1), Some(2))
    );

    // The learner's file does not compile: the error and the file to fix, no cargo noise.
    fixture.write(
        "exercises/01-demo/answer.rs",
        "pub fn answer() -> u32 { \"forty-two\" }\npub fn double(n: u32) -> u32 { n * 2 }\n",
    );
    let out = fixture.cmd().args(["check", "1"]).assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("✗ chapter 1 does not compile: fix exercises/01-demo/answer.rs"), "{out}");
    assert!(out.contains("mismatched types"), "{out}");
    assert!(!out.contains("Compiling"), "{out}");
    assert_eq!(progress_tests(&fixture, "demo")["outcome"], "did-not-compile");

    // The answer: every test passes, and the next step moves on to chapter 2.
    fixture.write("exercises/01-demo/answer.rs", &fixture.solution(1));
    let out = fixture.cmd().arg("check").assert().success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("✓ chapter 1: all 3 tests passed"), "{out}");
    assert!(out.contains("Next: chapter 2, hole 1 of 1: fill `greet` in exercises/02-more/more.rs"), "{out}");
    let tests = progress_tests(&fixture, "demo");
    assert_eq!(
        (tests["outcome"].as_str(), tests["passed"].as_u64(), tests["failed"].as_u64()),
        (Some("passed"), Some(3), Some(0))
    );

    let status = fixture.cmd().arg("status").assert().success().get_output().stdout.clone();
    assert!(String::from_utf8(status).unwrap().contains("2/2  passed 3/3"));

    // -v passes cargo's own output through.
    let verbose = fixture.cmd().args(["-v", "check", "1"]).assert().success().get_output().clone();
    assert!(String::from_utf8(verbose.stderr).unwrap().contains("Running"));
    assert!(String::from_utf8(verbose.stdout).unwrap().contains("test answers_42 ... ok"));
}

/// A chapter is named by its number or its folder; anything else is answered in words.
#[test]
fn a_chapter_that_is_not_a_number_is_explained() {
    let fixture = Fixture::new();
    fixture
        .cmd()
        .args(["check", "foo"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("\"foo\" is not a chapter: give its number"));
    fixture.cmd().args(["hint", "01-demo"]).assert().success();
}
