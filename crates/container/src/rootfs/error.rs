//! The module's error type, and the hint a refused mount call gets.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::mountinfo::MountinfoError;

/// What can go wrong while preparing a root filesystem.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("rootfs {path} does not exist; pass the directory that holds the container's files")]
    RootfsMissing { path: PathBuf },
    #[error("rootfs {path} resolves to {resolved}, which is the host's own root directory: a container there would share, and could change, every file of the machine; give the directory that holds the container's files (config.json's root.path, usually \"rootfs\" in the bundle)")]
    RootfsIsHostRoot { path: PathBuf, resolved: PathBuf },
    #[error("rootfs {path} is not a directory; a rootfs is a directory tree such as one made by `cargo run -p chapter-3 -- --make-rootfs DIR`")]
    RootfsNotDirectory { path: PathBuf },
    #[error("refusing to prepare rootfs {rootfs} in a process with more than one thread: its new mount namespace and root would belong to the calling thread alone, while the other threads stay in the old ones; call prepare_rootfs from a single-threaded process (a runtime's init)")]
    MultiThreaded { rootfs: PathBuf },
    #[error("cannot give the process preparing rootfs {rootfs} a mount namespace of its own: {errno}; a new mount namespace needs CAP_SYS_ADMIN in the caller's user namespace (run as root, or create a user namespace first)")]
    Unshare { rootfs: PathBuf, errno: Errno },
    #[error(
        "unknown rootfs propagation {value:?}; use one of private, rprivate, slave, rslave, shared, rshared"
    )]
    UnknownPropagation { value: String },
    #[error("cannot create the working directory {path} (process.cwd) in the container's root: {source}; give a directory the image has, or one that can be made there")]
    WorkingDirectory { path: PathBuf, source: io::Error },
    #[error(
        "mount destination {destination} is not absolute; write it as the container sees it, e.g. /data"
    )]
    RelativeDestination { destination: PathBuf },
    #[error("mount destination {destination} resolves to {resolved}, outside the rootfs; check the rootfs for symbolic links that point out of it")]
    Escapes { destination: PathBuf, resolved: PathBuf },
    #[error("{kind} must be mounted on a real directory, but {destination} in the rootfs goes through a symbolic link to {resolved}; the runtime trusts what it reads there, so an image may not choose where it lands (remove the link from the image)")]
    KernelFsRedirected { kind: String, destination: PathBuf, resolved: PathBuf },
    #[error("mount destination {destination} is redirected by a symbolic link in the rootfs to {resolved}, onto the kernel's /proc or /sys, which the mount would cover; remove the link from the image or mount at the real path")]
    RedirectedOntoKernelFs { destination: PathBuf, resolved: PathBuf },
    #[error(
        "mount destination {path} goes through too many symbolic links; check the rootfs for a link loop"
    )]
    TooManyLinks { path: PathBuf },
    #[error("source {source_path} of the bind mount on {destination} does not exist; create it on the host or fix the path")]
    SourceMissing { destination: PathBuf, source_path: PathBuf },
    #[error("cannot inspect {path}: {source}")]
    Inspect { path: PathBuf, source: io::Error },
    #[error("cannot create {path}: {source}; is the rootfs writable?")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot copy the contents of {destination} into its new tmpfs (tmpcopyup): {source}; is the tmpfs large enough (size=)?")]
    CopyUp { destination: PathBuf, source: io::Error },
    #[error("cannot mount {source_path} ({kind}) on {target}: {errno}{}", hint(*errno))]
    Mount { source_path: String, target: PathBuf, kind: String, errno: Errno },
    #[error("cannot remount {target} with new flags: {errno}{}", hint(*errno))]
    Remount { target: PathBuf, errno: Errno },
    #[error("cannot change the propagation of {path}: {errno}{}", hint(*errno))]
    Propagation { path: PathBuf, errno: Errno },
    #[error("not permitted to create device {path}: mknod(2) of a device needs root outside a user namespace; in a user namespace, bind the host's devices instead")]
    MknodNotPermitted { path: PathBuf },
    #[error("cannot create device {path}: {errno}")]
    Mknod { path: PathBuf, errno: Errno },
    #[error("cannot create device {path} ({kind} {major}:{minor}) in a user namespace: mknod(2) of a device is refused there, and the host has no {kind} device {major}:{minor} under /dev to bind instead; load its driver on the host, or run without a user namespace")]
    DeviceInUserNamespace { path: PathBuf, kind: &'static str, major: u64, minor: u64 },
    #[error("cannot pivot_root into {rootfs}: {errno}{}; pivot_root refuses a rootfs on the initial ramfs, where a chroot must do instead (bang-oci create --no-pivot, as runc's)", hint(*errno))]
    PivotRoot { rootfs: PathBuf, errno: Errno },
    #[error("cannot detach the old root after pivot_root: {errno}")]
    DetachOldRoot { errno: Errno },
    #[error("cannot detach {path}, a mount the container made on the host: {errno}; detach it by hand (umount -l {path})")]
    Detach { path: PathBuf, errno: Errno },
    /// This process's mount table could not be read or parsed (`crate::mountinfo`).
    #[error(transparent)]
    Mountinfo(#[from] MountinfoError),
    #[error("the mounts under {root} do not go away (still {left}); detach them by hand (umount -l)")]
    DetachStuck { root: PathBuf, left: usize },
    #[error("cannot move rootfs {rootfs} onto / and chroot into it: {errno}{}", hint(*errno))]
    Chroot { rootfs: PathBuf, errno: Errno },
    #[error("cannot chroot into rootfs {rootfs}: {errno}; the runtime needs CAP_SYS_CHROOT")]
    ChrootInto { rootfs: PathBuf, errno: Errno },
    #[error("{path} is not the null device (character device 1:3), so it cannot mask files; create the container's /dev with RootfsConfig::devices")]
    NotDevNull { path: PathBuf },
    #[error("cannot mask {path}: {errno}{}", hint(*errno))]
    Mask { path: PathBuf, errno: Errno },
    #[error("an overlay needs at least one lower directory")]
    OverlayNoLower,
    #[error("an overlay with an upper directory needs a work directory too, and a work directory needs an upper one; pass both")]
    OverlayUpperWithoutWork,
    #[error("overlay directory {path} contains ',' or ':', which overlayfs options cannot carry; move or link it to a plainer path")]
    OverlayBadPath { path: PathBuf },
    #[error("overlay directory {path} does not exist or is not a directory; create it first")]
    OverlayDirMissing { path: PathBuf },
    #[error("cannot mount overlay on {target} with {data}: {errno}{}; upper and work must be on the same filesystem, work empty, and overlayfs available (modprobe overlay)", hint(*errno))]
    OverlayMount { target: PathBuf, data: String, errno: Errno },
}

/// What the user can do about a refused mount call.
fn hint(errno: Errno) -> &'static str {
    match errno {
        Errno::EPERM => {
            " (not permitted: run as root, or in a user namespace that owns this mount namespace)"
        }
        Errno::ENODEV => " (this kernel does not know that filesystem type)",
        Errno::EINVAL => " (the kernel rejected the flags or data, or a shared mount is in the way)",
        _ => "",
    }
}
