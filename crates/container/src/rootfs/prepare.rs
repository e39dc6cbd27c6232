//! prepare_rootfs: the whole mount tree of a container, from its RootfsConfig.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sched::{unshare, CloneFlags};

use super::{
    change_root, create_device_nodes, create_devices, create_links, default_mounts, mask_path,
    mount_cgroupfs, mount_entry, mounts, readonly_path, remount_bind, set_root_propagation, DeviceNode,
    Mount, Overlay, Propagation, RootChange, RootfsError, MASKED_PATHS, READONLY_PATHS,
};
use crate::cgroups::mount::CgroupfsPlan;

// ANCHOR: rootfs_config
/// Everything [`prepare_rootfs`] does, in the words of config.json.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RootfsConfig {
    /// The directory that becomes `/` (config.json's `root.path`), or the overlay's mount point.
    pub rootfs: PathBuf,
    /// `linux.rootfsPropagation`.
    pub propagation: Propagation,
    /// `mounts`, in order: a mount may go on top of an earlier one (/dev, then /dev/pts).
    pub mounts: Vec<Mount>,
    /// Whether to create the default devices and links in /dev.
    pub devices: bool,
    /// `linux.devices`: more nodes, made after the mounts.
    pub device_nodes: Vec<DeviceNode>,
    /// `linux.maskedPaths`.
    pub masked_paths: Vec<PathBuf>,
    /// `linux.readonlyPaths`.
    pub readonly_paths: Vec<PathBuf>,
    /// `root.readonly`.
    pub readonly: bool,
    /// pivot_root, or the chroot fallback (`runc --no-pivot`).
    pub root_change: RootChange,
    /// Whose mount namespace the mounts go into: a new one (the default), one the
    /// process already joined, or the host's.
    pub mount_namespace: MountNamespace,
    /// Mount an overlay on `rootfs` first, instead of binding `rootfs` onto itself.
    pub overlay: Option<Overlay>,
    /// `process.cwd`, made when missing (mkdir -p, 0755, owned by the container's root)
    /// after the root change and before the read-only remount, as runc does.
    pub cwd: Option<PathBuf>,
    /// What a mount of type `cgroup` shows (the container's own cgroups, as chapter 4
    /// derives them); `None` mounts such an entry as it is written.
    #[serde(skip)]
    pub cgroupfs: Option<CgroupfsPlan>,
}
// ANCHOR_END: rootfs_config

// ANCHOR: mount_namespace
/// The mount namespace [`prepare_rootfs`] works in (config.json's `mount` entry).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MountNamespace {
    /// unshare(2) a new one first, so that every mount lives and dies with it.
    #[default]
    Own,
    /// The one this process is in, which it joined (setns(2), a `mount` entry with a
    /// `path`): set up there as in a new one, pivot_root included, as runc does.
    Joined,
    /// The runtime's own (config.json lists no `mount`): the host's mount table. The
    /// rootfs is bound onto `view`, an empty directory of the caller's that nothing
    /// else uses, and that bind made private; the mounts go under it, and the root
    /// changes by chroot(2) alone: no propagation of the host's is changed and
    /// pivot_root, which would change the root of every process in the namespace, is
    /// never called. The mounts outlive the container; whoever made the container
    /// detaches everything under `view` ([`mounts::detach_mounts_under`]).
    Host { view: PathBuf },
}
// ANCHOR_END: mount_namespace

impl RootfsConfig {
    /// What `runc spec` would ask for (with [`RootfsConfig::rootless`]'s adjustments when
    /// this process is already in a user namespace): the default mounts, devices, masked and read-only paths.
    pub fn new(rootfs: impl Into<PathBuf>) -> Self {
        let config = Self {
            rootfs: rootfs.into(),
            propagation: Propagation::default(),
            mounts: default_mounts(),
            devices: true,
            device_nodes: Vec::new(),
            masked_paths: MASKED_PATHS.iter().map(PathBuf::from).collect(),
            readonly_paths: READONLY_PATHS.iter().map(PathBuf::from).collect(),
            readonly: false,
            root_change: RootChange::default(),
            mount_namespace: MountNamespace::default(),
            overlay: None,
            cwd: None,
            cgroupfs: None,
        };
        if in_user_namespace() {
            config.rootless()
        } else {
            config
        }
    }

    /// Adjusts the mounts for a user namespace that maps few ids, as `runc spec --rootless`
    /// does: devpts loses `gid=5`, a group such a namespace does not have (EINVAL).
    pub fn rootless(mut self) -> Self {
        for mount in &mut self.mounts {
            mount.options.retain(|o| !o.starts_with("gid="));
        }
        self
    }

    /// Nothing but the root change: no mounts, devices or masks.
    pub fn bare(rootfs: impl Into<PathBuf>) -> Self {
        Self {
            mounts: Vec::new(),
            devices: false,
            device_nodes: Vec::new(),
            masked_paths: Vec::new(),
            readonly_paths: Vec::new(),
            ..Self::new(rootfs)
        }
    }

    /// Checks what can be checked before the first mount, and returns the rootfs's
    /// resolved path.
    pub fn validate(&self) -> Result<PathBuf, RootfsError> {
        let root = fs::canonicalize(&self.rootfs).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => RootfsError::RootfsMissing { path: self.rootfs.clone() },
            _ => RootfsError::Inspect { path: self.rootfs.clone(), source },
        })?;
        if !root.is_dir() {
            return Err(RootfsError::RootfsNotDirectory { path: self.rootfs.clone() });
        }
        // ANCHOR: host_root
        // "/", a link to it, "../../..", or / bound elsewhere: the same directory as
        // our root (a bind mount keeps the device and inode numbers).
        let same = |a: &fs::Metadata, b: &fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
        let is_host_root = root == Path::new("/")
            || matches!((fs::metadata(&root), fs::metadata("/")), (Ok(a), Ok(b)) if same(&a, &b));
        if is_host_root {
            return Err(RootfsError::RootfsIsHostRoot { path: self.rootfs.clone(), resolved: root });
        }
        // ANCHOR_END: host_root
        for mount in &self.mounts {
            if !mount.destination.is_absolute() {
                return Err(RootfsError::RelativeDestination { destination: mount.destination.clone() });
            }
            if mount.is_bind() && fs::symlink_metadata(&mount.source).is_err() {
                return Err(RootfsError::SourceMissing {
                    destination: mount.destination.clone(),
                    source_path: PathBuf::from(&mount.source),
                });
            }
        }
        if let Some(overlay) = &self.overlay {
            overlay.validate()?;
        }
        Ok(root)
    }
}

/// Whether this process is in a user namespace other than the initial one: the initial
/// namespace's uid_map is the identity over all 2^32 - 1 ids.
pub fn in_user_namespace() -> bool {
    match fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"],
        Err(_) => false,
    }
}

// ANCHOR: enter_own_mount_namespace
/// Moves this process into a mount namespace of its own, a copy of the one it was in.
/// Everything [`prepare_rootfs`] does then happens there and nowhere else: if the caller
/// forgot to unshare, the host's mount table is still safe (pivot_root in the host's
/// namespace would change the root of every process on the machine).
///
/// unshare(CLONE_NEWNS) alone does not refuse a process with threads: it moves the
/// calling thread alone, and the other threads stay behind in the old namespace with
/// the old root. CLONE_THREAD makes the kernel refuse instead (EINVAL unless the process
/// has one thread: check_unshare_flags in kernel/fork.c), the same check it makes for
/// CLONE_NEWUSER. The kernel's check, not a count of /proc/self/task, which a thread
/// started just after the count would make wrong.
fn enter_own_mount_namespace(rootfs: &Path) -> Result<(), RootfsError> {
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_THREAD).map_err(|errno| match errno {
        Errno::EINVAL => RootfsError::MultiThreaded { rootfs: rootfs.to_owned() },
        errno => RootfsError::Unshare { rootfs: rootfs.to_owned(), errno },
    })
}
// ANCHOR_END: enter_own_mount_namespace

// ANCHOR: prepare_rootfs
/// Builds the container's mount tree from `config` and makes it this process's root.
/// Call it in the single-threaded process that will exec the container's command (the
/// runtime's init); a process with threads gets [`RootfsError::MultiThreaded`]. It
/// first moves that process into a mount namespace of its own, so everything it mounts
/// lives and dies with that namespace, and a failure half-way leaves nothing on the
/// host; unless `config.mount_namespace` says the namespace is one already joined, or
/// the host's (see [`MountNamespace`]: then no propagation of the host's changes, and
/// the root changes by chroot alone).
pub fn prepare_rootfs(config: &RootfsConfig) -> Result<(), RootfsError> {
    let root = config.validate()?;
    let host = matches!(config.mount_namespace, MountNamespace::Host { .. });
    if config.mount_namespace == MountNamespace::Own {
        enter_own_mount_namespace(&root)?;
    }
    let userns = in_user_namespace();

    if !host {
        set_root_propagation(config.propagation)?;
        mounts::make_parent_private(&root, config.propagation)?;
    }
    // On the host, the tree is built on a view of the rootfs of this container's own,
    // not on the rootfs itself: another container may use the same rootfs.
    let source = root;
    let root = match &config.mount_namespace {
        MountNamespace::Host { view } => view.clone(),
        _ => source.clone(),
    };
    match &config.overlay {
        Some(overlay) => overlay.mount(&root, userns)?,
        None => mounts::bind_rootfs_at(&source, &root)?,
    }
    if host {
        // Ours alone, so that nothing mounted under it shows in other namespaces.
        mounts::mount_flags(&root, MsFlags::MS_PRIVATE | MsFlags::MS_REC)
            .map_err(|errno| RootfsError::Propagation { path: root.clone(), errno })?;
    }
    for mount in &config.mounts {
        match &config.cgroupfs {
            Some(plan) if mount.kind == "cgroup" => mount_cgroupfs(&root, mount, plan)?,
            _ => mount_entry(&root, mount)?,
        }
    }
    if config.devices {
        let replaced: Vec<&Path> = config.device_nodes.iter().map(|n| n.path.as_path()).collect();
        create_devices(&root, userns, &replaced)?;
        create_links(&root)?;
    }
    create_device_nodes(&root, &config.device_nodes, userns)?;
    // On the host, MS_MOVE onto / would cover the host's root as pivot_root would swap it.
    change_root(&root, if host { RootChange::Chroot } else { config.root_change })?;
    // From here on, paths are the container's own.
    // A shared root once more, now on the container's own root: the rootfs's bind took
    // its propagation from a mount make_parent_private had to make private. (Private
    // and slave need nothing: the bind inherited them, and a recursive change here
    // would undo the propagation options of the container's own mounts.) runc too
    // applies the propagation again after pivot_root.
    if !host && matches!(config.propagation, Propagation::Shared | Propagation::RShared) {
        mounts::mount_flags(Path::new("/"), config.propagation.flags())
            .map_err(|errno| RootfsError::Propagation { path: PathBuf::from("/"), errno })?;
    }
    // As runc: in the new root, so the path cannot lead out of it (its `..` stops at
    // `/`, an absolute symbolic link starts at the container's `/`), and it lands on
    // whatever is mounted there; before the read-only remount, which would refuse it.
    if let Some(cwd) = &config.cwd {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(cwd)
            .map_err(|source| RootfsError::WorkingDirectory { path: cwd.clone(), source })?;
    }
    for path in &config.masked_paths {
        mask_path(path)?;
    }
    for path in &config.readonly_paths {
        readonly_path(path)?;
    }
    if config.readonly {
        remount_bind(Path::new("/"), MsFlags::MS_RDONLY)?;
    }
    Ok(())
}
// ANCHOR_END: prepare_rootfs
