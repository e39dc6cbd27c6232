// Your file for chapter 5: replace each todo!() with working code, then run
// `cargo workshop check 5`. Generated from crates/container/src/security/seal.rs by `cargo xtask exercises`;
// `cargo workshop reset 5` gives you a fresh copy.
//! A sealed runtime binary: the runtime re-executes itself from a sealed
//! in-memory copy before it goes near a container (chapter 5), or, cheaper, is
//! started from a read-only overlayfs view of its binary (chapter 6's `bang-oci`).
//!
//! A process in the container that reaches the runtime's `/proc/<pid>/exe` then
//! finds a file it cannot write, not the host's binary (CVE-2019-5736). Read
//! memfd_create(2), fcntl(2) (File seals), execveat(2), fsopen(2) and fsmount(2).

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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
    #[error("cannot make a read-only overlayfs view of {binary} ({step}): {source}; the runtime falls back to a sealed copy")]
    Overlay { binary: PathBuf, step: &'static str, source: io::Error },
}

/// Whether `file` is a memfd that carries all of [`SEALS`].
pub fn is_sealed(file: &File) -> bool {
    // SAFETY: F_GET_SEALS only reads the seals; a regular file answers EINVAL.
    let seals = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & SEALS == SEALS
}

/// Whether `file` is a file on a read-only overlayfs mount that is attached in no
/// mount namespace this process sees: the view [`sealed_overlay`] makes. Nobody can
/// remount a mount they cannot name, and an overlay without an upper layer is
/// read-only in its superblock anyway, so nothing can write the file through it.
pub fn is_sealed_overlay(file: &File) -> bool {
    // SAFETY: statfs and statvfs are plain data, all zeroes is a valid value.
    let (mut fs, mut vfs): (libc::statfs, libc::statvfs) = unsafe { std::mem::zeroed() };
    // SAFETY: both read a descriptor we own into structures of the right type;
    // fstatfs names the file system, fstatvfs gives the mount's flags.
    let found = unsafe {
        libc::fstatfs(file.as_raw_fd(), &mut fs) == 0 && libc::fstatvfs(file.as_raw_fd(), &mut vfs) == 0
    };
    if !found {
        return false;
    }
    if fs.f_type != libc::OVERLAYFS_SUPER_MAGIC || vfs.f_flag & libc::ST_RDONLY == 0 {
        return false;
    }
    match mount_id(file) {
        Some(id) => !mount_is_attached(id),
        None => false,
    }
}

/// The id of the mount `file` is on, as /proc/self/mountinfo numbers mounts.
fn mount_id(file: &File) -> Option<u64> {
    // SAFETY: statx is plain data; statx(2) fills it.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: AT_EMPTY_PATH with "" asks about the descriptor itself.
    let rc = unsafe {
        libc::statx(file.as_raw_fd(), c"".as_ptr(), libc::AT_EMPTY_PATH, libc::STATX_MNT_ID, &mut stx)
    };
    (rc == 0 && stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id)
}

/// Whether mount `id` is in this process's mount namespace (or we cannot tell).
fn mount_is_attached(id: u64) -> bool {
    match crate::mountinfo::read(crate::mountinfo::SELF) {
        Ok(table) => table.iter().any(|mount| mount.mount_id == id),
        Err(_) => true,
    }
}

/// Whether `file`, a process's executable, is one a container cannot overwrite: a
/// sealed memfd copy, or a file on a detached read-only overlayfs mount.
pub fn is_sealed_exe(file: &File) -> bool {
    is_sealed(file) || is_sealed_overlay(file)
}

/// Whether this process runs from a sealed copy or a sealed overlayfs view.
pub fn running_sealed() -> bool {
    File::open("/proc/self/exe").map(|f| is_sealed_exe(&f)).unwrap_or(false)
}

/// Copies the running binary into a new memfd and seals it.
pub fn sealed_copy() -> Result<File, SealError> {
    todo!("Make a memfd (libc::memfd_create with MFD_CLOEXEC | MFD_ALLOW_SEALING, and MFD_EXEC, retrying without it on EINVAL for kernels before 6.3), copy /proc/self/exe into it with io::copy, and add SEALS with fcntl(F_ADD_SEALS).");
}

/// Makes sure the runtime runs from a sealed copy: returns at once when it does
/// (or runs from the overlayfs view of [`sealed_overlay`]), otherwise re-executes
/// itself from one with the same arguments and environment (and does not return).
/// Call it first in `main`, before anything else happens.
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

/// The lowest descriptor number [`sealed_overlay`] returns: above the numbers a
/// child is given with dup2(2) before it execs (the runtime's init gets its socket
/// as 3), which would otherwise close the view before execve(2) reads it.
pub const SEALED_FD_MIN: RawFd = 10;

/// Opens `binary` through a read-only overlayfs mount of its directory that is
/// attached nowhere, and returns an O_PATH descriptor of it numbered
/// [`SEALED_FD_MIN`] or above. Executing `/proc/self/fd/<n>` (see [`fd_path`])
/// then runs the binary with no copy: its `/proc/<pid>/exe` is this read-only view.
/// `spare_dir`, any directory, is the second lower layer overlayfs needs to mount
/// without an upper one; the binary's directory sits above it, so it hides nothing.
///
/// runc 1.2 does the same (libcontainer/exeseal). Why not a copy: reading a few
/// megabytes into a memfd costs milliseconds at every container start. Why not a
/// read-only bind mount of the binary: it can be remounted read-write by whoever
/// can name it, and its superblock stays writable; an overlay with no upper layer
/// is read-only for good. It needs CAP_SYS_ADMIN, overlayfs and Linux 5.2
/// (fsopen); where it fails, the caller falls back to [`ensure_sealed`]'s copy.
pub fn sealed_overlay(binary: &Path, spare_dir: &Path) -> Result<OwnedFd, SealError> {
    let fail = |step: &'static str| {
        move |source: io::Error| SealError::Overlay { binary: binary.to_path_buf(), step, source }
    };
    let real = std::fs::canonicalize(binary).map_err(fail("resolve the binary"))?;
    let spare = std::fs::canonicalize(spare_dir).map_err(fail("resolve the spare directory"))?;
    let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else {
        return Err(fail("split the path")(io::ErrorKind::InvalidInput.into()));
    };
    // SAFETY: fsopen takes a C string and flags and returns a new descriptor.
    let context = unsafe { libc::syscall(libc::SYS_fsopen, c"overlay".as_ptr(), libc::FSOPEN_CLOEXEC) };
    let context = owned(context).map_err(fail("fsopen overlay"))?;
    let mut lowerdir = escape_layer(dir);
    lowerdir.push(b':');
    lowerdir.extend(escape_layer(&spare));
    fsconfig_string(&context, "lowerdir", &lowerdir).map_err(fail("fsconfig lowerdir"))?;
    // Inode number remapping is of no use here and logs to dmesg when the layers
    // sit on different file systems; an older kernel may not know the key at all.
    let _ = fsconfig_string(&context, "xino", b"off");
    // SAFETY: FSCONFIG_CMD_CREATE takes no key or value.
    let created = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            context.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    if created != 0 {
        return Err(fail("create the overlay")(io::Error::last_os_error()));
    }
    let attrs = libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOSUID;
    // SAFETY: fsmount turns the configured context into a detached mount.
    let mount =
        unsafe { libc::syscall(libc::SYS_fsmount, context.as_raw_fd(), libc::FSMOUNT_CLOEXEC, attrs) };
    let mount = owned(mount).map_err(fail("fsmount"))?;
    let name = CString::new(name.as_bytes()).map_err(|_| fail("name")(io::ErrorKind::InvalidInput.into()))?;
    let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: openat relative to the mount's root, with a C string.
    let file = owned(unsafe { libc::openat(mount.as_raw_fd(), name.as_ptr(), flags) }.into())
        .map_err(fail("open the binary in the overlay"))?;
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor at or above the number given.
    let high = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_DUPFD_CLOEXEC, SEALED_FD_MIN) };
    owned(high.into()).map_err(fail("move the descriptor up"))
}

/// The path that executes descriptor `fd` of the calling process (execve(2) opens
/// the file before it closes the close-on-exec descriptors).
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// A syscall's new descriptor, or its error.
fn owned(ret: libc::c_long) -> io::Result<OwnedFd> {
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

fn fsconfig_string(context: &OwnedFd, key: &str, value: &[u8]) -> io::Result<()> {
    let key = CString::new(key).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let value = CString::new(value).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: FSCONFIG_SET_STRING takes two C strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            context.as_raw_fd(),
            libc::FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A layer path as overlayfs's `lowerdir` wants it: `:` separates layers, so a `:`
/// in a path is written `\:`, and a `\` is written `\\`.
fn escape_layer(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for &byte in path.as_os_str().as_bytes() {
        if byte == b'\\' || byte == b':' {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_paths_escape_colons_and_backslashes() {
        assert_eq!(escape_layer(Path::new("/usr/bin")), b"/usr/bin");
        assert_eq!(escape_layer(Path::new("/a:b\\c")), b"/a\\:b\\\\c");
    }

    #[test]
    fn the_host_binary_is_not_sealed() {
        let exe = File::open("/proc/self/exe").unwrap();
        assert!(!is_sealed_exe(&exe), "a test binary on disk is neither a memfd nor a detached overlay");
        assert!(!running_sealed());
    }
}
