// Answer key for chapter 3, generated from crates/container/src/rootfs/mounts.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! The container's mount tree: its propagation, the rootfs as a mount point, and each
//! configured mount performed under the rootfs, with the second call read-only binds
//! need. Chapter 3. Read mount(2), mount_namespaces(7) ("Shared subtrees"), statvfs(3),
//! and the kernel's Documentation/filesystems/sharedsubtree.rst.

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

use super::options::{parse_options, Mount, Propagation, REMOUNT_FLAGS};
use super::resolve::{resolve_in_root, Target};
use super::RootfsError;
use crate::cgroups::mount::{CgroupfsPlan, CgroupfsSource};
use crate::mountinfo;

/// Shorthand for a mount(2) call that passes no source, type or data.
pub(crate) fn mount_flags(target: &Path, flags: MsFlags) -> nix::Result<()> {
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
}

/// Sets the propagation of every mount in this mount namespace, starting at `/`.
/// A new mount namespace starts with copies of the host's mounts and their propagation:
/// on a systemd host `/` is shared, so a mount made in the container would appear on
/// the host, and one made on the host would appear in the container. `rprivate` cuts
/// both ways; `rslave` lets the host's new mounts in and none out.
pub fn set_root_propagation(propagation: Propagation) -> Result<(), RootfsError> {
    mount_flags(Path::new("/"), propagation.flags())
        .map_err(|errno| RootfsError::Propagation { path: PathBuf::from("/"), errno })?;
    Ok(())
}

/// Binds the rootfs onto itself: pivot_root(2) wants its new root to be a mount point,
/// and a plain directory is not one. Recursive, so mounts already under it come along.
pub fn bind_rootfs(rootfs: &Path) -> Result<(), RootfsError> {
    bind_rootfs_at(rootfs, rootfs)
}

/// Binds the rootfs (recursively) onto `target`: itself, or another directory.
pub fn bind_rootfs_at(rootfs: &Path, target: &Path) -> Result<(), RootfsError> {
    mount(Some(rootfs), target, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>).map_err(
        |errno| RootfsError::Mount {
            source_path: rootfs.display().to_string(),
            target: target.to_owned(),
            kind: "bind".to_owned(),
            errno,
        },
    )
}

/// The per-mount flags `path`'s mount has now, as mount(2) flags (from statvfs(3)).
pub fn current_flags(path: &Path) -> Result<MsFlags, RootfsError> {
    let stat = statvfs(path)
        .map_err(|errno| RootfsError::Inspect { path: path.to_owned(), source: errno.into() })?;
    let have = stat.flags();
    let mut flags = MsFlags::empty();
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if have.contains(st) {
            flags |= ms;
        }
    }
    Ok(flags)
}

/// The second half of a bind mount with flags: a bind ignores `ro`, `nosuid`, `nodev` and
/// `noexec`, so they are applied by remounting the bind (MS_REMOUNT|MS_BIND changes only
/// this mount point, not the filesystem under it). The flags the mount has already are
/// kept: in a user namespace the kernel locks those inherited from the host and refuses
/// (EPERM) a remount that would clear one, and everywhere else dropping them by accident
/// would quietly make a nosuid mount suid again.
pub fn remount_bind(target: &Path, flags: MsFlags) -> Result<(), RootfsError> {
    let keep = current_flags(target)?;
    let all = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | keep | (flags & REMOUNT_FLAGS);
    mount_flags(target, all).map_err(|errno| RootfsError::Remount { target: target.to_owned(), errno })?;
    Ok(())
}

/// Binds `target` onto itself and makes it read-only, keeping its other flags.
pub fn bind_readonly(target: &Path) -> Result<(), RootfsError> {
    mount(Some(target), target, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>).map_err(
        |errno| RootfsError::Mount {
            source_path: target.display().to_string(),
            target: target.to_owned(),
            kind: "bind".to_owned(),
            errno,
        },
    )?;
    remount_bind(target, MsFlags::MS_RDONLY)
}

/// Performs one configured mount under `root` (a host path; the container's `/`).
/// The destination is resolved inside the root, created if missing (a directory, or an
/// empty file for a bind of a file), opened, checked to be under the root, and mounted
/// through its file descriptor.
pub fn mount_entry(root: &Path, entry: &Mount) -> Result<(), RootfsError> {
    if !entry.destination.is_absolute() {
        return Err(RootfsError::RelativeDestination { destination: entry.destination.clone() });
    }
    // runc's `tmpcopyup` is not a mount option the kernel knows: it is taken out here
    // and done after the mount (copy_up below).
    let copy_up = entry.kind == "tmpfs" && entry.options.iter().any(|o| o == TMPCOPYUP);
    let kept: Vec<String> = entry.options.iter().filter(|o| *o != TMPCOPYUP).cloned().collect();
    let options = parse_options(&kept);
    let dest = resolve_in_root(root, &entry.destination)?;
    check_kernel_fs_destination(root, entry, &dest)?;
    let bind = entry.is_bind();
    let source_is_dir = if bind {
        let meta = fs::metadata(&entry.source).map_err(|_| RootfsError::SourceMissing {
            destination: entry.destination.clone(),
            source_path: PathBuf::from(&entry.source),
        })?;
        meta.is_dir()
    } else {
        true
    };
    create_mount_point(&dest, source_is_dir)?;
    let target = Target::open(root, &dest)?;
    let fail = |errno| RootfsError::Mount {
        source_path: entry.source.clone(),
        target: entry.destination.clone(),
        kind: entry.kind.clone(),
        errno,
    };
    if bind {
        let flags = MsFlags::MS_BIND | (options.flags & MsFlags::MS_REC);
        mount(Some(entry.source.as_str()), &target.proc_path(), None::<&str>, flags, None::<&str>)
            .map_err(fail)?;
    } else {
        let data = (!options.data.is_empty()).then_some(options.data.as_str());
        mount(
            Some(entry.source.as_str()),
            &target.proc_path(),
            Some(entry.kind.as_str()),
            options.flags,
            data,
        )
        .map_err(fail)?;
    }
    // The descriptor still names the directory under the new mount: open it again to
    // reach the mount itself for the remount and the propagation changes.
    let mounted = Target::open(root, &dest)?;
    if copy_up {
        // `target` still names the directory the tmpfs now covers: its contents are
        // reachable through it, and nowhere else any more.
        copy_tree(&target.proc_path(), &mounted.proc_path())
            .map_err(|source| RootfsError::CopyUp { destination: entry.destination.clone(), source })?;
    }
    if bind && options.flags.intersects(REMOUNT_FLAGS) {
        remount_bind(&mounted.proc_path(), options.flags)?;
    }
    for change in options.propagation {
        mount_flags(&mounted.proc_path(), change)
            .map_err(|errno| RootfsError::Propagation { path: entry.destination.clone(), errno })?;
    }
    Ok(())
}

/// Performs a `cgroup` entry of config.json as `plan` (chapter 4's `cgroups::mount`)
/// says. On v2, one mount at the destination: the container's own cgroup directory
/// bound, or cgroup2 in a cgroup namespace. On v1, where one mount(2) cannot show
/// several hierarchies: a tmpfs at the destination, then inside it, through its
/// descriptor (mkdirat, openat, symlinkat: nothing below the destination is looked up
/// by path again), a directory per hierarchy with the container's cgroup bound (or
/// the hierarchy mounted) on it and the links of co-mounted controllers, and last,
/// when the options say `ro`, the tmpfs itself made read-only. The destination is
/// resolved and checked as any other mount's. runc builds the same tree.
pub fn mount_cgroupfs(root: &Path, entry: &Mount, plan: &CgroupfsPlan) -> Result<(), RootfsError> {
    if !entry.destination.is_absolute() {
        return Err(RootfsError::RelativeDestination { destination: entry.destination.clone() });
    }
    let options = parse_options(&entry.options);
    // A tree of control files: never a device, a setuid program or an executable.
    let flags = (options.flags & REMOUNT_FLAGS) | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let dest = resolve_in_root(root, &entry.destination)?;
    check_kernel_fs_destination(root, entry, &dest)?;
    create_mount_point(&dest, true)?;
    let target = Target::open(root, &dest)?;
    let (dirs, links) = match plan {
        CgroupfsPlan::V2(source) => {
            mount_cgroup_source(&target, &entry.destination, source, flags)?;
            let mounted = Target::open(root, &dest)?;
            if let CgroupfsSource::Bind(_) = source {
                remount_bind(&mounted.proc_path(), flags)?;
            }
            return propagate(&mounted, entry, &options.propagation);
        }
        CgroupfsPlan::V1 { dirs, links } => (dirs, links),
    };
    // Writable until its directories and links are made; read-only (if asked) last.
    mount(Some("tmpfs"), &target.proc_path(), Some("tmpfs"), flags - MsFlags::MS_RDONLY, Some("mode=755"))
        .map_err(|errno| RootfsError::Mount {
            source_path: "tmpfs".into(),
            target: entry.destination.clone(),
            kind: "tmpfs".into(),
            errno,
        })?;
    let tmpfs = Target::open(root, &dest)?;
    for dir in dirs {
        let at = entry.destination.join(&dir.name);
        nix::sys::stat::mkdirat(
            tmpfs.fd(),
            dir.name.as_str(),
            nix::sys::stat::Mode::from_bits_truncate(0o755),
        )
        .map_err(|errno| RootfsError::Create { path: at.clone(), source: errno.into() })?;
        let sub = Target::open_at(root, &tmpfs, &dir.name)?;
        mount_cgroup_source(&sub, &at, &dir.source, flags)?;
        if let CgroupfsSource::Bind(_) = dir.source {
            // A bind ignores the flags: remount it through a descriptor of the new mount.
            remount_bind(&Target::open_at(root, &tmpfs, &dir.name)?.proc_path(), flags)?;
        }
    }
    for (link, to) in links {
        nix::unistd::symlinkat(to.as_str(), tmpfs.fd(), link.as_str()).map_err(|errno| {
            RootfsError::Create { path: entry.destination.join(link), source: errno.into() }
        })?;
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        remount_bind(&tmpfs.proc_path(), flags)?;
    }
    propagate(&tmpfs, entry, &options.propagation)
}

/// One directory of the cgroup tree: `source` bound or mounted on `target`. A fresh
/// mount takes the flags at once; a bind needs the caller's remount.
fn mount_cgroup_source(
    target: &Target,
    at: &Path,
    source: &CgroupfsSource,
    flags: MsFlags,
) -> Result<(), RootfsError> {
    let (source_path, kind, result) = match source {
        CgroupfsSource::Bind(dir) => (
            dir.display().to_string(),
            "bind",
            mount(
                Some(dir),
                &target.proc_path(),
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            ),
        ),
        CgroupfsSource::Mount { fstype, data } => (
            if data.is_empty() { fstype.to_string() } else { format!("{fstype} -o {data}") },
            *fstype,
            mount(
                Some(*fstype),
                &target.proc_path(),
                Some(*fstype),
                flags,
                (!data.is_empty()).then_some(data.as_str()),
            ),
        ),
    };
    result.map_err(|errno| RootfsError::Mount {
        source_path,
        target: at.to_owned(),
        kind: kind.into(),
        errno,
    })?;
    Ok(())
}

/// The entry's propagation options, applied to the mount `mounted` names.
fn propagate(mounted: &Target, entry: &Mount, changes: &[MsFlags]) -> Result<(), RootfsError> {
    for change in changes {
        mount_flags(&mounted.proc_path(), *change)
            .map_err(|errno| RootfsError::Propagation { path: entry.destination.clone(), errno })?;
    }
    Ok(())
}

/// The filesystems whose files the runtime itself reads or relies on after
/// pivot_root: the kernel's views of processes and devices.
const KERNEL_FS: [&str; 2] = ["proc", "sysfs"];

/// Refuses to let the image's symbolic links decide where the kernel's filesystems
/// go. `proc` and `sysfs` land only on the real directory config.json names
/// (`/proc -> /data/p` with a volume at /data would otherwise put the real proc
/// under the volume and leave a fake tree at `/proc`), and no other mount may be
/// redirected by a link onto them (`/data -> /proc` with a volume at /data would
/// cover the real proc). runc refuses the first ("must be mounted on ordinary
/// directory"). A destination config.json itself writes under /proc is its
/// author's choice and is left alone.
fn check_kernel_fs_destination(root: &Path, entry: &Mount, resolved: &Path) -> Result<(), RootfsError> {
    if resolved == lexical_in_root(root, &entry.destination) {
        return Ok(());
    }
    // As the container sees it, for the error.
    let seen = Path::new("/").join(resolved.strip_prefix(root).unwrap_or(resolved));
    let destination = entry.destination.clone();
    if KERNEL_FS.contains(&entry.kind.as_str()) {
        return Err(RootfsError::KernelFsRedirected {
            kind: entry.kind.clone(),
            destination,
            resolved: seen,
        });
    }
    if ["proc", "sys"].iter().any(|fs| resolved.starts_with(root.join(fs))) {
        return Err(RootfsError::RedirectedOntoKernelFs { destination, resolved: seen });
    }
    Ok(())
}

/// `path` (as the container sees it) under `root` as written, without following
/// anything: `..` stops at `root`, `.` and repeated slashes go.
fn lexical_in_root(root: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let mut inside = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => inside.push(name),
            Component::ParentDir => {
                inside.pop();
            }
            _ => {}
        }
    }
    root.join(inside)
}

/// Takes the mount that holds `rootfs` (the rootfs's own mount when it is a mount
/// point, as an overlay rootfs is) out of its peer group if it is shared (its optional
/// fields in mountinfo carry `shared:N`), before the rootfs is bound onto itself: a
/// bind made on a shared mount joins that mount's peer group, so it would show on the
/// host, and pivot_root(2) refuses a new root whose parent mount is shared (EINVAL).
/// runc makes it private. Here a slave stays a slave when config.json asks for one
/// (`slave`, `rslave`): the container's root must then still receive the host's new
/// mounts, and a private parent would quietly cut it off. Only that mount changes; a
/// shared container root gets its propagation back after pivot_root.
pub fn make_parent_private(rootfs: &Path, propagation: Propagation) -> Result<(), RootfsError> {
    // The last mount (mounts stack) whose mount point is the longest prefix of
    // `rootfs`, `rootfs` itself included.
    let mut best: Option<(PathBuf, bool)> = None;
    for mount in mountinfo::read(mountinfo::SELF)? {
        let shared = mount.shared().is_some();
        let point = mount.mount_point;
        if !rootfs.starts_with(&point) {
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| point.components().count() >= b.components().count()) {
            best = Some((point, shared));
        }
    }
    if let Some((point, true)) = best {
        let unshared = match propagation {
            Propagation::Slave | Propagation::RSlave => MsFlags::MS_SLAVE,
            _ => MsFlags::MS_PRIVATE,
        };
        mount_flags(&point, unshared)
            .map_err(|errno| RootfsError::Propagation { path: point.clone(), errno })?;
    }
    Ok(())
}

/// The mounts at `root` or under it in this process's mount table, as (mount id,
/// mount point), in mountinfo's order: a mount comes after the mounts it covers.
pub fn mounts_under(root: &Path) -> Result<Vec<(u64, PathBuf)>, RootfsError> {
    Ok(mountinfo::read(mountinfo::SELF)?
        .into_iter()
        .filter(|m| m.mount_point.starts_with(root))
        .map(|m| (m.mount_id, m.mount_point))
        .collect())
}

/// Detaches every mount at or under `root`: what a container sharing the host's
/// mount namespace mounted on its view of the rootfs (the view itself, /proc, /dev,
/// …, and what its payload mounted). umount2(2) with MNT_DETACH on the outermost
/// takes the mounts under it along; the loop catches any left beside it.
pub fn detach_mounts_under(root: &Path) -> Result<(), RootfsError> {
    let mut left = mounts_under(root)?;
    while !left.is_empty() {
        // The shallowest mount point; of the mounts stacked there, the last (the top
        // one, which umount2 of that path reaches).
        let depth = |p: &Path| p.components().count();
        let shallowest = left.iter().map(|(_, p)| depth(p)).min().expect("not empty");
        let (_, point) = left.iter().rev().find(|(_, p)| depth(p) == shallowest).expect("found").clone();
        match nix::mount::umount2(&point, nix::mount::MntFlags::MNT_DETACH) {
            // EINVAL: no longer a mount point (gone meanwhile).
            Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
            Err(errno) => return Err(RootfsError::Detach { path: point, errno }),
        }
        let now = mounts_under(root)?;
        if now.len() >= left.len() {
            return Err(RootfsError::DetachStuck { root: root.to_owned(), left: now.len() });
        }
        left = now;
    }
    Ok(())
}

/// The mount option with which runc (and podman's `--read-only`) asks for a tmpfs that
/// starts with a copy of what the directory held in the image.
pub const TMPCOPYUP: &str = "tmpcopyup";

/// Copies the tree under `from` into the existing directory `to`: directories, regular
/// files, symlinks, device nodes, fifos and sockets, with their modes and owners
/// (lchown: a symlink's own), and `to` takes `from`'s mode and owner. Hard links
/// become copies, as in runc's copy-up. Used for `tmpcopyup` only, on a tree that is
/// the image's: it does not follow symlinks, so a hostile one is copied as a link.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{lchown, symlink, MetadataExt, PermissionsExt};
    // metadata, not symlink_metadata: `from` may be a /proc/self/fd/N link, whose own
    // mode is the descriptor's (0 for O_PATH), not the directory's.
    let meta = fs::metadata(from)?;
    fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    lchown(to, Some(meta.uid()), Some(meta.gid()))?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let meta = fs::symlink_metadata(&source)?;
        let kind = meta.file_type();
        if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_tree(&source, &target)?;
            continue;
        } else if kind.is_symlink() {
            symlink(fs::read_link(&source)?, &target)?;
        } else if kind.is_file() {
            fs::copy(&source, &target)?;
        } else {
            // Devices, fifos and sockets: a new node of the same kind and numbers.
            let mode = nix::sys::stat::Mode::from_bits_truncate(meta.mode());
            let kind = nix::sys::stat::SFlag::from_bits_truncate(meta.mode() & nix::libc::S_IFMT);
            nix::sys::stat::mknod(&target, kind, mode, meta.rdev()).map_err(std::io::Error::from)?;
        }
        if !kind.is_symlink() {
            fs::set_permissions(&target, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        }
        lchown(&target, Some(meta.uid()), Some(meta.gid()))?;
    }
    Ok(())
}

/// Creates a directory (and its parents), or an empty file to bind a file onto.
pub(crate) fn create_mount_point(path: &Path, dir: bool) -> Result<(), RootfsError> {
    if dir {
        fs::create_dir_all(path).map_err(|source| RootfsError::Create { path: path.to_owned(), source })?;
    } else if fs::symlink_metadata(path).is_err() {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|source| RootfsError::Create { path: parent.to_owned(), source })?;
        }
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| RootfsError::Create { path: path.to_owned(), source })?;
    }
    Ok(())
}
