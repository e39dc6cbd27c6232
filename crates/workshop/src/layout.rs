//! The mechanical mapping DESIGN.md promises: folder `chapters/NN-topic` is
//! package `chapter-N`, has its learner's files in `exercises/NN-topic/`, its
//! generated shim in `chapters/NN-topic/src/`, and a book part `book/src/NN-topic/`
//! listed in `SUMMARY.md`.

use std::fs;

use crate::chapter::{parse_dir_name, ChapterError, Workspace};

/// Every way the workspace departs from the mapping, one sentence each.
pub fn check(ws: &Workspace) -> Result<Vec<String>, ChapterError> {
    let mut problems = Vec::new();
    let summary = fs::read_to_string(ws.root.join("book/src/SUMMARY.md")).unwrap_or_default();
    let chapters = ws.chapters()?;
    for chapter in &chapters {
        let manifest_path = chapter.dir.join("Cargo.toml");
        let manifest = fs::read_to_string(&manifest_path).unwrap_or_default();
        let expected = format!("name = \"{}\"", chapter.package());
        if !manifest.lines().any(|l| l.trim() == expected) {
            problems.push(format!(
                "{}: package must be named {} (folder {})",
                manifest_path.display(),
                chapter.package(),
                chapter.dir_name
            ));
        }
        let part = ws.root.join("book/src").join(&chapter.dir_name);
        if !part.join("index.md").is_file() {
            problems.push(format!(
                "chapter {}: book part {}/index.md is missing",
                chapter.number,
                part.display()
            ));
        }
        if !summary.contains(&format!("({}/index.md)", chapter.dir_name)) {
            problems.push(format!(
                "chapter {}: book/src/SUMMARY.md does not list {}/index.md",
                chapter.number, chapter.dir_name
            ));
        }
        let generated = chapter
            .exercise_files(&ws.root)?
            .iter()
            .map(|file| ("exercise", chapter.exercise_path(&ws.root, file)))
            .chain(chapter.shim(&ws.root)?.into_iter().map(|(path, _)| ("shim", ws.root.join(path))))
            .collect::<Vec<_>>();
        for (kind, path) in generated {
            if !path.is_file() {
                problems.push(format!(
                    "chapter {}: {kind} file {} is missing; run `cargo xtask exercises`",
                    chapter.number,
                    path.display()
                ));
            }
        }
    }
    if ws.root.join("solutions").exists() {
        problems.push(
            "solutions/: no longer used, the answer key is the product itself (`--features solution` \
             compiles it, `cargo workshop solution N` diffs against it); delete the folder"
                .to_owned(),
        );
    }
    // Folders under exercises/ and book/src/ that name no chapter.
    for top in ["exercises", "book/src"] {
        let Ok(entries) = fs::read_dir(ws.root.join(top)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() {
                continue;
            }
            match parse_dir_name(&name) {
                Some((number, _)) => {
                    let known = chapters.iter().any(|c| c.dir_name == name);
                    // The book may describe chapters whose package is not written yet.
                    if !known && top != "book/src" {
                        problems.push(format!(
                            "{top}/{name}: no chapters/{name} (chapter {number}) to go with it"
                        ));
                    }
                    if top == "book/src" {
                        if let Some(other) =
                            chapters.iter().find(|c| c.number == number && c.dir_name != name)
                        {
                            problems.push(format!(
                                "book/src/{name}: chapter {number} is chapters/{} ; rename one to match",
                                other.dir_name
                            ));
                        }
                    }
                }
                None if top != "book/src" => {
                    problems.push(format!("{top}/{name}: not a chapter folder name (NN-topic)"))
                }
                None => {}
            }
        }
    }
    Ok(problems)
}
