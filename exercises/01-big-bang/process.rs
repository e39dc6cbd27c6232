// Your file for chapter 1: replace each todo!() with working code, then run
// `cargo workshop check 1`. Generated from crates/container/src/process.rs by `cargo xtask exercises`;
// `cargo workshop reset 1` gives you a fresh copy.
//! A container is a process: run a command with another root directory.
//!
//! Chapter 1 builds the oldest piece of the idea, chroot(2) from 1979: fork,
//! change the child's root to a directory holding a whole filesystem tree, exec
//! the command, and report how it ended as a shell would (128+n for signal n).
//! Read fork(2), chroot(2), execve(2) and wait(2).

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus};

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, getegid, geteuid, write};

/// The `PATH` a container's command is looked up in, and gets in its environment.
/// A production runtime takes it from the image's configuration instead.
pub const CONTAINER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What can go wrong while running a command in a root filesystem.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("no command given; say which program to run inside the rootfs, e.g. /bin/sh")]
    EmptyCommand,
    #[error("rootfs {path} does not exist; pass the directory that holds the container's files")]
    RootfsMissing { path: PathBuf },
    #[error("rootfs {path} is not a directory; a rootfs is a directory tree such as one made by `cargo run -p chapter-1 -- --make-rootfs DIR`")]
    RootfsNotDirectory { path: PathBuf },
    #[error("cannot read rootfs {path}: {source}")]
    RootfsUnreadable { path: PathBuf, source: io::Error },
    #[error("{program}: command not found in rootfs {rootfs} (looked in {CONTAINER_PATH})")]
    ProgramNotFound { program: String, rootfs: PathBuf },
    #[error("{program} in rootfs {rootfs} cannot be executed: it is not an executable file (check its mode and format)")]
    NotExecutable { program: String, rootfs: PathBuf },
    #[error("not permitted to enter rootfs {rootfs}: chroot needs root, or a user namespace this kernel allows (`cargo workshop doctor` tells which); try sudo")]
    NotPermitted { rootfs: PathBuf },
    #[error("cannot start {program} in rootfs {rootfs}: {source}")]
    Spawn { program: String, rootfs: PathBuf, source: io::Error },
    #[error("cannot wait for {program}: {source}")]
    Wait { program: String, source: io::Error },
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It called exit(2) with this code (0–255).
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Exit {
    /// The status a shell reports in `$?`: the code itself, or 128+n for signal n.
    pub fn shell_code(&self) -> i32 {
        match *self {
            Exit::Code(code) => code,
            Exit::Signal(signal) => 128 + signal,
        }
    }

    /// Decodes the status wait(2) returned.
    pub fn from_status(status: ExitStatus) -> Exit {
        todo!("Decode the wait status: a normal exit has a code (ExitStatus::code), a death by signal has a signal number (ExitStatusExt::signal).");
    }
}

/// Checks that `rootfs` is a directory and returns its absolute, resolved path.
pub fn check_rootfs(rootfs: &Path) -> Result<PathBuf, ProcessError> {
    todo!("Resolve the rootfs with fs::canonicalize; a missing path is ProcessError::RootfsMissing, anything but a directory is ProcessError::RootfsNotDirectory.");
}

/// `path` as the container sees it after chroot: absolute, with `..` stopping at
/// `/` (the kernel does the same at a process's root), so no name leads out.
pub fn in_container(path: &Path) -> PathBuf {
    let mut inside = PathBuf::from("/");
    for part in path.components() {
        match part {
            Component::Normal(name) => inside.push(name),
            Component::ParentDir => {
                inside.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    inside
}

/// Finds `program` as the container will see it: a path with a `/` is taken as
/// it is, a bare name is looked up in [`CONTAINER_PATH`], all inside `rootfs`.
/// Returns the path inside the container.
///
/// This check runs on the host, so a symbolic link inside the rootfs that points
/// to an absolute path is followed on the host; the exec in the child, after
/// chroot, has the last word. A production runtime resolves such paths inside
/// the root with openat2(2) and RESOLVE_IN_ROOT (chapter 3).
pub fn find_program(rootfs: &Path, program: &str) -> Option<PathBuf> {
    todo!("Look the program up inside the rootfs, not on the host: each CONTAINER_PATH directory joined with the program (or the program's own path if it has a '/'), made safe with in_container, is a candidate; return the first that is a file under rootfs.");
}

/// A user namespace in which the calling user is root, prepared before fork so
/// that the child only makes system calls. Chapter 2 explains the maps; other
/// chapters use it to run their checks without root.
#[derive(Debug, Clone)]
pub struct RootInUserNamespace {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

impl RootInUserNamespace {
    /// Maps root inside onto the caller's effective uid and gid outside.
    pub fn for_current_user() -> Self {
        Self {
            uid_map: format!("0 {} 1", geteuid()).into_bytes(),
            gid_map: format!("0 {} 1", getegid()).into_bytes(),
        }
    }

    /// Creates the namespace and becomes root in it. Runs in a child between fork
    /// and exec (no allocation, system calls only), or in a single-threaded process.
    pub fn enter(&self) -> io::Result<()> {
        unshare(CloneFlags::CLONE_NEWUSER)?;
        // An unprivileged process must give up setgroups(2) before it may map its gid.
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", &self.uid_map)?;
        write_file(c"/proc/self/gid_map", &self.gid_map)?;
        Ok(())
    }
}

fn write_file(path: &CStr, contents: &[u8]) -> io::Result<()> {
    let fd = open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    write(&fd, contents)?;
    Ok(())
}

/// Starts `argv` with `rootfs` as its root directory and returns the running
/// child. Stdin, stdout and stderr are inherited; the environment is reset to
/// a container's (`PATH`, `HOME=/`, and `TERM` if set). When not root, the child
/// first enters a user namespace in which it is root, so chroot is allowed.
pub fn spawn_chrooted(rootfs: &Path, argv: &[String]) -> Result<Child, ProcessError> {
    let (program, args) = argv.split_first().ok_or(ProcessError::EmptyCommand)?;
    let root = check_rootfs(rootfs)?;
    let inside = find_program(&root, program).ok_or_else(|| ProcessError::ProgramNotFound {
        program: program.clone(),
        rootfs: rootfs.to_owned(),
    })?;

    let mut command = Command::new(&inside);
    command.args(args).env_clear().env("PATH", CONTAINER_PATH).env("HOME", "/");
    if let Some(term) = std::env::var_os("TERM") {
        command.env("TERM", term);
    }
    // Everything the child needs is built here, before fork: after fork, a
    // child of a multi-threaded parent may only make async-signal-safe calls.
    if !geteuid().is_root() {
        let userns = RootInUserNamespace::for_current_user();
        // SAFETY: `enter` only makes system calls on memory prepared above.
        unsafe { command.pre_exec(move || userns.enter()) };
    }
    let root_c = CString::new(root.as_os_str().as_bytes()).map_err(|_| ProcessError::RootfsUnreadable {
        path: rootfs.to_owned(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    todo!("Make the child enter the rootfs between fork and exec: register a CommandExt::pre_exec closure that calls nix::unistd::chroot(root_c) and then chdir(\"/\").");

    command.spawn().map_err(|source| match source.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EPERM) => ProcessError::NotPermitted { rootfs: rootfs.to_owned() },
        Some(Errno::EACCES | Errno::ENOEXEC) => {
            ProcessError::NotExecutable { program: program.clone(), rootfs: rootfs.to_owned() }
        }
        // The file is there, but exec found no loader for it: a dynamic binary without its libraries.
        Some(Errno::ENOENT) => {
            ProcessError::ProgramNotFound { program: program.clone(), rootfs: rootfs.to_owned() }
        }
        _ => ProcessError::Spawn { program: program.clone(), rootfs: rootfs.to_owned(), source },
    })
}

/// Runs `argv` in `rootfs` to the end and reports how it ended.
pub fn run_chrooted(rootfs: &Path, argv: &[String]) -> Result<Exit, ProcessError> {
    let mut child = spawn_chrooted(rootfs, argv)?;
    let status = child.wait().map_err(|source| ProcessError::Wait { program: argv[0].clone(), source })?;
    Ok(Exit::from_status(status))
}
