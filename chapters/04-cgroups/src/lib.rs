//! Chapter 4, "Cgroups v1 and v2": memory, CPU and pids limits for a container.
//!
//! This crate is the product crate, `bigbang-container`, with three modules swapped:
//! `cgroups::v1`, `cgroups::v2` and `cgroups::files` are compiled from your files,
//! `exercises/04-cgroups/v1.rs`, `v2.rs` and `files.rs` (or from the answer key with
//! `--features solution`). The rest of `cgroups` (the interface, the limits,
//! detection) is the product's. Check your work with
//! `cargo workshop check 4` or `sudo -E env PATH="$PATH" cargo test -p chapter-4`.

#[allow(unused_imports)]
pub use bigbang_container::*;

/// `container::cgroups` with your drivers in place of the product's (src/cgroups/mod.rs).
pub mod cgroups;
