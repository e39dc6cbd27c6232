//! The config.json `runc spec` writes into an empty bundle, and its `--rootless`
//! variant. Chapter 6. Read runc-spec(8); the values are runc 1.1's (Debian 12's
//! runc 1.1.5, whose output is this crate's test fixture).
//!
//! Why not chapter 3's `default_mounts()`: it is what chapter 3 mounts by default
//! (its `/proc` carries nosuid,noexec,nodev and it leaves out the cgroup filesystem),
//! not what runc writes; this file reproduces runc's file value for value.

use crate::namespaces::IdMap;
use crate::rootfs::{Mount, MASKED_PATHS, READONLY_PATHS};
use crate::security::capabilities::{LinuxCapabilities, RUNC_DEFAULT};
use crate::security::rlimits::PosixRlimit;
use crate::security::User;

use super::{Linux, LinuxDeviceCgroup, LinuxNamespace, LinuxResources, Process, ProcessUser, Root, Spec};

/// The specification version `runc spec` (1.1) writes.
pub const RUNC_OCI_VERSION: &str = "1.0.2-dev";

// ANCHOR: runc_default
impl Spec {
    /// What `runc spec` writes: `sh` on a terminal as root with three capabilities, a
    /// read-only `rootfs`, the standard mounts, five new namespaces (no user namespace),
    /// every device denied in the device cgroup, and the usual masked paths.
    pub fn runc_default() -> Spec {
        let caps =
            LinuxCapabilities { ambient: names(RUNC_DEFAULT), ..LinuxCapabilities::uniform(RUNC_DEFAULT) };
        Spec {
            oci_version: RUNC_OCI_VERSION.to_owned(),
            process: Some(Process {
                terminal: true,
                user: ProcessUser { id: User { uid: 0, gid: 0, additional_gids: Vec::new() }, umask: None },
                args: names(&["sh"]),
                env: names(&[
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm",
                ]),
                cwd: "/".to_owned(),
                capabilities: Some(caps),
                rlimits: vec![PosixRlimit { kind: "RLIMIT_NOFILE".to_owned(), hard: 1024, soft: 1024 }],
                no_new_privileges: true,
                ..Process::default()
            }),
            root: Some(Root { path: "rootfs".into(), readonly: true }),
            hostname: Some("runc".to_owned()),
            mounts: vec![
                Mount::new("/proc", "proc", "proc", &[]),
                Mount::new("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount::new(
                    "/dev/pts",
                    "devpts",
                    "devpts",
                    &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
                ),
                Mount::new(
                    "/dev/shm",
                    "tmpfs",
                    "shm",
                    &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
                ),
                Mount::new("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
                Mount::new("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
                Mount::new(
                    "/sys/fs/cgroup",
                    "cgroup",
                    "cgroup",
                    &["nosuid", "noexec", "nodev", "relatime", "ro"],
                ),
            ],
            linux: Some(Linux {
                resources: Some(LinuxResources {
                    devices: vec![LinuxDeviceCgroup {
                        allow: false,
                        access: Some("rwm".to_owned()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                namespaces: ["pid", "network", "ipc", "uts", "mount"]
                    .into_iter()
                    .map(LinuxNamespace::new)
                    .collect(),
                masked_paths: names(MASKED_PATHS),
                readonly_paths: names(READONLY_PATHS),
                ..Linux::default()
            }),
            ..Spec::default()
        }
    }
    // ANCHOR_END: runc_default

    /// What `runc spec --rootless` writes when run by this process's user: root in the
    /// container is this process's effective uid and gid outside.
    pub fn rootless_default() -> Spec {
        Self::rootless_default_for(nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())
    }

    // ANCHOR: rootless_default
    /// [`Spec::runc_default`] made rootless as runc does it: a user namespace mapping
    /// root onto `uid`/`gid` (the caller's ids), no network namespace (an unprivileged
    /// user could not connect it to anything), /sys bound from the host (a user
    /// namespace that does not own the network namespace may not mount sysfs), no
    /// `gid=` on devpts (the group is not mapped), and no cgroup resources (an
    /// unprivileged user cannot write the cgroup tree).
    pub fn rootless_default_for(uid: u32, gid: u32) -> Spec {
        let mut spec = Self::runc_default();
        let linux = spec.linux.get_or_insert_with(Linux::default);
        linux.resources = None;
        linux.namespaces.retain(|ns| ns.kind != "network");
        linux.namespaces.push(LinuxNamespace::new("user"));
        linux.uid_mappings = vec![IdMap::root_onto(uid)];
        linux.gid_mappings = vec![IdMap::root_onto(gid)];
        for mount in &mut spec.mounts {
            if mount.destination.as_os_str() == "/sys" {
                *mount = Mount::new("/sys", "none", "/sys", &["rbind", "nosuid", "noexec", "nodev", "ro"]);
            }
            mount.options.retain(|option| !option.starts_with("gid="));
        }
        spec
    }
    // ANCHOR_END: rootless_default
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
