//! What can go wrong while probing the machine (not what a probe finds: a refused
//! system call is a finding, reported as an [`Attempt`](super::Attempt)).

use std::fs;
use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

/// What went wrong while probing (not what the probe found: a refused syscall is a finding).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot create a pipe to a probe child: {0}; the process may be out of file descriptors")]
    Pipe(#[source] Errno),
    #[error("cannot fork a probe child: {0}; check the process limit (ulimit -u)")]
    Fork(#[source] Errno),
    #[error("cannot wait for probe child {pid}: {source}")]
    Wait { pid: i32, source: Errno },
    #[error("probe child {pid} ended abnormally ({status}); this is a bug in the probe, please report it")]
    ChildCrashed { pid: i32, status: String },
    #[error("cannot prepare the scratch directory {path} for a probe: {source}; is the temp dir writable?")]
    Scratch { path: PathBuf, source: io::Error },
    #[error("{path} contains a NUL byte and cannot be handed to the kernel; use another temp dir")]
    NulInPath { path: PathBuf },
    #[error("not an ELF executable: {reason}")]
    BadElf { reason: &'static str },
    #[error("{path} is not an ELF executable: {reason}; reinstall it from your distribution")]
    BadElfFile { path: PathBuf, reason: &'static str },
}

/// Reads a /proc or /sys file, naming it when that fails.
pub(super) fn read(path: &str) -> Result<String, ProbeError> {
    fs::read_to_string(path).map_err(|source| ProbeError::Read { path: PathBuf::from(path), source })
}
