//! Chapter 2, "Namespaces": a shell with its own hostname and its own PID 1.
//!
//! This crate is the product crate, `bigbang-container`, with one module swapped:
//! `namespaces` is compiled from your files, `exercises/02-namespaces/` (or from the
//! answer key with `--features solution`). Check them with `cargo workshop check 2`
//! or `cargo test -p chapter-2`; try them with `cargo run -p chapter-2 -- --help`.

#[allow(unused_imports)]
pub use bigbang_container::*;

// A module loaded from a file named mod.rs finds its submodules (idmap.rs, init.rs, …)
// beside it, so the whole directory is yours.
#[cfg(not(feature = "solution"))]
#[path = "../../../exercises/02-namespaces/mod.rs"]
#[allow(unused_imports, unused_variables, unused_mut, unreachable_code, dead_code)]
pub mod namespaces;

#[cfg(feature = "solution")]
#[path = "../../../solutions/02-namespaces/mod.rs"]
pub mod namespaces;
