//! The instructor's view in the book: an mdBook preprocessor that shows the class
//! segments of `chapters/NN-topic/chapter.toml` on the pages they teach.
//!
//! A page named in a segment's `pages` gets the segment's minutes under its title and
//! the segment's notes at its end, collapsed as speaker notes (Comprehensive Rust's
//! way). Directives, for the instructor guide: `{{#segments-table}}` writes every
//! chapter's segments as tables; `{{#minutes 4 5.2}}` is the sum of chapter 4's
//! minutes and those of chapter 5's second segment. Editing chapter.toml updates both.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use crate::chapter::{parse_dir_name, Chapter, ChapterError, Segment, Workspace};

/// The HTML element that holds a page's speaker notes.
pub const NOTES_OPEN: &str = r#"<details class="speaker-notes">"#;

/// What stops a page from being rewritten, or the segments from matching the book.
#[derive(Debug, thiserror::Error)]
pub enum SegmentsError {
    #[error(transparent)]
    Chapter(#[from] ChapterError),
    #[error("{page}: `{{{{#minutes {arg}}}}}`: {reason}")]
    Minutes { page: PathBuf, arg: String, reason: String },
    #[error("{page}: `{{{{#{directive}}}}}` is not a directive of ours; the book knows `{{{{#segments-table}}}}` and `{{{{#minutes N[.S] …}}}}`")]
    UnknownDirective { page: PathBuf, directive: String },
}

/// The preprocessor: registered on the `MDBook` by `book::build_book`.
pub struct Segments;

impl Segments {
    /// Its name, as mdBook's `[preprocessor.<name>]` tables would spell it.
    pub const NAME: &'static str = "segments";
}

impl Preprocessor for Segments {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook_preprocessor::errors::Result<Book> {
        let root = ctx.root.parent().unwrap_or(Path::new(".")).to_owned();
        let src = ctx.root.join(&ctx.config.book.src);
        let chapters = written_chapters(&root)?;
        let titles = page_titles(&book);
        let by_page = segments_by_page(&chapters);
        let being_written = parts_being_written(&src, &chapters);
        let failure = RefCell::new(None);
        book.for_each_mut(|item| {
            let BookItem::Chapter(page) = item else { return };
            let Some(path) = &page.path else { return };
            if failure.borrow().is_some() {
                return;
            }
            let here = Here { page: path, titles: &titles };
            let mut content = match expand(&page.content, &chapters, &being_written, &here) {
                Ok(content) => content,
                Err(e) => {
                    *failure.borrow_mut() = Some(e);
                    return;
                }
            };
            if let Some(segments) = by_page.get(path) {
                content = annotate(&content, segments, &here);
            }
            page.content = content;
        });
        match failure.into_inner() {
            Some(e) => Err(e.into()),
            None => Ok(book),
        }
    }
}

/// The chapters of the workspace at `root`; none when it has no `chapters/` (a book
/// built on its own, as in tests).
pub fn written_chapters(root: &Path) -> Result<Vec<Chapter>, ChapterError> {
    if !root.join("chapters").is_dir() {
        return Ok(Vec::new());
    }
    Workspace::at(root).chapters()
}

/// A segment as a page shows it: its chapter, its place among the chapter's segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSegment {
    pub chapter: u32,
    /// 1-based.
    pub index: usize,
    /// How many segments the chapter has.
    pub of: usize,
    pub segment: Segment,
}

/// Every page named by a segment (`NN-topic/page.md`, as SUMMARY.md names it), with its
/// segments in the chapters' order.
pub fn segments_by_page(chapters: &[Chapter]) -> BTreeMap<PathBuf, Vec<PageSegment>> {
    let mut map: BTreeMap<PathBuf, Vec<PageSegment>> = BTreeMap::new();
    for chapter in chapters {
        let of = chapter.meta.segments.len();
        for (i, segment) in chapter.meta.segments.iter().enumerate() {
            for page in &segment.pages {
                map.entry(Path::new(&chapter.dir_name).join(page)).or_default().push(PageSegment {
                    chapter: chapter.number,
                    index: i + 1,
                    of,
                    segment: segment.clone(),
                });
            }
        }
    }
    map
}

/// Every page's title, keyed by its path in SUMMARY.md.
fn page_titles(book: &Book) -> BTreeMap<PathBuf, String> {
    let mut titles = BTreeMap::new();
    for item in book.iter() {
        if let BookItem::Chapter(chapter) = item {
            if let Some(path) = &chapter.path {
                titles.insert(path.clone(), chapter.name.clone());
            }
        }
    }
    titles
}

/// The page being rewritten: its path in SUMMARY.md, and every page's title for links.
pub struct Here<'a> {
    pub page: &'a Path,
    pub titles: &'a BTreeMap<PathBuf, String>,
}

impl Here<'_> {
    /// A Markdown link from this page to `target` (a path in SUMMARY.md), titled as the book
    /// titles it; the bare path for a page the book does not have.
    fn link(&self, target: &Path) -> String {
        let Some(title) = self.titles.get(target) else { return format!("`{}`", target.display()) };
        let href = match (self.page.parent(), target.parent(), target.file_name()) {
            (Some(here), Some(there), Some(name)) if here == there => PathBuf::from(name),
            _ => Path::new(&"../".repeat(self.page.components().count().saturating_sub(1))).join(target),
        };
        format!("[{}]({})", inline(title), href.display())
    }
}

/// `text` made safe as inline Markdown: `<` (as in `/proc/<pid>/ns`) and `|` (a table
/// cell's end) escaped outside code spans, so a name is shown as written.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
        } else {
            out.push_str(&part.replace('<', "&lt;").replace('|', "\\|"));
        }
    }
    out
}

fn minutes_word(n: u32) -> String {
    format!("{n} minute{}", if n == 1 { "" } else { "s" })
}

/// `content` with its segments' minutes under its title (or at its top, without one)
/// and their notes collapsed at its end.
pub fn annotate(content: &str, segments: &[PageSegment], here: &Here) -> String {
    let (head, body) = match content.find('\n').filter(|_| content.starts_with("# ")) {
        Some(end) => content.split_at(end + 1),
        None => ("", content),
    };
    let gap = if head.is_empty() { "" } else { "\n" };
    let mut out = format!("{head}{gap}{}\n\n{}", banner(segments, here), body.trim_start_matches('\n'));
    if let Some(notes) = speaker_notes(segments) {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&notes);
    }
    out
}

/// One quoted line per segment: its minutes, its place in the chapter, its name, and
/// the other pages it spans.
fn banner(segments: &[PageSegment], here: &Here) -> String {
    let dir = here.page.parent().unwrap_or(Path::new(""));
    let lines: Vec<String> = segments
        .iter()
        .map(|s| {
            let mut line = format!(
                "> **In class: {}.** Segment {} of {} of chapter {}: *{}*",
                minutes_word(s.segment.minutes),
                s.index,
                s.of,
                s.chapter,
                inline(&s.segment.name)
            );
            let others: Vec<String> = s
                .segment
                .pages
                .iter()
                .map(|p| dir.join(p))
                .filter(|p| p != here.page)
                .map(|p| here.link(&p))
                .collect();
            if !others.is_empty() {
                let _ = write!(line, ", with {}", others.join(", "));
            }
            line + "."
        })
        .collect();
    lines.join("\n>\n")
}

/// The segments' notes in a collapsed `<details>`; None when none has notes.
fn speaker_notes(segments: &[PageSegment]) -> Option<String> {
    let noted: Vec<&PageSegment> = segments.iter().filter(|s| !s.segment.notes.trim().is_empty()).collect();
    if noted.is_empty() {
        return None;
    }
    let mut out = format!("{NOTES_OPEN}<summary>Speaker notes</summary>\n\n");
    for s in noted {
        let _ = write!(
            out,
            "**{}** ({}): {}\n\n",
            inline(&s.segment.name),
            minutes_word(s.segment.minutes),
            inline(s.segment.notes.trim())
        );
    }
    out.push_str("</details>\n");
    Some(out)
}

/// The book parts under `src` (`NN-topic/`) that have no chapter.toml yet, as
/// `(number, title)`; the title is the first heading of the part's index.md.
pub fn parts_being_written(src: &Path, chapters: &[Chapter]) -> Vec<(u32, String)> {
    let mut parts: Vec<(u32, String)> = fs::read_dir(src)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let (number, topic) = parse_dir_name(&name)?;
            if chapters.iter().any(|c| c.number == number) {
                return None;
            }
            let index = fs::read_to_string(entry.path().join("index.md")).unwrap_or_default();
            let title = index
                .lines()
                .find_map(|l| l.strip_prefix("# "))
                .map(|t| t.trim().to_owned())
                .unwrap_or_else(|| topic.replace('-', " "));
            Some((number, title))
        })
        .collect();
    parts.sort();
    parts
}

/// `content` with our directives expanded; other `{{#…}}` directives are left to mdBook.
pub fn expand(
    content: &str,
    chapters: &[Chapter],
    being_written: &[(u32, String)],
    here: &Here,
) -> Result<String, SegmentsError> {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(at) = rest.find("{{#") {
        let Some(len) = rest[at..].find("}}") else { break };
        let directive = rest[at + 3..at + len].trim();
        let escaped = rest[..at].ends_with('\\');
        out.push_str(&rest[..at]);
        let whole = &rest[at..at + len + 2];
        rest = &rest[at + len + 2..];
        let (kind, arg) = directive.split_once(char::is_whitespace).unwrap_or((directive, ""));
        match kind {
            _ if escaped => out.push_str(whole),
            "segments-table" if arg.trim().is_empty() => out.push_str(&table(chapters, being_written, here)),
            "minutes" => out.push_str(&minutes(chapters, arg.trim(), here.page)?.to_string()),
            k if k.starts_with("segments") => {
                return Err(SegmentsError::UnknownDirective {
                    page: here.page.into(),
                    directive: directive.into(),
                })
            }
            _ => out.push_str(whole),
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The minutes `arg` names: a sum over chapter numbers (`4`, the chapter's total) and
/// segments (`5.2`, chapter 5's second segment).
pub fn minutes(chapters: &[Chapter], arg: &str, page: &Path) -> Result<u32, SegmentsError> {
    let fail = |reason: String| SegmentsError::Minutes { page: page.into(), arg: arg.into(), reason };
    if arg.is_empty() {
        return Err(fail("name a chapter (4) or a segment (4.2)".into()));
    }
    let mut sum = 0;
    for item in arg.split_whitespace() {
        let (number, segment) = match item.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (item, None),
        };
        let parse = |s: &str| {
            s.parse::<usize>().map_err(|_| fail(format!("`{item}` is not a chapter (4) or a segment (4.2)")))
        };
        let number = parse(number)?;
        let Some(chapter) = chapters.iter().find(|c| c.number as usize == number) else {
            return Err(fail(format!(
                "chapter {number} has no chapters/NN-topic/chapter.toml yet; give a chapter being written its planned minutes as plain text"
            )));
        };
        sum += match segment {
            None => chapter.minutes(),
            Some(s) => {
                let s = parse(s)?;
                let segments = &chapter.meta.segments;
                segments.get(s.wrapping_sub(1)).map(|seg| seg.minutes).ok_or_else(|| {
                    fail(format!("chapter {number} has segments 1 to {}, not {s}", segments.len()))
                })?
            }
        };
    }
    Ok(sum)
}

/// Every written chapter's segments as a table each (segment, minutes, pages), then the
/// parts that are being written.
pub fn table(chapters: &[Chapter], being_written: &[(u32, String)], here: &Here) -> String {
    let mut out = String::new();
    for chapter in chapters {
        let _ = write!(
            out,
            "**Chapter {}, {}: {}**\n\n| # | segment | minutes | pages |\n|---:|---|---:|---|\n",
            chapter.number,
            inline(&chapter.meta.title),
            minutes_word(chapter.minutes())
        );
        for (i, segment) in chapter.meta.segments.iter().enumerate() {
            let pages: Vec<String> =
                segment.pages.iter().map(|p| here.link(&Path::new(&chapter.dir_name).join(p))).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                i + 1,
                inline(&segment.name),
                segment.minutes,
                pages.join(", ")
            );
        }
        let _ = writeln!(out, "| | **total** | **{}** | |\n", chapter.minutes());
    }
    if !being_written.is_empty() {
        let names: Vec<String> = being_written.iter().map(|(n, t)| format!("{n} ({})", inline(t))).collect();
        let _ = writeln!(
            out,
            "Chapters {} are being written: they have no segments yet, and the plans below give them planned minutes.\n",
            names.join(", ")
        );
    }
    out
}

/// What is wrong between the chapters' segments and the book whose SUMMARY.md is
/// `summary`: a segment without pages shows its minutes nowhere; a page that is not a
/// file of the chapter's part, or not in SUMMARY.md, is never rendered with them.
pub fn check(chapters: &[Chapter], src: &Path, summary: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in chapters {
        let toml = format!("chapters/{}/chapter.toml", chapter.dir_name);
        for (i, segment) in chapter.meta.segments.iter().enumerate() {
            let place = format!("{toml}: segment {} ({:?})", i + 1, segment.name);
            if segment.pages.is_empty() {
                problems.push(format!(
                    "{place} has no pages: the book shows its minutes nowhere; add pages = [\"page.md\"] naming the pages of book/src/{}/ it teaches",
                    chapter.dir_name
                ));
            }
            for (j, page) in segment.pages.iter().enumerate() {
                let path = Path::new(&chapter.dir_name).join(page);
                if segment.pages[..j].contains(page) {
                    problems.push(format!("{place}: lists {page} twice"));
                } else if !src.join(&path).is_file() {
                    problems.push(format!(
                        "{place}: no page book/src/{}; was it renamed or split? name the pages as they are now",
                        path.display()
                    ));
                } else if !summary.contains(&format!("]({})", path.display())) {
                    problems.push(format!(
                        "{place}: book/src/SUMMARY.md does not list {}, so the book never shows it; add it there",
                        path.display()
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::ChapterMeta;

    fn segment(name: &str, minutes: u32, notes: &str, pages: &[&str]) -> Segment {
        Segment {
            name: name.into(),
            minutes,
            notes: notes.into(),
            pages: pages.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn chapter(number: u32, dir_name: &str, segments: Vec<Segment>) -> Chapter {
        Chapter {
            number,
            dir_name: dir_name.into(),
            dir: PathBuf::from("chapters").join(dir_name),
            meta: ChapterMeta {
                id: dir_name.into(),
                title: format!("Title {number}"),
                builds: String::new(),
                needs: Vec::new(),
                segments,
                mistakes: Vec::new(),
                equivalent: Vec::new(),
                module: None,
                holes: Vec::new(),
            },
        }
    }

    fn two_chapters() -> Vec<Chapter> {
        vec![
            chapter(
                1,
                "01-one",
                vec![
                    segment("History of /proc/<pid>", 25, "Show `ls /proc/<pid>` live.", &["history.md"]),
                    segment("Exercise", 40, "", &["exercise.md", "history.md"]),
                ],
            ),
            chapter(2, "02-two", vec![segment("All of it", 30, "Notes.", &["index.md"])]),
        ]
    }

    fn titles() -> BTreeMap<PathBuf, String> {
        [("01-one/history.md", "History"), ("01-one/exercise.md", "The exercise")]
            .into_iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_owned()))
            .collect()
    }

    /// A page shows each of its segments' minutes under its title, links the segment's
    /// other pages, and ends with the notes collapsed; `<` outside code is escaped.
    #[test]
    fn annotates_a_page() {
        let by_page = segments_by_page(&two_chapters());
        let titles = titles();
        let here = Here { page: Path::new("01-one/history.md"), titles: &titles };
        let out = annotate("# History\n\nText.\n", &by_page[Path::new("01-one/history.md")], &here);
        assert_eq!(
            out,
            "# History\n\n\
             > **In class: 25 minutes.** Segment 1 of 2 of chapter 1: *History of /proc/&lt;pid>*.\n>\n\
             > **In class: 40 minutes.** Segment 2 of 2 of chapter 1: *Exercise*, with [The exercise](exercise.md).\n\n\
             Text.\n\n\
             <details class=\"speaker-notes\"><summary>Speaker notes</summary>\n\n\
             **History of /proc/&lt;pid>** (25 minutes): Show `ls /proc/<pid>` live.\n\n\
             </details>\n"
        );
    }

    /// A page without a title gets the banner at its top; without notes, no details block.
    #[test]
    fn annotates_a_page_without_title_or_notes() {
        let by_page = segments_by_page(&two_chapters());
        let titles = titles();
        let here = Here { page: Path::new("01-one/exercise.md"), titles: &titles };
        let out = annotate("Text.\n", &by_page[Path::new("01-one/exercise.md")], &here);
        assert_eq!(
            out,
            "> **In class: 40 minutes.** Segment 2 of 2 of chapter 1: *Exercise*, with [History](history.md).\n\nText.\n"
        );
    }

    /// `{{#minutes}}` sums chapters and segments; a chapter being written, a segment out of
    /// range and a misspelt directive of ours fail, naming the page; mdBook's are left alone.
    #[test]
    fn expands_minutes() {
        let chapters = two_chapters();
        let titles = titles();
        let here = Here { page: Path::new("appendix/guide.md"), titles: &titles };
        let out = expand(
            "a {{#minutes 1}} b {{#minutes 1.2 2}} {{#include x.rs:y}} \\{{#minutes 9}}",
            &chapters,
            &[],
            &here,
        )
        .unwrap();
        assert_eq!(out, "a 65 b 70 {{#include x.rs:y}} \\{{#minutes 9}}");
        for (bad, says) in [
            ("{{#minutes 7}}", "chapter 7 has no chapters/NN-topic/chapter.toml yet"),
            ("{{#minutes 1.3}}", "chapter 1 has segments 1 to 2, not 3"),
            ("{{#minutes 1.0}}", "chapter 1 has segments 1 to 2, not 0"),
            ("{{#minutes x}}", "`x` is not a chapter"),
            ("{{#minutes}}", "name a chapter"),
            ("{{#segments-tabel}}", "not a directive of ours"),
        ] {
            let err = expand(bad, &chapters, &[], &here).unwrap_err().to_string();
            assert!(err.starts_with("appendix/guide.md: ") && err.contains(says), "{bad}: {err}");
        }
    }

    /// The table has a row per segment with its pages linked, a total per chapter, and
    /// names the parts being written.
    #[test]
    fn writes_the_table() {
        let titles = titles();
        let here = Here { page: Path::new("appendix/guide.md"), titles: &titles };
        let out = table(&two_chapters(), &[(7, "Networking".into())], &here);
        assert!(
            out.starts_with("**Chapter 1, Title 1: 65 minutes**\n\n| # | segment | minutes | pages |\n"),
            "{out}"
        );
        assert!(
            out.contains("| 1 | History of /proc/&lt;pid> | 25 | [History](../01-one/history.md) |\n"),
            "{out}"
        );
        assert!(out.contains("| 2 | Exercise | 40 | [The exercise](../01-one/exercise.md), [History](../01-one/history.md) |\n"));
        assert!(out.contains("| | **total** | **65** | |\n\n**Chapter 2, Title 2: 30 minutes**"));
        assert!(out.contains("| 1 | All of it | 30 | `02-two/index.md` |\n"));
        assert!(out.ends_with("Chapters 7 (Networking) are being written: they have no segments yet, and the plans below give them planned minutes.\n\n"));
    }

    /// The check names a segment without pages, a missing page, one not in SUMMARY.md,
    /// and a page listed twice; a good segment passes.
    #[test]
    fn checks_segments_against_the_book() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("01-one")).unwrap();
        fs::write(dir.path().join("01-one/history.md"), "# History\n").unwrap();
        fs::write(dir.path().join("01-one/hidden.md"), "# Hidden\n").unwrap();
        let chapters = vec![chapter(
            1,
            "01-one",
            vec![
                segment("Good", 10, "", &["history.md"]),
                segment("Empty", 10, "", &[]),
                segment("Drifted", 10, "", &["gone.md", "hidden.md", "history.md", "history.md"]),
            ],
        )];
        let summary = "# Summary\n\n- [History](01-one/history.md)\n";
        let problems = check(&chapters, dir.path(), summary);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("segment 2 (\"Empty\") has no pages"));
        assert!(problems[1].contains("no page book/src/01-one/gone.md"));
        assert!(problems[2].contains("SUMMARY.md does not list 01-one/hidden.md"));
        assert!(problems[3].contains("lists history.md twice"));
    }

    /// Parts without a chapter.toml are named by their index page's title.
    #[test]
    fn finds_parts_being_written() {
        let dir = tempfile::tempdir().unwrap();
        for (part, index) in
            [("01-one", "# One\n"), ("07-networking", "# Networking\n\nSoon.\n"), ("appendix", "")]
        {
            fs::create_dir_all(dir.path().join(part)).unwrap();
            fs::write(dir.path().join(part).join("index.md"), index).unwrap();
        }
        let chapters = vec![chapter(1, "01-one", Vec::new())];
        assert_eq!(parts_being_written(dir.path(), &chapters), vec![(7, "Networking".to_owned())]);
    }
}
