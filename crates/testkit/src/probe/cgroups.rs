//! Cgroups: which hierarchies are mounted (v1, v2, hybrid), with which controllers,
//! and what this process may manage, read from mountinfo text, /proc/self/cgroup and
//! a cgroup root given as a `&Path` (a fixture tree in tests). Read cgroups(7) and
//! proc(5) (mountinfo).

use std::fmt;
use std::fs;
use std::path::Path;

use nix::unistd::AccessFlags;
use serde::Serialize;

use super::{read, ProbeError};

/// Where cgroup hierarchies are mounted on every distribution the workshop supports.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// The cgroup v1 controllers a kernel may offer (cgroups(7)): the product's list.
pub use bigbang_container::cgroups::V1_CONTROLLERS;

/// The controllers chapter 4 uses.
pub const WORKSHOP_CONTROLLERS: &[&str] = &["cpu", "memory", "pids"];

/// One line of `/proc/<pid>/mountinfo` (proc(5)), the fields the probes use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Field 4: the path inside the filesystem that is mounted (`/` unless a bind mount).
    pub root: String,
    /// Field 5, octal escapes (`\040`) decoded.
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
    pub super_options: Vec<String>,
}

/// Parses mountinfo text with the product's parser (`bigbang_container::mountinfo`);
/// malformed lines are skipped: a probe reports what it can read, and never fails on it.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    bigbang_container::mountinfo::entries(text)
        .filter_map(Result::ok)
        .map(|m| Mount {
            root: m.root.to_string_lossy().into_owned(),
            mount_point: m.mount_point.to_string_lossy().into_owned(),
            fstype: m.fstype,
            source: m.source,
            super_options: m.super_options,
        })
        .collect()
}

/// How the cgroup hierarchies are mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupMode {
    /// Only v1 hierarchies, one per controller (or group of controllers).
    V1,
    /// The unified v2 hierarchy at /sys/fs/cgroup (Ubuntu 22.04+, Debian 12, Fedora 31+).
    V2,
    /// v1 controller hierarchies plus a v2 tree, usually at /sys/fs/cgroup/unified.
    Hybrid,
    /// No cgroup filesystem mounted under /sys/fs/cgroup.
    None,
}

impl CgroupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupMode::V1 => "v1",
            CgroupMode::V2 => "v2",
            CgroupMode::Hybrid => "hybrid",
            CgroupMode::None => "none",
        }
    }
}

impl fmt::Display for CgroupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn under_cgroup_mount(mount_point: &str) -> Option<&str> {
    let rest = mount_point.strip_prefix(CGROUP_MOUNT)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// The cgroup mode from mountinfo text alone: cgroup2 at /sys/fs/cgroup is v2; v1
/// hierarchies with a cgroup2 mount beside them is hybrid; v1 hierarchies alone are v1.
pub fn cgroup_mode(mountinfo: &str) -> CgroupMode {
    let mounts = parse_mountinfo(mountinfo);
    let cgroup_mounts = || mounts.iter().filter(|m| under_cgroup_mount(&m.mount_point).is_some());
    let v2_at_top = cgroup_mounts().any(|m| m.fstype == "cgroup2" && m.mount_point == CGROUP_MOUNT);
    let v2_anywhere = cgroup_mounts().any(|m| m.fstype == "cgroup2");
    let v1 = cgroup_mounts().any(|m| m.fstype == "cgroup");
    match (v2_at_top, v1, v2_anywhere) {
        (true, _, _) => CgroupMode::V2,
        (false, true, true) => CgroupMode::Hybrid,
        (false, true, false) => CgroupMode::V1,
        (false, false, true) => CgroupMode::V2,
        (false, false, false) => CgroupMode::None,
    }
}

/// A mounted cgroup v1 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V1Hierarchy {
    /// As mountinfo names it, e.g. `/sys/fs/cgroup/memory`.
    pub mount_point: String,
    /// Its controllers, e.g. `["cpu", "cpuacct"]` when co-mounted; empty for a named one.
    pub controllers: Vec<String>,
    /// `systemd` for `name=systemd`.
    pub name: Option<String>,
    /// This process's cgroup in it, from /proc/self/cgroup.
    pub own_cgroup: Option<String>,
    /// Whether this process may create cgroups at the top of the hierarchy.
    pub writable: bool,
}

/// The mounted cgroup v2 tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V2Tree {
    /// As mountinfo names it: `/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` when hybrid.
    pub mount_point: String,
    /// `cgroup.controllers` of the tree's root.
    pub root_controllers: Vec<String>,
    /// This process's cgroup, from the `0::` line of /proc/self/cgroup.
    pub own_cgroup: Option<String>,
    /// `cgroup.controllers` of this process's cgroup.
    pub own_controllers: Vec<String>,
    /// Whether this process may manage its own cgroup: the directory, `cgroup.procs` and
    /// `cgroup.subtree_control` are writable (root, or a `Delegate=yes` systemd scope).
    pub delegated: bool,
}

/// The cgroup setup of a machine: the mode and what each hierarchy offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cgroups {
    pub mode: CgroupMode,
    pub v1: Vec<V1Hierarchy>,
    pub v2: Option<V2Tree>,
}

impl Cgroups {
    /// Reads the setup from mountinfo text, /proc/self/cgroup text, and the files under
    /// `cgroup_root`, which stands for /sys/fs/cgroup (a fixture tree in tests).
    pub fn detect(mountinfo: &str, self_cgroup: &str, cgroup_root: &Path) -> Self {
        let mode = cgroup_mode(mountinfo);
        let own = parse_self_cgroup(self_cgroup);
        let mut v1 = Vec::new();
        let mut v2 = None;
        for mount in parse_mountinfo(mountinfo) {
            let Some(rel) = under_cgroup_mount(&mount.mount_point) else {
                continue;
            };
            let dir = if rel.is_empty() { cgroup_root.to_owned() } else { cgroup_root.join(rel) };
            match mount.fstype.as_str() {
                "cgroup" => {
                    let controllers: Vec<String> = mount
                        .super_options
                        .iter()
                        .filter(|o| V1_CONTROLLERS.contains(&o.as_str()))
                        .cloned()
                        .collect();
                    let name =
                        mount.super_options.iter().find_map(|o| o.strip_prefix("name=")).map(str::to_owned);
                    let key = match &name {
                        Some(n) => vec![format!("name={n}")],
                        None => controllers.clone(),
                    };
                    let own_cgroup = own
                        .iter()
                        .find(|(ctrls, _)| !ctrls.is_empty() && same_set(ctrls, &key))
                        .map(|(_, path)| path.clone());
                    v1.push(V1Hierarchy {
                        writable: writable(&dir),
                        mount_point: mount.mount_point,
                        controllers,
                        name,
                        own_cgroup,
                    });
                }
                "cgroup2" if v2.is_none() => {
                    let own_cgroup = own.iter().find(|(ctrls, _)| ctrls.is_empty()).map(|(_, p)| p.clone());
                    let own_dir = own_cgroup.as_deref().map(|path| {
                        let inside = path.strip_prefix(mount.root.as_str()).unwrap_or(path);
                        dir.join(inside.trim_start_matches('/'))
                    });
                    let own_controllers = own_dir.as_deref().map(read_controllers).unwrap_or_default();
                    let delegated = own_dir.as_deref().is_some_and(|d| {
                        writable(d)
                            && writable(&d.join("cgroup.procs"))
                            && writable(&d.join("cgroup.subtree_control"))
                    });
                    v2 = Some(V2Tree {
                        root_controllers: read_controllers(&dir),
                        mount_point: mount.mount_point,
                        own_cgroup,
                        own_controllers,
                        delegated,
                    });
                }
                _ => {}
            }
        }
        v1.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
        Self { mode, v1, v2 }
    }

    /// The live machine's setup (/proc/self/mountinfo, /proc/self/cgroup, /sys/fs/cgroup).
    pub fn here() -> Result<Self, ProbeError> {
        let mountinfo = read("/proc/self/mountinfo")?;
        let self_cgroup = read("/proc/self/cgroup")?;
        Ok(Self::detect(&mountinfo, &self_cgroup, Path::new(CGROUP_MOUNT)))
    }

    /// Every controller mounted as a v1 hierarchy, sorted.
    pub fn v1_controllers(&self) -> Vec<&str> {
        let mut all: Vec<&str> =
            self.v1.iter().flat_map(|h| h.controllers.iter().map(String::as_str)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The controllers root can use: v1 hierarchies first (hybrid machines run their
    /// controllers there), then whatever the v2 root offers that v1 does not.
    pub fn controllers_for_root(&self) -> Vec<&str> {
        let mut all = self.v1_controllers();
        if let Some(v2) = &self.v2 {
            all.extend(v2.root_controllers.iter().map(String::as_str));
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The controllers a non-root process can use: those of its own v2 cgroup when that is
    /// delegated to it, else none.
    pub fn controllers_for_user(&self) -> Vec<&str> {
        match &self.v2 {
            Some(v2) if v2.delegated => v2.own_controllers.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Which of `wanted` are not among `have`.
    pub fn lacking<'a>(have: &[&str], wanted: &[&'a str]) -> Vec<&'a str> {
        wanted.iter().copied().filter(|w| !have.contains(w)).collect()
    }

    /// One phrase, e.g. `hybrid (v1 controllers: cpu, memory; v2 at /sys/fs/cgroup/unified
    /// has no controllers)`.
    pub fn describe(&self) -> String {
        let v1 = || {
            let list = self.v1_controllers();
            if list.is_empty() {
                "no v1 controllers".to_owned()
            } else {
                format!("v1 controllers: {}", list.join(", "))
            }
        };
        let v2 = |v2: &V2Tree| {
            if v2.root_controllers.is_empty() {
                format!("v2 at {} has no controllers", v2.mount_point)
            } else {
                format!("v2 at {} has controllers: {}", v2.mount_point, v2.root_controllers.join(", "))
            }
        };
        match (self.mode, &self.v2) {
            (CgroupMode::V2, Some(tree)) => format!("v2 ({})", v2(tree)),
            (CgroupMode::Hybrid, Some(tree)) => format!("hybrid ({}; {})", v1(), v2(tree)),
            (CgroupMode::V1, _) => format!("v1 ({})", v1()),
            (mode, _) => format!("{mode} (nothing mounted under {CGROUP_MOUNT})"),
        }
    }
}

/// /proc/self/cgroup lines `id:controllers:path` as (controller list, path); the v2 line
/// `0::/path` has an empty list.
fn parse_self_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let list = controllers.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
            Some((list, path.to_owned()))
        })
        .collect()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn read_controllers(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("cgroup.controllers"))
        .map(|text| text.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// access(2) W_OK: honours the effective uid, read-only mounts and root's override.
fn writable(path: &Path) -> bool {
    nix::unistd::access(path, AccessFlags::W_OK).is_ok()
}
