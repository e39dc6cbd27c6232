//! Exercise markers: one annotated product file, two generated views.
//!
//! Product code marks what a learner writes between `// exercise: <hint>` and
//! `// end exercise`. The exercise view replaces each marked region with
//! `todo!("<hint>")`; the solution view keeps the code and drops the markers.
//! Both views also drop mdBook's `// ANCHOR:` lines, which only the book reads.

use std::fmt::Write as _;

/// The marker that opens a hole; the rest of the line is the hint.
pub const OPEN: &str = "// exercise:";
/// The marker that closes a hole.
pub const CLOSE: &str = "// end exercise";

/// A region of product code that the learner writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hole {
    /// The hint shown in `todo!()`, as written after `// exercise:`.
    pub hint: String,
    /// 1-based line of the opening marker.
    pub open_line: usize,
    /// 1-based line of the closing marker.
    pub close_line: usize,
    /// Indentation of the opening marker, reused for `todo!()`.
    pub indent: String,
}

impl Hole {
    /// The line that stands in for this hole in the exercise view.
    pub fn todo_line(&self) -> String {
        let escaped = self.hint.replace('{', "{{").replace('}', "}}");
        format!("{}todo!({:?});", self.indent, escaped)
    }
}

/// What is wrong with the markers of a file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MarkerError {
    #[error("line {line}: `// exercise:` inside the hole opened on line {open}; close that one first with `// end exercise`")]
    Nested { line: usize, open: usize },
    #[error("line {line}: `// end exercise` without an open `// exercise:` above it")]
    UnmatchedClose { line: usize },
    #[error("line {open}: the hole opened here is never closed; add `// end exercise` after its code")]
    Unclosed { open: usize },
    #[error(
        "line {line}: `// exercise:` needs a hint after the colon, the sentence a learner sees in todo!()"
    )]
    EmptyHint { line: usize },
    #[error("line {open}: the hole has no code between its markers")]
    EmptyHole { open: usize },
}

/// A product file parsed into its lines and holes.
#[derive(Debug, Clone)]
pub struct MarkedFile {
    lines: Vec<String>,
    holes: Vec<Hole>,
}

fn is_anchor(trimmed: &str) -> bool {
    trimmed.starts_with("// ANCHOR:") || trimmed.starts_with("// ANCHOR_END:")
}

impl MarkedFile {
    /// Parses `source`, checking that every hole is opened, hinted and closed.
    pub fn parse(source: &str) -> Result<Self, MarkerError> {
        let lines: Vec<String> = source.lines().map(str::to_owned).collect();
        let mut holes = Vec::new();
        let mut open: Option<(usize, String, String)> = None;
        for (index, line) in lines.iter().enumerate() {
            let number = index + 1;
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix(OPEN) {
                if let Some((open_line, _, _)) = &open {
                    return Err(MarkerError::Nested { line: number, open: *open_line });
                }
                let hint = rest.trim();
                if hint.is_empty() {
                    return Err(MarkerError::EmptyHint { line: number });
                }
                let indent = line[..line.len() - trimmed.len()].to_owned();
                open = Some((number, hint.to_owned(), indent));
            } else if trimmed.starts_with(CLOSE) {
                let Some((open_line, hint, indent)) = open.take() else {
                    return Err(MarkerError::UnmatchedClose { line: number });
                };
                let has_code = lines[open_line..index].iter().any(|l| {
                    let t = l.trim();
                    !t.is_empty() && !is_anchor(t)
                });
                if !has_code {
                    return Err(MarkerError::EmptyHole { open: open_line });
                }
                holes.push(Hole { hint, open_line, close_line: number, indent });
            }
        }
        if let Some((open_line, _, _)) = open {
            return Err(MarkerError::Unclosed { open: open_line });
        }
        Ok(Self { lines, holes })
    }

    /// The holes, in file order.
    pub fn holes(&self) -> &[Hole] {
        &self.holes
    }

    /// The file with every hole filled in and every marker removed.
    pub fn solution(&self) -> String {
        self.render(|_| false)
    }

    /// The file with every hole replaced by `todo!("<hint>")`.
    pub fn exercise(&self) -> String {
        self.render(|_| true)
    }

    /// The file with hole `i` (0-based) left open when `open(i)` is true and
    /// filled otherwise. `cargo xtask verify` uses it to test one hole at a time.
    pub fn render(&self, open: impl Fn(usize) -> bool) -> String {
        let mut out = String::new();
        let mut holes = self.holes.iter().enumerate().peekable();
        let mut line_no = 0;
        while line_no < self.lines.len() {
            let number = line_no + 1;
            if let Some((index, hole)) = holes.peek().copied() {
                if hole.open_line == number {
                    holes.next();
                    if open(index) {
                        let _ = writeln!(out, "{}", hole.todo_line());
                    } else {
                        for line in &self.lines[hole.open_line..hole.close_line - 1] {
                            if !is_anchor(line.trim()) {
                                let _ = writeln!(out, "{line}");
                            }
                        }
                    }
                    line_no = hole.close_line;
                    continue;
                }
            }
            let line = &self.lines[line_no];
            if !is_anchor(line.trim()) {
                let _ = writeln!(out, "{line}");
            }
            line_no += 1;
        }
        out
    }

    /// How many holes of this file are still open in `learner`, the learner's
    /// copy of the exercise view: a hole counts as open while its `todo!()`
    /// line is still there, word for word.
    pub fn open_in(&self, learner: &str) -> usize {
        self.holes
            .iter()
            .filter(|hole| {
                let todo = hole.todo_line();
                learner.lines().any(|line| line.trim() == todo.trim())
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
fn a() -> u8 {
    // ANCHOR: body
    // exercise: Return the answer {not 41}.
    42
    // end exercise
    // ANCHOR_END: body
}
";

    /// Both views drop markers and anchors; the exercise keeps the hint, braces escaped.
    #[test]
    fn renders_both_views() {
        let file = MarkedFile::parse(SOURCE).unwrap();
        assert_eq!(file.holes().len(), 1);
        assert_eq!(file.solution(), "fn a() -> u8 {\n    42\n}\n");
        assert_eq!(file.exercise(), "fn a() -> u8 {\n    todo!(\"Return the answer {{not 41}}.\");\n}\n");
        assert_eq!(file.open_in(&file.exercise()), 1);
        assert_eq!(file.open_in(&file.solution()), 0);
    }

    /// Broken markers are reported with the line to fix.
    #[test]
    fn rejects_broken_markers() {
        let err = |s: &str| MarkedFile::parse(s).unwrap_err();
        assert_eq!(err("// exercise: a\n// exercise: b\n"), MarkerError::Nested { line: 2, open: 1 });
        assert_eq!(err("x\n// end exercise\n"), MarkerError::UnmatchedClose { line: 2 });
        assert_eq!(err("// exercise: a\nx\n"), MarkerError::Unclosed { open: 1 });
        assert_eq!(err("// exercise:   \nx\n// end exercise\n"), MarkerError::EmptyHint { line: 1 });
        assert_eq!(err("// exercise: a\n\n// end exercise\n"), MarkerError::EmptyHole { open: 1 });
    }

    /// The exercise and solution views of a file with two holes, as learners get them.
    #[test]
    fn views_snapshot() {
        let source = "\
//! A demo module.
use std::path::Path;

// ANCHOR: check
pub fn check(path: &Path) -> bool {
    // exercise: Tell whether `path` is a directory (Path::is_dir).
    path.is_dir()
    // end exercise
}
// ANCHOR_END: check

pub fn twice(n: u32) -> u32 {
    let base = n;
    // exercise: Return twice `base`, without overflow checks.
    base * 2
    // end exercise
}
";
        let file = MarkedFile::parse(source).unwrap();
        insta::assert_snapshot!("exercise_view", file.exercise());
        insta::assert_snapshot!("solution_view", file.solution());
    }
}
