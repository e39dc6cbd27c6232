// Answer key for chapter 6, generated from crates/container/src/lifecycle/error.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! The lifecycle's errors (chapter 6), by concern: [`CreateError`] for what `create`
//! refuses on the host, [`ControlError`] for the verbs that act on an existing
//! container (`start`, `kill`, `delete`, `pause`, `update`, `ps`), [`ExecError`] for
//! `exec`'s own checks, [`ProtocolError`] for the socket to the init, and
//! [`InitError`] for what the init reports. [`LifecycleError`] joins them with the
//! lower modules' errors, each passed through unchanged (`#[from]`).

use std::io;
use std::path::PathBuf;

use super::console::ConsoleError;
use super::fifo::FifoError;
use super::hooks::HookError;
use super::init_error::{FailureKind, InitError};
use super::state::{StateError, Status};
use super::store::StoreError;
use crate::cgroups::CgroupError;
use crate::namespaces::NamespaceError;
use crate::rootfs::RootfsError;
use crate::security::SecurityError;
use crate::spec::SpecError;

/// What can go wrong in a lifecycle verb or in the container's init.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Fifo(#[from] FifoError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Security(#[from] SecurityError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// Raised in the container's init (or in the process `exec` starts), and
    /// rebuilt here from what it sent.
    #[error(transparent)]
    Init(#[from] InitError),
    #[error(transparent)]
    Create(#[from] CreateError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    Exec(#[from] ExecError),
}

impl LifecycleError {
    /// What the init sends for this error: its own variants as they are, a lower
    /// module's as that module and the message.
    pub fn into_init_error(self) -> InitError {
        let kind = match self {
            LifecycleError::Init(err) => return err,
            LifecycleError::Spec(_) => FailureKind::Spec,
            LifecycleError::Store(_) => FailureKind::Store,
            LifecycleError::State(_) => FailureKind::State,
            LifecycleError::Fifo(_) => FailureKind::Fifo,
            LifecycleError::Cgroup(_) => FailureKind::Cgroup,
            LifecycleError::Namespace(_) => FailureKind::Namespace,
            LifecycleError::Rootfs(_) => FailureKind::Rootfs,
            LifecycleError::Security(_) => FailureKind::Security,
            LifecycleError::Hook(_) => FailureKind::Hook,
            LifecycleError::Console(_) => FailureKind::Console,
            LifecycleError::Protocol(_) => FailureKind::Protocol,
            LifecycleError::Create(_) => FailureKind::Create,
            LifecycleError::Control(_) => FailureKind::Control,
            LifecycleError::Exec(_) => FailureKind::Exec,
        };
        InitError::Failed { kind, message: self.to_string() }
    }
}

/// The socket between the runtime and its init, and starting the init.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("cannot start the container's init ({runtime} init): {source}")]
    Spawn { runtime: PathBuf, source: io::Error },
    #[error("the socket between the runtime and the container's init failed: {source}")]
    Pipe { source: io::Error },
    #[error("the container's init broke the protocol: {what}")]
    Broken { what: String },
    /// End-of-file where a message was due: `who` died without a word.
    #[error("{who} exited without a word (see its standard error)")]
    Silent { who: &'static str },
}

/// What `create` refuses, or fails at, on the host.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(
        "cannot resolve the bundle directory {path}: {source}; pass an existing directory with --bundle"
    )]
    Bundle { path: PathBuf, source: io::Error },
    #[error("{what} is not supported by this runtime; {advice}")]
    Unsupported { what: String, advice: &'static str },
    #[error("cannot give {path} to the container's root: {source}")]
    Chown { path: PathBuf, source: nix::errno::Errno },
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    ReadProc { path: PathBuf, source: io::Error },
    #[error("cannot join the {namespace} namespace {path} (linux.namespaces[].path): {source}; it must be a namespace file of that type (/proc/<pid>/ns/{namespace}, /run/netns/NAME)")]
    JoinPath { namespace: crate::namespaces::Namespace, path: PathBuf, source: nix::errno::Errno },
    #[error("cannot {what} {path}, the directory on which a container without a mount namespace of its own has its tree: {source}; if it is still a mount point, detach it by hand (umount -l {path})")]
    HostView { what: &'static str, path: PathBuf, source: io::Error },
    #[error("stage 0 of the container's init exited with {status}")]
    Stage0 { status: std::process::ExitStatus },
}

/// What the verbs on an existing container refuse, or fail at.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("container {id} is {status}, not created; only a created container can be started")]
    NotCreated { id: String, status: Status },
    #[error("container {id} is not running (it is {status}); there is nothing to signal")]
    NotRunning { id: String, status: Status },
    #[error(
        "container {id} is {status}; stop it first (`bang-oci kill {id} KILL`) or delete it with --force"
    )]
    StillRunning { id: String, status: Status },
    #[error("unknown signal {name:?}; give a name (TERM, SIGKILL) or a number (15)")]
    UnknownSignal { name: String },
    #[error("cannot send {signal} to pid {pid}: {source}")]
    Signal { pid: i32, signal: nix::sys::signal::Signal, source: nix::errno::Errno },
    #[error("the container's init (pid {pid}) did not exit within {seconds} s of SIGKILL; look at /proc/{pid}/stack")]
    DoesNotDie { pid: i32, seconds: u64 },
    #[error("cannot wait for the container's init (pid {pid}): {source}")]
    Wait { pid: i32, source: nix::errno::Errno },
    #[error("container {id} is {status}, not running; only a running container can be paused")]
    CannotPause { id: String, status: Status },
    #[error("container {id} is {status}, not paused; only a paused container can be resumed (`bang-oci pause {id}` first)")]
    CannotResume { id: String, status: Status },
    #[error(
        "container {id} is {status}; only a created, running or paused container's limits can be updated"
    )]
    CannotUpdate { id: String, status: Status },
    #[error("container {id} has no cgroup recorded (created by an older bang-oci?); it cannot be {what}")]
    NoCgroup { id: String, what: &'static str },
    #[error("--{flag} {text:?} is not a size; give bytes, or a number with k, m, g or t (64M, 1g), or -1 for no limit")]
    BadSize { flag: &'static str, text: String },
    #[error("cannot read the resources {path}: {reason}; give a runtime-spec linux.resources object, as `runc update --resources` takes")]
    ResourcesFile { path: PathBuf, reason: String },
    #[error("cannot run ps {args:?}: {reason}; `ps` (procps) must be installed on the host")]
    Ps { args: Vec<String>, reason: String },
}

/// What `exec` refuses before it starts anything.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("container {id} is {status}, not running; only a running container can execute a new process")]
    CannotExec { id: String, status: Status },
    #[error("cannot use the process file {path}: {reason}; it must hold a runtime-spec process object, as `runc exec --process` takes")]
    ProcessFile { path: PathBuf, reason: String },
    #[error("{what}; {advice}")]
    ExecUsage { what: String, advice: &'static str },
    #[error("bad --user {text:?}; give UID or UID:GID, numbers as in the container's /etc/passwd")]
    BadUser { text: String },
}
