//! The learner's progress: test results and hints shown, per chapter.
//!
//! Stored as JSON in `<workspace>/.workshop/progress.json` (gitignored), keyed by
//! each chapter's stable `id` from `chapter.toml`, never by its number or folder,
//! so renumbering chapters loses nothing. `BIGBANG_WORKSHOP_PROGRESS` moves the file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment variable that overrides where the progress file lives.
pub const PROGRESS_ENV: &str = "BIGBANG_WORKSHOP_PROGRESS";

/// The version written into new progress files.
pub const VERSION: u32 = 1;

/// What went wrong while reading or writing the progress file.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("cannot read the progress file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the progress file {path} is damaged ({source}); move it away and `cargo workshop check` will start a new one")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot write the progress file {path}: {source}; check that you may write to that folder")]
    Write { path: PathBuf, source: std::io::Error },
}

/// How the last `cargo workshop check` of a chapter ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every test passed.
    Passed,
    /// Some tests failed.
    Failed,
    /// The chapter (usually the learner's file) did not compile.
    DidNotCompile,
}

/// The last recorded test run of a chapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRecord {
    pub outcome: Outcome,
    pub passed: u32,
    pub failed: u32,
    /// When the run ended, in seconds since the Unix epoch.
    pub at: u64,
}

impl TestRecord {
    /// The short form shown in tables: `passed 6/6`, `failed 2/6`, `does not compile`.
    pub fn short(&self) -> String {
        let total = self.passed + self.failed;
        match self.outcome {
            Outcome::Passed => format!("passed {}/{total}", self.passed),
            Outcome::Failed => format!("failed {}/{total}", self.failed),
            Outcome::DidNotCompile => "does not compile".to_owned(),
        }
    }
}

/// Everything recorded about one chapter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChapterProgress {
    /// How many of the chapter's hints `cargo workshop hint` has shown.
    #[serde(default)]
    pub hints_shown: usize,
    /// The last test run; absent until `cargo workshop check` runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestRecord>,
}

/// The whole progress file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    /// Chapter id → progress; a BTreeMap so the file's order is stable.
    #[serde(default)]
    pub chapters: BTreeMap<String, ChapterProgress>,
}

impl Default for Progress {
    fn default() -> Self {
        Self { version: VERSION, chapters: BTreeMap::new() }
    }
}

impl Progress {
    /// Where the progress file of the workspace at `root` lives:
    /// `$BIGBANG_WORKSHOP_PROGRESS` when set, else `<root>/.workshop/progress.json`.
    pub fn path_for(root: &Path) -> PathBuf {
        match std::env::var_os(PROGRESS_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => root.join(".workshop").join("progress.json"),
        }
    }

    /// Reads the progress file at `path`; a missing file is an empty progress.
    pub fn load(path: &Path) -> Result<Self, ProgressError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ProgressError::Read { path: path.to_owned(), source }),
        };
        serde_json::from_str(&text).map_err(|source| ProgressError::Parse { path: path.to_owned(), source })
    }

    /// Writes the progress file at `path`, creating its folder. The file is
    /// written beside and renamed into place, so an interrupted write never
    /// leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), ProgressError> {
        let write_err = |source| ProgressError::Write { path: path.to_owned(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(write_err)?;
        }
        let mut text = serde_json::to_string_pretty(self).expect("progress serializes");
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        fs::write(&tmp, text).map_err(write_err)?;
        fs::rename(&tmp, path).map_err(write_err)
    }

    /// The progress of chapter `id` (empty when nothing is recorded).
    pub fn chapter(&self, id: &str) -> ChapterProgress {
        self.chapters.get(id).cloned().unwrap_or_default()
    }

    /// The progress of chapter `id`, for changing it.
    pub fn chapter_mut(&mut self, id: &str) -> &mut ChapterProgress {
        self.chapters.entry(id.to_owned()).or_default()
    }
}

/// Seconds since the Unix epoch, for records and backup names.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
