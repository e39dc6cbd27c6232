//! The chapters of the workshop, read from `chapters/NN-topic/chapter.toml`.
//!
//! Folder `NN-topic` is package `chapter-N` and book part `book/src/NN-topic/`;
//! `chapter.toml` adds what the folder name cannot say: a stable id (progress is
//! keyed by it, so renaming a folder loses nothing), the title, class minutes,
//! the product files the learner writes, and escalating hints.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exercise::{MarkedFile, MarkerError};

/// What went wrong while reading the workspace or a chapter.
#[derive(Debug, thiserror::Error)]
pub enum ChapterError {
    #[error("no bigbang workspace found at {start} or above it; run this inside your clone of the workshop")]
    NoWorkspace { start: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid chapter metadata: {source}")]
    Toml { path: PathBuf, source: Box<toml::de::Error> },
    #[error("chapter folder {dir} must be named NN-topic (two digits, a dash, a lower-case topic), like 01-big-bang")]
    BadFolderName { dir: PathBuf },
    #[error("exercise markers in {path}: {source}")]
    Markers { path: PathBuf, source: MarkerError },
    #[error("no chapter {number}; chapters here are {known}")]
    UnknownChapter { number: u32, known: String },
    #[error("{path}: chapter {number} is there twice")]
    Duplicate { number: u32, path: PathBuf },
}

/// One class segment of a chapter, with the minutes it takes.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub name: String,
    pub minutes: u32,
    /// Notes for the instructor.
    #[serde(default)]
    pub notes: String,
}

/// A product file whose marked regions the learner writes in this chapter.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExerciseFile {
    /// Path of the product file, relative to the workspace root.
    pub source: PathBuf,
    /// File name under `exercises/NN-topic/` and `solutions/NN-topic/`;
    /// the source's file name when absent.
    #[serde(default)]
    pub name: Option<String>,
}

impl ExerciseFile {
    /// The file name used in `exercises/` and `solutions/`.
    pub fn file_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        })
    }
}

/// The contents of `chapter.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChapterMeta {
    /// Stable id; progress is recorded under it.
    pub id: String,
    pub title: String,
    /// What the learner has at the end of the chapter, in one sentence.
    pub builds: String,
    /// What the chapter's checks need from the machine: `root`, `userns`,
    /// `busybox`, `cgroups`, `overlayfs` … (`cargo workshop doctor` reads it).
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(default)]
    pub segments: Vec<Segment>,
    #[serde(default)]
    pub files: Vec<ExerciseFile>,
    /// Hints, from a nudge to nearly the answer; `cargo workshop hint N` shows the next one.
    #[serde(default)]
    pub hints: Vec<String>,
}

/// A chapter: its folder, number, package and metadata.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub number: u32,
    /// Folder name, `NN-topic`.
    pub dir_name: String,
    /// Absolute path of `chapters/NN-topic`.
    pub dir: PathBuf,
    pub meta: ChapterMeta,
}

impl Chapter {
    /// The Cargo package, `chapter-N`.
    pub fn package(&self) -> String {
        format!("chapter-{}", self.number)
    }

    /// Total class minutes of the chapter's segments.
    pub fn minutes(&self) -> u32 {
        self.meta.segments.iter().map(|s| s.minutes).sum()
    }

    /// Where the learner's copy of `file` lives.
    pub fn exercise_path(&self, root: &Path, file: &ExerciseFile) -> PathBuf {
        root.join("exercises").join(&self.dir_name).join(file.file_name())
    }

    /// Where the answer key for `file` lives.
    pub fn solution_path(&self, root: &Path, file: &ExerciseFile) -> PathBuf {
        root.join("solutions").join(&self.dir_name).join(file.file_name())
    }

    /// Parses the marked product file behind `file`.
    pub fn marked(&self, root: &Path, file: &ExerciseFile) -> Result<MarkedFile, ChapterError> {
        let path = root.join(&file.source);
        let text = read(&path)?;
        MarkedFile::parse(&text).map_err(|source| ChapterError::Markers { path, source })
    }

    /// The generated exercise view of `file`, header included.
    pub fn render_exercise(&self, root: &Path, file: &ExerciseFile) -> Result<String, ChapterError> {
        self.render_with_holes(root, file, |_| true)
    }

    /// The exercise view of `file` with only the holes for which `open(i)` is
    /// true left as `todo!()`; `cargo xtask verify` checks one hole at a time with it.
    pub fn render_with_holes(
        &self,
        root: &Path,
        file: &ExerciseFile,
        open: impl Fn(usize) -> bool,
    ) -> Result<String, ChapterError> {
        let marked = self.marked(root, file)?;
        let body = marked.render(open);
        let n = self.number;
        let task = if marked.holes().is_empty() {
            format!(
                "// Part of chapter {n}, given complete (no todo!() here): read it, your other files use it."
            )
        } else {
            format!(
                "// Your file for chapter {n}: replace each todo!() with working code, then run\n\
                 // `cargo workshop check {n}`."
            )
        };
        Ok(format!(
            "{task} Generated from {src} by `cargo xtask exercises`;\n\
             // `cargo workshop reset {n}` gives you a fresh copy.\n{body}",
            src = file.source.display(),
        ))
    }

    /// The generated solution view of `file`, header included.
    pub fn render_solution(&self, root: &Path, file: &ExerciseFile) -> Result<String, ChapterError> {
        let body = self.marked(root, file)?.solution();
        Ok(format!(
            "// Answer key for chapter {n}, generated from {src} by `cargo xtask exercises`.\n\
             // Do not edit: change the product file and regenerate.\n{body}",
            n = self.number,
            src = file.source.display(),
        ))
    }
}

fn read(path: &Path) -> Result<String, ChapterError> {
    fs::read_to_string(path).map_err(|source| ChapterError::Read { path: path.to_owned(), source })
}

/// Splits `NN-topic` into its number and topic.
pub fn parse_dir_name(name: &str) -> Option<(u32, &str)> {
    let (digits, topic) = name.split_once('-')?;
    if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let valid_topic =
        !topic.is_empty() && topic.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let number: u32 = digits.parse().ok()?;
    (valid_topic && number > 0).then_some((number, topic))
}

/// The workspace: its root and its chapters.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    /// Finds the workspace at `start` or in a folder above it: the first one that
    /// holds both `Cargo.toml` and `chapters/`.
    pub fn discover(start: &Path) -> Result<Self, ChapterError> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            if d.join("Cargo.toml").is_file() && d.join("chapters").is_dir() {
                return Ok(Self { root: d.to_owned() });
            }
            dir = d.parent();
        }
        Err(ChapterError::NoWorkspace { start: start.to_owned() })
    }

    /// A workspace rooted at `root`, without looking.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Every chapter under `chapters/`, in order.
    pub fn chapters(&self) -> Result<Vec<Chapter>, ChapterError> {
        let dir = self.root.join("chapters");
        let entries =
            fs::read_dir(&dir).map_err(|source| ChapterError::Read { path: dir.clone(), source })?;
        let mut chapters: Vec<Chapter> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| ChapterError::Read { path: dir.clone(), source })?;
            if !entry.path().is_dir() {
                continue;
            }
            let dir_name = entry.file_name().to_string_lossy().into_owned();
            let Some((number, _)) = parse_dir_name(&dir_name) else {
                return Err(ChapterError::BadFolderName { dir: entry.path() });
            };
            if let Some(other) = chapters.iter().find(|c| c.number == number) {
                return Err(ChapterError::Duplicate { number, path: other.dir.clone() });
            }
            let toml_path = entry.path().join("chapter.toml");
            let meta = toml::from_str(&read(&toml_path)?)
                .map_err(|source| ChapterError::Toml { path: toml_path, source: Box::new(source) })?;
            chapters.push(Chapter { number, dir_name, dir: entry.path(), meta });
        }
        chapters.sort_by_key(|c| c.number);
        Ok(chapters)
    }

    /// Chapter `number`.
    pub fn chapter(&self, number: u32) -> Result<Chapter, ChapterError> {
        let chapters = self.chapters()?;
        let known = chapters.iter().map(|c| c.number.to_string()).collect::<Vec<_>>().join(", ");
        chapters
            .into_iter()
            .find(|c| c.number == number)
            .ok_or(ChapterError::UnknownChapter { number, known })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_dir_name;

    /// Folder names map mechanically to chapter numbers.
    #[test]
    fn folder_names() {
        assert_eq!(parse_dir_name("01-big-bang"), Some((1, "big-bang")));
        assert_eq!(parse_dir_name("12-api-server"), Some((12, "api-server")));
        assert_eq!(parse_dir_name("1-big-bang"), None);
        assert_eq!(parse_dir_name("00-zero"), None);
        assert_eq!(parse_dir_name("01-Big"), None);
        assert_eq!(parse_dir_name("01-"), None);
    }
}
