// Part of chapter 3, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/rootfs/resolve.rs by `cargo xtask exercises`;
// `cargo workshop reset 3` gives you a fresh copy.
//! Resolving a mount destination inside the rootfs, never outside it. Chapter 3.
//! A rootfs comes from an image, so its symbolic links are the image author's: a link
//! `/etc -> /` or `/data -> ../../..` must lead to the rootfs's own `/`, not the host's.
//! This is the CVE class of CVE-2021-30465 (runc, a symlink exchanged under a mount).
//! Read path_resolution(7), symlink(7), openat2(2) (RESOLVE_IN_ROOT) and proc(5) (/proc/self/fd).

use std::ffi::OsString;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use super::RootfsError;

/// How many symbolic links a resolution may follow, as the kernel's MAXSYMLINKS (40).
const MAX_SYMLINKS: usize = 40;

/// `unsafe_path` (as the container sees it) resolved under `root` (a host path): each
/// component is looked up in turn, a symbolic link is read and followed *inside* `root`
/// (an absolute target restarts at `root`), and `..` stops at `root` as it does at a
/// process's root directory. Components that do not exist yet are kept as they are.
pub fn resolve_in_root(root: &Path, unsafe_path: &Path) -> Result<PathBuf, RootfsError> {
    let mut pending: Vec<OsString> = components(unsafe_path);
    pending.reverse();
    // The path resolved so far, relative to root.
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(name) = pending.pop() {
        if name == ".." {
            resolved.pop();
            continue;
        }
        let candidate = root.join(&resolved).join(&name);
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(RootfsError::TooManyLinks { path: unsafe_path.to_owned() });
                }
                let target = fs::read_link(&candidate)
                    .map_err(|source| RootfsError::Inspect { path: candidate.clone(), source })?;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                // The link's own components go first, then what was left of the path.
                let mut parts = components(&target);
                parts.reverse();
                pending.extend(parts);
            }
            _ => resolved.push(&name),
        }
    }
    Ok(root.join(resolved))
}

/// The normal and `..` components of `path`, `/` and `.` dropped.
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// A mount target opened with O_PATH, and the `/proc/self/fd/N` name to mount onto.
/// Mounting through the fd, not the path, closes the window in which someone swaps a
/// directory on the way for a symbolic link after it was checked (CVE-2021-30465).
#[derive(Debug)]
pub struct Target {
    fd: OwnedFd,
    /// Where the target really is, as the kernel reports it.
    pub real: PathBuf,
}

impl Target {
    /// Opens `path`, which must not be a symbolic link and must lie under `root`.
    pub fn open(root: &Path, path: &Path) -> Result<Self, RootfsError> {
        let fd = open(path, OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|errno| RootfsError::Inspect { path: path.to_owned(), source: errno.into() })?;
        let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
        let real =
            fs::read_link(&link).map_err(|source| RootfsError::Inspect { path: path.to_owned(), source })?;
        if !real.starts_with(root) {
            return Err(RootfsError::Escapes { destination: path.to_owned(), resolved: real });
        }
        Ok(Self { fd, real })
    }

    /// Opens `name` (one plain name, not a symbolic link) in the directory `dir`, by
    /// descriptor (openat(2)): nothing on the way is looked up by path again.
    pub fn open_at(root: &Path, dir: &Target, name: &str) -> Result<Self, RootfsError> {
        let path = dir.real.join(name);
        let fd = nix::fcntl::openat(
            dir.fd(),
            name,
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| RootfsError::Inspect { path: path.clone(), source: errno.into() })?;
        let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
        let real =
            fs::read_link(&link).map_err(|source| RootfsError::Inspect { path: path.clone(), source })?;
        if !real.starts_with(root) {
            return Err(RootfsError::Escapes { destination: path, resolved: real });
        }
        Ok(Self { fd, real })
    }

    /// The descriptor, for the `*at` calls that work inside the target without
    /// resolving its path again (mkdirat(2), symlinkat(2), openat(2)).
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// The magic link that names the opened file to mount(2).
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}
