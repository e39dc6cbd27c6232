// Part of chapter 6, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/lifecycle/mod.rs by `cargo xtask exercises`;
// `cargo workshop reset 6` gives you a fresh copy.
//! The container lifecycle (chapter 6): the state a container is in, where the
//! runtime keeps it between invocations, the hooks it runs, and how `create` hands
//! over to `start`. Read the runtime-spec's runtime.md ("State", "Lifecycle",
//! "Operations") and config.md ("POSIX-platform Hooks").
//!
//! # Layout
//! - `state`: the OCI `State` (what `bang-oci state` prints and hooks read), the
//!   `Status` machine, and the runtime's own `ContainerRecord` with the live-status
//!   check against /proc (pid + start time, so a reused pid is not mistaken for ours).
//! - `store`: the state directory (`/run/bang-oci/<id>/`): validated ids, atomic
//!   create/save, load, list, remove, and flock(2) between concurrent `bang-oci`s.
//! - `hooks`: running one OCI hook with the state on stdin and a timeout; which kinds
//!   abort and which only warn.
//! - `fifo`: the exec fifo that keeps a created container's init waiting for `start`.
//! - `init`: `bang-oci init`, the container's init: the socket protocol with
//!   `create`, the clone into the namespaces, the set-up, the wait and the execve.
//! - `create`, `start`, `kill`, `delete`, `run`: one verb each, as youki has them;
//!   the `bang-oci` binary only parses its command line and prints.
//! - `pause`, `update`: freeze and thaw a container's cgroup, and change its limits
//!   while it runs (runc-pause(8), runc-update(8)).
//! - `exec`, `ps`: a new process in a running container (setns into its init's
//!   namespaces, its cgroup, its own security profile); the container's pids.
//! - `console`: `process.terminal`, a pty from the container's devpts whose master
//!   goes to the caller over `--console-socket` (SCM_RIGHTS).
//!
//! # How `create` hands over to `start`
//! `create` and `start` are two processes, and the init must be fully set up (its
//! namespaces, mounts, cgroup, pid file) when `create` returns, yet must not run the
//! payload before `start`. We use runc's mechanism, a fifo `exec.fifo` in the
//! container's state directory: the init, as its last step before execve, opens it
//! for writing, which blocks in the kernel until `start` opens it for reading; the
//! init writes one byte and execs; `start` reads the byte and removes the fifo, so a
//! second `start` finds none and fails clearly. Why a fifo:
//! - it needs no process besides the init between `create` and `start` (podman runs
//!   each verb as a separate `bang-oci` and keeps only conmon around);
//! - the waiting costs nothing and survives the runtime exiting: the state lives in
//!   the kernel and the file system, not in a process that could crash;
//! - `start` learns the init got through (the byte), or that it died (a pidfd polled
//!   next to the fifo), without timers.
//!
//! Rejected: a unix socket would work the same but needs a listener and a protocol
//! for one bit; a pipe held by a long-lived monitor (a shim per container, as
//! containerd-shim is) adds a process whose crash strands the container; a signal
//! (SIGCONT to a stopped init) can be sent by anyone, and is lost if it comes early.

pub mod console;
pub mod create;
pub mod delete;
pub mod exec;
pub mod fifo;
pub mod hooks;
pub mod init;
pub mod kill;
pub mod pause;
pub mod ps;
pub mod run;
pub mod start;
pub mod state;
pub mod store;
pub mod update;

use std::io;
use std::path::PathBuf;

use crate::cgroups::CgroupError;
use crate::namespaces::NamespaceError;
use crate::rootfs::RootfsError;
use crate::security::SecurityError;
use crate::spec::SpecError;

pub use create::{create, CreateOptions};
pub use delete::delete;
pub use exec::{exec, ExecOptions, ExecProcess, ProcessFlags};
pub use kill::{kill, parse_signal};
pub use pause::{pause, resume};
pub use ps::ps;
pub use run::{run, RunOutcome};
pub use start::start;
pub use update::update;

/// Where the runtime reads processes from.
pub const PROC: &str = "/proc";

/// What can go wrong in a lifecycle verb (`create`, `start`, `kill`, `delete`, `run`)
/// or in the container's init. Lower modules' errors pass through unchanged.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error(transparent)]
    Fifo(#[from] fifo::FifoError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Security(#[from] SecurityError),
    #[error(transparent)]
    Hook(#[from] hooks::HookError),
    #[error(
        "cannot resolve the bundle directory {path}: {source}; pass an existing directory with --bundle"
    )]
    Bundle { path: PathBuf, source: io::Error },
    #[error("{what} is not supported by this runtime; {advice}")]
    Unsupported { what: String, advice: &'static str },
    #[error("cannot start the container's init ({runtime} init): {source}")]
    Spawn { runtime: PathBuf, source: io::Error },
    #[error("cannot give {path} to the container's root: {source}")]
    Chown { path: PathBuf, source: nix::errno::Errno },
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    ReadProc { path: PathBuf, source: io::Error },
    #[error("the socket between the runtime and the container's init failed: {source}")]
    Pipe { source: io::Error },
    #[error("the container's init broke the protocol: {what}")]
    Protocol { what: String },
    #[error("exec: {name:?}: executable file not found in $PATH ({path}) inside the container; check process.args[0] and the rootfs")]
    ProgramNotFound { name: String, path: String },
    /// The text of runc's (Go's `stat` error), which engines match: Docker's
    /// translateContainerdStartErr gives 127 for "no such file or directory" with the name.
    #[error("exec: {name:?}: stat {name}: no such file or directory inside the container; check process.args[0] and the rootfs")]
    NoSuchProgram { name: String },
    /// EACCES, as execve(2) gives for a directory or a file without execute
    /// permission; Docker gives 126 for "permission denied".
    #[error("exec: {name:?}: permission denied: {why}")]
    NotExecutable { name: String, why: &'static str },
    #[error("{message}")]
    InitFailed { message: String },
    #[error("cannot give the container a session keyring of its own: {source}; pass --no-new-keyring to keep the caller's")]
    Keyring { source: io::Error },
    #[error(
        "cannot set the domain name to {name:?}: {source}; the container needs a uts namespace of its own"
    )]
    Domainname { name: String, source: io::Error },
    #[error("cannot set process.oomScoreAdj to {value}: {source}; lowering it below the runtime's own needs CAP_SYS_RESOURCE")]
    OomScoreAdj { value: i32, source: io::Error },
    #[error("cannot set linux.sysctl {key:?} to {value:?} ({path}): {source}; check the name with `sysctl -a` and that the container has its namespace")]
    Sysctl { key: String, value: String, path: PathBuf, source: io::Error },
    #[error("refusing to set up the container: the init is still in the runtime's mount namespace (mnt inode {inode}); unshare(CLONE_NEWNS) did not take effect")]
    SameMountNamespace { inode: u64 },
    #[error("cannot {what} {path}, the directory on which a container without a mount namespace of its own has its tree: {source}; if it is still a mount point, detach it by hand (umount -l {path})")]
    HostView { what: &'static str, path: PathBuf, source: io::Error },
    #[error("container {id} is {status}, not created; only a created container can be started")]
    NotCreated { id: String, status: state::Status },
    #[error("container {id} is not running (it is {status}); there is nothing to signal")]
    NotRunning { id: String, status: state::Status },
    #[error(
        "container {id} is {status}; stop it first (`bang-oci kill {id} KILL`) or delete it with --force"
    )]
    StillRunning { id: String, status: state::Status },
    #[error("unknown signal {name:?}; give a name (TERM, SIGKILL) or a number (15)")]
    UnknownSignal { name: String },
    #[error("cannot send {signal} to pid {pid}: {source}")]
    Signal { pid: i32, signal: nix::sys::signal::Signal, source: nix::errno::Errno },
    #[error("the container's init (pid {pid}) did not exit within {seconds} s of SIGKILL; look at /proc/{pid}/stack")]
    DoesNotDie { pid: i32, seconds: u64 },
    #[error("cannot wait for the container's init (pid {pid}): {source}")]
    Wait { pid: i32, source: nix::errno::Errno },
    #[error("container {id} is {status}, not running; only a running container can be paused")]
    CannotPause { id: String, status: state::Status },
    #[error("container {id} is {status}, not paused; only a paused container can be resumed (`bang-oci pause {id}` first)")]
    CannotResume { id: String, status: state::Status },
    #[error(
        "container {id} is {status}; only a created, running or paused container's limits can be updated"
    )]
    CannotUpdate { id: String, status: state::Status },
    #[error("container {id} has no cgroup recorded (created by an older bang-oci?); it cannot be {what}")]
    NoCgroup { id: String, what: &'static str },
    #[error("--{flag} {text:?} is not a size; give bytes, or a number with k, m, g or t (64M, 1g), or -1 for no limit")]
    BadSize { flag: &'static str, text: String },
    #[error("cannot read the resources {path}: {reason}; give a runtime-spec linux.resources object, as `runc update --resources` takes")]
    ResourcesFile { path: PathBuf, reason: String },
    #[error("process.terminal is true but no --console-socket was given: the terminal's master side needs a receiver; pass --console-socket PATH (a unix socket you listen on), or set terminal to false")]
    TerminalWithoutConsoleSocket,
    #[error("a terminal for a process this runtime waits for in the foreground is not supported; pass --detach and --console-socket PATH, or set terminal to false (drop --tty)")]
    TerminalInForeground,
    #[error("--console-socket {path} was given but the process has no terminal; drop the flag, or set process.terminal to true (exec: --tty)")]
    ConsoleSocketWithoutTerminal { path: PathBuf },
    #[error("--console-socket {path} needs --detach: the runtime sends the terminal away and returns, as runc does")]
    ConsoleSocketInForeground { path: PathBuf },
    #[error("cannot connect to the console socket {path}: {source}; the caller must listen on it (a unix stream socket)")]
    ConsoleSocket { path: PathBuf, source: io::Error },
    #[error("cannot set up the process's terminal: {step}: {source}; the container needs a devpts on /dev/pts (newinstance, ptmxmode=0666)")]
    Console { step: &'static str, source: nix::errno::Errno },
    #[error("container {id} is {status}, not running; only a running container can execute a new process")]
    CannotExec { id: String, status: state::Status },
    #[error("cannot use the process file {path}: {reason}; it must hold a runtime-spec process object, as `runc exec --process` takes")]
    ProcessFile { path: PathBuf, reason: String },
    #[error("{what}; {advice}")]
    ExecUsage { what: String, advice: &'static str },
    #[error("bad --user {text:?}; give UID or UID:GID, numbers as in the container's /etc/passwd")]
    BadUser { text: String },
    #[error("cannot open {path}: {source}; the container's init (pid {pid}) may have exited")]
    OpenNamespace { pid: i32, path: PathBuf, source: nix::errno::Errno },
    #[error("cannot join the {namespace} namespace {path} (linux.namespaces[].path): {source}; it must be a namespace file of that type (/proc/<pid>/ns/{namespace}, /run/netns/NAME)")]
    JoinPath { namespace: crate::namespaces::Namespace, path: PathBuf, source: nix::errno::Errno },
    #[error("cannot join the {namespace} namespace of the container's init (pid {pid}): {source}")]
    Join { namespace: crate::namespaces::Namespace, pid: i32, source: nix::errno::Errno },
    #[error("cannot enter the container's root {path}: {source}")]
    EnterRoot { path: PathBuf, source: nix::errno::Errno },
    #[error("the container's init (pid {pid}) has exited; the container {id} is stopped")]
    InitGone { id: String, pid: i32 },
    #[error("cannot fork the process to execute in the container: {source}; the host may be out of processes (pids limit)")]
    Fork { source: nix::errno::Errno },
    #[error("cannot make the runtime's process non-dumpable (prctl PR_SET_DUMPABLE): {source}")]
    Dumpable { source: nix::errno::Errno },
    #[error("cannot run ps {args:?}: {reason}; `ps` (procps) must be installed on the host")]
    Ps { args: Vec<String>, reason: String },
}
