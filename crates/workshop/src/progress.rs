//! The learner's progress: test results and hints shown, per chapter.
//!
//! Stored as JSON in `<workspace>/.workshop/progress.json` (gitignored), keyed by
//! each chapter's stable `id` from `chapter.toml`, never by its number or folder,
//! and hints by each hole's stable `id`, so renumbering chapters loses nothing.
//! `BIGBANG_WORKSHOP_PROGRESS` moves the file. Version 1 counted hints per chapter;
//! it is read by dropping that count (those hints are gone) and keeping the rest.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment variable that overrides where the progress file lives.
pub const PROGRESS_ENV: &str = "BIGBANG_WORKSHOP_PROGRESS";

/// The version written into new progress files: 2 records hints shown per hole, and
/// the failing tests of the last run.
pub const VERSION: u32 = 2;

/// What went wrong while reading or writing the progress file.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("cannot read the progress file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the progress file {path} is damaged ({source}); move it away and `cargo workshop check` will start a new one")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot write the progress file {path}: {source}; check that you may write to that folder")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the progress file {path} has version {version}, newer than this workshop's {VERSION}; update your clone (git pull)")]
    Newer { path: PathBuf, version: u64 },
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
    /// The tests that failed, each with the hole it pointed at, in libtest's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailedTest>,
}

/// A test of the last run that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTest {
    /// Its libtest name.
    pub test: String,
    /// The id of the hole it pointed at, when it pointed at one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hole: Option<String>,
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
    /// Hole id → how many of its hints `cargo workshop hint` has shown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hints_shown: BTreeMap<String, usize>,
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
        let parse = |source| ProgressError::Parse { path: path.to_owned(), source };
        let mut value: serde_json::Value = serde_json::from_str(&text).map_err(parse)?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(1) => migrate_v1(&mut value),
            Some(version) if version > u64::from(VERSION) => {
                return Err(ProgressError::Newer { path: path.to_owned(), version })
            }
            _ => {}
        }
        serde_json::from_value(value).map_err(parse)
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

/// Version 1 → 2: `hints_shown` was one count per chapter, of hints that belonged to
/// no hole; it goes. Test results stay as they were.
fn migrate_v1(value: &mut serde_json::Value) {
    if let Some(chapters) = value.get_mut("chapters").and_then(serde_json::Value::as_object_mut) {
        for chapter in chapters.values_mut() {
            if let Some(chapter) = chapter.as_object_mut() {
                chapter.remove("hints_shown");
            }
        }
    }
    value["version"] = VERSION.into();
}

/// Seconds since the Unix epoch, for records and backup names.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1 file keeps its test results, loses its chapter-wide hint count, and
    /// is written back as version 2.
    #[test]
    fn reads_version_1() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.json");
        fs::write(
            &path,
            r#"{"version":1,"chapters":{
                "big-bang":{"hints_shown":2,"tests":{"outcome":"failed","passed":3,"failed":7,"at":17}},
                "namespaces":{"hints_shown":1}}}"#,
        )
        .unwrap();
        let progress = Progress::load(&path).unwrap();
        assert_eq!(progress.version, VERSION);
        let big_bang = progress.chapter("big-bang");
        assert!(big_bang.hints_shown.is_empty());
        assert_eq!(
            big_bang.tests,
            Some(TestRecord { outcome: Outcome::Failed, passed: 3, failed: 7, at: 17, failures: vec![] })
        );
        assert_eq!(progress.chapter("namespaces"), ChapterProgress::default());
        progress.save(&path).unwrap();
        let again: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(again["version"], 2);
        assert_eq!(again["chapters"]["big-bang"]["tests"]["failed"], 7);
    }

    /// Version 2 round-trips hints per hole and the failing tests.
    #[test]
    fn version_2_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let mut progress = Progress::default();
        let chapter = progress.chapter_mut("big-bang");
        chapter.hints_shown.insert("find_program".into(), 2);
        chapter.tests = Some(TestRecord {
            outcome: Outcome::Failed,
            passed: 1,
            failed: 1,
            at: 5,
            failures: vec![FailedTest { test: "absent".into(), hole: Some("find_program".into()) }],
        });
        progress.save(&path).unwrap();
        assert_eq!(Progress::load(&path).unwrap(), progress);
    }

    /// A file from a newer workshop is refused, not misread.
    #[test]
    fn refuses_a_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        fs::write(&path, r#"{"version":9,"chapters":{}}"#).unwrap();
        assert!(matches!(Progress::load(&path), Err(ProgressError::Newer { version: 9, .. })));
    }
}
