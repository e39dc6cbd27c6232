//! Masked and read-only paths: files under /proc and /sys that would tell a container
//! about the host's memory, keys and hardware, or let it change kernel settings for
//! everyone. Chapter 3. Read proc(5) (kcore, keys, sysrq-trigger, sys/), sysfs(5), and
//! the OCI runtime spec, config-linux.md "Masked Paths" and "Readonly Paths".

use std::fs;
use std::io;
use std::path::Path;

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use nix::mount::{mount, MsFlags};
use nix::sys::stat::makedev;

use super::mounts::bind_readonly;
use super::RootfsError;

// ANCHOR: mask_path
/// Hides `path` (inside the container, after the root change): a file gets /dev/null
/// bound over it, so it reads as empty; a directory gets an empty read-only tmpfs over
/// it. A path that does not exist on this kernel has nothing to hide and is skipped.
/// Unmounting the mask again needs CAP_SYS_ADMIN, which chapter 5 takes away.
pub fn mask_path(path: &Path) -> Result<(), RootfsError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(RootfsError::Inspect { path: path.to_owned(), source }),
    };
    if !meta.is_dir() {
        check_dev_null()?;
    }
    // exercise: A directory: mount an empty tmpfs on it with MS_RDONLY. Anything else: bind-mount /dev/null over it (MS_BIND). Both with nix::mount::mount; a failure is RootfsError::Mask.
    let done = if meta.is_dir() {
        mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, None::<&str>)
    } else {
        mount(Some("/dev/null"), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
    };
    done.map_err(|errno| RootfsError::Mask { path: path.to_owned(), errno })
    // end exercise
}
// ANCHOR_END: mask_path

/// Checks that the container's /dev/null is the null device before binding it over a
/// file. If an image or another process had made it a link to, say,
/// /proc/sys/kernel/core_pattern, the mask would bind that writable file in place of the
/// masked one: runc's CVE-2025-31133.
fn check_dev_null() -> Result<(), RootfsError> {
    let path = Path::new("/dev/null");
    let meta = fs::symlink_metadata(path)
        .map_err(|source| RootfsError::Inspect { path: path.to_owned(), source })?;
    if !meta.file_type().is_char_device() || meta.rdev() != makedev(1, 3) {
        return Err(RootfsError::NotDevNull { path: path.to_owned() });
    }
    Ok(())
}

/// Makes `path` (inside the container) read-only: a bind onto itself, remounted
/// read-only with its other flags kept. Missing paths are skipped.
pub fn readonly_path(path: &Path) -> Result<(), RootfsError> {
    match fs::symlink_metadata(path) {
        Ok(_) => bind_readonly(path),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RootfsError::Inspect { path: path.to_owned(), source }),
    }
}
