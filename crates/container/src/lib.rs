//! bigbang-container: a container is a process, and this crate builds one piece
//! by piece, a chapter at a time.
//!
//! # Layout
//! - `process`: run a command with another root directory (chroot), stdio passed
//!   through, its exit status reported as a shell would (chapter 1).
//!
//! Namespaces (chapter 2), root filesystems (3), cgroups (4), security (5), the
//! OCI runtime specification and lifecycle (6) and networking (7) join as their
//! chapters are written.

pub mod process;
