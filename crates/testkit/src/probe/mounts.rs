//! overlayfs and pivot_root: whether the kernel offers overlay, and live probes that
//! mount an overlay and pivot_root into a scratch directory in a forked child's
//! private mount namespace. Read mount_namespaces(7), pivot_root(2) and the kernel's
//! overlayfs.rst.

use std::ffi::{CString, OsStr};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;

use super::live::{at, in_child, IdMaps};
use super::{is_root, Attempt, ProbeError};

/// Whether `/proc/filesystems` text lists `fstype` (e.g. `nodev\toverlay`).
pub fn filesystem_listed(proc_filesystems: &str, fstype: &str) -> bool {
    proc_filesystems.lines().any(|line| line.split_whitespace().last() == Some(fstype))
}

/// The overlay module under `modules_dir` (`/lib/modules`) for kernel `release`, if
/// `modprobe overlay` could load it: the `.ko` file, or a modules.builtin entry.
pub fn overlay_module(modules_dir: &Path, release: &str) -> Option<PathBuf> {
    let dir = modules_dir.join(release);
    let module_dir = dir.join("kernel/fs/overlayfs");
    for ext in ["ko", "ko.xz", "ko.zst", "ko.gz"] {
        let file = module_dir.join(format!("overlay.{ext}"));
        if file.is_file() {
            return Some(file);
        }
    }
    let builtin = dir.join("modules.builtin");
    fs::read_to_string(&builtin)
        .ok()
        .filter(|text| text.lines().any(|l| l.trim() == "kernel/fs/overlayfs/overlay.ko"))
        .map(|_| builtin)
}

/// Scratch directories for the mount probes, made before the fork, removed on drop.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(subdirs: &[&str]) -> Result<Self, ProbeError> {
        let dir = tempfile::Builder::new()
            .prefix("bigbang-probe-")
            .tempdir()
            .map_err(|source| ProbeError::Scratch { path: std::env::temp_dir(), source })?;
        for sub in subdirs {
            let path = dir.path().join(sub);
            fs::create_dir_all(&path).map_err(|source| ProbeError::Scratch { path, source })?;
        }
        // A rootless probe maps only the current user: keep the tree ours and traversable.
        let _ = fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755));
        Ok(Self { dir })
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.dir.path().to_owned()
        } else {
            self.dir.path().join(rel)
        }
    }

    fn c_path(&self, rel: &str) -> Result<CString, ProbeError> {
        c_string(self.path(rel).as_os_str())
    }
}

impl Drop for Scratch {
    /// overlayfs leaves `work/work` with mode 000: an unprivileged owner could not
    /// remove it, and the tempdir would stay behind. Open the modes up first.
    fn drop(&mut self) {
        fn open_up(dir: &Path) {
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
            if let Ok(entries) = fs::read_dir(dir) {
                for entry in entries.flatten() {
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        open_up(&entry.path());
                    }
                }
            }
        }
        open_up(self.dir.path());
    }
}

fn c_string(s: &OsStr) -> Result<CString, ProbeError> {
    CString::new(s.as_bytes()).map_err(|_| ProbeError::NulInPath { path: PathBuf::from(s) })
}

/// How the child gets a private mount namespace: as root directly, otherwise inside a
/// new user namespace that maps root onto the current user (id maps built before fork).
struct PrivateMounts {
    maps: Option<IdMaps>,
}

impl PrivateMounts {
    fn for_current_user() -> Self {
        if is_root() {
            Self { maps: None }
        } else {
            let uid = nix::unistd::geteuid().as_raw();
            let gid = nix::unistd::getegid().as_raw();
            Self { maps: Some(IdMaps::root_onto(uid, gid)) }
        }
    }

    const STEPS: [&'static str; 5] = [
        "unshare(CLONE_NEWNS)",
        "write /proc/self/setgroups",
        "write /proc/self/uid_map",
        "write /proc/self/gid_map",
        "mount --make-rprivate /",
    ];

    /// In the child: steps 0..=4. Nothing mounted afterwards propagates to the host.
    fn enter(&self) -> Result<(), (usize, Errno)> {
        match &self.maps {
            None => at(0, nix::sched::unshare(CloneFlags::CLONE_NEWNS))?,
            Some(maps) => {
                at(0, nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS))?;
                maps.write(1)?;
            }
        }
        at(
            4,
            nix::mount::mount(
                None::<&str>,
                c"/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            ),
        )
    }
}

const OVERLAY_STEPS: &[&str] = &[
    PrivateMounts::STEPS[0],
    PrivateMounts::STEPS[1],
    PrivateMounts::STEPS[2],
    PrivateMounts::STEPS[3],
    PrivateMounts::STEPS[4],
    "mount -t overlay",
    "stat a lower-layer file through the overlay",
    "umount the overlay",
];

/// Mounts a tiny overlay (one lower layer holding one file) on scratch dirs in a forked
/// child's private mount namespace (a user namespace too when not root), checks the file
/// shows through, and unmounts it.
pub fn try_overlay_mount() -> Result<Attempt, ProbeError> {
    let scratch = Scratch::new(&["lower", "upper", "work", "merged"])?;
    let file = scratch.path("lower/probe");
    fs::write(&file, b"bigbang\n").map_err(|source| ProbeError::Scratch { path: file, source })?;
    let private = PrivateMounts::for_current_user();
    let mut data = format!(
        "lowerdir={},upperdir={},workdir={}",
        scratch.path("lower").display(),
        scratch.path("upper").display(),
        scratch.path("work").display()
    );
    if private.maps.is_some() {
        // Inside a user namespace overlay may not write trusted.* xattrs (Linux 5.11+).
        data.push_str(",userxattr");
    }
    let data = c_string(OsStr::new(&data))?;
    let merged = scratch.c_path("merged")?;
    let through = scratch.c_path("merged/probe")?;
    in_child(OVERLAY_STEPS, || {
        private.enter()?;
        at(
            5,
            nix::mount::mount(
                Some(c"overlay"),
                merged.as_c_str(),
                Some(c"overlay"),
                MsFlags::empty(),
                Some(data.as_c_str()),
            ),
        )?;
        at(6, nix::sys::stat::stat(through.as_c_str()))?;
        at(7, nix::mount::umount2(merged.as_c_str(), MntFlags::empty()))
    })
}

const PIVOT_STEPS: &[&str] = &[
    PrivateMounts::STEPS[0],
    PrivateMounts::STEPS[1],
    PrivateMounts::STEPS[2],
    PrivateMounts::STEPS[3],
    PrivateMounts::STEPS[4],
    "bind-mount the new root on itself",
    "pivot_root",
    "chdir /",
    "umount the old root",
];

/// pivot_root(2) into a bind-mounted scratch dir with put_old inside it, in a forked
/// child's private mount namespace (a user namespace too when not root); then detaches
/// the old root and exits.
pub fn try_pivot_root() -> Result<Attempt, ProbeError> {
    let scratch = Scratch::new(&["old"])?;
    let new_root = scratch.c_path("")?;
    let put_old = scratch.c_path("old")?;
    let private = PrivateMounts::for_current_user();
    in_child(PIVOT_STEPS, || {
        private.enter()?;
        at(
            5,
            nix::mount::mount(
                Some(new_root.as_c_str()),
                new_root.as_c_str(),
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            ),
        )?;
        at(6, nix::unistd::pivot_root(new_root.as_c_str(), put_old.as_c_str()))?;
        at(7, nix::unistd::chdir(c"/"))?;
        at(8, nix::mount::umount2(c"/old", MntFlags::MNT_DETACH))
    })
}
