//! Chapter 5, "Locking the door": capabilities, no_new_privs, seccomp-bpf,
//! rlimits, descriptor hygiene and a sealed runtime binary.
//!
//! This crate is the product crate, `bigbang-container`, with one module
//! swapped: `security` (all of `crates/container/src/security/`) is compiled
//! from your files, `exercises/05-security/` (or from the answer key with
//! `--features solution`). Check it with `cargo workshop check 5` or
//! `cargo test -p chapter-5`.

#[allow(unused_imports)]
pub use bigbang_container::*;

// `mod.rs` declares the other files, which are found next to it.
#[cfg(not(feature = "solution"))]
#[path = "../../../exercises/05-security/mod.rs"]
#[allow(unused_imports, unused_variables, unused_mut, unreachable_code, dead_code)]
pub mod security;

#[cfg(feature = "solution")]
#[path = "../../../solutions/05-security/mod.rs"]
pub mod security;
