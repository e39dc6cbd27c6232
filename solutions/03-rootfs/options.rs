// Answer key for chapter 3, generated from crates/container/src/rootfs/options.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! Mount descriptions as the OCI runtime specification writes them, and the parser from
//! their option strings (`"nosuid"`, `"ro"`, `"rbind"`, `"mode=755"`) to mount(2) flags
//! and data. Chapter 3; chapter 6 reads the same entries from config.json's `mounts`.
//! Read mount(2), mount(8) "FILESYSTEM-INDEPENDENT MOUNT OPTIONS", and the OCI runtime
//! spec, config.md "Mounts".

use std::path::PathBuf;

use nix::mount::MsFlags;

use super::RootfsError;

/// One entry of config.json's `mounts`: where, what, which filesystem type, which options.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mount {
    /// Absolute path inside the container; symbolic links in it are resolved inside the rootfs.
    pub destination: PathBuf,
    /// Filesystem type (`proc`, `tmpfs`, `sysfs`, `devpts`, `bind`, …).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A device, a host path for bind mounts, or a name the filesystem ignores (`proc`).
    #[serde(default)]
    pub source: String,
    /// mount(8)-style options: flags, propagation, and filesystem data such as `mode=755`.
    #[serde(default)]
    pub options: Vec<String>,
}

impl Mount {
    /// A mount from string slices, for tables of defaults and for tests.
    pub fn new(destination: &str, kind: &str, source: &str, options: &[&str]) -> Self {
        Self {
            destination: PathBuf::from(destination),
            kind: kind.to_owned(),
            source: source.to_owned(),
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    /// Whether this is a bind mount: `type: bind`, or a `bind`/`rbind` option.
    pub fn is_bind(&self) -> bool {
        self.kind == "bind" || self.options.iter().any(|o| o == "bind" || o == "rbind")
    }
}

/// Mount options decoded for mount(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount call itself (`MS_RDONLY`, `MS_NOSUID`, …, `MS_BIND`, `MS_REC`).
    pub flags: MsFlags,
    /// Propagation changes applied afterwards, one mount(2) call each (`MS_PRIVATE|MS_REC`, …).
    pub propagation: Vec<MsFlags>,
    /// The rest, comma-joined: the filesystem's own options (`mode=755,size=65536k`).
    pub data: String,
}

impl Default for MountOptions {
    fn default() -> Self {
        Self { flags: MsFlags::empty(), propagation: Vec::new(), data: String::new() }
    }
}

/// Flags that mount(2) ignores on a fresh bind and that need a second, remounting call.
pub const REMOUNT_FLAGS: MsFlags = MsFlags::MS_RDONLY
    .union(MsFlags::MS_NOSUID)
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC)
    .union(MsFlags::MS_NOATIME)
    .union(MsFlags::MS_NODIRATIME)
    .union(MsFlags::MS_RELATIME)
    .union(MsFlags::MS_STRICTATIME);

/// The flag an option sets (`true`) or clears (`false`), as mount(8) names them.
fn flag_option(option: &str) -> Option<(bool, MsFlags)> {
    let (set, flag) = match option {
        "defaults" => (true, MsFlags::empty()),
        "ro" => (true, MsFlags::MS_RDONLY),
        "rw" => (false, MsFlags::MS_RDONLY),
        "nosuid" => (true, MsFlags::MS_NOSUID),
        "suid" => (false, MsFlags::MS_NOSUID),
        "nodev" => (true, MsFlags::MS_NODEV),
        "dev" => (false, MsFlags::MS_NODEV),
        "noexec" => (true, MsFlags::MS_NOEXEC),
        "exec" => (false, MsFlags::MS_NOEXEC),
        "sync" => (true, MsFlags::MS_SYNCHRONOUS),
        "async" => (false, MsFlags::MS_SYNCHRONOUS),
        "dirsync" => (true, MsFlags::MS_DIRSYNC),
        "remount" => (true, MsFlags::MS_REMOUNT),
        "mand" => (true, MsFlags::MS_MANDLOCK),
        "nomand" => (false, MsFlags::MS_MANDLOCK),
        "noatime" => (true, MsFlags::MS_NOATIME),
        "atime" => (false, MsFlags::MS_NOATIME),
        "nodiratime" => (true, MsFlags::MS_NODIRATIME),
        "diratime" => (false, MsFlags::MS_NODIRATIME),
        "relatime" => (true, MsFlags::MS_RELATIME),
        "norelatime" => (false, MsFlags::MS_RELATIME),
        "strictatime" => (true, MsFlags::MS_STRICTATIME),
        "nostrictatime" => (false, MsFlags::MS_STRICTATIME),
        "bind" => (true, MsFlags::MS_BIND),
        "rbind" => (true, MsFlags::MS_BIND.union(MsFlags::MS_REC)),
        "silent" => (true, MsFlags::MS_SILENT),
        "loud" => (false, MsFlags::MS_SILENT),
        _ => return None,
    };
    Some((set, flag))
}

/// The propagation change an option asks for, or `None` when it is not one.
pub fn propagation_option(option: &str) -> Option<MsFlags> {
    let rec = MsFlags::MS_REC;
    Some(match option {
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | rec,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | rec,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | rec,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | rec,
        _ => return None,
    })
}

/// Splits OCI/mount(8) options into mount(2) flags, propagation changes and data.
/// Later options win (`ro,rw` is read-write), as mount(8) does. Anything that is not a
/// flag or a propagation is the filesystem's business and goes to `data` unchanged:
/// the kernel, not this parser, knows what tmpfs or overlay accept.
pub fn parse_options(options: &[String]) -> MountOptions {
    let mut parsed = MountOptions::default();
    let mut data = Vec::new();
    for option in options {
        if let Some((set, flag)) = flag_option(option) {
            parsed.flags.set(flag, set);
        } else if let Some(change) = propagation_option(option) {
            parsed.propagation.push(change);
        } else {
            data.push(option.as_str());
        }
    }
    parsed.data = data.join(",");
    parsed
}

/// How mounts in the container relate to the host's (mount_namespaces(7), "Shared subtrees").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Propagation {
    /// Nothing propagates in either direction (runc's default).
    #[default]
    RPrivate,
    /// `/` only; mounts below keep theirs.
    Private,
    /// Host mounts appear inside; nothing goes back (for containers that must see new host mounts).
    RSlave,
    Slave,
    /// Both ways: the container's mounts appear on the host. Rarely what you want.
    RShared,
    Shared,
}

impl Propagation {
    /// Parses config.json's `linux.rootfsPropagation` (`private`, `rslave`, …).
    pub fn parse(value: &str) -> Result<Self, RootfsError> {
        Ok(match value {
            "rprivate" => Propagation::RPrivate,
            "private" => Propagation::Private,
            "rslave" => Propagation::RSlave,
            "slave" => Propagation::Slave,
            "rshared" => Propagation::RShared,
            "shared" => Propagation::Shared,
            _ => return Err(RootfsError::UnknownPropagation { value: value.to_owned() }),
        })
    }

    /// The flags mount(2) takes to set it.
    pub fn flags(self) -> MsFlags {
        match self {
            Propagation::RPrivate => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
            Propagation::Private => MsFlags::MS_PRIVATE,
            Propagation::RSlave => MsFlags::MS_SLAVE | MsFlags::MS_REC,
            Propagation::Slave => MsFlags::MS_SLAVE,
            Propagation::RShared => MsFlags::MS_SHARED | MsFlags::MS_REC,
            Propagation::Shared => MsFlags::MS_SHARED,
        }
    }
}

/// The mounts `runc spec` writes into a new config.json, less the cgroup filesystem
/// (chapter 4's subject): /proc, a tmpfs /dev with devpts and shm, mqueue, read-only /sys.
pub fn default_mounts() -> Vec<Mount> {
    vec![
        Mount::new("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        Mount::new("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
        Mount::new(
            "/dev/pts",
            "devpts",
            "devpts",
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        Mount::new("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        Mount::new("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        Mount::new("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
    ]
}

/// Paths `runc spec` masks: kernel memory, keys, timers and hardware details a
/// container has no business reading (`maskedPaths` in config.json).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

/// Paths `runc spec` makes read-only: kernel tunables a container must not change
/// (`readonlyPaths` in config.json).
pub const READONLY_PATHS: &[&str] =
    &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
