//! Test fixtures shared by the chapters' checks, the product's black-box suites, the
//! end-to-end tests and `cargo workshop doctor`. Each helper lives here once; a
//! chapter's `tests/common` keeps only what is specific to that chapter.
//!
//! # Layout
//! - `rootfs`: a minimal root filesystem built from busybox-static, its applets as links,
//!   and its import as an engine's image (`podman import`, `docker import`).
//! - `probe`: what this machine allows: root, user namespaces, each namespace type,
//!   cgroup mode and controllers, overlayfs, pivot_root.
//! - `program`: a test's program made reachable by every user, and spawned despite ETXTBSY.
//! - `privilege`: the one root check and message for tests that need root.
//! - `names`: ids and cgroup names no other test or test run uses.
//! - `wait`: waiting with a deadline ([`wait::PATIENCE`]), never without one.
//! - `mounts`: a mountinfo's mounts, read with the product's parser, and the one at a point.
//! - `pty`: a program on a pseudo-terminal this test holds, as a person's terminal is.
//! - `process`: processes from /proc: alive or gone, status fields, capabilities,
//!   namespaces, descriptors, process trees.
//! - `cgroups`: the hierarchies mounted here, a container's cgroup directories in each,
//!   a process's v1 cgroup directory, leftovers, and a cleanup that kills and removes.
//! - `bundle`: an OCI bundle: a busybox rootfs and the config.json of `<runtime> spec`.
//! - `holes`: a `todo!()` reached by a process a test started, found in its stderr,
//!   for an assertion to name first.
//! - `payload`: a payload that prints what it sees in sections, and their parser.
//! - `runtime`: an OCI runtime (bang-oci, chapter 6's binary, runc) with a state root of
//!   its own that cleans up on drop, and the scans for what a container leaves behind.

pub mod bundle;
pub mod cgroups;
pub mod holes;
pub mod mounts;
pub mod names;
pub mod payload;
pub mod privilege;
pub mod probe;
pub mod process;
pub mod program;
pub mod pty;
pub mod rootfs;
pub mod runtime;
pub mod wait;
