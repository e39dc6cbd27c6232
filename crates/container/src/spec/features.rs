//! What this runtime implements, in the shape of the OCI runtime specification's
//! features.md (what `runc features` prints), so a caller such as podman can ask before
//! it writes a config.json. Chapter 6. Every list is computed from the tables of the
//! chapter that implements it, so it cannot claim more than the code does.

use serde::Serialize;

use crate::namespaces::Namespace;
use crate::rootfs::parse_options;
use crate::security::capabilities::CAPABILITIES;
use crate::security::seccomp::Action;

use super::validate::{SECCOMP_ACTIONS, SECCOMP_OPERATORS};

/// The oldest specification version this runtime reads.
pub const OCI_VERSION_MIN: &str = "1.0.0";
/// The newest version whose fields it models (that of its `spec` output).
pub const OCI_VERSION_MAX: &str = super::defaults::RUNC_OCI_VERSION;

/// Mount option names mount(8) and runc know; only those chapter 3's parser
/// understands (it leaves nothing of them to the filesystem's data) are reported.
const MOUNT_OPTION_CANDIDATES: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "iversion",
    "lazytime",
    "loud",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "rbind",
    "relatime",
    "remount",
    "ro",
    "rprivate",
    "rshared",
    "rslave",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "unbindable",
];

/// The features document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    pub oci_version_min: String,
    pub oci_version_max: String,
    /// Hook kinds the runtime runs, with their config.json names (chapter 6 runs all six).
    pub hooks: Vec<String>,
    pub mount_options: Vec<String>,
    pub linux: LinuxFeatures,
}

/// `linux` of the features document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxFeatures {
    pub namespaces: Vec<String>,
    pub capabilities: Vec<String>,
    pub cgroup: CgroupFeatures,
    pub seccomp: SeccompFeatures,
    pub apparmor: Enabled,
    pub selinux: Enabled,
}

/// `linux.cgroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CgroupFeatures {
    pub v1: bool,
    pub v2: bool,
    pub systemd: bool,
    pub systemd_user: bool,
    /// Whether `linux.resources.rdma` is applied (to `rdma.max`, on v1 and v2).
    pub rdma: bool,
}

/// `linux.seccomp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeccompFeatures {
    pub enabled: bool,
    pub actions: Vec<String>,
    pub operators: Vec<String>,
    pub archs: Vec<String>,
    pub known_flags: Vec<String>,
    pub supported_flags: Vec<String>,
}

/// `{"enabled": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enabled {
    pub enabled: bool,
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    items.into_iter().map(str::to_owned).collect()
}

impl Features {
    /// What chapters 2 to 5 implement.
    pub fn current() -> Features {
        let seccomp_flags = strings([
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        ]);
        Features {
            oci_version_min: OCI_VERSION_MIN.to_owned(),
            oci_version_max: OCI_VERSION_MAX.to_owned(),
            hooks: strings([
                "prestart",
                "createRuntime",
                "createContainer",
                "startContainer",
                "poststart",
                "poststop",
            ]),
            mount_options: strings(
                MOUNT_OPTION_CANDIDATES
                    .iter()
                    .copied()
                    .filter(|option| parse_options(&[(*option).to_owned()]).data.is_empty())
                    .chain([crate::rootfs::mounts::TMPCOPYUP]),
            ),
            linux: LinuxFeatures {
                namespaces: strings(Namespace::ALL.iter().map(|ns| ns.oci_name())),
                capabilities: strings(CAPABILITIES.iter().map(|(name, _)| *name)),
                cgroup: CgroupFeatures {
                    v1: true,
                    v2: true,
                    systemd: false,
                    systemd_user: false,
                    rdma: true,
                },
                seccomp: SeccompFeatures {
                    enabled: true,
                    actions: strings(
                        SECCOMP_ACTIONS.iter().copied().filter(|name| Action::parse(name, None, "").is_ok()),
                    ),
                    operators: strings(SECCOMP_OPERATORS.iter().copied()),
                    archs: strings(["SCMP_ARCH_X86_64"]),
                    known_flags: seccomp_flags.clone(),
                    supported_flags: seccomp_flags,
                },
                apparmor: Enabled { enabled: false },
                selinux: Enabled { enabled: false },
            },
        }
    }
}
