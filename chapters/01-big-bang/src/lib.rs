//! Chapter 1, "It all started with the big bang": a container is a process.
//!
//! This crate is the product crate, `bigbang-container`, with one module
//! swapped: `process` is compiled from your file, `exercises/01-big-bang/process.rs`
//! (or from the answer key with `--features solution`). Check it with
//! `cargo workshop check 1` or `cargo test -p chapter-1`.

#[allow(unused_imports)]
pub use bigbang_container::*;

#[cfg(not(feature = "solution"))]
#[path = "../../../exercises/01-big-bang/process.rs"]
#[allow(unused_imports, unused_variables, unreachable_code, dead_code)]
pub mod process;

#[cfg(feature = "solution")]
#[path = "../../../solutions/01-big-bang/process.rs"]
pub mod process;
