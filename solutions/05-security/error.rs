// Answer key for chapter 5, generated from crates/container/src/security/error.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! The module's error type: one variant per step, each with its own enum.

use std::io;

use super::capabilities::CapabilityError;
use super::fds::FdError;
use super::rlimits::RlimitError;
use super::seal::SealError;
use super::seccomp::SeccompError;

/// What can go wrong while locking a container down. Each step has its own enum.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error(transparent)]
    Capability(#[from] CapabilityError),
    #[error(transparent)]
    Rlimit(#[from] RlimitError),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    #[error(transparent)]
    Fd(#[from] FdError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("prctl(PR_SET_NO_NEW_PRIVS) failed: {source}")]
    NoNewPrivs { source: io::Error },
    #[error("cannot become uid {uid}, gid {gid} (additional gids {additional:?}): {source}; changing user needs CAP_SETUID and CAP_SETGID")]
    User { uid: u32, gid: u32, additional: Vec<u32>, source: io::Error },
    #[error("cannot remount the container's root read-only: {source}; the root must be a mount point (chapter 3's pivot_root makes it one) and this needs CAP_SYS_ADMIN")]
    ReadonlyRoot { source: io::Error },
}
