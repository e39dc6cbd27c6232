//! A chapter's module tree: the product files that make up the module a learner
//! writes in, which of them hold holes, and the shim that puts them together.
//!
//! A chapter names one module of a product crate in `chapter.toml`
//! (`module = "crates/container/src/lifecycle"`, or a single file such as
//! `crates/container/src/process.rs`). The module's files that hold a hole are the
//! learner's, copied to `exercises/NN-topic/` with each hole as `todo!()`; every other
//! file of the module is compiled straight from `crates/`. The chapter package
//! assembles the two with `#[path]` attributes, in files `cargo xtask exercises`
//! generates:
//!
//! - `chapters/NN-topic/src/lib.rs`: the product crate re-exported, and the module
//!   declared in its place, so `crate::lifecycle` is the chapter's own while
//!   `crate::spec` and the rest stay the product's;
//! - for a directory module, `chapters/NN-topic/src/<module>.rs` (and one file per
//!   directory below it): the module's `mod.rs` line for line, each `mod` line given
//!   the path of the learner's file or of the product's.
//!
//! With `--features solution` every path points into `crates/`: the markers are
//! comments, so the product files are the answer key. This is also why a `mod.rs`
//! may hold only declarations (`mod` lines and `use` re-exports, with docs and
//! attributes): its text is copied into the shim, and code there would exist twice.

use std::fmt::Write as _;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::chapter::ChapterError;
use crate::exercise::MarkedFile;

/// One file of the module, with the holes it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFile {
    /// The product file, relative to the workspace root.
    pub source: PathBuf,
    /// Its path inside the module (`state.rs`, `v2/ebpf.rs`); the learner's copy is
    /// `exercises/NN-topic/<this>`.
    pub rel: PathBuf,
    /// How many holes it has.
    pub holes: usize,
}

/// A node of the tree: a file of code, or a directory whose `mod.rs` declares more.
#[derive(Debug, Clone)]
pub enum Node {
    File(ModuleFile),
    Dir(Dir),
}

/// A directory module: its `mod.rs` and the modules it declares, in its order.
#[derive(Debug, Clone)]
pub struct Dir {
    /// The `mod.rs`, relative to the workspace root.
    pub source: PathBuf,
    /// The directory's path inside the module (empty for the module itself).
    pub rel: PathBuf,
    lines: Vec<String>,
    /// `(index of the line in lines, module name, child)`.
    children: Vec<(usize, String, Node)>,
}

/// The module a chapter swaps in.
#[derive(Debug, Clone)]
pub struct ModuleTree {
    /// The product crate as Rust names it (`bigbang_container`).
    pub crate_name: String,
    /// The module's name in that crate (`lifecycle`).
    pub name: String,
    pub root: Node,
}

/// The attributes a learner's file gets while it is still full of `todo!()`.
const EXERCISE_ALLOWS: &str =
    "allow(unused_imports, unused_variables, unused_mut, unreachable_code, dead_code)";

/// rustfmt's `max_width` in this workspace (rustfmt.toml): generated lines are laid
/// out as rustfmt would, so `cargo fmt --check` passes on them.
const MAX_WIDTH: usize = 110;

/// `#[cfg_attr(condition, body)]` on one line, or over four as rustfmt wraps it.
fn cfg_attr(indent: &str, condition: &str, body: &str) -> String {
    let line = format!("{indent}#[cfg_attr({condition}, {body})]\n");
    if line.len() - 1 <= MAX_WIDTH {
        return line;
    }
    format!("{indent}#[cfg_attr(\n{indent}    {condition},\n{indent}    {body}\n{indent})]\n")
}

/// The words of `text`, a `code span` kept whole.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split_whitespace() {
        match out.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_owned()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    out
}

/// `text` as `//!` lines of at most `width` characters, paragraphs kept.
fn doc_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    for paragraph in text.split("\n\n") {
        if !out.is_empty() {
            out.push_str("//!\n");
        }
        let mut line = String::from("//!");
        for word in words(paragraph) {
            if line.len() + 1 + word.len() > width && line != "//!" {
                let _ = writeln!(out, "{line}");
                line = String::from("//!");
            }
            line.push(' ');
            line.push_str(&word);
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

impl ModuleTree {
    /// Reads the module at `module` (workspace-relative): `crates/<crate>/src/<name>.rs`
    /// or the directory `crates/<crate>/src/<name>/` with its `mod.rs`.
    pub fn read(root: &Path, module: &Path) -> Result<Self, ChapterError> {
        let bad =
            |reason: &str| ChapterError::ModulePath { path: module.to_owned(), reason: reason.to_owned() };
        let parts: Vec<&str> = module
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str().unwrap_or(""),
                _ => "",
            })
            .collect();
        let [crates, crate_dir, src, leaf] = parts[..] else {
            return Err(bad("name a module at the top of a product crate: crates/<crate>/src/<module>(.rs)"));
        };
        if crates != "crates" || src != "src" || crate_dir.is_empty() {
            return Err(bad("name a module at the top of a product crate: crates/<crate>/src/<module>(.rs)"));
        }
        let manifest_path = root.join(crates).join(crate_dir).join("Cargo.toml");
        let manifest = read(&manifest_path)?;
        let package =
            package_name(&manifest).ok_or_else(|| bad("its crate's Cargo.toml has no [package] name"))?;
        let name = leaf.strip_suffix(".rs").unwrap_or(leaf).to_owned();
        if name.is_empty() || name == "lib" || name == "main" || name == "mod" {
            return Err(bad("name a module, not the crate root"));
        }
        let node = if leaf.ends_with(".rs") {
            Node::File(read_file(root, module, PathBuf::from(leaf))?)
        } else {
            read_dir(root, module, PathBuf::new())?
        };
        Ok(Self { crate_name: package.replace('-', "_"), name, root: node })
    }

    /// Every file of code in the module, in declaration order.
    pub fn files(&self) -> Vec<&ModuleFile> {
        let mut out = Vec::new();
        collect(&self.root, &mut out);
        out
    }

    /// The files that hold at least one hole: the learner's.
    pub fn exercise_files(&self) -> Vec<&ModuleFile> {
        self.files().into_iter().filter(|f| f.holes > 0).collect()
    }

    /// The generated shim of the chapter in `chapter_dir` (workspace-relative,
    /// `chapters/NN-topic`) whose learner's files are in `exercise_dir`
    /// (`exercises/NN-topic`): `(path relative to the workspace, text)` for `src/lib.rs`
    /// and each directory's module file. `doc` opens lib.rs.
    pub fn shim(&self, chapter_dir: &Path, exercise_dir: &Path, doc: &str) -> Vec<(PathBuf, String)> {
        let src = chapter_dir.join("src");
        let mut lib = doc_lines(doc, 90);
        let _ = writeln!(lib, "\n// {GENERATED}\n");
        let _ = writeln!(lib, "#[allow(unused_imports)]\npub use {}::*;\n", self.crate_name);
        let mut out = Vec::new();
        match &self.root {
            Node::File(file) => {
                lib.push_str(&path_attributes(&src, exercise_dir, file, ""));
                let _ = writeln!(lib, "pub mod {};", self.name);
            }
            Node::Dir(dir) => {
                let _ = writeln!(lib, "pub mod {};", self.name);
                let file = src.join(format!("{}.rs", self.name));
                render_dir(dir, &file, exercise_dir, &mut out);
            }
        }
        out.insert(0, (src.join("lib.rs"), lib));
        out
    }
}

/// The line that opens every generated shim file.
pub const GENERATED: &str =
    "GENERATED by `cargo xtask exercises` from chapter.toml and the product; do not edit.";

fn collect<'a>(node: &'a Node, out: &mut Vec<&'a ModuleFile>) {
    match node {
        Node::File(file) => out.push(file),
        Node::Dir(dir) => dir.children.iter().for_each(|(_, _, child)| collect(child, out)),
    }
}

fn read(path: &Path) -> Result<String, ChapterError> {
    fs::read_to_string(path).map_err(|source| ChapterError::Read { path: path.to_owned(), source })
}

fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(value) = line.strip_prefix("name").map(str::trim).and_then(|l| l.strip_prefix('=')) {
                return Some(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    None
}

/// A file of code: parsed for its holes, and refused if it declares modules of its own
/// (their files would be looked for next to the learner's copy, not the product's).
fn read_file(root: &Path, source: &Path, rel: PathBuf) -> Result<ModuleFile, ChapterError> {
    let text = read(&root.join(source))?;
    let marked = MarkedFile::parse(&text)
        .map_err(|error| ChapterError::Markers { path: source.to_owned(), source: error })?;
    if let Some((index, _)) = text.lines().enumerate().find(|(_, l)| outline_module(l).is_some()) {
        return Err(ChapterError::OutlineModule { path: source.to_owned(), line: index + 1 });
    }
    Ok(ModuleFile { source: source.to_owned(), rel, holes: marked.holes().len() })
}

/// A directory module: its `mod.rs` checked to hold only declarations, and each
/// module it declares read in turn (`name.rs`, or `name/mod.rs`).
fn read_dir(root: &Path, dir: &Path, rel: PathBuf) -> Result<Node, ChapterError> {
    let source = dir.join("mod.rs");
    let text = read(&root.join(&source))?;
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    check_declarations_only(&source, &lines)?;
    let mut children = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(name) = outline_module(line) else { continue };
        let file = dir.join(format!("{name}.rs"));
        let subdir = dir.join(name);
        let child = if root.join(&file).is_file() {
            Node::File(read_file(root, &file, rel.join(format!("{name}.rs")))?)
        } else if root.join(&subdir).join("mod.rs").is_file() {
            read_dir(root, &subdir, rel.join(name))?
        } else {
            return Err(ChapterError::MissingModule { path: source.clone(), name: name.to_owned() });
        };
        children.push((index, name.to_owned(), child));
    }
    Ok(Node::Dir(Dir { source, rel, lines, children }))
}

/// The name declared by a `mod name;` line (any visibility), or None.
fn outline_module(line: &str) -> Option<&str> {
    let mut rest = line.trim();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = after.trim_start();
        if rest.starts_with('(') {
            rest = rest[rest.find(')')? + 1..].trim_start();
        }
    }
    let name = rest.strip_prefix("mod ")?.trim().strip_suffix(';')?.trim();
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
}

/// A `mod.rs` of a chapter's module may hold only comments, attributes, `mod` lines and
/// `use` statements: the shim copies it, and anything else would then be compiled twice.
fn check_declarations_only(path: &Path, lines: &[String]) -> Result<(), ChapterError> {
    let mut in_use = false;
    let mut in_attribute = false;
    for (index, line) in lines.iter().enumerate() {
        let t = line.trim();
        if in_use {
            in_use = !t.ends_with(';');
            continue;
        }
        if in_attribute {
            in_attribute = !t.ends_with(']');
            continue;
        }
        if t.is_empty() || t.starts_with("//") || outline_module(t).is_some() {
            continue;
        }
        if t.starts_with("#[") || t.starts_with("#![") {
            in_attribute = !t.ends_with(']');
            continue;
        }
        let statement = t.strip_prefix("pub(crate) ").or_else(|| t.strip_prefix("pub ")).unwrap_or(t);
        if statement.starts_with("use ") {
            in_use = !t.ends_with(';');
            continue;
        }
        return Err(ChapterError::NotDeclarationsOnly { path: path.to_owned(), line: index + 1 });
    }
    Ok(())
}

/// `to` relative to the directory `from` (both relative to the workspace root).
fn relative(from: &Path, to: &Path) -> String {
    let ups = from.components().count();
    let mut out = "../".repeat(ups);
    out.push_str(&to.to_string_lossy());
    out
}

/// The attributes that point a `mod` line at its file, from a shim file in `dir`:
/// the learner's copy, or the product's with `--features solution`; a file without
/// holes is always the product's.
fn path_attributes(dir: &Path, exercise_dir: &Path, file: &ModuleFile, indent: &str) -> String {
    let product = relative(dir, &file.source);
    if file.holes == 0 {
        return format!("{indent}#[path = {product:?}]\n");
    }
    let learner = relative(dir, &exercise_dir.join(&file.rel));
    let exercise = "not(feature = \"solution\")";
    cfg_attr(indent, exercise, &format!("path = {learner:?}"))
        + &cfg_attr(indent, "feature = \"solution\"", &format!("path = {product:?}"))
        + &cfg_attr(indent, exercise, EXERCISE_ALLOWS)
}

/// The module file of `dir`, written to `file`: its `mod.rs` line for line, each
/// `mod` line after the attributes that point at its file; and the files of the
/// directories below it, next to it (`<file stem>/<name>.rs`).
fn render_dir(dir: &Dir, file: &Path, exercise_dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let here = file.parent().unwrap_or(Path::new(""));
    let mut text = String::new();
    let mut children = dir.children.iter().peekable();
    let mut header_done = false;
    for (index, line) in dir.lines.iter().enumerate() {
        // The generated-file note goes after the module's inner docs and attributes.
        if !header_done && !line.trim_start().starts_with("//!") && !line.trim_start().starts_with("#![") {
            let _ = writeln!(text, "\n// {GENERATED}");
            header_done = true;
        }
        if let Some((_, name, child)) = children.next_if(|(i, _, _)| *i == index) {
            let indent = &line[..line.len() - line.trim_start().len()];
            match child {
                Node::File(module_file) => {
                    text.push_str(&path_attributes(here, exercise_dir, module_file, indent))
                }
                Node::Dir(sub) => {
                    let sub_file = here.join(file.file_stem().unwrap_or_default()).join(format!("{name}.rs"));
                    let rel = sub_file.strip_prefix(here).unwrap_or(&sub_file).to_string_lossy().into_owned();
                    let _ = writeln!(text, "{indent}#[path = {rel:?}]");
                    render_dir(sub, &sub_file, exercise_dir, out);
                }
            }
        }
        let _ = writeln!(text, "{line}");
    }
    out.insert(0, (file.to_owned(), text));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mod` lines of every visibility are found; other lines are not.
    #[test]
    fn finds_module_declarations() {
        assert_eq!(outline_module("pub mod state;"), Some("state"));
        assert_eq!(outline_module("    pub(crate) mod fifo;"), Some("fifo"));
        assert_eq!(outline_module("mod kill ;"), Some("kill"));
        assert_eq!(outline_module("mod tests {"), None);
        assert_eq!(outline_module("// mod x;"), None);
        assert_eq!(outline_module("pub use state::Status;"), None);
    }

    /// A mod.rs with code in it is refused at the line of the code.
    #[test]
    fn mod_rs_holds_only_declarations() {
        let lines = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
        let ok = lines(
            "//! Docs.\n\n#[cfg(test)]\nmod tests;\npub mod a;\npub use a::{\n    B,\n    C,\n};\n#[doc(hidden)]\npub(crate) use a::D;\n",
        );
        assert!(check_declarations_only(Path::new("m/mod.rs"), &ok).is_ok());
        let bad = lines("pub mod a;\n\npub const X: u8 = 1;\n");
        assert!(matches!(
            check_declarations_only(Path::new("m/mod.rs"), &bad),
            Err(ChapterError::NotDeclarationsOnly { line: 3, .. })
        ));
    }

    #[test]
    fn relative_paths_climb_out_of_the_shim() {
        assert_eq!(
            relative(Path::new("chapters/06-x/src"), Path::new("crates/c/src/m/a.rs")),
            "../../../crates/c/src/m/a.rs"
        );
    }
}
