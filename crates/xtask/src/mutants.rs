//! `cargo xtask mutants [N…]`: mutation testing of the holes. cargo-mutants changes the
//! product's code one small edit at a time (a return value replaced, an operator
//! swapped, a match arm deleted) and runs the chapter's tests with `--features solution`
//! on each; a mutant no test notices is a plausible wrong answer a learner could hand in.
//!
//! Only the lines inside the holes are mutated: they are passed to `cargo mutants
//! --in-diff` as a diff that adds them. Missed mutants must be killed by a test or listed
//! in chapter.toml as `[[equivalent]]`, with the reason. Slow (one build and test run per
//! mutant), so not a CI step.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::{Chapter, Workspace};
use bigbang_workshop::exercise::MarkedFile;

use crate::mistakes::enclosing_fn;

/// One hole's place: its file, the lines between its markers, and its function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoleLines {
    pub file: PathBuf,
    /// First and last line of the code between the markers (1-based, inclusive).
    pub first: usize,
    pub last: usize,
    pub function: String,
}

/// The holes of `text` (the product file `file`).
pub fn holes_of(file: &Path, text: &str) -> Result<Vec<HoleLines>> {
    let marked = MarkedFile::parse(text).with_context(|| format!("markers in {}", file.display()))?;
    Ok(marked
        .holes()
        .iter()
        .map(|h| HoleLines {
            file: file.to_owned(),
            first: h.open_line + 1,
            last: h.close_line - 1,
            function: enclosing_fn(text, h.open_line).unwrap_or_else(|| "?".into()),
        })
        .collect())
}

/// A unified diff that adds the holes' lines of `text` to a file without them: what
/// `cargo mutants --in-diff` reads to mutate those lines and no others.
pub fn diff_adding(file: &Path, text: &str, holes: &[HoleLines]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let name = file.display();
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    let mut added = 0;
    for hole in holes {
        let count = hole.last + 1 - hole.first;
        // Old side: inserted after line first-1 of the file without the earlier holes.
        let _ = writeln!(out, "@@ -{},0 +{},{count} @@", hole.first - 1 - added, hole.first);
        for line in &lines[hole.first - 1..hole.last] {
            let _ = writeln!(out, "+{line}");
        }
        added += count;
    }
    out
}

/// What cargo-mutants said of the mutants of one hole.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub caught: usize,
    pub missed: Vec<String>,
    pub equivalent: usize,
    pub unviable: usize,
    pub timeouts: usize,
}

/// The file:line a cargo-mutants name starts with (`crates/x.rs:12:5: replace …`).
fn place(name: &str) -> Option<(PathBuf, usize)> {
    let mut parts = name.splitn(3, ':');
    let file = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    Some((PathBuf::from(file), line))
}

/// Sorts the mutants listed in cargo-mutants' `caught.txt`, `missed.txt`, `unviable.txt`
/// and `timeout.txt` (given as `(kind, text)`) into the holes they lie in.
pub fn tally(holes: &[HoleLines], lists: &[(&str, String)], equivalent: &[String]) -> BTreeMap<usize, Tally> {
    let mut by_hole: BTreeMap<usize, Tally> = (0..holes.len()).map(|i| (i, Tally::default())).collect();
    for (kind, text) in lists {
        for name in text.lines().filter(|l| !l.trim().is_empty()) {
            let Some((file, line)) = place(name) else { continue };
            // In a hole's lines; or a mutant of the whole function (its body replaced),
            // which starts above them: it counts for the function's first hole.
            let inside = holes.iter().position(|h| h.file == file && (h.first..=h.last).contains(&line));
            let whole = || {
                holes.iter().position(|h| {
                    h.file == file
                        && (name.contains(&format!(" {} ->", h.function))
                            || name.contains(&format!("::{} ->", h.function)))
                })
            };
            let Some(index) = inside.or_else(whole) else { continue };
            let t = by_hole.get_mut(&index).expect("every hole has a tally");
            match *kind {
                "caught" => t.caught += 1,
                "missed" if equivalent.iter().any(|e| e == name) => t.equivalent += 1,
                "missed" => t.missed.push(name.to_owned()),
                "unviable" => t.unviable += 1,
                _ => t.timeouts += 1,
            }
        }
    }
    by_hole
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn check_installed() -> Result<()> {
    let ok = Command::new(cargo()).args(["mutants", "--version"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        bail!("cargo-mutants is not installed; install it with: cargo install --locked cargo-mutants");
    }
    Ok(())
}

/// Runs cargo-mutants on the holes of one chapter; returns the missed mutants that are
/// not listed as equivalent.
fn mutate_chapter(ws: &Workspace, chapter: &Chapter, list: bool) -> Result<usize> {
    let out_dir = ws.root.join("target/xtask-mutants").join(&chapter.dir_name);
    fs::create_dir_all(&out_dir)?;
    let mut holes = Vec::new();
    let mut diff = String::new();
    for file in chapter.exercise_files(&ws.root)? {
        let text = fs::read_to_string(ws.root.join(&file.source))?;
        let these = holes_of(&file.source, &text)?;
        diff.push_str(&diff_adding(&file.source, &text, &these));
        holes.extend(these);
    }
    let diff_file = out_dir.join("holes.diff");
    fs::write(&diff_file, &diff)?;
    let mut cmd = Command::new(cargo());
    // One target directory for every run, so that only the workspace's own crates are
    // built again each time, not every dependency.
    cmd.current_dir(&ws.root)
        .env("CARGO_TARGET_DIR", ws.root.join("target/xtask-mutants/target"))
        .args(["mutants", "--no-shuffle", "--in-diff"])
        .arg(&diff_file)
        .args(["--workspace", "--test-package", &chapter.package()])
        // The unmutated baseline would build the mutated package, bigbang-container,
        // which has no `solution` feature; verify already proves the product passes.
        .args(["--baseline", "skip", "--timeout", "300"])
        .args(["--features", "solution", "--output"])
        .arg(&out_dir);
    if list {
        let status = cmd.arg("--list").status().context("running cargo mutants --list")?;
        anyhow::ensure!(status.success(), "cargo mutants --list failed for chapter {}", chapter.number);
        return Ok(0);
    }
    let status = cmd.status().context("running cargo mutants")?;
    // cargo-mutants exits 2 when mutants were missed, 3 on timeouts: both are results.
    if !matches!(status.code(), Some(0 | 2 | 3)) {
        bail!("cargo mutants failed for chapter {} ({status})", chapter.number);
    }
    let lists: Vec<(&str, String)> = ["caught", "missed", "unviable", "timeout"]
        .into_iter()
        .map(|kind| {
            (kind, fs::read_to_string(out_dir.join(format!("mutants.out/{kind}.txt"))).unwrap_or_default())
        })
        .collect();
    let equivalent: Vec<String> = chapter.meta.equivalent.iter().map(|e| e.mutant.clone()).collect();
    let tallies = tally(&holes, &lists, &equivalent);
    println!("\nchapter {}: cargo xtask mutants {}", chapter.number, chapter.number);
    println!(
        "{:<28} {:>7} {:>6} {:>6} {:>10} {:>8} {:>8}",
        "hole", "mutants", "caught", "missed", "equivalent", "unviable", "timeouts"
    );
    let mut missed = 0;
    for (index, t) in &tallies {
        let hole = &holes[*index];
        let total = t.caught + t.missed.len() + t.equivalent + t.unviable + t.timeouts;
        println!(
            "{:<28} {total:>7} {:>6} {:>6} {:>10} {:>8} {:>8}",
            format!("{}:{}", hole.function, hole.first - 1),
            t.caught,
            t.missed.len(),
            t.equivalent,
            t.unviable,
            t.timeouts
        );
        missed += t.missed.len();
    }
    for t in tallies.values() {
        for name in &t.missed {
            println!("  missed: {name}");
        }
    }
    Ok(missed)
}

pub fn run(ws: &Workspace, only: &[u32], list: bool) -> Result<()> {
    check_installed()?;
    let mut missed = 0;
    for chapter in ws.chapters()?.into_iter().filter(|c| only.is_empty() || only.contains(&c.number)) {
        if chapter.exercise_files(&ws.root)?.is_empty() {
            continue;
        }
        missed += mutate_chapter(ws, &chapter, list)?;
    }
    if missed > 0 {
        bail!(
            "{missed} mutant(s) missed: kill each with a test, or list it as [[equivalent]] with the reason"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{diff_adding, holes_of, tally};

    const FILE: &str = "\
fn a() -> u8 {
    // exercise: One.
    1
    // end exercise
}
fn b() -> u8 {
    // exercise: Two.
    let x = 2;
    x
    // end exercise
}
";

    /// The diff adds exactly the lines between the markers, with hunk positions
    /// that count the earlier holes as absent on the old side.
    #[test]
    fn the_diff_adds_the_hole_lines() {
        let holes = holes_of(Path::new("src/f.rs"), FILE).unwrap();
        assert_eq!((holes[1].first, holes[1].last, holes[1].function.as_str()), (8, 9, "b"));
        assert_eq!(
            diff_adding(Path::new("src/f.rs"), FILE, &holes),
            "--- a/src/f.rs\n+++ b/src/f.rs\n@@ -2,0 +3,1 @@\n+    1\n@@ -6,0 +8,2 @@\n+    let x = 2;\n+    x\n"
        );
    }

    /// Mutants are counted against the hole whose lines hold them; listed equivalents
    /// are not missed.
    #[test]
    fn mutants_are_sorted_into_holes() {
        let holes = holes_of(&PathBuf::from("src/f.rs"), FILE).unwrap();
        let lists = vec![
            (
                "caught",
                "src/f.rs:3:5: replace a -> u8 with 0\nsrc/f.rs:6:5: replace b -> u8 with 0\n".to_owned(),
            ),
            ("missed", "src/f.rs:9:5: replace b -> u8 with 1\nsrc/f.rs:8:5: other\n".to_owned()),
            ("unviable", "src/g.rs:3:1: elsewhere\n".to_owned()),
        ];
        let t = tally(&holes, &lists, &["src/f.rs:8:5: other".to_owned()]);
        assert_eq!((t[&0].caught, t[&1].caught), (1, 1), "a whole-function mutant counts for its hole");
        assert_eq!(t[&1].missed, vec!["src/f.rs:9:5: replace b -> u8 with 1".to_owned()]);
        assert_eq!((t[&1].equivalent, t[&1].unviable), (1, 0));
    }
}
