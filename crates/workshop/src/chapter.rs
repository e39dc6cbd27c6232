//! The chapters of the workshop, read from `chapters/NN-topic/chapter.toml`.
//!
//! Folder `NN-topic` is package `chapter-N` and book part `book/src/NN-topic/`;
//! `chapter.toml` adds what the folder name cannot say: a stable id (progress is
//! keyed by it, so renaming a folder loses nothing), the title, class minutes,
//! the product module the learner writes in, and a hint per hole.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exercise::{MarkedFile, MarkerError};
use crate::hints::HoleMeta;
use crate::tree::ModuleTree;

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
    #[error("module = {path:?} in chapter.toml: {reason}")]
    ModulePath { path: PathBuf, reason: String },
    #[error("{path}:{line}: a chapter's mod.rs may hold only `mod` lines, `use` re-exports, docs and attributes (the chapter's shim copies it); move this code into a file of its own")]
    NotDeclarationsOnly { path: PathBuf, line: usize },
    #[error("{path}:{line}: a module file of a chapter may not declare modules of its own (they would be looked for next to the learner's copy); make it a directory with a mod.rs")]
    OutlineModule { path: PathBuf, line: usize },
    #[error("{path} declares `mod {name};` but neither {name}.rs nor {name}/mod.rs is next to it")]
    MissingModule { path: PathBuf, name: String },
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
    /// The book pages the segment teaches, relative to the chapter's part
    /// (`book/src/NN-topic/`): the book shows the minutes and the notes on them.
    #[serde(default)]
    pub pages: Vec<String>,
}

/// A plausible wrong answer to a hole, as a patch to the product file: `find`, unique in
/// `file` and inside the hole of function `hole`, replaced by `replace`. `caught_by` names
/// a chapter test that must fail on the patched product.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    pub hole: String,
    /// The mistake in words, as a learner would make it.
    pub what: String,
    pub file: PathBuf,
    pub find: String,
    pub replace: String,
    pub caught_by: String,
}

/// A mutant of a hole that behaves like the answer, by cargo-mutants' name, and why.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    pub mutant: String,
    pub why: String,
}

/// A product file with holes: the learner writes its marked regions in this chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseFile {
    /// Path of the product file, relative to the workspace root.
    pub source: PathBuf,
    /// Its path inside the chapter's module, which is also its path under
    /// `exercises/NN-topic/` (`state.rs`).
    pub rel: PathBuf,
}

impl ExerciseFile {
    /// The learner's file name under `exercises/NN-topic/`.
    pub fn file_name(&self) -> String {
        self.rel.to_string_lossy().into_owned()
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
    /// Learners' common wrong answers, each a patch that a test must catch (`cargo xtask verify`).
    #[serde(default)]
    pub mistakes: Vec<Mistake>,
    /// Mutants of the holes that no test can tell from the answer (`cargo xtask mutants`).
    #[serde(default)]
    pub equivalent: Vec<Equivalent>,
    /// The product module the learner writes in (`crates/container/src/lifecycle`, or
    /// a file such as `crates/container/src/process.rs`): its files with holes are the
    /// learner's, the rest is compiled from the product (see [`crate::tree`]).
    #[serde(default)]
    pub module: Option<PathBuf>,
    /// One entry per hole, in the order the book teaches them: the function, the
    /// book section, the tests that notice it and its escalating hints (see [`crate::hints`]).
    #[serde(default)]
    pub holes: Vec<HoleMeta>,
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

    /// The module the chapter swaps in, read from the product; None for a chapter
    /// without one.
    pub fn tree(&self, root: &Path) -> Result<Option<ModuleTree>, ChapterError> {
        self.meta.module.as_deref().map(|module| ModuleTree::read(root, module)).transpose()
    }

    /// The learner's files: the module's files that hold a hole, in the order the
    /// module declares them.
    pub fn exercise_files(&self, root: &Path) -> Result<Vec<ExerciseFile>, ChapterError> {
        Ok(match self.tree(root)? {
            None => Vec::new(),
            Some(tree) => tree
                .exercise_files()
                .into_iter()
                .map(|f| ExerciseFile { source: f.source.clone(), rel: f.rel.clone() })
                .collect(),
        })
    }

    /// `exercises/NN-topic`, relative to the workspace root.
    pub fn exercise_dir(&self) -> PathBuf {
        Path::new("exercises").join(&self.dir_name)
    }

    /// Where the learner's copy of `file` lives.
    pub fn exercise_path(&self, root: &Path, file: &ExerciseFile) -> PathBuf {
        root.join(self.exercise_dir()).join(&file.rel)
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
        let body = self.marked(root, file)?.render(open);
        Ok(format!("{}{body}", self.exercise_header(file)))
    }

    /// The lines that open the learner's copy of `file`.
    pub fn exercise_header(&self, file: &ExerciseFile) -> String {
        format!(
            "// Your file for chapter {n}: replace each todo!() with working code, then run\n\
             // `cargo workshop check {n}`. Generated from {src} by `cargo xtask exercises`;\n\
             // `cargo workshop reset {n}` gives you a fresh copy.\n",
            n = self.number,
            src = file.source.display(),
        )
    }

    /// The answer key for `file`, shaped like the learner's copy: the exercise
    /// header, then the product file with the markers stripped and every hole filled.
    pub fn render_answer(&self, root: &Path, file: &ExerciseFile) -> Result<String, ChapterError> {
        Ok(format!("{}{}", self.exercise_header(file), self.marked(root, file)?.solution()))
    }

    /// The chapter's generated shim (`src/lib.rs` and the module's files), as
    /// `(path relative to the workspace, text)`; nothing for a chapter without a module.
    pub fn shim(&self, root: &Path) -> Result<Vec<(PathBuf, String)>, ChapterError> {
        let Some(tree) = self.tree(root)? else { return Ok(Vec::new()) };
        let learner: Vec<String> =
            tree.exercise_files().iter().map(|f| format!("`{}`", f.rel.display())).collect();
        let doc = format!(
            "Chapter {n}, \"{title}\": {builds}\n\n\
             This crate is the product crate with one module swapped: `{module}` is compiled\n\
             from your files in `exercises/{dir}/` ({learner}) and from the\n\
             product's own files for the rest of the module; `--features solution` compiles\n\
             the product's files throughout. Everything else is the product's. Check your work\n\
             with `cargo workshop check {n}` or `cargo test -p chapter-{n}`.",
            n = self.number,
            title = self.meta.title,
            builds = self.meta.builds,
            module = tree.name,
            dir = self.dir_name,
            learner = learner.join(", "),
        );
        let chapter_dir = Path::new("chapters").join(&self.dir_name);
        Ok(tree.shim(&chapter_dir, &self.exercise_dir(), &doc))
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
