// Part of chapter 3, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/rootfs/dev.rs by `cargo xtask exercises`;
// `cargo workshop reset 3` gives you a fresh copy.
//! A minimal /dev: the six character devices every program expects, the pseudo-terminal
//! multiplexer of the container's own devpts, and the /dev/fd and /dev/std* links.
//! Chapter 3. Read mknod(2), null(4), random(4), tty(4), pts(4), and the OCI runtime
//! spec, config-linux.md "Default Devices".

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::mounts::create_mount_point;
use super::resolve::{resolve_in_root, Target};
use super::RootfsError;

/// A character device of the minimal /dev.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// Path inside the container.
    pub path: &'static str,
    pub major: u64,
    pub minor: u64,
}

/// The devices the OCI runtime spec requires in every container (devices.txt numbers).
pub const DEFAULT_DEVICES: &[Device] = &[
    Device { path: "/dev/null", major: 1, minor: 3 },
    Device { path: "/dev/zero", major: 1, minor: 5 },
    Device { path: "/dev/full", major: 1, minor: 7 },
    Device { path: "/dev/random", major: 1, minor: 8 },
    Device { path: "/dev/urandom", major: 1, minor: 9 },
    Device { path: "/dev/tty", major: 5, minor: 0 },
];

/// The links of a Linux /dev: link path inside the container, and what it points to.
pub const DEFAULT_LINKS: &[(&str, &str)] = &[
    ("/dev/fd", "/proc/self/fd"),
    ("/dev/stdin", "/proc/self/fd/0"),
    ("/dev/stdout", "/proc/self/fd/1"),
    ("/dev/stderr", "/proc/self/fd/2"),
    // The container's own devpts instance (mounted with `newinstance`) has its own ptmx.
    ("/dev/ptmx", "pts/ptmx"),
];

/// Creates the default devices under `root`'s /dev. As root, each one is made with
/// mknod(2). In a user namespace mknod of a device is refused (EPERM): nothing an
/// unprivileged user owns may grant access to hardware. There, as runc does rootless,
/// the host's device is bind-mounted onto an empty file instead.
pub fn create_devices(root: &Path, bind_from_host: bool) -> Result<(), RootfsError> {
    for device in DEFAULT_DEVICES {
        let dest = resolve_in_root(root, Path::new(device.path))?;
        if bind_from_host {
            create_mount_point(&dest, false)?;
            let target = Target::open(root, &dest)?;
            mount(Some(device.path), &target.proc_path(), None::<&str>, MsFlags::MS_BIND, None::<&str>)
                .map_err(|errno| RootfsError::Mount {
                    source_path: device.path.to_owned(),
                    target: device.path.into(),
                    kind: "bind".to_owned(),
                    errno,
                })?;
            continue;
        }
        match mknod(
            &dest,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(device.major, device.minor),
        ) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(Errno::EPERM) => return Err(RootfsError::MknodNotPermitted { path: device.path.into() }),
            Err(errno) => return Err(RootfsError::Mknod { path: device.path.into(), errno }),
        }
        // mknod(2) applied the umask; devices are for everyone.
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o666))
            .map_err(|source| RootfsError::Create { path: dest.clone(), source })?;
    }
    Ok(())
}

/// Creates /dev/fd, /dev/std{in,out,err} and /dev/ptmx as symbolic links under `root`.
pub fn create_links(root: &Path) -> Result<(), RootfsError> {
    for (link, to) in DEFAULT_LINKS {
        // Resolve the directory only: the link itself must be made, not followed.
        let link = Path::new(link);
        let dir = resolve_in_root(root, link.parent().unwrap_or(Path::new("/")))?;
        let path = dir.join(link.file_name().unwrap_or_default());
        match symlink(to, &path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(RootfsError::Create { path, source }),
        }
    }
    Ok(())
}
