//! `cargo workshop reset` and `solution`: the learner's files against the starter
//! and the answer key.

use crate::fixture::Fixture;

const EDITED: &str = "// my own attempt\npub fn answer() -> u32 { 41 }\n";

/// `reset --yes` restores the starter and keeps the learner's copy under .workshop/backup/.
#[test]
fn reset_with_yes_restores_and_backs_up() {
    let fixture = Fixture::new();
    fixture.write("exercises/01-demo/answer.rs", EDITED);
    let out = fixture.cmd().args(["reset", "1", "--yes"]).assert().success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();

    assert_eq!(fixture.read("exercises/01-demo/answer.rs"), fixture.exercise(1));
    let backups: Vec<_> = std::fs::read_dir(fixture.root().join(".workshop/backup/demo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let name = backups[0].file_name().unwrap().to_string_lossy().into_owned();
    let stamp = name.strip_prefix("answer.rs.").expect("named <file>.<unix time>");
    assert!(stamp.parse::<u64>().is_ok(), "{name}");
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), EDITED);
    assert!(out.contains(&format!("your copy is kept in .workshop/backup/demo/{name}")), "{out}");
}

/// Without a terminal to ask on and without --yes, reset refuses and changes nothing.
#[test]
fn reset_without_a_terminal_refuses() {
    let fixture = Fixture::new();
    fixture.write("exercises/01-demo/answer.rs", EDITED);
    fixture
        .cmd()
        .args(["reset", "1"])
        .write_stdin("y\n")
        .assert()
        .failure()
        .stderr(predicates::str::contains("run `cargo workshop reset 1 --yes`"));
    assert_eq!(fixture.read("exercises/01-demo/answer.rs"), EDITED);
    assert!(!fixture.root().join(".workshop").exists());
}

/// A fresh file needs no reset and gets no backup.
#[test]
fn reset_of_a_fresh_file_does_nothing() {
    let fixture = Fixture::new();
    fixture.cmd().args(["reset", "1"]).assert().success().stdout(predicates::str::contains("already fresh"));
    assert!(!fixture.root().join(".workshop").exists());
}

/// The diff shows the learner's todo!() with `-` and the answer with `+`.
#[test]
fn solution_diff() {
    let fixture = Fixture::new();
    fixture.fill_first_hole();
    let out = fixture.cmd().args(["solution", "1"]).assert().success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("-    todo!(\"Multiply n by two.\");\n+    n * 2\n"), "{out}");
    insta::assert_snapshot!(out);
}

/// A finished file is the same as the answer key (their generated headers aside).
#[test]
fn solution_of_a_finished_file() {
    let fixture = Fixture::new();
    fixture.fill("exercises/02-more/more.rs", "Say hello.", "\"hello\"");
    fixture
        .cmd()
        .args(["solution", "2"])
        .assert()
        .success()
        .stdout(predicates::str::contains("exercises/02-more/more.rs is the same as the answer key."));
}
