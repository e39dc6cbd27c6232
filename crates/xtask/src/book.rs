//! `cargo xtask book`: build the book and check what a reader would trip on.
//!
//! - Every `{{#include path:anchor}}` names a file that exists and an anchor
//!   that holds code (STYLE.md: never line ranges, never whole files).
//! - Every internal link and `#fragment` in the built HTML points at a page and
//!   an element id that exist.
//! - No answer line of a hole is shown outside a collapsed solution block.
//! - Every line of a ```` ```text ```` figure fits in [`FIGURE_COLUMNS`] columns, so it
//!   is neither cut off on a narrow screen nor wrapped into garbage in print.
//! - Every class segment of a chapter.toml names the pages it teaches, and each of
//!   them is a page of the chapter's part listed in SUMMARY.md, so the book shows its
//!   minutes and speaker notes (`bigbang_workshop::segments`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use bigbang_workshop::answers::{
    anchor_text, answer_lines, html_forms, lines_outside_holes, outside_solutions, AnswerLine,
};
use bigbang_workshop::chapter::Workspace;
use bigbang_workshop::check::normalize;
use bigbang_workshop::exercise::MarkedFile;

/// Markdown files under `dir`, recursively, in a stable order.
fn files_with_extension(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> =
        fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            files_with_extension(&path, ext, out)?;
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    Ok(())
}

/// What the `{{#include}}` directives of the pages name.
pub struct Includes {
    /// Broken directives, one line each.
    pub problems: Vec<String>,
    /// The files they include, normalized.
    pub files: BTreeSet<PathBuf>,
}

/// Problems with the `{{#include}}` directives of every page under `src`, and the files
/// they include.
pub fn check_includes(src: &Path) -> Result<Includes> {
    let mut pages = Vec::new();
    files_with_extension(src, "md", &mut pages)?;
    let mut problems = Vec::new();
    let mut files = BTreeSet::new();
    for page in pages {
        let text = fs::read_to_string(&page)?;
        let mut rest = text.as_str();
        while let Some(at) = rest.find("{{#") {
            let Some(end) = rest[at..].find("}}") else { break };
            let directive = &rest[at + 3..at + end];
            rest = &rest[at + end + 2..];
            let mut words = directive.split_whitespace();
            let (Some(kind), Some(arg)) = (words.next(), words.next()) else { continue };
            if !matches!(kind, "include" | "rustdoc_include") {
                continue;
            }
            let place = format!("{}: {{{{#{directive}}}}}", page.display());
            let (file, anchor) = match arg.split_once(':') {
                Some((file, anchor)) => (file, anchor),
                None => {
                    problems.push(format!("{place}: includes a whole file; include a named anchor"));
                    continue;
                }
            };
            if anchor.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                problems.push(format!("{place}: a line range drifts when the code changes; use an anchor"));
                continue;
            }
            let target = page.parent().unwrap_or(src).join(file);
            match fs::read_to_string(&target) {
                Err(_) => problems.push(format!("{place}: no file {}", target.display())),
                Ok(source) => match anchor_text(&source, anchor) {
                    None => problems.push(format!("{place}: no `ANCHOR: {anchor}` in {}", target.display())),
                    Some(text) if text.trim().is_empty() => {
                        problems.push(format!("{place}: anchor `{anchor}` is empty"))
                    }
                    Some(_) => {
                        files.insert(normalize(&target));
                    }
                },
            }
        }
    }
    Ok(Includes { problems, files })
}

/// The widest a line of a ```` ```text ```` block may be: what an 80-column terminal
/// shows, and what a printed A4 or Letter page holds at the print size of
/// book/theme/figures.css.
pub const FIGURE_COLUMNS: usize = 80;

/// Lines wider than [`FIGURE_COLUMNS`] in the ```` ```text ```` blocks of every page
/// under `src`, each as `page:line: N columns`. Width counts characters, not bytes: a
/// box-drawing `─` is three bytes and one column; in a fence indented by n spaces (in a
/// list), up to n leading spaces of each line are not shown, so not counted. Console sessions (```` ```console ````)
/// are not figures: their output is what the program prints, and stays as printed.
pub fn check_figure_widths(src: &Path) -> Result<Vec<String>> {
    let mut pages = Vec::new();
    files_with_extension(src, "md", &mut pages)?;
    let mut problems = Vec::new();
    for page in pages {
        let text = fs::read_to_string(&page)?;
        let shown = page.strip_prefix(src).unwrap_or(&page).display().to_string();
        // The open fence (its run of ` or ~), its indentation, and whether its info
        // string says `text`.
        let mut open: Option<(String, usize, bool)> = None;
        for (at, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let fence_len = trimmed.chars().take_while(|&c| c == '`' || c == '~').count();
            let fence = &trimmed[..fence_len];
            let uniform =
                fence_len >= 3 && (fence.bytes().all(|b| b == b'`') || fence.bytes().all(|b| b == b'~'));
            match &open {
                None if uniform => {
                    let info = trimmed[fence_len..].trim();
                    let language = info.split([',', ' ']).next().unwrap_or_default();
                    open = Some((fence.to_owned(), line.len() - trimmed.len(), language == "text"));
                }
                None => {}
                Some((opened, _, _))
                    if uniform
                        && fence.starts_with(opened.as_str())
                        && trimmed[fence_len..].trim().is_empty() =>
                {
                    open = None;
                }
                Some((_, indent, is_text)) => {
                    let hidden = line.chars().take(*indent).take_while(|&c| c == ' ').count();
                    let width = line.chars().count() - hidden;
                    if *is_text && width > FIGURE_COLUMNS {
                        problems.push(format!(
                            "{shown}:{}: {width} columns, more than {FIGURE_COLUMNS}: redraw the figure to fit (or make it a Markdown table)",
                            at + 1
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

/// Values of `attr="…"` in an HTML text.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let start = at + needle.len();
            html[start..].find('"').map(|len| &html[start..start + len])
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&").replace("%20", " ")
}

/// Broken internal links and fragments in the built HTML under `out`.
pub fn check_links(out: &Path) -> Result<Vec<String>> {
    let mut pages = Vec::new();
    files_with_extension(out, "html", &mut pages)?;
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut texts = Vec::new();
    for page in &pages {
        let html = fs::read_to_string(page)?;
        ids.insert(normalize(page), attribute_values(&html, "id").into_iter().map(unescape).collect());
        texts.push((page.clone(), html));
    }
    let mut problems = BTreeSet::new();
    for (page, html) in &texts {
        for href in attribute_values(html, "href") {
            let external = href.contains("://") || href.starts_with("mailto:") || href.starts_with("//");
            if external || href.starts_with("javascript:") || href.is_empty() {
                continue;
            }
            let (path, fragment) = match href.split_once('#') {
                Some((p, f)) => (p, Some(unescape(f))),
                None => (href, None),
            };
            let path = path.split('?').next().unwrap_or_default();
            let mut target = if path.is_empty() {
                page.clone()
            } else if let Some(from_root) = path.strip_prefix('/') {
                // Site-absolute, as in mdBook's 404 page: relative to the book's root.
                normalize(&out.join(unescape(from_root)))
            } else {
                normalize(&page.parent().unwrap_or(out).join(unescape(path)))
            };
            if target.is_dir() {
                target = target.join("index.html");
            }
            let shown = page.strip_prefix(out).unwrap_or(page).display().to_string();
            if !target.exists() {
                problems.insert(format!("{shown}: link to {href}: no such file"));
                continue;
            }
            if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                let known = ids.get(&normalize(&target)).is_some_and(|set| set.contains(&fragment));
                if !known && target.extension().is_some_and(|e| e == "html") {
                    problems.insert(format!("{shown}: link to {href}: no element with id \"{fragment}\""));
                }
            }
        }
    }
    Ok(problems.into_iter().collect())
}

/// The answer lines of one product file, with the file's path as a page would name it.
pub struct Answers {
    pub file: PathBuf,
    pub lines: Vec<AnswerLine>,
}

/// The answer lines of every chapter's holed files, less the text that `included`, the
/// files the book includes, show outside their holes: an idiom such as
/// `Err(Errno::EINTR) => continue,` in another file's plain code gives no answer away.
pub fn workspace_answers(ws: &Workspace, included: &BTreeSet<PathBuf>) -> Result<Vec<Answers>> {
    let mut shown = BTreeSet::new();
    for path in included {
        let source = fs::read_to_string(path)?;
        match MarkedFile::parse(&source) {
            Ok(marked) => shown.extend(lines_outside_holes(&source, &marked)),
            Err(_) => shown.extend(source.lines().map(|l| l.trim().to_owned())),
        }
    }
    let mut all = Vec::new();
    for chapter in ws.chapters()? {
        for file in chapter.exercise_files(&ws.root)? {
            let source = fs::read_to_string(ws.root.join(&file.source))?;
            let marked = chapter.marked(&ws.root, &file)?;
            let mut lines = answer_lines(&source, &marked);
            // Contained, not equal: `let mut fds =` is also the start of other files' lines.
            lines.retain(|answer| !shown.iter().any(|line| line.contains(&answer.text)));
            all.push(Answers { file: file.source.clone(), lines });
        }
    }
    Ok(all)
}

/// Answer lines shown in plain view in the built HTML under `out`: in a page, outside
/// every `<details class="solution">`. print.html holds every page and is checked like
/// them. The search index (searchindex*.js/json) is not: it holds each section's text
/// as one string, so a solution block cannot be told from the page around it there,
/// and it is only shown as a few words of teaser around a searched word.
pub fn check_answers(out: &Path, answers: &[Answers]) -> Result<Vec<String>> {
    let mut pages = Vec::new();
    files_with_extension(out, "html", &mut pages)?;
    let mut problems = Vec::new();
    for page in &pages {
        let visible = outside_solutions(&fs::read_to_string(page)?);
        let shown = page.strip_prefix(out).unwrap_or(page).display();
        for file in answers {
            for answer in &file.lines {
                if html_forms(&answer.text).iter().any(|form| visible.contains(form.as_str())) {
                    problems.push(format!(
                        "{shown}: shows the answer of the hole at {}:{} outside a solution block: {}",
                        file.file.display(),
                        answer.line,
                        answer.text
                    ));
                }
            }
        }
    }
    Ok(problems)
}

pub fn run(ws: &Workspace) -> Result<()> {
    let src = ws.root.join("book/src");
    let includes = check_includes(&src)?;
    let mut problems = includes.problems;
    if !problems.is_empty() {
        bail!("the book's includes are broken:\n  {}", problems.join("\n  "));
    }
    problems = check_figure_widths(&src)?;
    if !problems.is_empty() {
        bail!("{} figure line(s) too wide in book/src:\n  {}", problems.len(), problems.join("\n  "));
    }
    let chapters = ws.chapters()?;
    let summary = fs::read_to_string(src.join("SUMMARY.md")).context("reading book/src/SUMMARY.md")?;
    problems = bigbang_workshop::segments::check(&chapters, &src, &summary);
    if !problems.is_empty() {
        bail!("{} class segment(s) do not match the book:\n  {}", problems.len(), problems.join("\n  "));
    }
    let segments: usize = chapters.iter().map(|c| c.meta.segments.len()).sum();
    let out = bigbang_workshop::book::build_book(&ws.root)?;
    problems = check_links(&out)?;
    if !problems.is_empty() {
        bail!("{} broken link(s) in the book:\n  {}", problems.len(), problems.join("\n  "));
    }
    let answers = workspace_answers(ws, &includes.files)?;
    problems = check_answers(&out, &answers)?;
    if !problems.is_empty() {
        bail!("{} answer line(s) in plain view in the book:\n  {}", problems.len(), problems.join("\n  "));
    }
    let mut pages = Vec::new();
    files_with_extension(&out, "html", &mut pages)?;
    let lines: usize = answers.iter().map(|file| file.lines.len()).sum();
    println!(
        "book built in {}: {} pages, includes, links and figure widths (<= {FIGURE_COLUMNS}) ok, {segments} class segments on their pages, {lines} answer lines of {} files only in solution blocks",
        out.display(),
        pages.len(),
        answers.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Broken includes are named: missing anchors, whole files, line ranges.
    #[test]
    fn include_problems() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("code.rs"), "// ANCHOR: ok\nfn f() {}\n// ANCHOR_END: ok\n").unwrap();
        fs::write(
            dir.path().join("page.md"),
            "{{#include code.rs:ok}}\n{{#include code.rs:gone}}\n{{#include code.rs}}\n{{#include code.rs:1:2}}\n",
        )
        .unwrap();
        let problems = check_includes(dir.path()).unwrap().problems;
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("no `ANCHOR: gone`"));
        assert!(problems[1].contains("whole file"));
        assert!(problems[2].contains("line range"));
    }

    /// A ```text line of 81 box-drawing characters fails, named by page, line and width;
    /// 80 of them (240 bytes) pass, and so do long lines in prose and console blocks. A
    /// shorter fence inside a longer one does not close it; an indented fence's own
    /// indentation is not counted.
    #[test]
    fn figure_widths() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("part")).unwrap();
        let fits = "─".repeat(FIGURE_COLUMNS);
        let wide = "─".repeat(FIGURE_COLUMNS + 1);
        let long = "x".repeat(200);
        let page = [
            "# Page",
            &long,
            "```text",
            &fits,
            &wide,
            "```",
            "```console",
            &format!("$ echo {long}"),
            "```",
            "  ````text",
            "  ```",
            &format!("  {wide}"),
            "  ````",
            &long,
        ]
        .join("\n");
        fs::write(dir.path().join("part/page.md"), page).unwrap();
        let problems = check_figure_widths(dir.path()).unwrap();
        assert_eq!(
            problems.iter().map(|p| p.split(',').next().unwrap()).collect::<Vec<_>>(),
            ["part/page.md:5: 81 columns", "part/page.md:12: 81 columns"],
            "{problems:?}"
        );
    }

    /// A link to a missing page or a missing id is reported; good ones are not.
    #[test]
    fn link_problems() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("part")).unwrap();
        fs::write(dir.path().join("index.html"), r##"<a href="part/a.html#x">ok</a> <a href="part/a.html#y">bad id</a> <a href="nope.html">gone</a> <a href="https://example.org/">ext</a>"##).unwrap();
        fs::write(
            dir.path().join("part/a.html"),
            r##"<h2 id="x">X</h2><a href="../index.html">up</a><a href="#x">self</a>"##,
        )
        .unwrap();
        let problems = check_links(dir.path()).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("no element with id \"y\"")));
        assert!(problems.iter().any(|p| p.contains("nope.html: no such file")));
    }

    /// A tiny book: `code.rs` with one hole, and a page built from `page`.
    fn tiny_book(page: &str) -> (tempfile::TempDir, Vec<String>) {
        let root = tempfile::tempdir().unwrap();
        let code = "// ANCHOR: f\nfn f() -> u32 {\n    // exercise: Add the two halves.\n    let whole = first_half + second_half;\n    whole\n    // end exercise\n}\n// ANCHOR_END: f\n";
        fs::write(root.path().join("code.rs"), code).unwrap();
        fs::create_dir_all(root.path().join("book/src")).unwrap();
        fs::write(root.path().join("book/book.toml"), "[book]\ntitle = \"tiny\"\n").unwrap();
        fs::write(root.path().join("book/src/SUMMARY.md"), "# Summary\n\n- [Page](page.md)\n").unwrap();
        fs::write(root.path().join("book/src/page.md"), page).unwrap();
        let out = bigbang_workshop::book::build_book(root.path()).unwrap();
        let answers = vec![Answers {
            file: "code.rs".into(),
            lines: answer_lines(code, &MarkedFile::parse(code).unwrap()),
        }];
        let problems = check_answers(&out, &answers).unwrap();
        (root, problems)
    }

    /// An included hole shows its todo!() and keeps its answer in the solution block: no problem.
    #[test]
    fn included_hole_keeps_its_answer_back() {
        let (root, problems) = tiny_book("# Page\n\n```rust,ignore\n{{#include ../../code.rs:f}}\n```\n");
        assert_eq!(problems, Vec::<String>::new());
        let html = fs::read_to_string(root.path().join("book/book/page.html")).unwrap();
        assert!(html.contains(r#"todo!("Add the two halves.");"#), "{html}");
        assert!(outside_solutions(&html).contains("todo!"));
        assert!(
            html.contains(r#"<details class="solution">"#)
                && html.contains("let whole = first_half + second_half;")
        );
    }

    /// The same answer pasted in plain view fails, naming the page, the hole and the line;
    /// pasted inside a solution block it passes.
    #[test]
    fn answer_in_plain_view_fails() {
        let (_root, problems) = tiny_book("# Page\n\n```rust\nlet whole = first_half + second_half;\n```\n");
        // index.html is mdBook's copy of the first page; print.html holds every page.
        assert_eq!(problems.len(), 3, "{problems:?}");
        for page in ["index.html: ", "page.html: ", "print.html: "] {
            assert!(problems.iter().any(|p| p.starts_with(page)), "{page} {problems:?}");
        }
        assert!(problems
            .iter()
            .all(|p| p.contains("code.rs:4") && p.ends_with("let whole = first_half + second_half;")));
        let hidden = "# Page\n\n<details class=\"solution\"><summary>Solution</summary>\n\n```rust\nlet whole = first_half + second_half;\n```\n\n</details>\n";
        assert_eq!(tiny_book(hidden).1, Vec::<String>::new());
    }
}
