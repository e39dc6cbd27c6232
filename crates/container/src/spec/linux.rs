//! config.json's `linux`: namespaces and id maps (chapter 2), propagation, masked and
//! read-only paths (chapter 3), the cgroup and its limits (chapter 4), seccomp
//! (chapter 5), plus device nodes and sysctls. Chapter 6. Read config-linux.md of the
//! OCI runtime specification, namespaces(7), user_namespaces(7), sysctl(8).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::namespaces::IdMap;
use crate::security::seccomp::LinuxSeccomp;

/// `linux`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    /// Chapter 2's [`IdMap`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uid_mappings: Vec<IdMap>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gid_mappings: Vec<IdMap>,
    /// Kernel parameters to set in the container's namespaces (`net.ipv4.ip_forward`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctl: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<LinuxResources>,
    /// The container's cgroup: absolute (from the cgroup root) or relative (to the
    /// runtime's own); absent lets the runtime choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroups_path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<LinuxNamespace>,
    /// Device nodes to create besides the default ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<LinuxDevice>,
    /// Chapter 5's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<LinuxSeccomp>,
    /// `private`, `rslave`, …: how the container's mounts relate to the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_propagation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readonly_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_label: Option<String>,
}

/// One entry of `linux.namespaces`: a kind, created new, or joined at `path`.
///
/// `type` is a string, not chapter 2's [`Namespace`](crate::namespaces::Namespace):
/// an enum would make serde reject `"pdi"` with a line and column only, where the
/// validation pass can name `linux.namespaces[2].type`; and the specification knows a
/// kind (`time`) that chapter 2 cannot create, which is the runtime's limit, not an
/// invalid file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinuxNamespace {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl LinuxNamespace {
    /// A new namespace of kind `kind` (an OCI name: `pid`, `network`, `mount`, …).
    pub fn new(kind: &str) -> Self {
        Self { kind: kind.to_owned(), path: None }
    }
}

/// The namespace kinds the specification defines, by their config.json names.
pub const NAMESPACE_TYPES: &[&str] = &["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

/// `linux.resources` is chapter 4's [`Resources`](crate::cgroups::Resources): it models
/// every field of the specification's object under the same JSON names, so that each
/// one is either applied or refused by name (see `Spec::cgroup_resources`); a separate
/// type here would be a second list of fields to keep in step.
pub use crate::cgroups::Resources as LinuxResources;

/// One rule of `linux.resources.devices`: chapter 4's [`DeviceRule`](crate::cgroups::DeviceRule).
pub use crate::cgroups::DeviceRule as LinuxDeviceCgroup;

/// One entry of `linux.devices`: a device node to create in the container.
///
/// Chapter 3's [`Device`](crate::rootfs::Device) describes only the fixed default
/// devices (a `&'static str` path, no mode or owner), so it cannot hold these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxDevice {
    #[serde(default)]
    pub path: String,
    /// `c`, `b`, `u` (unbuffered character) or `p` (FIFO).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_mode: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}
