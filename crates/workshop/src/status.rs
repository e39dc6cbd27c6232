//! Where a learner stands: holes filled, last test result and the next step,
//! per chapter. The next step names a hole by its function and links the book
//! section that teaches it: the hole the last check's first failing test pointed
//! at while it is still open, else the first open hole in the book's order.
//!
//! Read from files only (the marked product files, the learner's copies in
//! `exercises/` and the progress file): no network, no build.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::chapter::{Chapter, ChapterError, Workspace};
use crate::hints::{open_holes, ChapterHoles, Hole};
use crate::progress::{ChapterProgress, Outcome, Progress};

/// What went wrong while working out the status.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Chapter(#[from] ChapterError),
    #[error("cannot read your file {path}: {source}")]
    ReadLearner { path: PathBuf, source: std::io::Error },
    #[error("the workspace has no chapters under {dir}; is this the bigbang workshop?")]
    NoChapters { dir: PathBuf },
}

/// One learner file of a chapter and how far it is.
#[derive(Debug, Clone)]
pub struct FileStatus {
    /// The learner's copy, relative to the workspace root (`exercises/01-big-bang/process.rs`).
    pub path: PathBuf,
    /// False when the learner's copy is missing.
    pub present: bool,
    pub holes: usize,
    /// 0-based indexes (within this file) of holes whose `todo!()` is still there.
    pub open: Vec<usize>,
}

/// A chapter and how far the learner is with it.
#[derive(Debug, Clone)]
pub struct ChapterStatus {
    pub chapter: Chapter,
    pub files: Vec<FileStatus>,
    pub progress: ChapterProgress,
    /// The chapter's holes in the book's order.
    pub holes: ChapterHoles,
    /// Ids of the holes still `todo!()` in the learner's files.
    pub open: BTreeSet<String>,
}

/// The hole to work on next, and why it was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHole<'a> {
    pub hole: &'a Hole,
    /// Still `todo!()` in the learner's file (fill it), or filled but failing (fix it).
    pub open: bool,
}

impl ChapterStatus {
    /// Reads chapter `chapter` of the workspace at `root`.
    pub fn read(root: &Path, chapter: &Chapter, progress: &Progress) -> Result<Self, StatusError> {
        let mut files = Vec::new();
        for file in &chapter.exercise_files(root)? {
            let marked = chapter.marked(root, file)?;
            let learner_path = chapter.exercise_path(root, file);
            let learner = match fs::read_to_string(&learner_path) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => return Err(StatusError::ReadLearner { path: learner_path, source }),
            };
            let open = match &learner {
                Some(text) => marked
                    .holes()
                    .iter()
                    .enumerate()
                    .filter(|(_, hole)| {
                        let todo = hole.todo_line();
                        text.lines().any(|line| line.trim() == todo.trim())
                    })
                    .map(|(i, _)| i)
                    .collect(),
                None => (0..marked.holes().len()).collect(),
            };
            files.push(FileStatus {
                path: relative(root, &learner_path),
                present: learner.is_some(),
                holes: marked.holes().len(),
                open,
            });
        }
        let holes = ChapterHoles::read(root, chapter)?;
        let open = open_holes(root, &holes);
        Ok(Self {
            chapter: chapter.clone(),
            files,
            progress: progress.chapter(&chapter.meta.id),
            holes,
            open,
        })
    }

    /// The hole to work on next, in the book's order: of the holes the last check's
    /// failing tests pointed at, the first still open; else the first open hole; else,
    /// with every hole filled, the first one a failing test pointed at.
    pub fn next_hole(&self) -> Option<NextHole<'_>> {
        let pointed: BTreeSet<&str> =
            self.progress.tests.iter().flat_map(|t| &t.failures).filter_map(|f| f.hole.as_deref()).collect();
        let is_open = |h: &&Hole| self.open.contains(&h.meta.id);
        let holes = &self.holes.holes;
        holes
            .iter()
            .filter(is_open)
            .find(|h| pointed.contains(h.meta.id.as_str()))
            .or_else(|| holes.iter().find(is_open))
            .map(|hole| NextHole { hole, open: true })
            .or_else(|| {
                holes
                    .iter()
                    .find(|h| pointed.contains(h.meta.id.as_str()))
                    .map(|hole| NextHole { hole, open: false })
            })
    }

    /// How many of `hole`'s hints have been shown.
    pub fn hints_shown(&self, hole: &Hole) -> usize {
        self.progress.hints_shown.get(&hole.meta.id).copied().unwrap_or(0)
    }

    /// Holes in all of the chapter's files.
    pub fn holes(&self) -> usize {
        self.files.iter().map(|f| f.holes).sum()
    }

    /// Holes whose `todo!()` is gone.
    pub fn holes_done(&self) -> usize {
        self.holes() - self.files.iter().map(|f| f.open.len()).sum::<usize>()
    }

    /// Done: every hole filled and the last recorded run passed.
    pub fn is_done(&self) -> bool {
        self.holes_done() == self.holes()
            && self.files.iter().all(|f| f.present)
            && matches!(&self.progress.tests, Some(t) if t.outcome == Outcome::Passed)
    }

    /// The `holes` column: `2/4`, or `-` for a chapter without exercises.
    pub fn holes_cell(&self) -> String {
        if self.holes() == 0 {
            "-".to_owned()
        } else {
            format!("{}/{}", self.holes_done(), self.holes())
        }
    }

    /// The `tests` column: `passed 6/6`, `failed 2/6`, `not run`.
    pub fn tests_cell(&self) -> String {
        self.progress.tests.as_ref().map_or_else(|| "not run".to_owned(), |t| t.short())
    }

    /// The single next step for this chapter, as a sentence.
    pub fn next_step(&self) -> String {
        let n = self.chapter.number;
        if let Some(missing) = self.files.iter().find(|f| !f.present) {
            return format!(
                "chapter {n}: your file {} is missing — run `cargo workshop reset {n}` for a fresh copy",
                missing.path.display()
            );
        }
        if self.is_done() {
            return format!("chapter {n} is done");
        }
        if matches!(&self.progress.tests, Some(t) if t.outcome == Outcome::DidNotCompile) {
            return format!(
                "chapter {n} did not compile at the last check — fix the errors `cargo workshop check {n}` shows"
            );
        }
        if let Some(next) = self.next_hole() {
            let hole = next.hole;
            let stuck = if self.hints_shown(hole) < hole.meta.hints.len() {
                format!("stuck? `cargo workshop hint {n}`")
            } else {
                format!("stuck? `cargo workshop solution {n}`")
            };
            let verb = if next.open { "fill" } else { "tests fail at" };
            return format!(
                "chapter {n}, hole {} of {}: {verb} `{}` in {} (the book: {}) — then `cargo workshop check {n}` ({stuck})",
                self.holes.holes.iter().position(|h| h == hole).map_or(0, |i| i + 1),
                self.holes.holes.len(),
                hole.meta.function(),
                hole.learner_file.display(),
                hole.meta.book_url(),
            );
        }
        // Holes that chapter.toml does not list yet: counted in file order.
        let mut index = 0;
        for file in &self.files {
            if let Some(first) = file.open.first() {
                return format!(
                    "chapter {n}, hole {} of {} in {} — run `cargo workshop check {n}`",
                    index + first + 1,
                    self.holes(),
                    file.path.display()
                );
            }
            index += file.holes;
        }
        match self.progress.tests.as_ref().map(|t| t.outcome) {
            Some(Outcome::Failed) => format!(
                "chapter {n}: every hole is filled and some tests fail — `cargo workshop check {n}` shows them, \
                 `cargo workshop solution {n}` compares your files with the answer key"
            ),
            _ if self.holes() == 0 => format!("chapter {n} — run `cargo workshop check {n}`"),
            _ => format!("chapter {n}, all {} holes filled — run `cargo workshop check {n}`", self.holes()),
        }
    }
}

/// The status of every chapter of a workspace.
#[derive(Debug, Clone)]
pub struct Status {
    pub chapters: Vec<ChapterStatus>,
}

impl Status {
    /// Reads every chapter of `ws` against `progress`.
    pub fn read(ws: &Workspace, progress: &Progress) -> Result<Self, StatusError> {
        let chapters = ws
            .chapters()?
            .iter()
            .map(|c| ChapterStatus::read(&ws.root, c, progress))
            .collect::<Result<Vec<_>, _>>()?;
        if chapters.is_empty() {
            return Err(StatusError::NoChapters { dir: ws.root.join("chapters") });
        }
        Ok(Self { chapters })
    }

    /// The current chapter: the first one not done, or the last when all are.
    pub fn current(&self) -> &ChapterStatus {
        self.chapters
            .iter()
            .find(|c| !c.is_done())
            .or(self.chapters.last())
            .expect("a status has at least one chapter")
    }

    /// Every chapter done.
    pub fn all_done(&self) -> bool {
        self.chapters.iter().all(ChapterStatus::is_done)
    }

    /// The one line that tells the learner what to do next.
    pub fn next_line(&self) -> String {
        if self.all_done() {
            "All chapters done: you built it all. Well done!".to_owned()
        } else {
            format!("Next: {}", self.current().next_step())
        }
    }

    /// The progress table, one row per chapter, the current one marked with `>`.
    pub fn table(&self) -> String {
        let current = (!self.all_done()).then(|| self.current().chapter.number);
        let rows: Vec<[String; 5]> = self
            .chapters
            .iter()
            .map(|c| {
                let mark = if Some(c.chapter.number) == current { ">" } else { " " };
                [
                    mark.to_owned(),
                    c.chapter.number.to_string(),
                    c.chapter.meta.title.clone(),
                    c.holes_cell(),
                    c.tests_cell(),
                ]
            })
            .collect();
        let header = [String::new(), "#".into(), "chapter".into(), "holes".into(), "tests".into()];
        let mut widths = [0usize; 5];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let line = format!(
                "{:<w0$} {:>w1$}  {:<w2$}  {:>w3$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

/// `path` relative to `root` when it lies below it.
pub fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).map(Path::to_owned).unwrap_or_else(|_| path.to_owned())
}
