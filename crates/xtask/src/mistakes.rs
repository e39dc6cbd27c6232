//! The learners' common mistakes of a chapter (`[[mistakes]]` in chapter.toml), each
//! proven to fail a test. A mistake is a patch to a hole of the product: `find`, which
//! must occur once in `file` and lie inside the hole of function `hole`, becomes
//! `replace`; with it, `cargo test -p chapter-N --features solution` must fail the test
//! named by `caught_by`.
//!
//! The patch is applied to a scratch copy of the workspace (`target/xtask-mistakes/`),
//! never to the product itself, so neither a panic nor Ctrl-C can leave `crates/`
//! modified. The copy keeps its own build artefacts in the workspace's `target/`, so
//! only the first run compiles the workspace's crates a second time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use bigbang_workshop::chapter::{Chapter, Mistake, Workspace};
use bigbang_workshop::exercise::MarkedFile;

use crate::verify::run_bounded;

/// The workspace's folders that the scratch copy leaves out.
const NOT_COPIED: &[&str] = &["target", ".git"];

/// Where the scratch copy lives.
fn scratch(ws: &Workspace) -> PathBuf {
    ws.root.join("target/xtask-mistakes/tree")
}

/// The name of the function whose body holds line `line` (1-based) of `text`: the
/// nearest `fn NAME` at or above it.
pub fn enclosing_fn(text: &str, line: usize) -> Option<String> {
    text.lines().take(line).collect::<Vec<_>>().iter().rev().find_map(|l| {
        let code = l.split("//").next().unwrap_or("");
        let at = code.find("fn ").filter(|&i| i == 0 || !code.as_bytes()[i - 1].is_ascii_alphanumeric())?;
        let name: String =
            code[at + 3..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        (!name.is_empty()).then_some(name)
    })
}

/// What is wrong with a mistake's patch before anything runs: a `find` that is not
/// there, not unique, not inside the named hole, or a patch that changes nothing.
pub fn check_patch(text: &str, mistake: &Mistake) -> Option<String> {
    let file = mistake.file.display();
    if mistake.find == mistake.replace {
        return Some(format!("mistake {:?} in {file}: replace is the same as find", mistake.what));
    }
    let count = text.matches(&mistake.find).count();
    if count != 1 {
        return Some(format!(
            "mistake {:?}: find occurs {count} times in {file}; it must occur exactly once",
            mistake.what
        ));
    }
    let start = text.find(&mistake.find).expect("counted once");
    let first = text[..start].lines().count().max(1) + usize::from(text[..start].ends_with('\n'));
    let last = first + mistake.find.matches('\n').count();
    let marked = match MarkedFile::parse(text) {
        Ok(marked) => marked,
        Err(err) => return Some(format!("{file}: {err}")),
    };
    let inside = marked.holes().iter().any(|hole| {
        hole.open_line < first
            && last < hole.close_line
            && enclosing_fn(text, hole.open_line).as_deref() == Some(mistake.hole.as_str())
    });
    (!inside).then(|| {
        format!(
            "mistake {:?}: find (lines {first}-{last} of {file}) is not inside a hole of fn {}",
            mistake.what, mistake.hole
        )
    })
}

/// Makes `to` a copy of `from` (files and folders, less [`NOT_COPIED`] at the top),
/// writing only the files whose contents differ, so that Cargo's fingerprints of the
/// untouched files survive from one run to the next.
fn sync(from: &Path, to: &Path, top: bool) -> Result<()> {
    fs::create_dir_all(to)?;
    let mut names = Vec::new();
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top && NOT_COPIED.iter().any(|n| name == *n) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            sync(&src, &dst, false)?;
        } else if entry.file_type()?.is_file() {
            let bytes = fs::read(&src)?;
            if fs::read(&dst).ok().as_deref() != Some(bytes.as_slice()) {
                fs::write(&dst, &bytes).with_context(|| format!("copying to {}", dst.display()))?;
            }
        }
        names.push(name);
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        if !names.contains(&entry.file_name()) {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// How the caught_by test fared in a `cargo test` log.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Failed,
    Passed,
    NotRun,
    CompileError,
}

/// Reads libtest's `test <path> ... ok|FAILED` lines for the test named `name` (at the
/// top of a test file, or `module::name`).
pub fn verdict(log: &str, name: &str) -> Verdict {
    if log.contains("could not compile") {
        return Verdict::CompileError;
    }
    let mut seen = Verdict::NotRun;
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("test ") else { continue };
        let Some((path, result)) = rest.split_once(" ... ") else { continue };
        if path == name || path.ends_with(&format!("::{name}")) {
            if result.starts_with("FAILED") {
                return Verdict::Failed;
            }
            if result.starts_with("ok") {
                seen = Verdict::Passed;
            }
        }
    }
    seen
}

/// Checks every `[[mistakes]]` entry of `chapter`; returns the problems found, one line
/// each (nothing when every mistake fails its test).
pub fn check(ws: &Workspace, chapter: &Chapter) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    if chapter.meta.mistakes.is_empty() {
        return Ok(problems);
    }
    let tree = scratch(ws);
    for mistake in &chapter.meta.mistakes {
        let product = ws.root.join(&mistake.file);
        let text = fs::read_to_string(&product).with_context(|| format!("reading {}", product.display()))?;
        if let Some(problem) = check_patch(&text, mistake) {
            problems.push(problem);
            continue;
        }
        sync(&ws.root, &tree, true).context("copying the workspace for the mistakes")?;
        fs::write(tree.join(&mistake.file), text.replacen(&mistake.find, &mistake.replace, 1))?;
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&tree)
            .env("CARGO_TARGET_DIR", ws.root.join("target"))
            .args(["test", "--package", &chapter.package(), "--features", "solution", "--no-fail-fast"])
            .args(["--", &mistake.caught_by]);
        let (_, log) = run_bounded(cmd)?;
        let said = match verdict(&log, &mistake.caught_by) {
            Verdict::Failed => {
                println!(
                    "  chapter {}: mistake caught by {}: {}",
                    chapter.number, mistake.caught_by, mistake.what
                );
                continue;
            }
            Verdict::Passed => "passes with it",
            Verdict::NotRun => "did not run (no such test in the chapter?)",
            Verdict::CompileError => "could not run: the patched product does not compile",
        };
        problems.push(format!("mistake {:?} ({}): {} {said}", mistake.what, mistake.hole, mistake.caught_by));
    }
    // Leave the copy as the product is, so nothing patched lingers even in target/.
    sync(&ws.root, &tree, true)?;
    Ok(problems)
}

/// `cargo xtask mistakes [N…]`: only the mistakes, without the rest of verify.
pub fn run(ws: &Workspace, only: &[u32]) -> Result<()> {
    let mut bad = 0;
    for chapter in ws.chapters()?.into_iter().filter(|c| only.is_empty() || only.contains(&c.number)) {
        let problems = check(ws, &chapter)?;
        println!(
            "chapter {}: {} mistakes, {} not caught",
            chapter.number,
            chapter.meta.mistakes.len(),
            problems.len()
        );
        for problem in &problems {
            println!("  {problem}");
        }
        bad += problems.len();
    }
    anyhow::ensure!(bad == 0, "{bad} mistake(s) not caught by their test");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use bigbang_workshop::chapter::Mistake;

    use super::{check_patch, enclosing_fn, verdict, Verdict};

    const FILE: &str = "\
pub fn add(a: u32, b: u32) -> u32 {
    // exercise: Add them.
    a + b
    // end exercise
}

pub fn sub(a: u32, b: u32) -> u32 {
    a - b
}
";

    fn mistake(hole: &str, find: &str, replace: &str) -> Mistake {
        Mistake {
            hole: hole.into(),
            what: "w".into(),
            file: PathBuf::from("f.rs"),
            find: find.into(),
            replace: replace.into(),
            caught_by: "t".into(),
        }
    }

    /// A patch inside the named hole passes; one outside it, or not unique, or in
    /// another function's hole, is refused.
    #[test]
    fn a_patch_must_lie_inside_its_hole() {
        assert_eq!(enclosing_fn(FILE, 2).as_deref(), Some("add"));
        assert_eq!(check_patch(FILE, &mistake("add", "a + b", "a - b")), None);
        assert!(check_patch(FILE, &mistake("add", "a - b", "a + b")).unwrap().contains("not inside"));
        assert!(check_patch(FILE, &mistake("sub", "a + b", "a - b")).unwrap().contains("not inside"));
        assert!(check_patch(FILE, &mistake("add", "a", "b")).unwrap().contains("times"));
        assert!(check_patch(FILE, &mistake("add", "a + b", "a + b")).unwrap().contains("same"));
    }

    /// The caught_by test is found in libtest's output, at the top or in a module.
    #[test]
    fn reads_the_test_verdict() {
        let log = "test m::kills ... FAILED\ntest other ... ok\n";
        assert_eq!(verdict(log, "kills"), Verdict::Failed);
        assert_eq!(verdict(log, "other"), Verdict::Passed);
        assert_eq!(verdict(log, "missing"), Verdict::NotRun);
        assert_eq!(verdict("error: could not compile `x`", "kills"), Verdict::CompileError);
    }
}
