//! A hint per hole: chapter.toml's `[[holes]]`, tied to the exercise markers in the
//! product code, to the failing tests that point at a hole, and checked.
//!
//! Each `[[holes]]` entry names the function that holds a hole (`id`), its product
//! file, the book section that teaches it and the tests that fail while it is
//! `todo!()`; its `hints` escalate from the concept to near-code. The entries are
//! listed in the order the book teaches the holes, which is the order
//! `cargo workshop` proposes them in. `cargo xtask exercises` runs [`lint`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::chapter::{Chapter, ChapterError};
use crate::check::Failure;

/// Where `cargo workshop book --serve` (and `cargo workshop` alone) serves the book.
pub const BOOK_URL: &str = "http://127.0.0.1:3000";

/// The panic message `todo!("<hint>")` gives, before the hint.
pub const TODO_PREFIX: &str = "not yet implemented: ";

/// Fewer hint levels than this is not an escalation: the concept, the call, near-code.
pub const MIN_LEVELS: usize = 3;

/// Answer lines shorter than this (`}`, `Ok(())`, `let root = root;`) may appear in a
/// hint; longer ones are the answer itself.
pub const MAX_QUOTED_LEN: usize = 20;

/// One `[[holes]]` entry of chapter.toml.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HoleMeta {
    /// The function that holds the hole (`find_program`); when a function holds
    /// more than one, `<function>.<part>` (`reap_and_forward.reap`), listed in the
    /// order the holes appear in the function. Stable: hints shown are recorded under it.
    pub id: String,
    /// The product file that holds the hole, relative to the workspace root.
    pub file: PathBuf,
    /// The book section that teaches it: `NN-topic/page.md#heading-id`.
    pub section: String,
    /// Chapter tests that fail while the hole is `todo!()` (libtest names:
    /// `absent_program_is_named`, or `cgroups::files::tests::removes_bottom_up` for a
    /// unit test of the module).
    #[serde(default)]
    pub tests: Vec<String>,
    /// Escalating: the concept and the book section, then the call to use and its
    /// man page, then the shape of the answer.
    #[serde(default)]
    pub hints: Vec<String>,
}

impl HoleMeta {
    /// The function that holds the hole: `id` up to a `.`.
    pub fn function(&self) -> &str {
        self.id.split_once('.').map_or(self.id.as_str(), |(f, _)| f)
    }

    /// The book page and the anchor of `section`.
    pub fn page_and_anchor(&self) -> (&str, Option<&str>) {
        match self.section.split_once('#') {
            Some((page, anchor)) => (page, Some(anchor)),
            None => (self.section.as_str(), None),
        }
    }

    /// The section in the served book: `http://127.0.0.1:3000/01-big-bang/page.html#anchor`.
    pub fn book_url(&self) -> String {
        let (page, anchor) = self.page_and_anchor();
        let page = page.strip_suffix(".md").unwrap_or(page);
        match anchor {
            Some(anchor) => format!("{BOOK_URL}/{page}.html#{anchor}"),
            None => format!("{BOOK_URL}/{page}.html"),
        }
    }

    /// True when `test` (a libtest name) is one of `tests`: the same name, or the
    /// same last `::` segment for a listed name without a path.
    pub fn lists(&self, test: &str) -> bool {
        let last = test.rsplit("::").next().unwrap_or(test);
        self.tests.iter().any(|t| t == test || (!t.contains("::") && t == last))
    }
}

/// A hole of a chapter: its chapter.toml entry and the marker it is tied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hole {
    pub meta: HoleMeta,
    /// The learner's file for it, `exercises/NN-topic/<rel>`, relative to the workspace.
    pub learner_file: PathBuf,
    /// The hint of its marker, what `todo!()` panics with.
    pub marker: String,
    /// Its index among the holes of its file (file order), as [`crate::status`] counts them.
    pub index_in_file: usize,
    /// 1-based line of its opening marker in the product file.
    pub open_line: usize,
}

impl Hole {
    /// The panic message of this hole's `todo!()`.
    pub fn todo_message(&self) -> String {
        format!("{TODO_PREFIX}{}", self.marker)
    }
}

/// A marked region of the product code, before it is tied to an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeHole {
    pub source: PathBuf,
    pub learner_file: PathBuf,
    pub function: Option<String>,
    pub marker: String,
    pub index_in_file: usize,
    pub open_line: usize,
    /// The lines between its markers.
    pub body: Vec<String>,
}

/// A chapter's holes in book order, and what did not tie up.
#[derive(Debug, Clone, Default)]
pub struct ChapterHoles {
    /// The entries tied to a marker, in chapter.toml's (the book's) order.
    pub holes: Vec<Hole>,
    /// Entries without a marker and markers without an entry, as sentences.
    pub problems: Vec<String>,
}

/// The function a line belongs to: the nearest `fn name` above `line` (1-based) that is
/// indented less than the line itself.
pub fn enclosing_function(lines: &[&str], line: usize) -> Option<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(lines.get(line.checked_sub(1)?)?);
    lines[..line - 1].iter().rev().filter(|l| indent(l) < own).find_map(|l| {
        let t = l.trim_start();
        if t.starts_with("//") {
            return None;
        }
        let at = t.find("fn ")?;
        // `fn` as a word: at the start, or after `pub `, `unsafe `, `pub(crate) ` ...
        if at > 0 && !t[..at].ends_with(' ') {
            return None;
        }
        let name: String = t[at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        (!name.is_empty()).then_some(name)
    })
}

/// Every marked region of the chapter's module, in module then file order.
pub fn code_holes(root: &Path, chapter: &Chapter) -> Result<Vec<CodeHole>, ChapterError> {
    let mut out = Vec::new();
    for file in chapter.exercise_files(root)? {
        let path = root.join(&file.source);
        let text = fs::read_to_string(&path).map_err(|source| ChapterError::Read { path, source })?;
        let lines: Vec<&str> = text.lines().collect();
        let marked = chapter.marked(root, &file)?;
        for (index, hole) in marked.holes().iter().enumerate() {
            out.push(CodeHole {
                source: file.source.clone(),
                learner_file: chapter.exercise_dir().join(&file.rel),
                function: enclosing_function(&lines, hole.open_line),
                marker: hole.hint.clone(),
                index_in_file: index,
                open_line: hole.open_line,
                body: lines[hole.open_line..hole.close_line - 1].iter().map(|l| (*l).to_owned()).collect(),
            });
        }
    }
    Ok(out)
}

/// Ties `entries` to `code`: an entry takes the next unclaimed hole of its file whose
/// function is the entry's. What is left over on either side is a problem.
pub fn tie(entries: &[HoleMeta], code: &[CodeHole]) -> ChapterHoles {
    let mut claimed = vec![false; code.len()];
    let mut out = ChapterHoles::default();
    let mut seen = BTreeSet::new();
    for entry in entries {
        if !seen.insert(entry.id.as_str()) {
            out.problems.push(format!("[[holes]] id = {:?} is there twice; ids must be unique", entry.id));
            continue;
        }
        let found = code.iter().enumerate().find(|(i, c)| {
            !claimed[*i] && c.source == entry.file && c.function.as_deref() == Some(entry.function())
        });
        match found {
            Some((i, c)) => {
                claimed[i] = true;
                out.holes.push(Hole {
                    meta: entry.clone(),
                    learner_file: c.learner_file.clone(),
                    marker: c.marker.clone(),
                    index_in_file: c.index_in_file,
                    open_line: c.open_line,
                });
            }
            None => out.problems.push(format!(
                "[[holes]] id = {:?}: no hole in `fn {}` of {} (is the file one of the chapter's module, \
                 and the hole still there?)",
                entry.id,
                entry.function(),
                entry.file.display()
            )),
        }
    }
    for (c, _) in code.iter().zip(&claimed).filter(|(_, claimed)| !**claimed) {
        let function = c.function.as_deref().unwrap_or("?");
        out.problems.push(format!(
            "{}:{}: the hole in `fn {function}` has no [[holes]] entry (id = {function:?}, file = {:?})",
            c.source.display(),
            c.open_line,
            c.source.display().to_string()
        ));
    }
    out
}

impl ChapterHoles {
    /// Reads and ties the holes of `chapter`.
    pub fn read(root: &Path, chapter: &Chapter) -> Result<Self, ChapterError> {
        Ok(tie(&chapter.meta.holes, &code_holes(root, chapter)?))
    }

    /// The hole with id `id`.
    pub fn get(&self, id: &str) -> Option<&Hole> {
        self.holes.iter().find(|h| h.meta.id == id)
    }

    /// The hole (index in book order) that `failure` points at: the one whose
    /// `todo!()` message is in its panic message (the longest such, should one marker
    /// start another), else the first, in book order, that lists the test, preferring
    /// one still open.
    pub fn for_failure(&self, failure: &Failure, open: &dyn Fn(&Hole) -> bool) -> Option<usize> {
        let by_message = self
            .holes
            .iter()
            .enumerate()
            .filter(|(_, h)| failure.message.contains(&h.todo_message()))
            .max_by_key(|(_, h)| h.marker.len())
            .map(|(i, _)| i);
        by_message.or_else(|| {
            let listing: Vec<usize> =
                (0..self.holes.len()).filter(|&i| self.holes[i].meta.lists(&failure.name)).collect();
            listing.iter().copied().find(|&i| open(&self.holes[i])).or(listing.first().copied())
        })
    }

    /// The hole the first failing test points at, with that test: failures are taken
    /// in the book's order of the holes they point at, so the learner is sent to the
    /// earliest hole the book teaches that a test shows is not done.
    pub fn first_pointed<'f>(
        &self,
        failures: &'f [Failure],
        open: &dyn Fn(&Hole) -> bool,
    ) -> Option<(usize, &'f Failure)> {
        failures.iter().filter_map(|f| self.for_failure(f, open).map(|i| (i, f))).min_by_key(|(i, _)| *i)
    }
}

/// The ids of the holes whose `todo!()` is still in the learner's file, word for word
/// (as [`crate::exercise::MarkedFile::open_in`] counts them); a missing file has every
/// hole open.
pub fn open_holes(root: &Path, holes: &ChapterHoles) -> BTreeSet<String> {
    let mut files: BTreeMap<&Path, Option<String>> = BTreeMap::new();
    holes
        .holes
        .iter()
        .filter(|hole| {
            let text = files
                .entry(hole.learner_file.as_path())
                .or_insert_with(|| fs::read_to_string(root.join(&hole.learner_file)).ok());
            let todo = format!("todo!({:?});", hole.marker.replace('{', "{{").replace('}', "}}"));
            text.as_deref().is_none_or(|t| t.lines().any(|l| l.trim() == todo))
        })
        .map(|hole| hole.meta.id.clone())
        .collect()
}

/// The ids mdBook gives the headings of a page (and `{#id}` attributes), in order:
/// the heading's text, lower-cased, spaces to `-`, everything but letters, digits,
/// `_` and `-` dropped, and `-1`, `-2` … after a repeat (mdbook-html's `id_from_content`
/// and `unique_id`). Parsed with mdBook's own Markdown options.
pub fn heading_ids(markdown: &str) -> Vec<String> {
    use mdbook_markdown::pulldown_cmark::{Event, Tag, TagEnd};
    let mut ids = Vec::new();
    let mut used = BTreeSet::new();
    let mut text: Option<(String, Option<String>)> = None;
    for event in mdbook_markdown::new_cmark_parser(markdown, &Default::default()) {
        match event {
            Event::Start(Tag::Heading { id, .. }) => text = Some((String::new(), id.map(|i| i.to_string()))),
            Event::Text(t) | Event::Code(t) => {
                if let Some((s, _)) = text.as_mut() {
                    s.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((s, explicit)) = text.take() {
                    let id = explicit.unwrap_or_else(|| {
                        let base: String = s
                            .trim()
                            .to_lowercase()
                            .chars()
                            .filter_map(|c| {
                                if c.is_alphanumeric() || c == '_' || c == '-' {
                                    Some(c)
                                } else if c.is_whitespace() {
                                    Some('-')
                                } else {
                                    None
                                }
                            })
                            .collect();
                        let mut id = base.clone();
                        let mut n = 0;
                        while used.contains(&id) {
                            n += 1;
                            id = format!("{base}-{n}");
                        }
                        id
                    });
                    used.insert(id.clone());
                    ids.push(id);
                }
            }
            _ => {}
        }
    }
    ids
}

/// The names of the tests a chapter has: `#[test]` functions of its `tests/*.rs` files
/// (libtest names them by the function), and those of `mod tests` in its module's
/// files (named `<module path>::tests::<function>`).
pub fn chapter_tests(root: &Path, chapter: &Chapter) -> Result<BTreeSet<String>, ChapterError> {
    let mut out = BTreeSet::new();
    let tests_dir = chapter.dir.join("tests");
    if let Ok(entries) = fs::read_dir(&tests_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = read(&path)?;
                out.extend(test_functions(&text));
            }
        }
    }
    if let Some(tree) = chapter.tree(root)? {
        for file in tree.files() {
            let text = read(&root.join(&file.source))?;
            let mut path = vec![tree.name.clone()];
            let stem = file.rel.with_extension("");
            for part in stem.components() {
                let part = part.as_os_str().to_string_lossy();
                if part != "mod" && !(path.len() == 1 && part == tree.name) {
                    path.push(part.into_owned());
                }
            }
            if let Some(at) = text.find("mod tests {") {
                for name in test_functions(&text[at..]) {
                    out.insert(format!("{}::tests::{name}", path.join("::")));
                }
            }
        }
    }
    Ok(out)
}

/// The pages SUMMARY.md links to, in its order, relative to `book/src`.
pub fn summary_pages(summary: &str) -> Vec<String> {
    summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.trim().to_owned()))
        .filter(|target| target.ends_with(".md"))
        .collect()
}

fn read(path: &Path) -> Result<String, ChapterError> {
    fs::read_to_string(path).map_err(|source| ChapterError::Read { path: path.to_owned(), source })
}

/// The functions of `source` that carry a `#[test]` attribute (other attributes and
/// doc comments may sit between the two).
fn test_functions(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut armed = false;
    for line in source.lines() {
        let t = line.trim();
        if t == "#[test]" {
            armed = true;
        } else if armed {
            if let Some(name) = t.strip_prefix("fn ").or_else(|| t.strip_prefix("async fn ")) {
                out.push(name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
                armed = false;
            } else if !(t.starts_with("#[") || t.starts_with("///") || t.starts_with("//") || t.is_empty()) {
                armed = false;
            }
        }
    }
    out
}

/// A line of code as compared with a hint: whitespace runs made one space, and the
/// `;`, `,` or `{` that ends a line dropped.
pub fn normalize_code(line: &str) -> String {
    let joined = line.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches([';', ',', '{']).trim_end().to_owned()
}

/// Phrases that send the learner back to the test output they have just read.
const BACK_TO_THE_TESTS: [&str; 4] =
    ["run the tests", "read the failing test", "run `cargo test", "read the failure"];

/// Everything wrong with a chapter's `[[holes]]`: entries and markers that do not tie
/// up, a `section` whose page or heading the book lacks, a test the chapter does not
/// have, fewer than three levels, a hint that quotes an answer line (normalised, over
/// 20 characters) or sends the learner back to the tests. `book_src` is `book/src`.
pub fn lint(root: &Path, chapter: &Chapter, book_src: &Path) -> Result<Vec<String>, ChapterError> {
    let code = code_holes(root, chapter)?;
    let tied = tie(&chapter.meta.holes, &code);
    let toml = Path::new("chapters").join(&chapter.dir_name).join("chapter.toml");
    let mut problems: Vec<String> =
        tied.problems.iter().map(|p| format!("{}: {p}", toml.display())).collect();
    let tests = chapter_tests(root, chapter)?;
    let summary = fs::read_to_string(book_src.join("SUMMARY.md")).unwrap_or_default();
    let order = summary_pages(&summary);
    let mut pages: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    // The place in the book of the entry before, to check the entries' order.
    let mut previous: Option<((usize, usize), &str)> = None;
    for entry in &chapter.meta.holes {
        let mut say =
            |what: String| problems.push(format!("{}: hole {:?}: {what}", toml.display(), entry.id));
        let (page, anchor) = entry.page_and_anchor();
        let ids = pages
            .entry(page.to_owned())
            .or_insert_with(|| fs::read_to_string(book_src.join(page)).ok().map(|t| heading_ids(&t)));
        let ids: Option<&[String]> = ids.as_deref();
        match (ids, anchor) {
            (None, _) => say(format!("section {:?}: no page book/src/{page}", entry.section)),
            (Some(_), None) => say(format!(
                "section {:?} names no heading; add `#<heading id>` (the id mdBook gives the heading)",
                entry.section
            )),
            (Some(ids), Some(anchor)) if !ids.iter().any(|id| id == anchor) => say(format!(
                "section {:?}: book/src/{page} has no heading with the id {anchor:?}; its headings are {}",
                entry.section,
                ids.join(", ")
            )),
            _ => {}
        }
        let page_at = order.iter().position(|p| p == page);
        let heading_at = anchor.and_then(|a| ids?.iter().position(|id| id == a));
        if let (Some(page_at), Some(heading_at)) = (page_at, heading_at) {
            let here = (page_at, heading_at);
            if let Some((_, id)) = previous.filter(|(before, _)| *before > here) {
                say(format!(
                    "the book teaches it ({}) before hole {id:?}; list the entries in the book's order \
                     (SUMMARY.md's pages, then each page's headings)",
                    entry.section
                ));
            } else {
                previous = Some((here, entry.id.as_str()));
            }
        }
        if entry.tests.is_empty() {
            say("lists no tests; name the chapter tests that fail while it is todo!()".to_owned());
        }
        for test in &entry.tests {
            let known = tests.contains(test) || (!test.contains("::") && tests.iter().any(|t| t == test));
            if !known {
                say(format!("test {test:?} is not a test of {}", chapter.package()));
            }
        }
        if entry.hints.len() < MIN_LEVELS {
            say(format!(
                "has {} hint level(s); give at least {MIN_LEVELS}: the concept and the book section, \
                 the call and its man page, then the shape of the answer",
                entry.hints.len()
            ));
        }
        let body = code
            .iter()
            .find(|c| c.source == entry.file && c.function.as_deref() == Some(entry.function()))
            .map(|c| c.body.clone())
            .unwrap_or_default();
        for (level, hint) in entry.hints.iter().enumerate() {
            let normalized = normalize_code(hint);
            for line in &body {
                let t = line.trim();
                if t.starts_with("//") {
                    continue;
                }
                let code_line = normalize_code(t);
                if code_line.len() > MAX_QUOTED_LEN && normalized.contains(&code_line) {
                    say(format!("hint {} quotes the answer line `{code_line}`", level + 1));
                }
            }
            let lower = hint.to_lowercase();
            if let Some(phrase) = BACK_TO_THE_TESTS.iter().find(|p| lower.contains(*p)) {
                say(format!(
                    "hint {} sends the learner back to the tests ({phrase:?}); they have just read them",
                    level + 1
                ));
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, file: &str, tests: &[&str]) -> HoleMeta {
        HoleMeta {
            id: id.into(),
            file: file.into(),
            section: "01-x/page.md#a-heading".into(),
            tests: tests.iter().map(|t| (*t).to_owned()).collect(),
            hints: vec!["a".into(), "b".into(), "c".into()],
        }
    }

    fn code(file: &str, function: &str, marker: &str, index: usize) -> CodeHole {
        CodeHole {
            source: file.into(),
            learner_file: PathBuf::from("exercises/01-x").join(Path::new(file).file_name().unwrap()),
            function: Some(function.into()),
            marker: marker.into(),
            index_in_file: index,
            open_line: 10 + index,
            body: vec!["    42".into()],
        }
    }

    fn failure(name: &str, message: &str) -> Failure {
        Failure { name: name.into(), message: message.into(), location: None }
    }

    /// Two holes in the product, listed in the book's order (the reverse of the file's).
    fn two_holes() -> ChapterHoles {
        let code = [
            code("a.rs", "first", "Open the file.", 0),
            code("a.rs", "second", "Open the file and read it.", 1),
        ];
        let entries =
            [meta("second", "a.rs", &["reads", "shared"]), meta("first", "a.rs", &["opens", "shared"])];
        let tied = tie(&entries, &code);
        assert!(tied.problems.is_empty(), "{:?}", tied.problems);
        tied
    }

    /// A todo!() message points at the hole whose marker it carries, even when another
    /// hole's marker is a prefix of it and when it is nested in another message.
    #[test]
    fn a_panic_message_points_at_its_hole() {
        let holes = two_holes();
        let all_open = |_: &Hole| true;
        let nested = failure("opens", "the init died:\nnot yet implemented: Open the file and read it.");
        assert_eq!(holes.for_failure(&nested, &all_open), Some(0), "the longer marker, `second`, wins");
        let plain = failure("x", "not yet implemented: Open the file.");
        assert_eq!(holes.for_failure(&plain, &all_open), Some(1));
    }

    /// Without a todo!() in the message, the tests lists decide, preferring an open hole.
    #[test]
    fn a_wrong_answer_points_by_the_tests_lists() {
        let holes = two_holes();
        let wrong = failure("module::opens", "assertion `left == right` failed");
        assert_eq!(holes.for_failure(&wrong, &|_: &Hole| true), Some(1));
        let shared = failure("shared", "assertion failed");
        assert_eq!(holes.for_failure(&shared, &|_: &Hole| true), Some(0), "book order first");
        assert_eq!(holes.for_failure(&shared, &|h: &Hole| h.meta.id == "first"), Some(1), "open first");
        assert_eq!(holes.for_failure(&failure("unlisted", "boom"), &|_: &Hole| true), None);
    }

    /// Of several failures, the one whose hole the book teaches first is taken.
    #[test]
    fn the_first_failure_in_book_order() {
        let holes = two_holes();
        let failures =
            [failure("opens", "not yet implemented: Open the file."), failure("reads", "left: 1, right: 2")];
        let (hole, test) = holes.first_pointed(&failures, &|_: &Hole| true).unwrap();
        assert_eq!((holes.holes[hole].meta.id.as_str(), test.name.as_str()), ("second", "reads"));
        assert_eq!(holes.first_pointed(&[failure("unlisted", "boom")], &|_: &Hole| true), None);
    }

    /// Leftovers on either side are named; two holes of one function tie in order.
    #[test]
    fn ties_entries_to_markers() {
        let code =
            [code("a.rs", "f", "One.", 0), code("a.rs", "f", "Two.", 1), code("b.rs", "g", "Three.", 0)];
        let entries =
            [meta("f.one", "a.rs", &["t"]), meta("f.two", "a.rs", &["t"]), meta("h", "b.rs", &["t"])];
        let tied = tie(&entries, &code);
        assert_eq!(tied.holes.iter().map(|h| h.marker.as_str()).collect::<Vec<_>>(), ["One.", "Two."]);
        assert_eq!(tied.problems.len(), 2, "{:?}", tied.problems);
        assert!(tied.problems[0].contains("id = \"h\": no hole in `fn h` of b.rs"), "{:?}", tied.problems);
        assert!(tied.problems[1].contains("b.rs:10: the hole in `fn g` has no [[holes]] entry"));
        let dup = tie(&[meta("f", "a.rs", &[]), meta("f", "a.rs", &[])], &code[..1]);
        assert!(dup.problems.iter().any(|p| p.contains("is there twice")), "{:?}", dup.problems);
    }

    #[test]
    fn finds_the_enclosing_function() {
        let src = "impl X {\n    pub(crate) fn start(&self) {\n        let f = |x| x;\n        // exercise: Go.\n        go();\n        // end exercise\n    }\n}\nfn after() {}\n";
        let lines: Vec<&str> = src.lines().collect();
        assert_eq!(enclosing_function(&lines, 4).as_deref(), Some("start"));
        assert_eq!(enclosing_function(&lines, 1), None);
    }

    /// Heading ids follow mdBook: code spans keep their text, punctuation goes, repeats
    /// are numbered, `{#id}` wins, and a `#` inside a code block is not a heading.
    #[test]
    fn heading_ids_as_mdbook_gives_them() {
        let page = "# A container is a process\n\n## Fork, then `exec`\n\n## Notes\n\n## Notes\n\n\
                    ## The exercise {#exercise}\n\n```console\n# not a heading\n```\n";
        assert_eq!(
            heading_ids(page),
            ["a-container-is-a-process", "fork-then-exec", "notes", "notes-1", "exercise"]
        );
    }

    #[test]
    fn book_urls_and_test_names() {
        let m = meta("find_program", "p.rs", &["absent", "cgroups::files::tests::removes"]);
        assert_eq!(m.book_url(), "http://127.0.0.1:3000/01-x/page.html#a-heading");
        assert!(m.lists("absent") && m.lists("mod::absent") && m.lists("cgroups::files::tests::removes"));
        assert!(!m.lists("tests::removes") && !m.lists("absent_too"));
        assert_eq!(meta("reap_and_forward.reap", "p.rs", &[]).function(), "reap_and_forward");
    }

    #[test]
    fn finds_test_functions() {
        let src = "#[test]\n/// Proves it.\n#[ignore]\nfn one() {}\n\nfn helper() {}\n#[test]\nfn two() {}\n#[test]\nstruct NotATest;\nfn three() {}\n";
        assert_eq!(test_functions(src), ["one", "two"]);
        assert_eq!(normalize_code("    chroot(root_c.as_c_str())?;  "), "chroot(root_c.as_c_str())?");
    }

    /// A workspace with one chapter of two holes, its book and its tests; `toml` is
    /// chapter.toml's `[[holes]]` part.
    fn lint_fixture(holes_toml: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("crates/demo/Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n"),
            (
                "crates/demo/src/calc.rs",
                "pub fn add(a: u32, b: u32) -> u32 {\n    // exercise: Add them.\n    let total = a.checked_add(b).unwrap();\n    total\n    // end exercise\n}\n\n\
                 pub fn sub(a: u32, b: u32) -> u32 {\n    // exercise: Subtract b.\n    a - b\n    // end exercise\n}\n",
            ),
            ("chapters/01-calc/tests/calc.rs", "#[test]\nfn adds() {}\n#[test]\nfn subtracts() {}\n"),
            ("book/src/SUMMARY.md", "# Summary\n\n- [Sums](01-calc/sums.md)\n- [Differences](01-calc/differences.md)\n"),
            ("book/src/01-calc/sums.md", "# Sums\n\n## Adding two numbers\n"),
            ("book/src/01-calc/differences.md", "# Differences\n\n## Taking away {#minus}\n"),
        ];
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let toml = format!(
            "id = \"calc\"\ntitle = \"Calc\"\nbuilds = \"Sums.\"\nmodule = \"crates/demo/src/calc.rs\"\n{holes_toml}"
        );
        fs::write(dir.path().join("chapters/01-calc/chapter.toml"), toml).unwrap();
        let ws = crate::chapter::Workspace::at(dir.path());
        let chapter = ws.chapter(1).unwrap();
        lint(dir.path(), &chapter, &dir.path().join("book/src")).unwrap()
    }

    const ADD: &str = "[[holes]]\nid = \"add\"\nfile = \"crates/demo/src/calc.rs\"\n\
                       section = \"01-calc/sums.md#adding-two-numbers\"\ntests = [\"adds\"]\n\
                       hints = [\"Addition.\", \"u32::checked_add.\", \"Add and unwrap.\"]\n";
    const SUB: &str = "[[holes]]\nid = \"sub\"\nfile = \"crates/demo/src/calc.rs\"\n\
                       section = \"01-calc/differences.md#minus\"\ntests = [\"subtracts\"]\n\
                       hints = [\"Subtraction.\", \"The - operator.\", \"a minus b.\"]\n";

    /// Each check of `lint` fails on a fixture that breaks it, and only then.
    #[test]
    fn lint_names_each_broken_entry() {
        let fails = |toml: &str, expected: &str| {
            let problems = lint_fixture(toml);
            assert!(
                problems.len() == 1 && problems[0].contains(expected),
                "expected one problem with {expected:?}, got {problems:#?}"
            );
        };
        assert_eq!(lint_fixture(&format!("{ADD}{SUB}")), Vec::<String>::new());
        fails(ADD, "calc.rs:9: the hole in `fn sub` has no [[holes]] entry");
        let extra = ADD.replace("id = \"add\"", "id = \"mul\"");
        assert!(lint_fixture(&format!("{extra}{SUB}")).iter().any(|p| p.contains("no hole in `fn mul`")));
        fails(
            &format!("{}{SUB}", ADD.replace("sums.md#", "products.md#")),
            "no page book/src/01-calc/products.md",
        );
        fails(
            &format!("{}{SUB}", ADD.replace("#adding-two-numbers", "#adding")),
            "has no heading with the id \"adding\"",
        );
        fails(
            &format!("{}{SUB}", ADD.replace("[\"adds\"]", "[\"adds\", \"multiplies\"]")),
            "test \"multiplies\" is not a test of chapter-1",
        );
        fails(&format!("{}{SUB}", ADD.replace("[\"adds\"]", "[]")), "lists no tests");
        fails(&format!("{}{SUB}", ADD.replace(", \"Add and unwrap.\"", "")), "has 2 hint level(s)");
        fails(
            &format!("{}{SUB}", ADD.replace("Add and unwrap.", "let total = a.checked_add(b).unwrap()")),
            "hint 3 quotes the answer line `let total = a.checked_add(b).unwrap()`",
        );
        fails(
            &format!("{}{SUB}", ADD.replace("Addition.", "Run the tests and see.")),
            "sends the learner back to the tests",
        );
        fails(
            &format!("{SUB}{ADD}"),
            "the book teaches it (01-calc/sums.md#adding-two-numbers) before hole \"sub\"",
        );
    }
}
