//! What a container sees at `/sys/fs/cgroup` (chapters 4 and 6): its own cgroup, not
//! the host's tree and not nothing. Derived here from this process's mountinfo and
//! `/proc/self/cgroup`, once, before the root filesystem is built; chapter 3
//! (`rootfs::mounts::mount_cgroupfs`) performs it. Read cgroups(7) ("`/proc/[pid]/cgroup`"),
//! cgroup_namespaces(7) and proc(5) (mountinfo, field 4 is the mount's root).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::detect::Hierarchies;
use super::error::CgroupError;
use super::version::Version;
use crate::mountinfo::{self, MountInfo};

// ANCHOR: cgroupfs_plan
/// Where one directory of the container's `/sys/fs/cgroup` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupfsSource {
    /// The container's own cgroup directory on the host, bound there. Without a cgroup
    /// namespace a fresh mount would show the host's whole hierarchy, so runc binds.
    Bind(PathBuf),
    /// The hierarchy mounted anew (`cgroup` with its controllers, or `name=systemd`, as
    /// data; or `cgroup2`): in a cgroup namespace the kernel roots the mount at the
    /// namespace's root, which is the container's cgroup.
    Mount { fstype: &'static str, data: String },
}

/// One directory under the destination: `memory`, `cpu,cpuacct`, `systemd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupfsDir {
    /// The hierarchy's mount point's last name on the host, as runc names it.
    pub name: String,
    pub source: CgroupfsSource,
}

/// What a `cgroup` mount in config.json becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupfsPlan {
    /// cgroup v1 (or hybrid): one `mount(2)` cannot show several hierarchies, so a
    /// tmpfs at the destination, a directory for each v1 hierarchy the container is
    /// in, and for co-mounted controllers a link per controller name (`cpu ->
    /// cpu,cpuacct`), as on the host. A hybrid host's v2 tree is not shown (runc 1.1.5
    /// does not either), though the container is in its own cgroup there too.
    V1 { dirs: Vec<CgroupfsDir>, links: Vec<(String, String)> },
    /// cgroup v2: the destination itself, one tree.
    V2(CgroupfsSource),
}
// ANCHOR_END: cgroupfs_plan

impl CgroupfsPlan {
    /// This process's view, read from `/proc/self/mountinfo` and `/proc/self/cgroup`:
    /// call it in the container's init, already in its cgroup (and its cgroup
    /// namespace, `cgroupns`), while `/proc` is still the host's.
    pub fn here(cgroupns: bool) -> Result<Self, CgroupError> {
        let read = |path: &str| {
            fs::read_to_string(path).map_err(|source| CgroupError::Mountinfo { path: path.into(), source })
        };
        Self::derive(&read("/proc/self/mountinfo")?, &read("/proc/self/cgroup")?, cgroupns)
    }

    // ANCHOR: cgroupfs_derive
    /// The plan from the text of mountinfo and of `/proc/self/cgroup`
    /// (`hierarchy-id:controllers:path` lines; `0::path` for v2). Without a cgroup
    /// namespace each directory is the process's own cgroup in that hierarchy: the
    /// mount point joined with its path relative to the mount's root (field 4).
    pub fn derive(mountinfo: &str, own: &str, cgroupns: bool) -> Result<Self, CgroupError> {
        let mounts = mountinfo::parse(mountinfo)?;
        let hierarchies = Hierarchies::from_mounts(&mounts);
        // The path of each line of /proc/self/cgroup, keyed by its set of controllers.
        let paths: Vec<(BTreeSet<&str>, &str)> = own
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(3, ':');
                let (_id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
                Some((controllers.split(',').filter(|c| !c.is_empty()).collect(), path))
            })
            .collect();
        let path_of = |controllers: &[String]| {
            let wanted: BTreeSet<&str> = controllers.iter().map(String::as_str).collect();
            paths.iter().find(|(set, _)| *set == wanted).map(|(_, path)| Path::new(*path))
        };
        let bind =
            |mount_point: &Path, controllers: &[String]| -> Result<Option<CgroupfsSource>, CgroupError> {
                let Some(own) = path_of(controllers) else { return Ok(None) };
                let root = mount_root(&mounts, mount_point);
                let inside = own.strip_prefix(&root).map_err(|_| CgroupError::OwnCgroupHidden {
                    hierarchy: mount_point.to_owned(),
                    own: own.to_owned(),
                    root: root.clone(),
                })?;
                Ok(Some(CgroupfsSource::Bind(mount_point.join(inside))))
            };
        match hierarchies.version()? {
            Version::V2 => {
                let unified = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
                if cgroupns {
                    return Ok(Self::V2(CgroupfsSource::Mount { fstype: "cgroup2", data: String::new() }));
                }
                let source = bind(unified, &[])?.ok_or_else(|| CgroupError::Parse {
                    path: PathBuf::from("/proc/self/cgroup"),
                    text: own.to_owned(),
                })?;
                Ok(Self::V2(source))
            }
            Version::V1 => {
                let mut dirs = Vec::new();
                for h in hierarchies.v1.iter().chain(&hierarchies.named) {
                    let Some(name) = h.mount_point.file_name().map(|n| n.to_string_lossy().into_owned())
                    else {
                        continue;
                    };
                    let source = if cgroupns {
                        CgroupfsSource::Mount { fstype: "cgroup", data: h.controllers.join(",") }
                    } else {
                        // A hierarchy this process is not listed in has no cgroup of its to show.
                        match bind(&h.mount_point, &h.controllers)? {
                            Some(source) => source,
                            None => continue,
                        }
                    };
                    dirs.push(CgroupfsDir { name, source });
                }
                let names: BTreeSet<String> = dirs.iter().map(|d| d.name.clone()).collect();
                let links = dirs
                    .iter()
                    .filter(|d| d.name.contains(','))
                    .flat_map(|d| d.name.split(',').map(|part| (part.to_owned(), d.name.clone())))
                    .filter(|(link, _)| !names.contains(link))
                    .collect();
                Ok(Self::V1 { dirs, links })
            }
        }
    }
    // ANCHOR_END: cgroupfs_derive
}

/// The root (mountinfo's field 4) of the first cgroup mount at `mount_point`: `/` for
/// a whole hierarchy, a cgroup's path when the mount shows only part of it (as in a
/// container whose runtime bound its own cgroup there).
fn mount_root(mounts: &[MountInfo], mount_point: &Path) -> PathBuf {
    mounts
        .iter()
        .find(|m| m.is_cgroup() && m.mount_point == mount_point)
        .map_or_else(|| PathBuf::from("/"), |m| m.root.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_OWN: &str = "\
12:name=systemd:/bang-oci/web
4:memory:/bang-oci/web
2:cpuacct,cpu:/bang-oci/web
0::/bang-oci/web
";

    fn bind(path: &str) -> CgroupfsSource {
        CgroupfsSource::Bind(PathBuf::from(path))
    }

    /// Each v1 hierarchy is the container's own directory, named as on the host; the
    /// co-mounted one gets a link per controller; the v2 tree of a hybrid host is not shown.
    #[test]
    fn v1_binds_each_own_directory_and_links_comounted_names() {
        let CgroupfsPlan::V1 { dirs, links } = CgroupfsPlan::derive(HYBRID, HYBRID_OWN, false).unwrap()
        else {
            panic!("a hybrid host is v1")
        };
        let got: Vec<(&str, &CgroupfsSource)> = dirs.iter().map(|d| (d.name.as_str(), &d.source)).collect();
        assert_eq!(
            got,
            [
                ("cpu,cpuacct", &bind("/sys/fs/cgroup/cpu,cpuacct/bang-oci/web")),
                ("memory", &bind("/sys/fs/cgroup/memory/bang-oci/web")),
                ("systemd", &bind("/sys/fs/cgroup/systemd/bang-oci/web")),
            ]
        );
        assert_eq!(
            links,
            [("cpu".to_owned(), "cpu,cpuacct".to_owned()), ("cpuacct".to_owned(), "cpu,cpuacct".to_owned())]
        );
    }

    /// In a cgroup namespace each hierarchy is mounted anew, by its controllers or name.
    #[test]
    fn v1_in_a_cgroup_namespace_mounts_each_hierarchy() {
        let own = "12:name=systemd:/\n4:memory:/\n2:cpu,cpuacct:/\n0::/\n";
        let CgroupfsPlan::V1 { dirs, .. } = CgroupfsPlan::derive(HYBRID, own, true).unwrap() else {
            panic!()
        };
        let data: Vec<&CgroupfsSource> = dirs.iter().map(|d| &d.source).collect();
        let mount = |data: &str| CgroupfsSource::Mount { fstype: "cgroup", data: data.to_owned() };
        assert_eq!(data, [&mount("cpu,cpuacct"), &mount("memory"), &mount("name=systemd")]);
    }

    /// A mount that shows only part of a hierarchy (field 4 is not `/`, as inside
    /// another container) is joined with the path relative to it; a cgroup outside
    /// what the mount shows is refused by name.
    #[test]
    fn bind_source_is_relative_to_the_mounts_root() {
        let nested = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        let plan = CgroupfsPlan::derive(nested, "4:memory:/docker/abc/bang-oci/web\n", false).unwrap();
        let CgroupfsPlan::V1 { dirs, .. } = plan else { panic!() };
        assert_eq!(dirs[0].source, bind("/sys/fs/cgroup/memory/bang-oci/web"));
        let err = CgroupfsPlan::derive(nested, "4:memory:/elsewhere\n", false).unwrap_err();
        assert!(matches!(err, CgroupError::OwnCgroupHidden { .. }), "{err}");
    }

    /// On v2 the destination is the container's own directory, or cgroup2 in a cgroup namespace.
    #[test]
    fn v2_binds_the_own_directory_or_mounts_cgroup2() {
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        let own = "0::/user.slice/bang-oci/web\n";
        assert_eq!(
            CgroupfsPlan::derive(v2, own, false).unwrap(),
            CgroupfsPlan::V2(bind("/sys/fs/cgroup/user.slice/bang-oci/web"))
        );
        assert_eq!(
            CgroupfsPlan::derive(v2, "0::/\n", true).unwrap(),
            CgroupfsPlan::V2(CgroupfsSource::Mount { fstype: "cgroup2", data: String::new() })
        );
    }
}
