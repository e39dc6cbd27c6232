//! A minimal root filesystem made from busybox-static: one static binary whose
//! applets (sh, ls, cat, sleep, …) are symbolic links to it, plus the empty
//! directories a container expects. Every chapter runs its checks in one, and the
//! engine interop tests import it as an image (`podman import`, `docker import`).

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// What can go wrong while building a rootfs.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("busybox not found ($BIGBANG_BUSYBOX, PATH, /usr/bin, /bin, /usr/sbin); install it: sudo apt-get install busybox-static (Fedora: sudo dnf install busybox)")]
    BusyboxMissing,
    #[error("{path} is a dynamically linked busybox; a rootfs needs the static one: sudo apt-get install busybox-static")]
    BusyboxNotStatic { path: PathBuf },
    #[error("cannot inspect busybox: {source}")]
    Probe { source: crate::probe::ProbeError },
    #[error("cannot list the applets of {path}: {source}")]
    Applets { path: PathBuf, source: io::Error },
    #[error("cannot write the rootfs at {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Finds a statically linked busybox: `$BIGBANG_BUSYBOX`, then PATH and the usual places.
pub fn find_busybox() -> Result<PathBuf, RootfsError> {
    match crate::probe::busybox() {
        Ok(Some(found)) if found.is_static() => Ok(found.path),
        Ok(Some(found)) => Err(RootfsError::BusyboxNotStatic { path: found.path }),
        Ok(None) => Err(RootfsError::BusyboxMissing),
        Err(source) => Err(RootfsError::Probe { source }),
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> RootfsError + '_ {
    move |source| RootfsError::Write { path: path.to_owned(), source }
}

/// A file only the test root filesystems have, so a payload can tell that it really
/// runs inside one.
pub const MARKER: &str = "etc/bigbang-test-rootfs";

/// The start of a shell payload that changes or deletes files: it refuses unless `/`
/// is a test root filesystem. A wrong answer that never enters the rootfs (a skipped
/// pivot_root or chroot, a mutant of one) would otherwise run the rest on the host's
/// own files: `rm /etc/passwd` in the host's root. Exit status 97 and a message say so.
/// It holds no single quote, so it can stand inside `sh -c '…'`.
pub const IN_TEST_ROOTFS: &str =
    "[ -e /etc/bigbang-test-rootfs ] || { echo \"refusing to write: / is not the \
test rootfs, so the container never entered it: did chroot or pivot_root happen?\" >&2; exit 97; }; ";

/// Fills `dir` (created if needed) with a busybox root filesystem:
/// `bin/busybox`, a link per applet in `bin/`, `/usr/bin` and `/sbin` as links
/// to `bin`, `etc/passwd` and `etc/group` with root and nobody, [`MARKER`], and empty
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
        (MARKER, "a root filesystem made by bigbang's tests; see bigbang_testkit::rootfs::IN_TEST_ROOTFS\n"),
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

/// `<engine> import -` of `rootfs` as an image: `import` (a `podman` or `docker`
/// command with its flags) gets a tar stream of the directory on its standard input.
/// Fails unless both tar and the import succeed.
pub fn import_rootfs(rootfs: &Path, mut import: Command, what: &str) {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("running tar");
    let output =
        import.stdin(tar.stdout.take().unwrap()).output().unwrap_or_else(|e| panic!("running {what}: {e}"));
    let tarred = tar.wait().unwrap();
    assert!(tarred.success(), "tar -c {} failed: {tarred}", rootfs.display());
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard refuses on a root without the marker (the host's, here) and writes
    /// nothing; in a test rootfs it lets the payload run. The host has no marker: a
    /// run of the payload outside a container is exactly the case guarded against.
    #[test]
    fn the_guard_refuses_outside_a_test_rootfs() {
        assert!(!Path::new("/").join(MARKER).exists(), "the host itself has {MARKER}");
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep me\n").unwrap();
        let script = format!("{IN_TEST_ROOTFS}rm {}", victim.display());
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        assert_eq!(out.status.code(), Some(97));
        assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to write: / is not the test rootfs"));
        assert!(victim.exists(), "the guarded payload deleted a file on the host");
        assert!(!IN_TEST_ROOTFS.contains('\''), "a single quote would end an enclosing sh -c '…'");
    }
}
