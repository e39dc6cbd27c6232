//! A learner's first chapter, end to end, in a copy of the workspace: the
//! untouched exercise fails with its hints, the answer key passes, and
//! `cargo workshop check 1` then records chapter 1 as done.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bigbang_workshop::chapter::Workspace;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies what a clone holds (not target/, the built book, progress or .git).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [".git", "target", ".workshop"].iter().any(|n| name == *n)
            || (name == "book" && from.ends_with("book"))
        {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_file() {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `cargo …` in the copy, with its own target directory kept between runs.
fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", root().join("target/learner-flow"))
        .env("BIGBANG_WORKSHOP_PROGRESS", dir.join("progress.json"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

/// The already built `cargo-workshop` next to this test, or `cargo workshop` as a learner types it.
fn workshop(dir: &Path, args: &[&str]) -> Output {
    let built =
        std::env::current_exe().unwrap().parent().and_then(Path::parent).map(|d| d.join("cargo-workshop"));
    match built.filter(|p| p.is_file()) {
        Some(bin) => Command::new(bin)
            .current_dir(dir)
            .args(args)
            .env("CARGO_TARGET_DIR", root().join("target/learner-flow"))
            .env("BIGBANG_WORKSHOP_PROGRESS", dir.join("progress.json"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap(),
        None => cargo(dir, &[&["workshop"], args].concat()),
    }
}

/// Chapter 1 goes from failing with its hints to passing and recorded as done.
#[test]
fn chapter_one_from_exercise_to_done() {
    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join("bigbang");
    copy_tree(&root(), &dir);
    let ws = Workspace::at(&dir);
    let chapter = ws.chapter(1).unwrap();

    let before = cargo(&dir, &["test", "-p", "chapter-1"]);
    let log = text(&before);
    assert!(!before.status.success(), "chapter 1 passes on the untouched exercise:\n{log}");
    let files = chapter.exercise_files(&dir).unwrap();
    let hints: Vec<String> = files
        .iter()
        .flat_map(|f| chapter.marked(&dir, f).unwrap().holes().to_vec())
        .map(|h| h.hint)
        .collect();
    let shown = hints.iter().filter(|h| log.contains(&format!("not yet implemented: {h}"))).count();
    assert!(shown >= 2, "the failing tests should show the holes' hints; log:\n{log}");

    for file in &files {
        fs::write(chapter.exercise_path(&dir, file), chapter.render_answer(&dir, file).unwrap()).unwrap();
    }
    let after = cargo(&dir, &["test", "-p", "chapter-1"]);
    assert!(after.status.success(), "chapter 1 fails with the answer key written in:\n{}", text(&after));

    let check = workshop(&dir, &["check", "1"]);
    assert!(check.status.success(), "cargo workshop check 1:\n{}", text(&check));
    let progress = fs::read_to_string(dir.join("progress.json")).expect("check writes the progress file");
    assert!(progress.contains("\"big-bang\""), "progress is keyed by the chapter id: {progress}");

    let status = workshop(&dir, &["status"]);
    let table = text(&status);
    let holes = hints.len();
    assert!(table.contains(&format!("{holes}/{holes}")), "status shows every hole done:\n{table}");
}
