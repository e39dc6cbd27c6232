//! Chapter 6, "An OCI runtime": config.json, bundles, the container lifecycle.
//!
//! This crate is the product crate, `bigbang-container`, with one module swapped:
//! `lifecycle` (all of `crates/container/src/lifecycle/`) is compiled from your
//! files, `exercises/06-oci-runtime/` (or from the answer key with
//! `--features solution`). Its binary, `chapter-6`, is `bang-oci` built on your
//! lifecycle: the same command line podman drives. Check it with
//! `cargo workshop check 6` or `cargo test -p chapter-6`.

#[allow(unused_imports)]
pub use bigbang_container::*;

// `mod.rs` declares the other files, which are found next to it.
#[cfg(not(feature = "solution"))]
#[path = "../../../exercises/06-oci-runtime/mod.rs"]
#[allow(unused_imports, unused_variables, unused_mut, unreachable_code, dead_code)]
pub mod lifecycle;

#[cfg(feature = "solution")]
#[path = "../../../solutions/06-oci-runtime/mod.rs"]
pub mod lifecycle;
