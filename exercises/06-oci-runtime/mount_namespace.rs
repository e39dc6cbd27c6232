// Part of chapter 6, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/lifecycle/mount_namespace.rs by `cargo xtask exercises`;
// `cargo workshop reset 6` gives you a fresh copy.
//! Whose mount namespace a container's mounts go into (chapter 6), as `create`
//! decides it from config.json's `mount` entry, and the directory a container that
//! shares the host's mount namespace has its tree on ([`HOST_VIEW`]), which `delete`
//! and a failed `create` take down. Read mount_namespaces(7) and the runtime-spec's
//! config-linux.md ("Namespaces").

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::error::{CreateError, LifecycleError};
use crate::namespaces::Namespace;
use crate::rootfs::{detach_mounts_under, MountNamespace};
use crate::spec::NamespacePlan;

/// The directory in a container's state directory on which, when it shares the
/// host's mount namespace, its tree is built (a view of the rootfs of its own).
pub const HOST_VIEW: &str = "rootfs";

/// Whose mount namespace the container's mounts go into. A `mount` entry without a
/// path: a new one. With a path: that one, joined, unless it is the runtime's own
/// (`/proc/self/ns/mnt`; `/proc/1/ns/mnt` on most hosts), which is then the same as
/// no entry. No entry: the runtime's own, the host's mount table (runtime-spec: a
/// namespace type left out is inherited from the runtime), the tree built on
/// [`HOST_VIEW`] in `state_dir`. Decided once, here; the init is told.
pub fn mount_namespace(plan: &NamespacePlan, state_dir: &Path) -> Result<MountNamespace, CreateError> {
    if plan.create.contains(Namespace::Mount) {
        Ok(MountNamespace::Own)
    } else if shares_runtime_mount_namespace(plan)? {
        Ok(MountNamespace::Host { view: state_dir.join(HOST_VIEW) })
    } else {
        Ok(MountNamespace::Joined)
    }
}

/// No `mount` entry, or one whose path names the runtime's own mount namespace.
pub fn shares_runtime_mount_namespace(plan: &NamespacePlan) -> Result<bool, CreateError> {
    if plan.create.contains(Namespace::Mount) {
        return Ok(false);
    }
    let Some((_, path)) = plan.join.iter().find(|(kind, _)| *kind == Namespace::Mount) else {
        return Ok(true);
    };
    let id = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| (m.dev(), m.ino()))
            .map_err(|source| CreateError::ReadProc { path: path.to_path_buf(), source })
    };
    Ok(id(path)? == id(Path::new("/proc/self/ns/mnt"))?)
}

/// Detaches every mount on `view` and under it, then removes the directory: what
/// `delete` and a failed `create` do for a container in the host's mount namespace.
pub fn remove_host_view(view: &Path) -> Result<(), LifecycleError> {
    detach_mounts_under(view)?;
    match std::fs::remove_dir(view) {
        Ok(()) => Ok(()),
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CreateError::HostView { what: "remove", path: view.to_path_buf(), source }.into()),
    }
}
