//! A minimal root filesystem made from busybox-static: one static binary whose
//! applets (sh, ls, cat, sleep, …) are symbolic links to it, plus the empty
//! directories a container expects. Every chapter runs its checks in one.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Where busybox is looked for when `BIGBANG_BUSYBOX` does not name it.
pub const BUSYBOX_CANDIDATES: &[&str] = &["/bin/busybox", "/usr/bin/busybox", "/usr/sbin/busybox"];

/// What can go wrong while building a rootfs.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("busybox not found (looked at $BIGBANG_BUSYBOX, {}); install it: sudo apt-get install busybox-static (Fedora: sudo dnf install busybox)", BUSYBOX_CANDIDATES.join(", "))]
    BusyboxMissing,
    #[error("{path} is a dynamically linked busybox; a rootfs needs the static one: sudo apt-get install busybox-static")]
    BusyboxNotStatic { path: PathBuf },
    #[error("cannot list the applets of {path}: {source}")]
    Applets { path: PathBuf, source: io::Error },
    #[error("cannot write the rootfs at {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Finds a statically linked busybox: `$BIGBANG_BUSYBOX`, then the usual places.
pub fn find_busybox() -> Result<PathBuf, RootfsError> {
    let from_env = std::env::var_os("BIGBANG_BUSYBOX").map(PathBuf::from);
    let path = from_env
        .into_iter()
        .chain(BUSYBOX_CANDIDATES.iter().map(PathBuf::from))
        .find(|p| p.is_file())
        .ok_or(RootfsError::BusyboxMissing)?;
    match elf_is_static(&path) {
        Ok(true) => Ok(path),
        _ => Err(RootfsError::BusyboxNotStatic { path }),
    }
}

/// Whether the ELF file at `path` is statically linked: it has no PT_INTERP
/// program header naming a dynamic loader.
fn elf_is_static(path: &Path) -> io::Result<bool> {
    let data = fs::read(path)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a 64-bit little-endian ELF file");
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return Err(bad());
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[32..40].try_into().map_err(|_| bad())?) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let kind = data.get(at..at + 4).ok_or_else(bad)?;
        if u32::from_le_bytes(kind.try_into().map_err(|_| bad())?) == PT_INTERP {
            return Ok(false);
        }
    }
    Ok(true)
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> RootfsError + '_ {
    move |source| RootfsError::Write { path: path.to_owned(), source }
}

/// Fills `dir` (created if needed) with a busybox root filesystem:
/// `bin/busybox`, a link per applet in `bin/`, `/usr/bin` and `/sbin` as links
/// to `bin`, `etc/passwd` and `etc/group` with root and nobody, and empty
/// `proc`, `dev`, `sys`, `tmp`, `root`.
pub fn make_busybox_rootfs(dir: &Path) -> Result<(), RootfsError> {
    let busybox = find_busybox()?;
    let output = Command::new(&busybox)
        .arg("--list")
        .output()
        .map_err(|source| RootfsError::Applets { path: busybox.clone(), source })?;
    let list = String::from_utf8_lossy(&output.stdout).into_owned();

    for sub in ["bin", "usr", "etc", "proc", "dev", "sys", "tmp", "root"] {
        let path = dir.join(sub);
        fs::create_dir_all(&path).map_err(write_err(&path))?;
    }
    let target = dir.join("bin/busybox");
    fs::copy(&busybox, &target).map_err(write_err(&target))?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).map_err(write_err(&target))?;
    for applet in list.split_whitespace().filter(|a| *a != "busybox" && !a.contains('/')) {
        let link = dir.join("bin").join(applet);
        if link.symlink_metadata().is_err() {
            symlink("busybox", &link).map_err(write_err(&link))?;
        }
    }
    for (link, to) in [("usr/bin", "../bin"), ("sbin", "bin")] {
        let link = dir.join(link);
        if link.symlink_metadata().is_err() {
            symlink(to, &link).map_err(write_err(&link))?;
        }
    }
    let files = [
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        ("etc/hostname", "bigbang\n"),
    ];
    for (name, contents) in files {
        let path = dir.join(name);
        fs::write(&path, contents).map_err(write_err(&path))?;
    }
    for (sub, mode) in [("", 0o755), ("tmp", 0o1777), ("root", 0o700)] {
        let path = dir.join(sub);
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(write_err(&path))?;
    }
    Ok(())
}

/// A busybox rootfs in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct BusyboxRootfs {
    dir: TempDir,
}

impl BusyboxRootfs {
    /// Builds a fresh rootfs; readable by every user, so tests may run commands
    /// in it as an unprivileged user too.
    pub fn new() -> Result<Self, RootfsError> {
        let dir = tempfile::Builder::new()
            .prefix("bigbang-rootfs-")
            .tempdir()
            .map_err(write_err(&std::env::temp_dir()))?;
        make_busybox_rootfs(dir.path())?;
        Ok(Self { dir })
    }

    /// The rootfs directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
