//! `cargo workshop reset N`: gives the learner fresh starter files, after
//! keeping a copy of theirs.
//!
//! The starter is rendered from the marked product file (`Chapter::render_exercise`),
//! the same text `cargo xtask exercises` commits to `exercises/NN-topic/`. The old
//! copy goes to `.workshop/backup/<chapter id>/<file>.<unix time>`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::chapter::{Chapter, ChapterError};
use crate::status::relative;

/// What went wrong while resetting.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Chapter(#[from] ChapterError),
    #[error("cannot read your file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot keep a backup of your file at {path}: {source}; nothing was reset")]
    Backup { path: PathBuf, source: std::io::Error },
    #[error("cannot write the fresh file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// One learner file and its starter text.
#[derive(Debug, Clone)]
pub struct ResetFile {
    /// The learner's copy, absolute.
    pub path: PathBuf,
    /// The same, relative to the workspace root, for messages.
    pub shown: PathBuf,
    /// The generated starter text.
    pub starter: String,
    /// The learner's text; `None` when the file is missing.
    pub current: Option<String>,
}

impl ResetFile {
    /// True when the learner's copy differs from the starter (or is missing).
    pub fn changed(&self) -> bool {
        self.current.as_deref() != Some(self.starter.as_str())
    }
}

/// What a reset did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The restored file, relative to the workspace root.
    pub shown: PathBuf,
    /// Where the learner's old copy was kept, relative to the workspace root.
    pub backup: Option<PathBuf>,
}

/// The chapter's learner files next to their starter texts.
pub fn plan(root: &Path, chapter: &Chapter) -> Result<Vec<ResetFile>, ResetError> {
    chapter
        .exercise_files(root)?
        .iter()
        .map(|file| {
            let path = chapter.exercise_path(root, file);
            let starter = chapter.render_exercise(root, file)?;
            let current = match fs::read_to_string(&path) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => return Err(ResetError::Read { path, source }),
            };
            Ok(ResetFile { shown: relative(root, &path), path, starter, current })
        })
        .collect()
}

/// Writes the starter over each changed file of `files`, first copying the
/// learner's text to `.workshop/backup/<id>/<file>.<now>`. Every backup is
/// written before any file is overwritten.
pub fn apply(
    root: &Path,
    chapter: &Chapter,
    files: &[ResetFile],
    now: u64,
) -> Result<Vec<Restored>, ResetError> {
    let backup_dir = root.join(".workshop").join("backup").join(&chapter.meta.id);
    let mut restored = Vec::new();
    for file in files.iter().filter(|f| f.changed()) {
        let backup = match &file.current {
            Some(text) => {
                let name = file.path.file_name().unwrap_or_default().to_string_lossy();
                let path = backup_dir.join(format!("{name}.{now}"));
                fs::create_dir_all(&backup_dir)
                    .and_then(|()| fs::write(&path, text))
                    .map_err(|source| ResetError::Backup { path: path.clone(), source })?;
                Some(relative(root, &path))
            }
            None => None,
        };
        restored.push(Restored { shown: file.shown.clone(), backup });
    }
    for file in files.iter().filter(|f| f.changed()) {
        if let Some(dir) = file.path.parent() {
            fs::create_dir_all(dir)
                .map_err(|source| ResetError::Write { path: file.path.clone(), source })?;
        }
        fs::write(&file.path, &file.starter)
            .map_err(|source| ResetError::Write { path: file.path.clone(), source })?;
    }
    Ok(restored)
}
