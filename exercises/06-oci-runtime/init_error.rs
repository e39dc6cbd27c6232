// Part of chapter 6, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/lifecycle/init_error.rs by `cargo xtask exercises`;
// `cargo workshop reset 6` gives you a fresh copy.
//! What the container's init reports when it fails (chapter 6), as a value that
//! crosses the init socket: the init sends an [`InitError`], the runtime rebuilds the
//! same variant, and a caller (or a test) matches it instead of reading a message.
//! The text users see is the same on both sides, word for word: engines read it
//! (Docker gives 127 for "executable file not found", 126 for "permission denied").
//!
//! Two kinds of variant: the init's own failures, with every field they carry; and
//! [`InitError::Failed`], a lower module's error (chapter 3's rootfs, chapter 5's
//! security profile, …) as its [`FailureKind`] and its message. Rejected: serde on
//! every module's error type, which would mean serialising `io::Error` and `Errno`
//! sources across the crate for the one place they cross a process boundary.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use crate::namespaces::Namespace;

/// Where a lower module's error, raised in the init, came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailureKind {
    Spec,
    Store,
    State,
    Fifo,
    Cgroup,
    Namespace,
    Rootfs,
    Security,
    Hook,
    Console,
    Protocol,
    Create,
    Exec,
    Control,
}

/// A failure of the container's init (stage 0 included) or of the process `exec`
/// starts, as both ends of the socket see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub enum InitError {
    /// A lower module's error: which module, and its message.
    #[error("{message}")]
    Failed { kind: FailureKind, message: String },
    #[error("refusing to set up the container: the init is still in the runtime's mount namespace (mnt inode {inode}); unshare(CLONE_NEWNS) did not take effect")]
    SameMountNamespace { inode: u64 },
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    ReadProc { path: PathBuf, source: OsError },
    #[error("cannot join the {namespace} namespace {path} (linux.namespaces[].path): {source}; it must be a namespace file of that type (/proc/<pid>/ns/{namespace}, /run/netns/NAME)")]
    JoinPath {
        #[serde(with = "namespace_name")]
        namespace: Namespace,
        path: PathBuf,
        #[serde(with = "errno_number")]
        source: Errno,
    },
    #[error("cannot give the container a session keyring of its own: {source}; pass --no-new-keyring to keep the caller's")]
    Keyring { source: OsError },
    #[error(
        "cannot set the domain name to {name:?}: {source}; the container needs a uts namespace of its own"
    )]
    Domainname { name: String, source: OsError },
    #[error("cannot set process.oomScoreAdj to {value}: {source}; lowering it below the runtime's own needs CAP_SYS_RESOURCE")]
    OomScoreAdj { value: i32, source: OsError },
    #[error("cannot set linux.sysctl {key:?} to {value:?} ({path}): {source}; check the name with `sysctl -a` and that the container has its namespace")]
    Sysctl { key: String, value: String, path: PathBuf, source: OsError },
    #[error("exec: {name:?}: executable file not found in $PATH ({path}) inside the container; check process.args[0] and the rootfs")]
    ProgramNotFound { name: String, path: String },
    /// The text of runc's (Go's `stat` error), which engines match: Docker's
    /// translateContainerdStartErr gives 127 for "no such file or directory" with the name.
    #[error("exec: {name:?}: stat {name}: no such file or directory inside the container; check process.args[0] and the rootfs")]
    NoSuchProgram { name: String },
    /// EACCES, as execve(2) gives for a directory or a file without execute
    /// permission; Docker gives 126 for "permission denied".
    #[error("exec: {name:?}: permission denied: {why}")]
    NotExecutable { name: String, why: Cow<'static, str> },
    #[error("exec: cannot execute {name:?} in container {id}: {source}")]
    Execve {
        name: String,
        id: String,
        #[serde(with = "errno_number")]
        source: Errno,
    },
    #[error("cannot make the runtime's process non-dumpable (prctl PR_SET_DUMPABLE): {source}")]
    Dumpable {
        #[serde(with = "errno_number")]
        source: Errno,
    },
    #[error("cannot open {path}: {source}; the container's init (pid {pid}) may have exited")]
    OpenNamespace {
        pid: i32,
        path: PathBuf,
        #[serde(with = "errno_number")]
        source: Errno,
    },
    #[error("cannot join the {namespace} namespace of the container's init (pid {pid}): {source}")]
    Join {
        #[serde(with = "namespace_name")]
        namespace: Namespace,
        pid: i32,
        #[serde(with = "errno_number")]
        source: Errno,
    },
    #[error("cannot enter the container's root {path}: {source}")]
    EnterRoot {
        path: PathBuf,
        #[serde(with = "errno_number")]
        source: Errno,
    },
    #[error("the container's init (pid {pid}) has exited; the container {id} is stopped")]
    InitGone { id: String, pid: i32 },
    #[error("cannot fork the process to execute in the container: {source}; the host may be out of processes (pids limit)")]
    Fork {
        #[serde(with = "errno_number")]
        source: Errno,
    },
}

/// An `io::Error` of the operating system, by its number, so that it can cross the
/// socket: it prints as the `io::Error` it came from ("Permission denied (os error 13)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsError(pub i32);

impl From<io::Error> for OsError {
    fn from(err: io::Error) -> Self {
        OsError(err.raw_os_error().unwrap_or(libc::EIO))
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        io::Error::from_raw_os_error(self.0).fmt(f)
    }
}

impl std::error::Error for OsError {}

/// A `Namespace` as its /proc name.
use crate::spec::convert::namespace_serde::name as namespace_name;

/// An `Errno` as its number.
mod errno_number {
    use nix::errno::Errno;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(errno: &Errno, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(*errno as i32)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Errno, D::Error> {
        Ok(Errno::from_raw(i32::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape of variant comes back as the same value, and prints the same.
    #[test]
    fn init_errors_round_trip_as_values() {
        let errors = [
            InitError::Failed { kind: FailureKind::Rootfs, message: "no rootfs".into() },
            InitError::ProgramNotFound { name: "x".into(), path: "/bin".into() },
            InitError::NotExecutable { name: "/etc".into(), why: "it is a directory".into() },
            InitError::JoinPath {
                namespace: Namespace::Net,
                path: "/run/netns/x".into(),
                source: Errno::EINVAL,
            },
            InitError::Sysctl {
                key: "net.x".into(),
                value: "1".into(),
                path: "/proc/sys/net/x".into(),
                source: io::Error::from_raw_os_error(libc::ENOENT).into(),
            },
        ];
        for error in errors {
            let json = serde_json::to_string(&error).unwrap();
            assert!(!json.contains('\n'));
            let back: InitError = serde_json::from_str(&json).unwrap();
            assert_eq!(back, error);
            assert_eq!(back.to_string(), error.to_string());
        }
    }

    /// An OS error prints as the io::Error it was made from.
    #[test]
    fn os_errors_print_as_io_errors() {
        let io = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(OsError::from(io::Error::from_raw_os_error(libc::EACCES)).to_string(), io.to_string());
    }
}
