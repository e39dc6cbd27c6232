//! `cargo xtask exercises [--check]`: write (or check) what each chapter's
//! `module` generates: the learner's files in `exercises/NN-topic/` (the module's
//! files that hold a hole, each hole as `todo!()`), and the chapter's shim in
//! `chapters/NN-topic/src/` that compiles them with the product's other files.
//! Both check each chapter's `[[holes]]` against the markers, the book and the tests
//! (`bigbang_workshop::hints::lint`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::{Chapter, Workspace};

/// One generated file and the text it must have.
pub struct Generated {
    pub path: PathBuf,
    pub text: String,
}

/// Every file `cargo xtask exercises` writes, with its contents.
pub fn generate(ws: &Workspace) -> Result<Vec<Generated>> {
    let mut out = Vec::new();
    for chapter in ws.chapters()? {
        for file in chapter.exercise_files(&ws.root)? {
            out.push(Generated {
                path: chapter.exercise_path(&ws.root, &file),
                text: chapter.render_exercise(&ws.root, &file)?,
            });
        }
        for (path, text) in chapter.shim(&ws.root)? {
            out.push(Generated { path: ws.root.join(path), text });
        }
    }
    Ok(out)
}

/// The folders whose every file is generated: a chapter's `exercises/NN-topic/`,
/// and the folder of its shim's module files (`chapters/NN-topic/src/<module>/`).
fn generated_dirs(ws: &Workspace, chapter: &Chapter) -> Result<Vec<PathBuf>> {
    let mut dirs = vec![ws.root.join(chapter.exercise_dir())];
    if let Some(tree) = chapter.tree(&ws.root)? {
        dirs.push(chapter.dir.join("src").join(&tree.name));
    }
    Ok(dirs)
}

/// Files in the generated folders that nothing generates any more: a file that
/// lost its last hole, a chapter's hand-written module folder, an old layout.
pub fn unexpected(ws: &Workspace) -> Result<Vec<PathBuf>> {
    let expected: BTreeSet<PathBuf> = generate(ws)?.into_iter().map(|g| g.path).collect();
    let mut out = Vec::new();
    for chapter in ws.chapters()? {
        for dir in generated_dirs(ws, &chapter)? {
            walk(&dir, &mut |path| {
                if !expected.contains(path) {
                    out.push(path.to_owned());
                }
            })?;
        }
    }
    Ok(out)
}

fn walk(dir: &Path, found: &mut dyn FnMut(&Path)) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else {
            found(&path);
        }
    }
    Ok(())
}

/// Generated files that are missing or differ from what the product code says.
pub fn stale(ws: &Workspace) -> Result<Vec<PathBuf>> {
    Ok(generate(ws)?
        .into_iter()
        .filter(|g| fs::read_to_string(&g.path).ok().as_deref() != Some(g.text.as_str()))
        .map(|g| g.path)
        .collect())
}

/// Writes every generated file and removes the unexpected ones; returns how many
/// files changed.
pub fn write(ws: &Workspace) -> Result<usize> {
    let mut changed = 0;
    for g in generate(ws)? {
        if fs::read_to_string(&g.path).ok().as_deref() == Some(g.text.as_str()) {
            continue;
        }
        if let Some(dir) = g.path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&g.path, &g.text).with_context(|| format!("writing {}", g.path.display()))?;
        changed += 1;
    }
    for path in unexpected(ws)? {
        fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        println!("removed {}: nothing generates it any more", rel(&ws.root, &path));
        // An emptied folder goes too; a folder with other files stays.
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(&ws.root) && *d != ws.root) {
            if fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        changed += 1;
    }
    Ok(changed)
}

/// Every problem with the chapters' `[[holes]]`: a hole without an entry or an entry
/// without a hole, a section the book lacks, a test the chapter lacks, fewer than three
/// hint levels, a hint that quotes the answer.
pub fn hole_problems(ws: &Workspace) -> Result<Vec<String>> {
    let book_src = ws.root.join("book").join("src");
    let mut problems = Vec::new();
    for chapter in ws.chapters()? {
        problems.extend(bigbang_workshop::hints::lint(&ws.root, &chapter, &book_src)?);
    }
    Ok(problems)
}

fn check_holes(ws: &Workspace) -> Result<()> {
    let problems = hole_problems(ws)?;
    if !problems.is_empty() {
        bail!("the chapters' [[holes]] need fixing:\n  {}", problems.join("\n  "));
    }
    println!("every hole has its [[holes]] entry, section, tests and hints");
    Ok(())
}

pub fn run(ws: &Workspace, check: bool) -> Result<()> {
    run_generated(ws, check)?;
    check_holes(ws)
}

fn run_generated(ws: &Workspace, check: bool) -> Result<()> {
    if check {
        let stale = stale(ws)?;
        let unexpected = unexpected(ws)?;
        if !stale.is_empty() || !unexpected.is_empty() {
            let list =
                |paths: &[PathBuf]| paths.iter().map(|p| rel(&ws.root, p)).collect::<Vec<_>>().join(", ");
            let mut message = String::new();
            if !stale.is_empty() {
                message.push_str(&format!("generated files are stale: {}\n", list(&stale)));
            }
            if !unexpected.is_empty() {
                message.push_str(&format!("files nothing generates any more: {}\n", list(&unexpected)));
            }
            bail!("{message}run `cargo xtask exercises` and commit the result");
        }
        println!("exercises and chapter shims are up to date");
    } else {
        let changed = write(ws)?;
        println!("wrote {changed} generated file(s)");
    }
    Ok(())
}

/// `path` relative to the workspace root, for messages.
pub fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}
