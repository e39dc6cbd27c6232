//! The book keeps the answers back: an mdBook preprocessor that runs before `links`.
//!
//! Where a page includes an anchor of a product file whose region holds (part of) a hole,
//! the code block shows the learner's version (each hole as its `todo!("hint")` line, the
//! text `cargo xtask exercises` writes) and is followed by a collapsed
//! `<details class="solution">` holding the product's code. Other includes are left to `links`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use crate::exercise::{MarkedFile, MarkerError};

/// The HTML element that holds an answer; `cargo xtask book` fails on an answer outside one.
pub const SOLUTION_OPEN: &str = r#"<details class="solution">"#;
/// Its end.
pub const SOLUTION_CLOSE: &str = "</details>";

/// What stops a page from being rewritten.
#[derive(Debug, thiserror::Error)]
pub enum AnswersError {
    #[error("{page}: cannot read {path}, which it includes: {source}")]
    Read { page: PathBuf, path: PathBuf, source: std::io::Error },
    #[error("{path} (included by {page}): {source}")]
    Markers { page: PathBuf, path: PathBuf, source: MarkerError },
}

/// The preprocessor: registered on the `MDBook` by `book::build_book`, ahead of `links`.
pub struct Answers;

impl Answers {
    /// Its name, as mdBook's `[preprocessor.<name>]` tables would spell it.
    pub const NAME: &'static str = "answers";
}

impl Preprocessor for Answers {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook_preprocessor::errors::Result<Book> {
        let src = ctx.root.join(&ctx.config.book.src);
        // `for_each_mut` takes a closure that cannot fail: keep the first error.
        let failure = RefCell::new(None);
        book.for_each_mut(|item| {
            let BookItem::Chapter(chapter) = item else { return };
            let Some(path) = &chapter.path else { return };
            if failure.borrow().is_some() {
                return;
            }
            let base = src.join(path.parent().unwrap_or(Path::new("")));
            match rewrite(&chapter.content, &base, path) {
                Ok(content) => chapter.content = content,
                Err(e) => *failure.borrow_mut() = Some(e),
            }
        });
        match failure.into_inner() {
            Some(e) => Err(e.into()),
            None => Ok(book),
        }
    }
}

/// The two views of one anchored region of a marked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionViews {
    /// The learner's version: every hole of the region as its `todo!()` line.
    pub learner: String,
    /// The product's code, markers left out.
    pub solution: String,
}

/// The name of the anchor that `kind` (`ANCHOR:` or `ANCHOR_END:`) opens or closes on
/// `line`, read as mdBook reads it (`ANCHOR:\s*([\w_-]+)`).
fn anchor_name<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    let rest = line[line.find(kind)? + kind.len()..].trim_start();
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Whether mdBook drops `line` from every anchored include: it opens or closes an anchor.
fn is_anchor_line(line: &str) -> bool {
    anchor_name(line, "ANCHOR:").is_some() || anchor_name(line, "ANCHOR_END:").is_some()
}

/// Indices (0-based) of the lines of anchor `name`, as mdBook's `links` takes them: from the
/// first `ANCHOR: name` to the next `ANCHOR_END: name`, every anchor line left out.
/// None when the file has no such anchor.
pub fn anchor_lines(lines: &[&str], name: &str) -> Option<Vec<usize>> {
    let start = lines.iter().position(|l| anchor_name(l, "ANCHOR:") == Some(name))?;
    Some(
        (start + 1..lines.len())
            .take_while(|&i| anchor_name(lines[i], "ANCHOR_END:") != Some(name))
            .filter(|&i| !is_anchor_line(lines[i]))
            .collect(),
    )
}

/// The text of anchor `name` in `source`, as mdBook includes it (lines joined by `\n`,
/// with a final `\n`); None when there is no such anchor.
pub fn anchor_text(source: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let region = anchor_lines(&lines, name)?;
    Some(region.iter().map(|&i| format!("{}\n", lines[i])).collect())
}

/// The learner's and the solution's view of anchor `name` of `file` (parsed from `source`),
/// or None when the anchor is missing or touches no hole.
pub fn region_views(source: &str, file: &MarkedFile, name: &str) -> Option<RegionViews> {
    let lines: Vec<&str> = source.lines().collect();
    let region = anchor_lines(&lines, name)?;
    // Holes count their lines from 1, markers included.
    let hole_at = |i: usize| file.holes().iter().position(|h| h.open_line <= i + 1 && i < h.close_line);
    if !region.iter().any(|&i| hole_at(i).is_some()) {
        return None;
    }
    let mut learner = Vec::new();
    let mut solution = Vec::new();
    let mut last_hole = None;
    for &i in &region {
        match hole_at(i) {
            Some(h) => {
                if last_hole != Some(h) {
                    learner.push(file.holes()[h].todo_line());
                    last_hole = Some(h);
                }
                let hole = &file.holes()[h];
                if i + 1 != hole.open_line && i + 1 != hole.close_line {
                    solution.push(lines[i].to_owned());
                }
            }
            None => {
                learner.push(lines[i].to_owned());
                solution.push(lines[i].to_owned());
            }
        }
    }
    Some(RegionViews { learner: learner.join("\n"), solution: solution.join("\n") })
}

/// An `{{#include path:anchor}}` directive found in a line: its byte range, path and anchor.
fn find_include(line: &str, from: usize) -> Option<(std::ops::Range<usize>, &str, &str)> {
    let mut at = from;
    while let Some(found) = line[at..].find("{{#include") {
        let start = at + found;
        let end = start + line[start..].find("}}")? + 2;
        at = end;
        // `\{{#include …}}` is mdBook's escape: the directive stays text.
        if line[..start].ends_with('\\') {
            continue;
        }
        let arg = line[start + "{{#include".len()..end - 2].trim();
        if let Some((path, anchor)) = arg.split_once(':') {
            let is_anchor = anchor.chars().next().is_some_and(|c| !c.is_ascii_digit());
            if is_anchor && !anchor.contains(':') {
                return Some((start..end, path, anchor));
            }
        }
    }
    None
}

/// A code fence that opens on `line`: its indentation and its fence (``` or ~~~, any length).
fn fence_of(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.len() - trimmed.trim_start_matches(ch).len();
    (len >= 3).then(|| (&line[..line.len() - trimmed.len()], &trimmed[..len]))
}

/// One page's markdown with every holed include shown as the learner's version and
/// followed by its solution block. `base` is the page's folder, which include paths
/// are relative to; `page` names the page in errors.
pub fn rewrite(content: &str, base: &Path, page: &Path) -> Result<String, AnswersError> {
    let mut out = String::with_capacity(content.len());
    // Inside a code block: its opening line's indentation and fence, its opening line,
    // the block's solution text so far, and whether it holds a holed include.
    let mut open: Option<(String, String, String, String, bool)> = None;
    for line in content.split_inclusive('\n') {
        let Some((indent, fence, opening, solution, holed)) = &mut open else {
            if let Some((indent, fence)) = fence_of(line) {
                open = Some((indent.to_owned(), fence.to_owned(), line.to_owned(), String::new(), false));
            }
            out.push_str(line);
            continue;
        };
        let body = line.trim();
        let closes = body.starts_with(fence.as_str()) && body.chars().all(|c| fence.starts_with(c));
        if closes {
            out.push_str(line);
            if *holed {
                let newline = if line.ends_with('\n') { "" } else { "\n" };
                let _ = write!(
                    out,
                    "{newline}\n{indent}{SOLUTION_OPEN}<summary>Solution</summary>\n\n{opening}{solution}{}\n\n{indent}{SOLUTION_CLOSE}\n\n",
                    line.trim_end_matches('\n'),
                );
            }
            open = None;
            continue;
        }
        let mut learner = String::new();
        let mut answer = String::new();
        let mut from = 0;
        while let Some((range, path, anchor)) = find_include(line, from) {
            let file = base.join(path);
            let views = match fs::read_to_string(&file) {
                // A missing file is `links`'s to report, and `cargo xtask book`'s.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => return Err(AnswersError::Read { page: page.into(), path: file, source }),
                Ok(source) => {
                    let marked = MarkedFile::parse(&source).map_err(|source| AnswersError::Markers {
                        page: page.into(),
                        path: file.clone(),
                        source,
                    })?;
                    region_views(&source, &marked, anchor)
                }
            };
            learner.push_str(&line[from..range.start]);
            answer.push_str(&line[from..range.start]);
            match views {
                Some(views) => {
                    *holed = true;
                    learner.push_str(&views.learner);
                    answer.push_str(&views.solution);
                }
                None => {
                    learner.push_str(&line[range.clone()]);
                    answer.push_str(&line[range.clone()]);
                }
            }
            from = range.end;
        }
        learner.push_str(&line[from..]);
        answer.push_str(&line[from..]);
        out.push_str(&learner);
        solution.push_str(&answer);
    }
    Ok(out)
}

/// A line of a hole's answer that the built book must not show outside a solution block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerLine {
    /// 1-based line in the product file.
    pub line: usize,
    /// The line, trimmed.
    pub text: String,
}

/// Answer lines shorter than this (`}`, `Ok(())`, `None => {}`) say nothing on their own.
pub const MIN_ANSWER_LEN: usize = 12;

/// The answer lines of `file` (parsed from `source`): the trimmed, non-blank lines inside its
/// holes, except short ones and those that the file also has outside every hole (the learner
/// sees those anyway).
pub fn answer_lines(source: &str, file: &MarkedFile) -> Vec<AnswerLine> {
    let lines: Vec<&str> = source.lines().collect();
    let outside = lines_outside_holes(source, file);
    file.holes()
        .iter()
        .flat_map(|h| h.open_line..h.close_line - 1)
        .map(|i| (i, lines[i].trim()))
        .filter(|(_, t)| t.len() >= MIN_ANSWER_LEN && !is_anchor_line(t) && !outside.contains(*t))
        .map(|(i, t)| AnswerLine { line: i + 1, text: t.to_owned() })
        .collect()
}

/// The trimmed lines of `file` (parsed from `source`) outside every hole: what the
/// exercise view shows of it.
pub fn lines_outside_holes(source: &str, file: &MarkedFile) -> BTreeSet<String> {
    let inside = |i: usize| file.holes().iter().any(|h| h.open_line <= i + 1 && i < h.close_line);
    source.lines().enumerate().filter(|&(i, _)| !inside(i)).map(|(_, l)| l.trim().to_owned()).collect()
}

/// `html` with every solution block cut out: what a reader sees without opening one.
pub fn outside_solutions(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(SOLUTION_OPEN) {
        out.push_str(&rest[..at]);
        rest = match rest[at..].find(SOLUTION_CLOSE) {
            Some(end) => &rest[at + end + SOLUTION_CLOSE.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The forms an answer line takes in mdBook's HTML: `<`, `>` and `&` escaped, quotes as
/// they are (mdBook 0.5) or escaped too (pulldown-cmark's own renderer).
pub fn html_forms(text: &str) -> [String; 2] {
    let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let quoted = text.replace('"', "&quot;").replace('\'', "&#39;");
    [text, quoted]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
// ANCHOR: all
fn a() -> u8 {
    // ANCHOR: body
    let base = 40;
    // exercise: Return the answer {not 41}.
    let answer = base + 2;
    answer
    // end exercise
    // ANCHOR_END: body
}
// ANCHOR_END: all
// ANCHOR: plain
fn b() {}
// ANCHOR_END: plain
";

    /// A holed anchor has both views, anchors and markers left out; a plain one has none.
    #[test]
    fn views_of_a_region() {
        let file = MarkedFile::parse(SOURCE).unwrap();
        let views = region_views(SOURCE, &file, "body").unwrap();
        assert_eq!(views.learner, "    let base = 40;\n    todo!(\"Return the answer {{not 41}}.\");");
        assert_eq!(views.solution, "    let base = 40;\n    let answer = base + 2;\n    answer");
        let all = region_views(SOURCE, &file, "all").unwrap();
        assert!(
            all.learner.starts_with("fn a() -> u8 {\n")
                && all.learner.ends_with("todo!(\"Return the answer {{not 41}}.\");\n}")
        );
        assert_eq!(region_views(SOURCE, &file, "plain"), None);
        assert_eq!(region_views(SOURCE, &file, "gone"), None);
    }

    /// Anchors resolve to their lines only, nested anchors' markers left out.
    #[test]
    fn anchors() {
        let src = "a\n// ANCHOR: outer\nb\n// ANCHOR: inner\nc\n// ANCHOR_END: inner\n// ANCHOR_END: outer\n";
        assert_eq!(anchor_text(src, "outer").as_deref(), Some("b\nc\n"));
        assert_eq!(anchor_text(src, "inner").as_deref(), Some("c\n"));
        assert_eq!(anchor_text(src, "inn"), None);
    }

    /// A holed include becomes the learner's block plus a solution block; others stay.
    #[test]
    fn rewrites_holed_includes_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("code.rs"), SOURCE).unwrap();
        let page = "Text.\n\n```rust,ignore\n{{#include code.rs:body}}\n```\n\n```rust\n{{#include code.rs:plain}}\n```\n";
        let out = rewrite(page, dir.path(), Path::new("page.md")).unwrap();
        assert_eq!(
            out,
            "Text.\n\n```rust,ignore\n    let base = 40;\n    todo!(\"Return the answer {{not 41}}.\");\n```\n\n\
             <details class=\"solution\"><summary>Solution</summary>\n\n```rust,ignore\n    let base = 40;\n    \
             let answer = base + 2;\n    answer\n```\n\n</details>\n\n\n```rust\n{{#include code.rs:plain}}\n```\n"
        );
    }

    /// Answer lines skip short lines and lines the learner sees outside the holes.
    #[test]
    fn answer_lines_of_a_file() {
        let source = "let x = compute(1);\n// exercise: h\nlet x = compute(1);\nlet y = compute(x) * 2;\nOk(())\n// end exercise\n";
        let file = MarkedFile::parse(source).unwrap();
        assert_eq!(
            answer_lines(source, &file),
            vec![AnswerLine { line: 4, text: "let y = compute(x) * 2;".into() }]
        );
    }

    /// Solution blocks are cut out of the HTML; what is around them stays.
    #[test]
    fn cuts_solution_blocks() {
        let html =
            r#"<p>a</p><details class="solution"><summary>S</summary><code>x</code></details><p>b</p>"#;
        assert_eq!(outside_solutions(html), "<p>a</p><p>b</p>");
        assert_eq!(html_forms("a < \"b\""), ["a &lt; \"b\"".to_owned(), "a &lt; &quot;b&quot;".to_owned()]);
    }
}
