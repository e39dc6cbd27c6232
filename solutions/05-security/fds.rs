// Answer key for chapter 5, generated from crates/container/src/security/fds.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! File descriptor hygiene: nothing the runtime holds open may reach the
//! container, and the container's working directory must be inside it (chapter 5).
//!
//! An inherited descriptor to a host directory is a door out of any chroot or
//! mount namespace: CVE-2024-21626 was one. Read close_range(2), open(2)
//! (O_CLOEXEC), getcwd(3) ("(unreachable)") and proc(5) (`/proc/<pid>/fd`).

use std::io;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

/// What can go wrong while closing descriptors or entering the working directory.
#[derive(Debug, thiserror::Error)]
pub enum FdError {
    #[error("cannot close descriptors {first}..={last}: {source}; close_range(2) needs Linux 5.9 or later")]
    Close { first: u32, last: u32, source: io::Error },
    #[error("descriptor {fd} was asked to be preserved but is not open; pass only descriptors the runtime inherited")]
    PreservedNotOpen { fd: RawFd },
    #[error("descriptor {fd} cannot be preserved: 0, 1 and 2 always are, and numbers are non-negative")]
    PreservedInvalid { fd: RawFd },
    #[error("working directory {cwd} must be an absolute path inside the container")]
    CwdNotAbsolute { cwd: PathBuf },
    #[error("cannot enter working directory {cwd} inside the container: {source}")]
    Chdir { cwd: PathBuf, source: io::Error },
    #[error("working directory {cwd} leads outside the container's root (getcwd says {seen}); refusing to run with a host directory as cwd (CVE-2024-21626)")]
    CwdOutsideRoot { cwd: PathBuf, seen: String },
}

/// The first and last descriptor of each range to close: everything from 3 up,
/// except `preserve`. Ranges are inclusive, as close_range(2) takes them.
pub fn ranges_to_close(preserve: &[RawFd]) -> Vec<(u32, u32)> {
    let mut keep: Vec<u32> = preserve.iter().filter(|&&fd| fd > 2).map(|&fd| fd as u32).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut ranges = Vec::new();
    let mut first = 3u32;
    for fd in keep {
        if fd > first {
            ranges.push((first, fd - 1));
        }
        first = fd + 1;
    }
    ranges.push((first, u32::MAX));
    ranges
}

/// Checks that each preserved descriptor is open and above 2.
pub fn check_preserved(preserve: &[RawFd]) -> Result<(), FdError> {
    for &fd in preserve {
        if fd <= 2 {
            return Err(FdError::PreservedInvalid { fd });
        }
        // SAFETY: F_GETFD only reads the descriptor's flags.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(FdError::PreservedNotOpen { fd });
        }
    }
    Ok(())
}

/// Closes every descriptor but 0, 1, 2 and `preserve`, and clears close-on-exec
/// on the preserved ones so the payload gets them.
///
/// They are closed now, not merely marked close-on-exec (CLOSE_RANGE_CLOEXEC):
/// a descriptor that stays open until execve can still be reached through
/// `/proc/self/fd/N` by a chdir(2) done before it, which is CVE-2024-21626.
pub fn close_fds_except(preserve: &[RawFd]) -> Result<(), FdError> {
    check_preserved(preserve)?;
    for (first, last) in ranges_to_close(preserve) {
        // SAFETY: close_range only closes descriptors; none of ours is in use by
        // another thread, since this runs in the runtime's single-threaded init.
        let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
        if rc != 0 {
            return Err(FdError::Close { first, last, source: io::Error::last_os_error() });
        }
    }
    for &fd in preserve {
        // SAFETY: F_SETFD with 0 clears close-on-exec on an open descriptor.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
    Ok(())
}

/// Changes into `cwd` (a path inside the container, which is the root by now)
/// and checks that the kernel agrees it is inside: a working directory reached
/// through a leaked descriptor makes getcwd(2) answer "(unreachable)/…", which
/// glibc turns into ENOENT.
pub fn enter_cwd(cwd: &Path) -> Result<(), FdError> {
    if !cwd.is_absolute() {
        return Err(FdError::CwdNotAbsolute { cwd: cwd.to_owned() });
    }
    std::env::set_current_dir(cwd).map_err(|source| FdError::Chdir { cwd: cwd.to_owned(), source })?;
    match std::env::current_dir() {
        Ok(seen) if seen.is_absolute() && !seen.to_string_lossy().starts_with("(unreachable)") => Ok(()),
        Ok(seen) => Err(FdError::CwdOutsideRoot { cwd: cwd.to_owned(), seen: seen.display().to_string() }),
        Err(err) => Err(FdError::CwdOutsideRoot { cwd: cwd.to_owned(), seen: err.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::ranges_to_close;

    /// Ranges skip preserved descriptors and ignore 0–2.
    #[test]
    fn ranges() {
        assert_eq!(ranges_to_close(&[]), vec![(3, u32::MAX)]);
        assert_eq!(ranges_to_close(&[3]), vec![(4, u32::MAX)]);
        assert_eq!(ranges_to_close(&[7, 5, 1]), vec![(3, 4), (6, 6), (8, u32::MAX)]);
    }
}
