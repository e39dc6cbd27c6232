//! Chapter 3, "Root filesystems": the container's own mount tree.
//!
//! This crate is the product crate, `bigbang-container`, with one module swapped:
//! `rootfs` is compiled from your files, `exercises/03-rootfs/` (`mod.rs` and one file
//! per concern), or from the answer key with `--features solution`. Check it with
//! `cargo workshop check 3` or `cargo test -p chapter-3`.

#[allow(unused_imports)]
pub use bigbang_container::*;

#[cfg(not(feature = "solution"))]
#[path = "../../../exercises/03-rootfs/mod.rs"]
#[allow(unused_imports, unused_variables, unreachable_code, dead_code)]
pub mod rootfs;

#[cfg(feature = "solution")]
#[path = "../../../solutions/03-rootfs/mod.rs"]
pub mod rootfs;
