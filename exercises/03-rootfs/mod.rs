// Part of chapter 3, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/rootfs/mod.rs by `cargo xtask exercises`;
// `cargo workshop reset 3` gives you a fresh copy.
//! Root filesystems (chapter 3): the container's own mount tree. Private propagation,
//! the rootfs bound onto itself, the configured mounts (/proc, a minimal /dev, read-only
//! /sys) made under it, pivot_root with the old root detached, then masked and
//! read-only paths. Read mount_namespaces(7), mount(2), pivot_root(2), proc(5).
//!
//! # Layout
//! - `prepare`: [`prepare_rootfs`], the whole tree from a [`RootfsConfig`].
//! - `error`: the module's error type and the hints refused mount calls get.
//! - `options`: OCI `mounts` entries and their option strings as mount(2) flags; defaults.
//! - `resolve`: mount destinations resolved inside the rootfs, never outside.
//! - `mounts`: propagation, the rootfs bind, each mount, the read-only remount, and
//!   the cgroup tree at /sys/fs/cgroup (`mount_cgroupfs`, planned by `cgroups::mount`).
//! - `dev`: the device nodes (mknod, or host binds in a user namespace) and links.
//! - `pivot`: pivot_root and detaching the old root; the chroot fallback.
//! - `masked`: masked and read-only paths.
//! - `overlay`: an overlayfs root from lower layers, upper and work.
//! - `escape`: the classic chroot escape, for the demonstration.

pub mod dev;
pub mod error;
pub mod escape;
pub mod masked;
pub mod mounts;
pub mod options;
pub mod overlay;
pub mod pivot;
pub mod prepare;
pub mod resolve;

pub use dev::{
    create_device_nodes, create_devices, create_links, Device, DeviceNode, NodeKind, DEFAULT_DEVICES,
};
pub use error::RootfsError;
pub use masked::{mask_path, readonly_path};
pub use mounts::{bind_readonly, mount_cgroupfs, mount_entry, remount_bind, set_root_propagation};
pub use mounts::{detach_mounts_under, mounts_under};
pub use options::{
    default_mounts, parse_options, Mount, MountOptions, Propagation, MASKED_PATHS, READONLY_PATHS,
};
pub use overlay::Overlay;
pub use pivot::{change_root, RootChange};
pub use prepare::{in_user_namespace, prepare_rootfs, MountNamespace, RootfsConfig};
pub use resolve::resolve_in_root;
