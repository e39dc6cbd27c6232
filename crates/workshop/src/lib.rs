//! The workshop's machinery, shared by `cargo workshop` (learners, instructors)
//! and `cargo xtask` (maintainers).
//!
//! # Layout
//! - `chapter`: the workspace and its chapters, read from `chapters/NN-topic/chapter.toml`.
//! - `exercise`: exercise markers in product code and the two views generated from them.
//! - `layout`: the check that folders, packages and book parts line up.

pub mod chapter;
pub mod exercise;
pub mod layout;
