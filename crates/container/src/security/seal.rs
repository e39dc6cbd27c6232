//! A sealed runtime binary: the runtime re-executes itself from a sealed
//! in-memory copy before it goes near a container (chapter 5).
//!
//! A process in the container that reaches the runtime's `/proc/<pid>/exe` then
//! finds a copy it cannot write, not the host's binary (CVE-2019-5736). Read
//! memfd_create(2), fcntl(2) (File seals) and execveat(2).

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;

/// The seals a runtime copy carries: no writes, no resizing, and no removing or
/// adding seals later.
pub const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Set in the environment of the re-executed copy, so that a copy that still
/// does not look sealed fails instead of re-executing for ever. The payload never
/// sees it: its environment is built from the profile, not inherited.
pub const REEXEC_MARKER: &str = "_BIGBANG_SEALED_REEXEC";

/// What can go wrong while sealing the runtime.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("memfd_create failed: {source}; the kernel needs memfd support (Linux 3.17+), and vm.memfd_noexec must not be 2")]
    Create { source: io::Error },
    #[error("cannot copy /proc/self/exe into the sealed copy: {source}")]
    Copy { source: io::Error },
    #[error("cannot seal the runtime copy: {source}")]
    Seal { source: io::Error },
    #[error("cannot execute the sealed copy of the runtime: {source}; if vm.memfd_noexec is 2, memfd files cannot be executed on this machine")]
    Exec { source: io::Error },
    #[error("the runtime re-executed itself from a sealed copy but /proc/self/exe is still not sealed; refusing to loop")]
    StillUnsealed,
    #[error("an argument or environment variable holds a NUL byte: {value:?}")]
    Nul { value: OsString },
}

/// Whether `file` is a memfd that carries all of [`SEALS`].
pub fn is_sealed(file: &File) -> bool {
    // SAFETY: F_GET_SEALS only reads the seals; a regular file answers EINVAL.
    let seals = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & SEALS == SEALS
}

/// Whether this process runs from a sealed copy.
pub fn running_sealed() -> bool {
    File::open("/proc/self/exe").map(|f| is_sealed(&f)).unwrap_or(false)
}

// ANCHOR: sealed_copy
/// Copies the running binary into a new memfd and seals it.
pub fn sealed_copy() -> Result<File, SealError> {
    // exercise: Make a memfd (libc::memfd_create with MFD_CLOEXEC | MFD_ALLOW_SEALING, and MFD_EXEC, retrying without it on EINVAL for kernels before 6.3), copy /proc/self/exe into it with io::copy, and add SEALS with fcntl(F_ADD_SEALS).
    let name = c"bigbang-runtime";
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // MFD_EXEC says the copy is meant to be executed; kernels before 6.3 do not know it.
    // SAFETY: memfd_create takes a C string and flags and returns a new descriptor.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | libc::MFD_EXEC) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(SealError::Create { source: io::Error::last_os_error() });
    }
    // SAFETY: fd is a new descriptor that nothing else owns.
    let mut copy = unsafe { File::from_raw_fd(fd) };
    let mut exe = File::open("/proc/self/exe").map_err(|source| SealError::Copy { source })?;
    io::copy(&mut exe, &mut copy).map_err(|source| SealError::Copy { source })?;
    // ANCHOR: add_seals
    // SAFETY: F_ADD_SEALS on a memfd we own.
    if unsafe { libc::fcntl(copy.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } != 0 {
        return Err(SealError::Seal { source: io::Error::last_os_error() });
    }
    // ANCHOR_END: add_seals
    Ok(copy)
    // end exercise
}
// ANCHOR_END: sealed_copy

// ANCHOR: ensure_sealed
/// Makes sure the runtime runs from a sealed copy: returns at once when it does,
/// otherwise re-executes itself from one with the same arguments and environment
/// (and does not return). Call it first in `main`, before anything else happens.
///
/// The copy costs one read of the binary into memory per start. runc did the
/// same from 2019 (nsenter/cloned_binary.c) until 1.2 moved to cheaper tricks.
pub fn ensure_sealed() -> Result<(), SealError> {
    if running_sealed() {
        return Ok(());
    }
    if std::env::var_os(REEXEC_MARKER).is_some() {
        return Err(SealError::StillUnsealed);
    }
    let copy = sealed_copy()?;
    let cstring = |value: OsString| CString::new(value.as_bytes()).map_err(|_| SealError::Nul { value });
    let argv: Vec<CString> = std::env::args_os().map(cstring).collect::<Result<_, _>>()?;
    let mut env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut pair = k;
            pair.push("=");
            pair.push(v);
            cstring(pair)
        })
        .collect::<Result<_, _>>()?;
    env.push(CString::new(format!("{REEXEC_MARKER}=1")).expect("no NUL in the marker"));
    let mut argv_ptrs: Vec<*mut libc::c_char> = argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv_ptrs.push(std::ptr::null_mut());
    let mut env_ptrs: Vec<*mut libc::c_char> = env.iter().map(|e| e.as_ptr().cast_mut()).collect();
    env_ptrs.push(std::ptr::null_mut());
    // SAFETY: execveat with AT_EMPTY_PATH runs the file `copy` refers to; the
    // argument and environment arrays are NUL-terminated and outlive the call.
    unsafe {
        libc::execveat(
            copy.as_raw_fd(),
            c"".as_ptr(),
            argv_ptrs.as_ptr(),
            env_ptrs.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Err(SealError::Exec { source: io::Error::last_os_error() })
}
// ANCHOR_END: ensure_sealed
