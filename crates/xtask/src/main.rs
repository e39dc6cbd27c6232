//! `cargo xtask`: the maintainers' tasks.
//!
//! # Layout
//! - `exercises`: generate `exercises/` and `solutions/` from marked product code.
//! - `verify`: every chapter fails on its exercises, passes on its solutions, and
//!   every hole is covered by a test.
//! - `layout`: folder `NN-topic` ↔ package `chapter-N` ↔ `book/src/NN-topic/`.
//! - `book`: build the book, check every `{{#include}}` anchor and every internal link.
//! - `ci`: everything CI runs, in order.

mod exercises;
mod verify;

use anyhow::Result;
use bigbang_workshop::chapter::Workspace;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Maintainers' tasks for the bigbang workspace")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Generate exercises/ and solutions/ from the exercise markers in crates/.
    Exercises {
        /// Fail if the committed files differ from what would be generated.
        #[arg(long)]
        check: bool,
    },
    /// Prove each chapter's tests fail on the exercises, pass on the solutions,
    /// and notice every single hole left empty.
    Verify {
        /// Chapter numbers; all chapters when none.
        chapters: Vec<u32>,
    },
}

fn workspace() -> Workspace {
    Workspace::at(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let ws = Workspace::at(workspace().root.canonicalize()?);
    match cli.task {
        Task::Exercises { check } => exercises::run(&ws, check),
        Task::Verify { chapters } => verify::run(&ws, &chapters),
    }
}
