//! Cloning a child into new namespaces, and the handshake that holds it back
//! until the parent has set it up.
//!
//! Chapter 2. clone(2) is fork(2) with flags: with CLONE_NEW* flags the child starts
//! in new namespaces, and with CLONE_NEWPID it is PID 1 of its own. Read clone(2),
//! namespaces(7), pid_namespaces(7), pipe(2).

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, Pid};

use super::{Namespace, NamespaceError, Namespaces};

/// Which side of [`clone_into`] this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloned {
    /// The new process, in the new namespaces.
    Child,
    /// The caller; `child` is the new process's pid as the caller sees it.
    Parent { child: Pid },
}

/// How many threads this process has (`Threads:` in /proc/self/status).
pub fn thread_count() -> Result<usize, NamespaceError> {
    let path = PathBuf::from("/proc/self/status");
    let status =
        std::fs::read_to_string(&path).map_err(|source| NamespaceError::ReadProc { path, source })?;
    Ok(status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1))
}

// ANCHOR: clone_into
/// Forks the calling process into new `namespaces`, all created at once (the user
/// namespace first, so the others belong to it). Both sides return, as from fork(2).
///
/// The caller must be single-threaded: the child gets a copy of one thread, and a
/// lock another thread held stays locked forever. A multi-threaded caller gets
/// [`NamespaceError::MultiThreaded`]; re-exec a helper instead, as `runc init` does.
///
/// This is the raw clone system call with no new stack, so the child goes on from
/// here on a copy of the caller's stack, exactly as after fork(2). nix's `clone`
/// wants a separate stack and a callback, which reads worse and gains nothing
/// here; youki does the same with clone3. The child must not call raise(3) or
/// abort(3): glibc caches the thread id, and a raw clone does not update it.
pub fn clone_into(namespaces: &Namespaces) -> Result<Cloned, NamespaceError> {
    let threads = thread_count()?;
    if threads > 1 {
        return Err(NamespaceError::MultiThreaded { threads });
    }
    let flags = namespaces.clone_flags().bits() as libc::c_long | libc::SIGCHLD as libc::c_long;
    // SAFETY: clone without CLONE_VM and with a null stack behaves as fork(2), and
    // the process is single-threaded (checked above).
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0 as libc::c_long, 0, 0, 0) };
    match ret {
        0 => Ok(Cloned::Child),
        pid if pid > 0 => Ok(Cloned::Parent { child: Pid::from_raw(pid as i32) }),
        _ => Err(clone_error(namespaces, Errno::last())),
    }
}
// ANCHOR_END: clone_into

/// Says what a refused clone(2) means for this request.
fn clone_error(namespaces: &Namespaces, source: Errno) -> NamespaceError {
    let with_user = namespaces.contains(Namespace::User);
    match source {
        Errno::EPERM | Errno::ENOSPC | Errno::EUSERS if with_user => {
            NamespaceError::UserNamespaceRefused { source }
        }
        Errno::EPERM => NamespaceError::NeedsPrivilege { namespaces: namespaces.clone() },
        _ => NamespaceError::Clone { namespaces: namespaces.clone(), source },
    }
}

// ANCHOR: handshake
/// A pipe that holds the child back until the parent has written its id maps:
/// the child blocks reading it, the parent writes one byte. If the parent dies or
/// gives up, the child reads end-of-file instead and should exit.
#[derive(Debug)]
pub struct Handshake {
    /// The child reads here.
    child_end: OwnedFd,
    /// The parent writes here.
    parent_end: OwnedFd,
}

impl Handshake {
    /// Made before the clone, so both processes hold both ends; each closes the one
    /// it does not use. Close-on-exec, so the payload never inherits them.
    pub fn new() -> Result<Self, NamespaceError> {
        let (child_end, parent_end) = pipe2(OFlag::O_CLOEXEC).map_err(NamespaceError::Pipe)?;
        Ok(Self { child_end, parent_end })
    }

    /// In the parent: lets the child go on.
    pub fn release(self, child: Pid) -> Result<(), NamespaceError> {
        drop(self.child_end);
        loop {
            match nix::unistd::write(&self.parent_end, b"1") {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(NamespaceError::Handshake { pid: child, source }),
            }
        }
    }

    /// In the parent when setup failed: kills the child and reaps it, so nothing is
    /// left behind. SIGKILL reaches a namespace's PID 1 from outside it.
    pub fn abandon(self, child: Pid) {
        drop(self);
        let _ = kill(child, Signal::SIGKILL);
        while let Err(Errno::EINTR) = waitpid(child, None) {}
    }

    /// In the child: blocks until the parent releases it. `false` when the parent
    /// closed the pipe without doing so (it failed, or died).
    pub fn wait(self) -> Result<bool, NamespaceError> {
        drop(self.parent_end);
        let mut byte = [0u8; 1];
        loop {
            match nix::unistd::read(&self.child_end, &mut byte) {
                Ok(n) => return Ok(n == 1),
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(NamespaceError::Handshake { pid: Pid::this(), source }),
            }
        }
    }
}
// ANCHOR_END: handshake
