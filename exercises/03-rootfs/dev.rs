// Part of chapter 3, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/rootfs/dev.rs by `cargo xtask exercises`;
// `cargo workshop reset 3` gives you a fresh copy.
//! A minimal /dev: the six character devices every program expects, the pseudo-terminal
//! multiplexer of the container's own devpts, the /dev/fd and /dev/std* links, and the
//! extra nodes a configuration asks for (`linux.devices`, chapter 6). Chapter 3. Read
//! mknod(2), null(4), random(4), tty(4), pts(4), fifo(7), and the OCI runtime spec,
//! config-linux.md "Devices" and "Default Devices".

use std::fs;
use std::os::unix::fs::{lchown, symlink, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// The type of a node of `linux.devices`: `c` and `u` (unbuffered, the same to Linux)
/// are character devices, `b` block devices, `p` FIFOs (named pipes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeKind {
    Char,
    Block,
    Fifo,
}

impl NodeKind {
    fn flag(self) -> SFlag {
        match self {
            NodeKind::Char => SFlag::S_IFCHR,
            NodeKind::Block => SFlag::S_IFBLK,
            NodeKind::Fifo => SFlag::S_IFIFO,
        }
    }
}

/// A node the configuration asks for in the container (an entry of `linux.devices`),
/// with what the spec leaves out filled in: mode 0666, owner 0:0, as runc does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceNode {
    /// Path inside the container.
    pub path: PathBuf,
    pub kind: NodeKind,
    pub major: u64,
    pub minor: u64,
    /// The permission bits (the file type bits are the kind's).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The host's node of the same kind and numbers, if it has one: what a user
    /// namespace, where mknod(2) of a device is refused, binds instead.
    pub host: Option<PathBuf>,
}

/// Bind-mounts the host's node `host` onto `dest` (resolved in `root`), over an empty
/// file it creates: a device inside a user namespace.
fn bind_host_node(root: &Path, dest: &Path, host: &Path, path: &Path) -> Result<(), RootfsError> {
    create_mount_point(dest, false)?;
    let target = Target::open(root, dest)?;
    mount(Some(host), &target.proc_path(), None::<&str>, MsFlags::MS_BIND, None::<&str>).map_err(|errno| {
        RootfsError::Mount {
            source_path: host.display().to_string(),
            target: path.to_owned(),
            kind: "bind".to_owned(),
            errno,
        }
    })
}

/// Creates the default devices under `root`'s /dev, but those at a path in `skip` (a
/// `linux.devices` entry of the same path replaces the default, as in runc). As root,
/// each one is made with mknod(2). In a user namespace mknod of a device is refused
/// (EPERM): nothing an unprivileged user owns may grant access to hardware. There, as
/// runc does rootless, the host's device is bind-mounted onto an empty file instead.
pub fn create_devices(root: &Path, bind_from_host: bool, skip: &[&Path]) -> Result<(), RootfsError> {
    for device in DEFAULT_DEVICES.iter().filter(|d| !skip.contains(&Path::new(d.path))) {
        let dest = resolve_in_root(root, Path::new(device.path))?;
        if bind_from_host {
            bind_host_node(root, &dest, Path::new(device.path), Path::new(device.path))?;
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

/// Creates the nodes of `linux.devices` under `root`, after the configured mounts (the
/// /dev tmpfs among them): with mknod(2), with the configuration's type, numbers,
/// mode and owner, whether or not the host has such a device (the spec's runtime MUST
/// create them; the device cgroup still decides whether one opens). In a user
/// namespace (`userns`) a FIFO is still made (mknod of a FIFO needs no privilege); a
/// device is the host's node bound in, keeping the host's mode and owner, as in runc,
/// and one the host does not have is an error naming it.
pub fn create_device_nodes(root: &Path, nodes: &[DeviceNode], userns: bool) -> Result<(), RootfsError> {
    for node in nodes {
        let dest = resolve_in_root(root, &node.path)?;
        if userns && node.kind != NodeKind::Fifo {
            let host = node.host.as_deref().ok_or_else(|| RootfsError::DeviceInUserNamespace {
                path: node.path.clone(),
                kind: if node.kind == NodeKind::Block { "block" } else { "character" },
                major: node.major,
                minor: node.minor,
            })?;
            bind_host_node(root, &dest, host, &node.path)?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .map_err(|source| RootfsError::Create { path: parent.to_owned(), source })?;
        }
        let mode = Mode::from_bits_truncate(node.mode & 0o7777);
        match mknod(&dest, node.kind.flag(), mode, makedev(node.major, node.minor)) {
            Ok(()) => {}
            // Something is there already (the rootfs's own /dev without a tmpfs over
            // it): it stays, as in runc.
            Err(Errno::EEXIST) => continue,
            Err(Errno::EPERM) => return Err(RootfsError::MknodNotPermitted { path: node.path.clone() }),
            Err(errno) => return Err(RootfsError::Mknod { path: node.path.clone(), errno }),
        }
        // mknod(2) applied the umask; then the owner, which chown would clear the
        // set-id bits for, so the mode goes last.
        lchown(&dest, Some(node.uid), Some(node.gid))
            .map_err(|source| RootfsError::Create { path: dest.clone(), source })?;
        fs::set_permissions(&dest, fs::Permissions::from_mode(node.mode & 0o7777))
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
