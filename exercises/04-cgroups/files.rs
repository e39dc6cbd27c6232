// Your file for chapter 4: replace each todo!() with working code, then run
// `cargo workshop check 4`. Generated from crates/container/src/cgroups/files.rs by `cargo xtask exercises`;
// `cargo workshop reset 4` gives you a fresh copy.
//! The file and directory helpers both drivers use (chapter 4): a cgroup path checked,
//! control files written as one write(2) with the kernel's refusals told apart, read as
//! text, numbers, `max`, flat-keyed lines and pid lists, and a cgroup removed
//! bottom-up. Read cgroups(7) and the kernel's admin-guide/cgroup-v2.rst ("Interface Files").

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::error::CgroupError;
use super::manager::KILL_TIMEOUT;

/// Checks that a cgroup path is relative and made of plain names, so that joining it
/// to a hierarchy's mount point can never lead outside it.
pub fn check_path(path: &Path) -> Result<(), CgroupError> {
    let bad = |reason| Err(CgroupError::InvalidPath { path: path.to_owned(), reason });
    if path.as_os_str().is_empty() {
        return bad("it is empty");
    }
    for part in path.components() {
        match part {
            Component::Normal(_) => {}
            Component::RootDir | Component::Prefix(_) => return bad("it is absolute"),
            Component::ParentDir | Component::CurDir => return bad("it has . or .. in it"),
        }
    }
    Ok(())
}

/// Writes `value` to a cgroup control file as one write(2), without O_CREAT: the kernel
/// makes the files, so a missing one is a controller that is not there, not a file to
/// create. The kernel's refusals become errors that name the file and the value.
pub fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    let result = fs::OpenOptions::new().write(true).truncate(true).open(path).and_then(|mut file| {
        // One write: the kernel parses each write(2) on its own, so no BufWriter splitting.
        file.write_all(value.as_bytes())
    });
    result.map_err(|source| {
        let (path, value) = (path.to_owned(), value.to_owned());
        match source.raw_os_error().map(Errno::from_raw) {
            Some(Errno::ENOENT) => CgroupError::FileMissing { path },
            Some(Errno::EINVAL) => CgroupError::Rejected { path, value },
            Some(Errno::EBUSY) => CgroupError::Busy { path, value },
            Some(Errno::EACCES | Errno::EPERM | Errno::EROFS) => CgroupError::NotPermitted { path },
            Some(Errno::ESRCH) => {
                CgroupError::NoSuchProcess { pid: value.trim().parse().unwrap_or(-1), path }
            }
            _ => CgroupError::Write { path, value, source },
        }
    })
}

/// Reads a control file as text.
pub fn read_file(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => CgroupError::FileMissing { path: path.to_owned() },
        _ => CgroupError::Read { path: path.to_owned(), source },
    })
}

/// Reads a file holding one number.
pub fn read_u64(path: &Path) -> Result<u64, CgroupError> {
    let text = read_file(path)?;
    text.trim().parse().map_err(|_| CgroupError::Parse { path: path.to_owned(), text })
}

/// Reads a file holding one number or `max`; `max` is `None`.
pub fn read_max(path: &Path) -> Result<Option<u64>, CgroupError> {
    let text = read_file(path)?;
    match text.trim() {
        "max" => Ok(None),
        number => number.parse().map(Some).map_err(|_| CgroupError::Parse { path: path.to_owned(), text }),
    }
}

/// The value of `key` in a flat-keyed file (`key value` lines, as `memory.events`,
/// `cpu.stat`, `pids.events` and v1's `memory.oom_control`); `None` when absent.
pub fn flat_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        if k == key {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

/// Reads `cgroup.procs`: one pid per line.
pub fn read_procs(path: &Path) -> Result<Vec<i32>, CgroupError> {
    let text = read_file(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim().parse().map_err(|_| CgroupError::Parse { path: path.to_owned(), text: text.clone() })
        })
        .collect()
}

/// Removes cgroup directory `dir` and every cgroup below it, deepest first, as both
/// drivers' `remove` do (one v1 hierarchy's directory, or the v2 one): rmdir(2)
/// refuses a cgroup that still has a child cgroup. The control files inside are the
/// kernel's and go with the directory; rmdir, not remove_dir_all, which would try to
/// unlink them one by one and fail. A directory already gone is fine.
pub fn remove_bottom_up(dir: &Path) -> Result<(), CgroupError> {
    todo!("Recurse into every subdirectory (fs::read_dir, file_type().is_dir()) first, then fs::remove_dir(dir); NotFound is success, EBUSY means a task is still leaving: retry every 10 ms until KILL_TIMEOUT, then CgroupError::Remove.");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nested directories go deepest first; one already gone is success; a directory
    /// rmdir(2) refuses (here: a plain file in it, as a cgroup with a task would be) is
    /// `Remove`, naming it.
    #[test]
    fn removes_bottom_up() {
        let root = tempfile::tempdir().unwrap();
        let cgroup = root.path().join("bigbang/web");
        fs::create_dir_all(cgroup.join("child/grandchild")).unwrap();
        fs::create_dir_all(cgroup.join("other")).unwrap();
        remove_bottom_up(&cgroup).unwrap();
        assert!(!cgroup.exists() && root.path().join("bigbang").is_dir());
        remove_bottom_up(&cgroup).unwrap();
        fs::create_dir_all(cgroup.join("busy")).unwrap();
        fs::write(cgroup.join("busy/file"), "").unwrap();
        let err = remove_bottom_up(&cgroup).unwrap_err();
        assert!(matches!(&err, CgroupError::Remove { path, .. } if path == &cgroup.join("busy")), "{err}");
    }
}
