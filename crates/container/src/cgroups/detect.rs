//! Which cgroup filesystems a machine has mounted (chapter 4): the v1 hierarchies and
//! their controllers, the named ones, the v2 tree, and so which driver to use. Read
//! from the mounts of `/proc/self/mountinfo` (`crate::mountinfo`); read cgroups(7)
//! ("Cgroups version 1 and version 2") and proc(5).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::CgroupError;
use super::version::Version;
use crate::mountinfo::{self, MountInfo};

/// Where distributions mount the cgroup filesystems.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// The v1 controllers a kernel may offer (cgroups(7)); other mount options are not controllers.
pub const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// One mounted v1 hierarchy: where it is and which controllers it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V1Hierarchy {
    /// e.g. `/sys/fs/cgroup/memory`, or `/sys/fs/cgroup/cpu,cpuacct` when co-mounted.
    pub mount_point: PathBuf,
    /// `cpu`, `cpuacct`; `name=systemd` for a named hierarchy; none for the v2 tree
    /// of a hybrid host in [`Hierarchies::joined`].
    pub controllers: Vec<String>,
}

/// The cgroup filesystems mounted on a machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Hierarchies {
    /// v1 hierarchies with at least one controller.
    pub v1: Vec<V1Hierarchy>,
    /// v1 hierarchies with a name and no controller (`name=systemd`, in which systemd
    /// keeps its own tree of units); `controllers` holds the `name=` option.
    pub named: Vec<V1Hierarchy>,
    /// The v2 tree: `/sys/fs/cgroup` on a v2 host, `/sys/fs/cgroup/unified` on a hybrid one.
    pub unified: Option<PathBuf>,
}

// ANCHOR: detect
impl Hierarchies {
    /// Reads the hierarchies from the mounts in a mountinfo (proc(5)): the mount point
    /// (field 5), and the filesystem type and super options, which name a v1
    /// hierarchy's controllers. A production runtime also reads the mount's root (field
    /// 4, not `/` inside a container whose cgroupfs is a bind mount) and
    /// `/proc/self/cgroup` to nest below its own cgroup; this one places cgroups
    /// relative to each hierarchy's mount point (only `mount`, which shows a container
    /// its own cgroups, reads both).
    pub fn from_mounts(mounts: &[MountInfo]) -> Self {
        let mut found = Hierarchies::default();
        for mount in mounts {
            match mount.fstype.as_str() {
                "cgroup" => {
                    let options = &mount.super_options;
                    let controllers: Vec<String> =
                        options.iter().filter(|o| V1_CONTROLLERS.contains(&o.as_str())).cloned().collect();
                    let name: Vec<String> =
                        options.iter().filter(|o| o.starts_with("name=")).cloned().collect();
                    let (list, key) = if controllers.is_empty() {
                        (&mut found.named, name)
                    } else {
                        (&mut found.v1, controllers)
                    };
                    // The same hierarchy mounted twice (a bind mount) is one hierarchy.
                    if !key.is_empty() && !list.iter().any(|h| h.controllers == key) {
                        list.push(V1Hierarchy { mount_point: mount.mount_point.clone(), controllers: key });
                    }
                }
                "cgroup2" if found.unified.is_none() => found.unified = Some(mount.mount_point.clone()),
                _ => {}
            }
        }
        found
    }

    /// The hierarchies from the text of a mountinfo file; a line that is not a mount
    /// is an error naming it.
    pub fn from_mountinfo(mountinfo: &str) -> Result<Self, CgroupError> {
        Ok(Self::from_mounts(&mountinfo::parse(mountinfo)?))
    }

    /// This machine's hierarchies, from `/proc/self/mountinfo`.
    pub fn here() -> Result<Self, CgroupError> {
        Ok(Self::from_mounts(&mountinfo::read(mountinfo::SELF)?))
    }

    /// The driver to use. On a hybrid host (v1 controllers plus a v2 tree, often with no
    /// controllers of its own) the controllers live in v1, so v1 wins when it has any of
    /// memory, cpu or pids; a pure v2 host has no v1 hierarchy with a controller.
    pub fn version(&self) -> Result<Version, CgroupError> {
        let v1_has = |c: &str| self.v1.iter().any(|h| h.controllers.iter().any(|x| x == c));
        if ["memory", "cpu", "pids"].iter().any(|c| v1_has(c)) {
            Ok(Version::V1)
        } else if self.unified.is_some() {
            Ok(Version::V2)
        } else {
            Err(CgroupError::NotMounted)
        }
    }

    /// Every hierarchy a v1 container's cgroup is made in, as runc does: the controller
    /// hierarchies, the named ones (`name=systemd`), and on a hybrid host the v2 tree
    /// too (an entry with no controllers), so that `/proc/<pid>/cgroup` places the
    /// container in its own cgroup on every line, `0::` included, and not in the
    /// cgroup of whoever started it. On a v2 host: nothing (the driver is v2's).
    pub fn joined(&self) -> Vec<V1Hierarchy> {
        if self.version().ok() != Some(Version::V1) {
            return Vec::new();
        }
        let mut all: Vec<V1Hierarchy> = self.v1.iter().chain(&self.named).cloned().collect();
        if let Some(unified) = &self.unified {
            all.push(V1Hierarchy { mount_point: unified.clone(), controllers: Vec::new() });
        }
        all
    }

    /// The v1 hierarchy that holds `controller`.
    pub fn v1_mount(&self, controller: &str) -> Option<&Path> {
        self.v1
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .map(|h| h.mount_point.as_path())
    }
}
// ANCHOR_END: detect

impl Hierarchies {
    /// Whether the kernel has CFQ's leaf weights: a `blkio.leaf_weight` at the root of
    /// the v1 blkio hierarchy (never on cgroup v2).
    pub fn has_leaf_weight(&self) -> bool {
        self.v1_mount("blkio").is_some_and(|root| root.join("blkio.leaf_weight").exists())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    /// A hybrid host runs its controllers in v1, so v1 is chosen; the v2 tree is still found.
    #[test]
    fn hybrid_is_v1() {
        let h = Hierarchies::from_mountinfo(HYBRID).unwrap();
        assert_eq!(h.version().unwrap(), Version::V1);
        assert_eq!(h.v1.len(), 4, "name=systemd is not a controller hierarchy: {h:?}");
        assert_eq!(h.unified.as_deref(), Some(Path::new("/sys/fs/cgroup/unified")));
        assert_eq!(h.v1_mount("cpuacct"), Some(Path::new("/sys/fs/cgroup/cpuacct")));
        assert_eq!(h.named[0].controllers, ["name=systemd"]);
        let joined = h.joined();
        assert_eq!(joined.len(), 6, "4 controllers, name=systemd and the v2 tree: {joined:?}");
        assert!(joined.iter().any(|j| j.mount_point == Path::new("/sys/fs/cgroup/systemd")));
        assert!(joined
            .iter()
            .any(|j| j.mount_point == Path::new("/sys/fs/cgroup/unified") && j.controllers.is_empty()));
    }

    /// A unified host is v2; co-mounted v1 controllers are one hierarchy.
    #[test]
    fn v2_and_comounted() {
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(Hierarchies::from_mountinfo(v2).unwrap().version().unwrap(), Version::V2);
        assert!(Hierarchies::from_mountinfo(v2).unwrap().joined().is_empty(), "v2's driver is not v1's");
        let v1 = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,nosuid,cpu,cpuacct\n";
        let h = Hierarchies::from_mountinfo(v1).unwrap();
        assert_eq!(h.v1[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(h.v1_mount("cpu"), h.v1_mount("cpuacct"));
        assert!(matches!(Hierarchies::from_mountinfo("").unwrap().version(), Err(CgroupError::NotMounted)));
    }
}
