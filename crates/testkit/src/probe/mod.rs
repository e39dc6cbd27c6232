//! What this machine lets a container runtime do: root, user namespaces, each namespace
//! type, cgroup mode and controllers, overlayfs, pivot_root, a static busybox, free disk.
//! Parsers are pure functions over text or a root `&Path` (tested on fixtures); live probes
//! try the real syscall in a forked child, so nothing leaks and threads do not matter.
//! Read: namespaces(7), user_namespaces(7), cgroups(7), proc(5) (mountinfo), elf(5), pivot_root(2).
//!
//! # Layout
//! - `error`: [`ProbeError`], what went wrong while probing.
//! - `kernel`: the kernel release, the effective uid.
//! - `live`: the forked child a live probe runs in, and its outcome, [`Attempt`].
//! - `userns`: unprivileged user namespaces: sysctls and a live probe.
//! - `namespaces`: namespace types and unshare probes.
//! - `cgroups`: cgroup mode, hierarchies and controllers, from mountinfo and a root.
//! - `mounts`: overlayfs and pivot_root probes.
//! - `programs`: ELF linkage, busybox, the interop tools.
//! - `disk`: free bytes.

mod cgroups;
mod disk;
mod error;
mod kernel;
mod live;
mod mounts;
mod namespaces;
mod programs;
mod userns;

pub use cgroups::*;
pub use disk::free_bytes;
use error::read;
pub use error::ProbeError;
pub use kernel::{euid, is_root, kernel, Kernel};
pub use live::Attempt;
pub use mounts::{filesystem_listed, overlay_module, try_overlay_mount, try_pivot_root};
pub use namespaces::{try_unshare, try_unshare_in_userns, Namespace};
pub use programs::{
    busybox, elf_linkage, elf_linkage_of, find_program, program, tool, version_line, Busybox, Linkage, Tool,
    BUSYBOX_ENV,
};
pub use userns::{userns_unprivileged, userns_works, UsernsPolicy, UsernsSysctls, UsernsVerdict, NOBODY};
