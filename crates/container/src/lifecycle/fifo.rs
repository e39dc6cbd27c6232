//! The exec fifo (chapter 6): how `create` leaves the container's init blocked until
//! `start`, across two separate `bang-oci` processes. The init opens the fifo for
//! writing, which blocks until `start` opens it for reading; it then writes one
//! byte and execs the payload. Read fifo(7), open(2) (O_NONBLOCK on a FIFO, O_PATH),
//! pidfd_open(2) and poll(2).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, openat, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::{fstat, Mode, SFlag};
use nix::unistd::{mkfifo, read, write};

use super::state::{pidfd_open, InitProcess, StateError};
use super::store::EXEC_FIFO;

/// The byte the init writes to say "I got through"; any byte would do.
const GO: &[u8] = b"0";

/// What can go wrong between create and start.
#[derive(Debug, thiserror::Error)]
pub enum FifoError {
    #[error("{path} already exists: this container was already created; delete it first")]
    Exists { path: PathBuf },
    #[error("cannot create the exec fifo {path}: {source}")]
    Create { path: PathBuf, source: Errno },
    #[error("the container has already been started ({path} is gone); a container starts once")]
    AlreadyStarted { path: PathBuf },
    #[error("{path} is not a fifo; something replaced bang-oci's exec fifo: delete the container")]
    NotAFifo { path: PathBuf },
    #[error("the container's init (pid {pid}) exited without waiting for start; `bang-oci delete` it and look at its stderr")]
    InitExited { pid: i32 },
    #[error("the container's init opened {path} but closed it without signalling; `bang-oci delete` it")]
    ClosedWithoutSignal { path: PathBuf },
    #[error("the init did not pin /proc/self/fd before entering the rootfs, so it cannot reopen {path} safely; a bug in the init")]
    NotPinned { path: PathBuf },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: Errno },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: Errno },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: Errno },
    #[error("cannot remove {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
    #[error("cannot watch the init (pid {pid}) with pidfd_open(2): {source}; it needs Linux 5.3 or later")]
    Pidfd { pid: i32, source: Errno },
    #[error("poll(2) on {path} failed: {source}")]
    Poll { path: PathBuf, source: Errno },
    #[error(transparent)]
    State(#[from] StateError),
}

/// The runtime's side of the exec fifo, in a container's state directory.
#[derive(Debug, Clone)]
pub struct ExecFifo {
    path: PathBuf,
}

impl ExecFifo {
    /// Creates `dir/exec.fifo`, mode 0622 as runc's: the init reopens it for writing
    /// after it has become `process.user`, who may be anyone; only the owner reads.
    /// Nobody else can reach it: the state directory is 0700, and the init holds an
    /// O_PATH descriptor taken before it changed user. `create` chowns it to the
    /// container's root when a user namespace maps that elsewhere.
    pub fn create(dir: &Path) -> Result<ExecFifo, FifoError> {
        let path = dir.join(EXEC_FIFO);
        match mkfifo(&path, Mode::from_bits_truncate(0o622)) {
            // mkfifo(3) applies the umask (0022 takes the write bits away): chmod after.
            Ok(()) => match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o622)) {
                Ok(()) => Ok(ExecFifo { path }),
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    Err(FifoError::Create { path, source: Errno::from_raw(e.raw_os_error().unwrap_or(0)) })
                }
            },
            Err(Errno::EEXIST) => Err(FifoError::Exists { path }),
            Err(source) => Err(FifoError::Create { path, source }),
        }
    }

    /// The fifo of the container whose state directory is `dir` (it may be gone).
    pub fn at(dir: &Path) -> ExecFifo {
        ExecFifo { path: dir.join(EXEC_FIFO) }
    }

    /// Where the fifo is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ANCHOR: start
    /// Lets the waiting init go: the `start` side. Returns once the init has written
    /// its byte (it execs the payload next) and removes the fifo, so that a second
    /// `start` fails with [`FifoError::AlreadyStarted`]. Fails with
    /// [`FifoError::InitExited`] if `init` dies (or has died) without waiting.
    ///
    /// runc blocks in open(O_RDONLY) on a thread and checks the init every 100 ms. We
    /// open with O_NONBLOCK instead (which never blocks for a reader) and poll(2) the
    /// fifo together with a pidfd of the init: no timer, and whichever happens first
    /// — the byte, or the init's exit — wakes us.
    pub fn start(&self, init: &InitProcess) -> Result<(), FifoError> {
        let fifo = match open(
            &self.path,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Err(FifoError::AlreadyStarted { path: self.path.clone() }),
            Err(source) => return Err(FifoError::Open { path: self.path.clone(), source }),
        };
        let stat = fstat(&fifo).map_err(|source| FifoError::Open { path: self.path.clone(), source })?;
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFIFO {
            return Err(FifoError::NotAFifo { path: self.path.clone() });
        }
        // The pidfd names the process, not the number; checking the start time after
        // opening it proves the number was still ours when we took it.
        let pidfd = match pidfd_open(init.pid) {
            Ok(pidfd) if init.is_alive(Path::new("/proc"))? => Some(pidfd),
            Ok(_) | Err(Errno::ESRCH) => None,
            Err(source) => return Err(FifoError::Pidfd { pid: init.pid, source }),
        };
        let Some(pidfd) = pidfd else {
            return self.after_exit(&fifo, init.pid);
        };
        // exercise: poll(2) the fifo and the pidfd together (PollFlags::POLLIN on both, PollTimeout::NONE, retry on EINTR); fifo readable: read one byte, 1 byte → self.started(), 0 bytes → ClosedWithoutSignal, EAGAIN → poll again; pidfd readable → self.after_exit(&fifo, init.pid)
        loop {
            let mut fds =
                [PollFd::new(fifo.as_fd(), PollFlags::POLLIN), PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(FifoError::Poll { path: self.path.clone(), source }),
            }
            let fifo_ready = fds[0].any().unwrap_or(false);
            let init_exited = fds[1].any().unwrap_or(false);
            if fifo_ready {
                let mut byte = [0u8; 1];
                match read(&fifo, &mut byte) {
                    Ok(1) => return self.started(),
                    // Linux reports no hangup until a writer has come and gone.
                    Ok(_) => return Err(FifoError::ClosedWithoutSignal { path: self.path.clone() }),
                    Err(Errno::EAGAIN | Errno::EINTR) => {}
                    Err(source) => return Err(FifoError::Read { path: self.path.clone(), source }),
                }
            }
            if init_exited {
                return self.after_exit(&fifo, init.pid);
            }
        }
        // end exercise
    }
    // ANCHOR_END: start

    /// The init is gone; it may still have written its byte just before exiting (a
    /// payload that runs for a microsecond), which counts as started.
    fn after_exit(&self, fifo: &OwnedFd, pid: i32) -> Result<(), FifoError> {
        let mut byte = [0u8; 1];
        match read(fifo, &mut byte) {
            Ok(1) => self.started(),
            _ => Err(FifoError::InitExited { pid }),
        }
    }

    fn started(&self) -> Result<(), FifoError> {
        std::fs::remove_file(&self.path)
            .map_err(|source| FifoError::Remove { path: self.path.clone(), source })
    }
}

// ANCHOR: start_gate
/// The init's side of the exec fifo. Opened with O_PATH before the clone, while the
/// state directory is still visible (O_PATH opens nothing for I/O, so it does not
/// block); reopened for writing after pivot_root through the magic link
/// `/proc/self/fd/N`. runc reopens it through the container's /proc, but that /proc
/// is the image's to fake (a symlink into a volume): a fake `fd/N` there would let
/// the payload run before `start`. So the init pins its own `/proc/self/fd` with
/// [`StartGate::pin`] while the host's /proc is still its /proc, and reopens through
/// that descriptor.
#[derive(Debug)]
pub struct StartGate {
    fd: OwnedFd,
    /// The host's `/proc/self/fd` of the container's init, once pinned.
    fd_dir: Option<OwnedFd>,
    path: PathBuf,
}

impl StartGate {
    /// Takes hold of the fifo at `path` without opening it for I/O.
    pub fn open(path: &Path) -> Result<StartGate, FifoError> {
        let fd = open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|source| FifoError::Open { path: path.to_path_buf(), source })?;
        Ok(StartGate { fd, fd_dir: None, path: path.to_path_buf() })
    }

    /// Opens this process's `/proc/self/fd` for the reopen in [`wait_for_start`]:
    /// call it in the process that will wait (the container's init, after the
    /// clone), before the rootfs is entered.
    ///
    /// [`wait_for_start`]: StartGate::wait_for_start
    pub fn pin(&mut self) -> Result<(), FifoError> {
        let dir = Path::new("/proc/self/fd");
        let fd = open(dir, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|source| FifoError::Open { path: dir.to_path_buf(), source })?;
        self.fd_dir = Some(fd);
        Ok(())
    }

    /// The descriptors the init must keep open (chapter 5's `Prepared::apply` closes
    /// every descriptor it is not told to preserve): the fifo's and the pinned
    /// `/proc/self/fd`'s.
    pub fn raw_fds(&self) -> Vec<RawFd> {
        std::iter::once(self.fd.as_raw_fd()).chain(self.fd_dir.as_ref().map(|d| d.as_raw_fd())).collect()
    }

    /// Blocks until `start` opens the fifo for reading, then writes the byte that
    /// tells it the init is through. The caller execs the payload next.
    pub fn wait_for_start(self) -> Result<(), FifoError> {
        let Some(fd_dir) = &self.fd_dir else {
            return Err(FifoError::NotPinned { path: self.path });
        };
        // exercise: reopen the fifo through the pinned /proc/self/fd: openat(2) in `fd_dir` the name N (N = self.fd as a number) with O_WRONLY | O_CLOEXEC (this blocks until start opens it for reading; retry on EINTR), then write GO to it
        let name = self.fd.as_raw_fd().to_string();
        let writer = loop {
            // open(2) of a FIFO for writing blocks until a reader opens it.
            match openat(fd_dir, name.as_str(), OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty()) {
                Ok(fd) => break fd,
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(FifoError::Open { path: self.path, source }),
            }
        };
        write(&writer, GO).map_err(|source| FifoError::Write { path: self.path.clone(), source })?;
        Ok(())
        // end exercise
    }
}
// ANCHOR_END: start_gate
