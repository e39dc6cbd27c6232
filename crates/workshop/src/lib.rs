//! The workshop's machinery, shared by `cargo workshop` (learners, instructors)
//! and `cargo xtask` (maintainers).
//!
//! # Layout
//! - `chapter`: the workspace and its chapters, read from `chapters/NN-topic/chapter.toml`.
//! - `exercise`: exercise markers in product code and the two views generated from them.
//! - `tree`: a chapter's module: which product files hold holes, and the shim that
//!   compiles the learner's files with the product's others.
//! - `layout`: the check that folders, packages and book parts line up.
//! - `hints`: a hint per hole: chapter.toml's `[[holes]]` tied to the markers, the hole a
//!   failing test points at, and the checks `cargo xtask exercises` runs on them.
//! - `progress`: the learner's progress file (test results, hints shown), keyed by chapter id.
//! - `status`: holes filled, last test result and the next step, per chapter.
//! - `check`: runs a chapter's tests and reads libtest's and rustc's output.
//! - `doctor`: can this machine run the chapters (privileges, namespaces, cgroups, overlayfs,
//!   busybox, tools), each chapter's `needs` checked against it, with a fix per problem.
//! - `diff`: the unified line diff behind `cargo workshop solution`.
//! - `reset`: fresh starter files, with a backup of the learner's copy.
//! - `book`: builds the mdBook and serves it on 127.0.0.1.
//! - `answers`: the book's preprocessor that shows holes as `todo!()` and puts the
//!   answers in collapsed solution blocks; what an answer line is, for the check.
//! - `segments`: the book's preprocessor that shows chapter.toml's class minutes and
//!   speaker notes on the pages they teach, and writes the instructor guide's tables.
//! - `setup`: installs the system packages the chapters and the tests need (apt-get).
//! - `watch`: notices saved files under `exercises/` (inotify, or polling).

pub mod answers;
pub mod book;
pub mod chapter;
pub mod check;
pub mod diff;
pub mod doctor;
pub mod exercise;
pub mod hints;
pub mod layout;
pub mod progress;
pub mod reset;
pub mod segments;
pub mod setup;
pub mod status;
pub mod tree;
pub mod watch;
