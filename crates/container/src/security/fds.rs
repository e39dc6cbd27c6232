//! File descriptor hygiene: nothing the runtime holds open may reach the
//! container, and the container's working directory must be inside it (chapter 5).
//!
//! An inherited descriptor to a host directory is a door out of any chroot or
//! mount namespace: CVE-2024-21626 was one. Read close_range(2), open(2)
//! (O_CLOEXEC), getcwd(3) ("(unreachable)"), getrlimit(2) (RLIMIT_NOFILE) and
//! seccomp(2) (a filter the runtime itself runs under may refuse close_range).

use std::io;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

/// What can go wrong while closing descriptors or entering the working directory.
#[derive(Debug, thiserror::Error)]
pub enum FdError {
    #[error("cannot close descriptors {first}..={last} with close_range(2): {source}")]
    CloseRange { first: u32, last: u32, source: io::Error },
    #[error("cannot close descriptor {fd}: {source}; close_range(2) of {first}..={last} was refused first ({}), so the descriptors below {limit} were being closed one by one; a seccomp filter the runtime runs under must allow close_range or close", why_range_failed(.range))]
    Close { fd: u32, source: io::Error, first: u32, last: u32, range: io::Error, limit: u32 },
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

/// What a failed close_range(2) means, in words a user can act on.
fn why_range_failed(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(libc::ENOSYS) => format!("{err}: this kernel is older than Linux 5.9"),
        Some(libc::EPERM) => format!("{err}: a seccomp filter refused it"),
        _ => err.to_string(),
    }
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

// ANCHOR: close_fds
/// Closes every descriptor but 0, 1, 2 and `preserve`, and clears close-on-exec
/// on the preserved ones so the payload gets them.
///
/// They are closed now, not merely marked close-on-exec (CLOSE_RANGE_CLOEXEC):
/// a descriptor that stays open until execve can still be reached through
/// `/proc/self/fd/N` by a chdir(2) done before it, which is CVE-2024-21626.
///
/// `limit` bounds the descriptor numbers that can be open (the RLIMIT_NOFILE hard
/// limit, taken by `Profile::prepare` before anything was locked down): where
/// close_range(2) is refused, [`close_each`] closes the range one by one up to it.
pub fn close_fds_except(preserve: &[RawFd], limit: u32) -> Result<(), FdError> {
    check_preserved(preserve)?;
    // exercise: Close every range ranges_to_close(preserve) gives with close_range(2) (libc::syscall(libc::SYS_close_range, first, last, 0)); where it fails with EPERM or ENOSYS, call close_each(first, last, limit, the error) instead, and map any other failure to FdError::CloseRange. Then clear FD_CLOEXEC on each preserved fd with fcntl(F_SETFD, 0).
    for (first, last) in ranges_to_close(preserve) {
        // SAFETY: close_range only closes descriptors; none of ours is in use by
        // another thread, since this runs in the runtime's single-threaded init.
        let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EPERM | libc::ENOSYS) => close_each(first, last, limit, err)?,
                _ => return Err(FdError::CloseRange { first, last, source: err }),
            }
        }
    }
    for &fd in preserve {
        // SAFETY: F_SETFD with 0 clears close-on-exec on an open descriptor.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: close_fds

// ANCHOR: close_each
/// The fallback for a kernel without close_range(2) (ENOSYS, before Linux 5.9) or a
/// seccomp filter that refuses it (EPERM: the runtime may itself run in a container):
/// close(2) each number of `first..=last` below `limit`, one system call each.
/// Not a listing of `/proc/self/fd`: after the container's root is entered, that
/// /proc is the container's, and nothing the runtime reads from it can be trusted.
pub fn close_each(first: u32, last: u32, limit: u32, range: io::Error) -> Result<(), FdError> {
    let end = last.min(limit.saturating_sub(1));
    for fd in first..=end {
        // SAFETY: close only closes a descriptor; as above, no other thread uses ours.
        if unsafe { libc::close(fd as RawFd) } != 0 {
            let source = io::Error::last_os_error();
            // EBADF: not open, the common case. EINTR: closed anyway (close(2) on Linux).
            if !matches!(source.raw_os_error(), Some(libc::EBADF | libc::EINTR)) {
                return Err(FdError::Close { fd, source, first, last, range, limit });
            }
        }
    }
    Ok(())
}
// ANCHOR_END: close_each

/// The bound [`close_each`] closes up to: this process's RLIMIT_NOFILE hard limit,
/// read before the container's rlimits apply (they may lower it below a number the
/// runtime inherited open), capped at the kernel's default `fs.nr_open` (2^20) when
/// unlimited. A descriptor can be inherited above the hard limit only if whoever
/// opened it lowered the limit afterwards; close_range(2) has no such blind spot.
pub fn descriptor_limit() -> u32 {
    const NR_OPEN_DEFAULT: u64 = 1 << 20;
    // SAFETY: rlimit is plain old data; getrlimit fills it.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return NR_OPEN_DEFAULT as u32;
    }
    limit.rlim_max.clamp(3, NR_OPEN_DEFAULT) as u32
}

// ANCHOR: enter_cwd
/// Changes into `cwd` (a path inside the container, which is the root by now)
/// and checks that the kernel agrees it is inside: a working directory reached
/// through a leaked descriptor makes getcwd(2) answer "(unreachable)/…", which
/// glibc turns into ENOENT.
pub fn enter_cwd(cwd: &Path) -> Result<(), FdError> {
    if !cwd.is_absolute() {
        return Err(FdError::CwdNotAbsolute { cwd: cwd.to_owned() });
    }
    std::env::set_current_dir(cwd).map_err(|source| FdError::Chdir { cwd: cwd.to_owned(), source })?;
    // ANCHOR: cwd_check
    match std::env::current_dir() {
        Ok(seen) if seen.is_absolute() && !seen.to_string_lossy().starts_with("(unreachable)") => Ok(()),
        Ok(seen) => Err(FdError::CwdOutsideRoot { cwd: cwd.to_owned(), seen: seen.display().to_string() }),
        Err(err) => Err(FdError::CwdOutsideRoot { cwd: cwd.to_owned(), seen: err.to_string() }),
    }
    // ANCHOR_END: cwd_check
}
// ANCHOR_END: enter_cwd

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
