//! `cargo workshop solution N`: the answer key, shaped like the learner's file.
//!
//! The committed `solutions/NN-topic/<file>` opens with its own generated header;
//! the learner's copy opens with the exercise header. The answer is diffed with the
//! exercise header in place of its own, so a finished file diffs as equal and the
//! hunk line numbers are the learner's.

use std::fs;
use std::path::Path;

use crate::chapter::{Chapter, ChapterError, ExerciseFile};

/// The answer key for `file`, with the exercise header: what the learner's
/// file looks like once every hole is filled as the answer fills it.
pub fn answer_for(root: &Path, chapter: &Chapter, file: &ExerciseFile) -> Result<String, ChapterError> {
    let marked = chapter.marked(root, file)?;
    let rendered_solution = chapter.render_solution(root, file)?;
    let rendered_exercise = chapter.render_exercise(root, file)?;
    let solution_header = rendered_solution.strip_suffix(&marked.solution()).unwrap_or("");
    let exercise_header = rendered_exercise.strip_suffix(&marked.exercise()).unwrap_or("");
    // The committed answer key; rendered from the product file if it is missing.
    let committed =
        fs::read_to_string(chapter.solution_path(root, file)).unwrap_or(rendered_solution.clone());
    Ok(match committed.strip_prefix(solution_header) {
        Some(body) => format!("{exercise_header}{body}"),
        None => committed,
    })
}
