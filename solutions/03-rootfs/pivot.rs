// Answer key for chapter 3, generated from crates/container/src/rootfs/pivot.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! Changing the container's root: pivot_root(2), which swaps the mount namespace's root
//! mount and lets the old one be detached, and the chroot(2) fallback for the one place
//! pivot_root cannot work (a rootfs on the initial ramfs). Chapter 3. Read pivot_root(2),
//! chroot(2), umount(2) (MNT_DETACH), and mount(2) (MS_MOVE).

use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, fchdir, pivot_root};

use super::mounts::mount_flags;
use super::RootfsError;

/// How the container's process gets its new root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum RootChange {
    /// pivot_root(2) and detach the old root: nothing of the host's tree is left reachable.
    #[default]
    PivotRoot,
    /// Move the rootfs mount onto `/` and chroot(2) into it (runc's `--no-pivot`). For a
    /// rootfs on the initial ramfs, which pivot_root refuses (EINVAL). The moved mount
    /// covers the old root, so `..` walks back into it, but the host's mounts stay in the
    /// namespace underneath: mountinfo lists them, and a descriptor opened on them before
    /// the move still reaches them.
    MoveAndChroot,
    /// chroot(2) into the rootfs and nothing else: for a container that shares the
    /// host's mount namespace ([`super::MountNamespace::Host`]), where pivot_root would
    /// change the root of every process on the machine and MS_MOVE would cover the
    /// host's `/`. The weakest of the three: the host's whole tree stays in the
    /// namespace, and a process with CAP_SYS_CHROOT walks out (chapter 3's escape).
    Chroot,
}

/// Makes `rootfs` (a mount point) the root of this mount namespace and of this process,
/// and detaches the old root so that nothing can reach the host's tree again.
///
/// `pivot_root(".", ".")` with the new root as working directory stacks the old root on
/// top of the new one at `/`; unmounting `.` then takes the old root away, with
/// MNT_DETACH because its mounts are busy (this process's own /proc among them). This is
/// runc's trick: no temporary `put_old` directory to create in the rootfs and remove.
///
/// Which mount `.` names after the swap is subtle: the working directory is still the
/// new root's top directory, and mount(2) does not look past a mount stacked on it,
/// while umount(2) does. So `.` would make the NEW root's tree a slave (the container's
/// own `shared` mounts would lose their peers) yet unmount the old one. Like runc, we
/// hold a descriptor of the old root taken before the swap and fchdir(2) to it, so that
/// both calls act on the old root.
pub fn pivot_into(rootfs: &Path) -> Result<(), RootfsError> {
    let fail = |errno| RootfsError::PivotRoot { rootfs: rootfs.to_owned(), errno };
    let old_root =
        open("/", OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).map_err(fail)?;
    chdir(rootfs).map_err(fail)?;
    pivot_root(".", ".").map_err(fail)?;
    fchdir(&old_root).map_err(fail)?;
    mount_flags(Path::new("."), MsFlags::MS_SLAVE | MsFlags::MS_REC)
        .map_err(|errno| RootfsError::DetachOldRoot { errno })?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|errno| RootfsError::DetachOldRoot { errno })?;
    chdir("/").map_err(|errno| RootfsError::PivotRoot { rootfs: rootfs.to_owned(), errno })?;
    Ok(())
}

/// The fallback: move the rootfs mount over `/` and chroot(2) into it. The old root and
/// every host mount stay in the namespace, hidden under the moved mount but not gone.
pub fn move_and_chroot(rootfs: &Path) -> Result<(), RootfsError> {
    let fail = |errno| RootfsError::Chroot { rootfs: rootfs.to_owned(), errno };
    chdir(rootfs).map_err(fail)?;
    mount(Some(rootfs), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>).map_err(fail)?;
    chroot(".").map_err(fail)?;
    chdir("/").map_err(fail)?;
    Ok(())
}

/// chroot(2) alone, as runc does for a container without a mount namespace.
pub fn chroot_into(rootfs: &Path) -> Result<(), RootfsError> {
    let fail = |errno| RootfsError::ChrootInto { rootfs: rootfs.to_owned(), errno };
    chdir(rootfs).map_err(fail)?;
    chroot(".").map_err(fail)?;
    chdir("/").map_err(fail)?;
    Ok(())
}

/// Enters `rootfs` the way `how` says.
pub fn change_root(rootfs: &Path, how: RootChange) -> Result<(), RootfsError> {
    match how {
        RootChange::PivotRoot => pivot_into(rootfs),
        RootChange::MoveAndChroot => move_and_chroot(rootfs),
        RootChange::Chroot => chroot_into(rootfs),
    }
}
