//! Test fixtures shared by the chapters' checks, the end-to-end tests and
//! `cargo workshop doctor`.
//!
//! # Layout
//! - `rootfs`: a minimal root filesystem built from busybox-static, its applets as links.
//! - `probe`: what this machine allows: root, user namespaces, each namespace type,
//!   cgroup mode and controllers, overlayfs, pivot_root.
//! - `program`: a test's program made reachable by every user, and spawned despite ETXTBSY.

pub mod probe;
pub mod program;
pub mod rootfs;
