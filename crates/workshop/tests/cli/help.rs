//! `--help` of `cargo workshop` and each of its commands, as a learner reads it.

use crate::fixture::Fixture;

fn help(args: &[&str]) -> String {
    let fixture = Fixture::new();
    let output = fixture.cmd().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(output).unwrap()
}

/// The top-level help lists every command with one line each.
#[test]
fn top_level() {
    insta::assert_snapshot!("top_level", help(&["--help"]));
}

/// Installed as `cargo-workshop`, cargo passes `workshop` first; it is skipped.
#[test]
fn leading_workshop_is_skipped() {
    assert_eq!(help(&["workshop", "--help"]), help(&["--help"]));
}

/// Each command's help reads well.
#[test]
fn each_command() {
    for command in ["status", "check", "hint", "solution", "reset", "book", "watch", "doctor"] {
        insta::assert_snapshot!(format!("command_{command}"), help(&[command, "--help"]));
    }
}
