//! The workspace's shape: chapter folders, packages and book parts line up.

use std::path::Path;

use bigbang_workshop::chapter::Workspace;

/// Every chapter folder `NN-topic` is package `chapter-N` with a book part `book/src/NN-topic/`.
#[test]
fn chapters_packages_and_book_parts_line_up() {
    let ws = Workspace::at(Path::new(env!("CARGO_MANIFEST_DIR")));
    let problems = bigbang_workshop::layout::check(&ws).expect("workspace readable");
    assert!(problems.is_empty(), "layout problems:\n{}", problems.join("\n"));
}
