//! `cargo xtask exercises [--check]`: write (or check) `exercises/` and
//! `solutions/` from the marked product files each `chapter.toml` names.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::Workspace;

/// One generated file and the text it must have.
pub struct Generated {
    pub path: PathBuf,
    pub text: String,
}

/// Every file `cargo xtask exercises` writes, with its contents.
pub fn generate(ws: &Workspace) -> Result<Vec<Generated>> {
    let mut out = Vec::new();
    for chapter in ws.chapters()? {
        for file in &chapter.meta.files {
            out.push(Generated {
                path: chapter.exercise_path(&ws.root, file),
                text: chapter.render_exercise(&ws.root, file)?,
            });
            out.push(Generated {
                path: chapter.solution_path(&ws.root, file),
                text: chapter.render_solution(&ws.root, file)?,
            });
        }
    }
    Ok(out)
}

/// Generated files that are missing or differ from what the product code says.
pub fn stale(ws: &Workspace) -> Result<Vec<PathBuf>> {
    Ok(generate(ws)?
        .into_iter()
        .filter(|g| fs::read_to_string(&g.path).ok().as_deref() != Some(g.text.as_str()))
        .map(|g| g.path)
        .collect())
}

/// Writes every generated file; returns how many changed.
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
    Ok(changed)
}

pub fn run(ws: &Workspace, check: bool) -> Result<()> {
    if check {
        let stale = stale(ws)?;
        if !stale.is_empty() {
            let list: Vec<String> = stale.iter().map(|p| rel(&ws.root, p)).collect();
            bail!(
                "generated files are stale: {}\nrun `cargo xtask exercises` and commit the result",
                list.join(", ")
            );
        }
        println!("exercises and solutions are up to date");
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
