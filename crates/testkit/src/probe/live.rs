//! The machinery of live probes: a forked child tries a system call, reports the
//! step that failed (its index and errno) through a pipe and `_exit`s, so nothing it
//! changes leaks into the test and the parent's threads do not matter. Read fork(2)
//! and signal-safety(7).

use std::fmt;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::ForkResult;

use super::ProbeError;

/// The outcome of a live probe: it worked, or the named step failed with an errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Worked,
    Failed { step: &'static str, errno: Errno },
}

impl Attempt {
    pub fn worked(&self) -> bool {
        matches!(self, Attempt::Worked)
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attempt::Worked => f.write_str("worked"),
            Attempt::Failed { step, errno } => {
                write!(f, "{step} failed: {errno:?} ({})", errno.desc())
            }
        }
    }
}

/// In the child: a failed step, as its index in the probe's step list and the errno.
pub(super) type StepResult = Result<(), (usize, Errno)>;

pub(super) fn at<T>(step: usize, result: nix::Result<T>) -> Result<T, (usize, Errno)> {
    result.map_err(|errno| (step, errno))
}

/// Exits the child if its code ever unwinds, so a panic never runs the parent's code twice.
struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        // SAFETY: _exit(2) is async-signal-safe and never returns.
        unsafe { nix::libc::_exit(127) }
    }
}

/// Runs `probe` in a forked child and returns which step failed, if any.
///
/// The child only makes raw syscalls through nix on data prepared before the fork (no
/// allocation, no locks: another thread may have held the allocator's lock at fork time),
/// writes `[step + 1, errno]` into a pipe and calls `_exit`. A fork, not a thread, because
/// `unshare(CLONE_NEWUSER)` and `CLONE_NEWNS` refuse a multi-threaded caller.
pub(super) fn in_child(
    steps: &'static [&'static str],
    probe: impl FnOnce() -> StepResult,
) -> Result<Attempt, ProbeError> {
    let (reader, writer): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(ProbeError::Pipe)?;
    // SAFETY: the child below only makes async-signal-safe calls and ends in _exit.
    match unsafe { nix::unistd::fork() }.map_err(ProbeError::Fork)? {
        ForkResult::Child => {
            let guard = ExitOnUnwind;
            let mut message = [0u8; 9];
            if let Err((step, errno)) = probe() {
                message[..4].copy_from_slice(&(step as u32 + 1).to_ne_bytes());
                message[4..8].copy_from_slice(&(errno as i32).to_ne_bytes());
            }
            message[8] = 1;
            let _ = nix::unistd::write(&writer, &message);
            std::mem::forget(guard);
            // SAFETY: _exit(2) is async-signal-safe and never returns.
            unsafe { nix::libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(writer);
            let mut message = [0u8; 9];
            let mut filled = 0;
            while filled < message.len() {
                match nix::unistd::read(&reader, &mut message[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            let status = loop {
                match waitpid(child, None) {
                    Err(Errno::EINTR) => continue,
                    other => break other,
                }
            }
            .map_err(|source| ProbeError::Wait { pid: child.as_raw(), source })?;
            if filled != message.len() || !matches!(status, WaitStatus::Exited(_, 0)) {
                return Err(ProbeError::ChildCrashed { pid: child.as_raw(), status: format!("{status:?}") });
            }
            let step = u32::from_ne_bytes(message[..4].try_into().expect("4 bytes")) as usize;
            let errno = i32::from_ne_bytes(message[4..8].try_into().expect("4 bytes"));
            Ok(match step {
                0 => Attempt::Worked,
                n => Attempt::Failed {
                    step: steps.get(n - 1).copied().unwrap_or("an unnamed step"),
                    errno: Errno::from_raw(errno),
                },
            })
        }
    }
}

/// Writes `data` into a /proc file in the child (open, write, close: no allocation).
fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> nix::Result<()> {
    let fd = nix::fcntl::open(path, OFlag::O_WRONLY, Mode::empty())?;
    nix::unistd::write(&fd, data).map(drop)
}

/// The id-map lines a process writes after creating a user namespace, built before the fork.
pub(super) struct IdMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

impl IdMaps {
    /// Maps root in the new namespace onto `uid`/`gid` outside: the one mapping an
    /// unprivileged process may write for itself (user_namespaces(7)).
    pub(super) fn root_onto(uid: u32, gid: u32) -> Self {
        Self { uid_map: format!("0 {uid} 1").into_bytes(), gid_map: format!("0 {gid} 1").into_bytes() }
    }

    /// In the child, right after unshare(CLONE_NEWUSER): deny setgroups, write both maps.
    pub(super) fn write(&self, first_step: usize) -> Result<(), (usize, Errno)> {
        at(first_step, write_proc(c"/proc/self/setgroups", b"deny"))?;
        at(first_step + 1, write_proc(c"/proc/self/uid_map", &self.uid_map))?;
        at(first_step + 2, write_proc(c"/proc/self/gid_map", &self.gid_map))
    }
}
