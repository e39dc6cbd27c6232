//! The driver factory (chapter 4): a cgroup created, joined or opened with the driver
//! this machine's hierarchies call for, `v1` or `v2`. The only file that names both
//! drivers, so that a chapter can build it against its own. Read cgroups(7) and the
//! runtime spec's config-linux.md ("cgroupsPath").

use std::path::{Path, PathBuf};

use super::detect::Hierarchies;
use super::error::CgroupError;
use super::manager::CgroupManager;
use super::valid::ValidResources;
use super::version::Version;
use super::{v1, v2};

// ANCHOR: create
/// Creates cgroup `path` (relative, e.g. `bigbang/web-1`) with the driver this machine's
/// hierarchies call for, and applies `resources`, validated by whoever made them (see
/// [`Resources::validated`](super::resources::Resources::validated)). What this cgroup
/// version cannot do is refused before anything is created; when the kernel refuses a
/// limit, the new cgroup is removed again and the error returned: nothing is left behind.
pub fn create(
    hierarchies: &Hierarchies,
    path: &Path,
    resources: &ValidResources,
) -> Result<Box<dyn CgroupManager>, CgroupError> {
    resources.supported(hierarchies.version()?)?;
    let cgroup: Box<dyn CgroupManager> = match hierarchies.version()? {
        Version::V1 => Box::new(v1::V1Cgroup::create(&hierarchies.joined(), path)?),
        Version::V2 => {
            let root = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
            Box::new(v2::V2Cgroup::create(root, path)?)
        }
    };
    if let Err(err) = cgroup.apply(resources) {
        let _ = cgroup.remove();
        return Err(err);
    }
    Ok(cgroup)
}
// ANCHOR_END: create

// ANCHOR: create_or_join
/// Cgroup `path` for a container: created as [`create`] does when it does not exist;
/// joined when it does, since the OCI spec says a runtime given the same cgroupsPath
/// "MUST consistently attach to the same place" (a pod's containers share one). On v1
/// a cgroup found in some hierarchies is made in the others. `resources` are applied
/// either way, as runc applies them. Returns whether it existed: a joined cgroup is not
/// the runtime's, and a failure leaves it as it was (but for the limits written).
pub fn create_or_join(
    hierarchies: &Hierarchies,
    path: &Path,
    resources: &ValidResources,
) -> Result<(Box<dyn CgroupManager>, bool), CgroupError> {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let existed = match hierarchies.version()? {
        Version::V1 => hierarchies.v1.iter().any(|h| h.mount_point.join(relative).is_dir()),
        Version::V2 => hierarchies.unified.as_deref().is_some_and(|root| root.join(relative).is_dir()),
    };
    if !existed {
        return Ok((create(hierarchies, path, resources)?, false));
    }
    resources.supported(hierarchies.version()?)?;
    let cgroup: Box<dyn CgroupManager> = match hierarchies.version()? {
        Version::V1 => Box::new(v1::V1Cgroup::join_or_create(&hierarchies.joined(), path)?),
        Version::V2 => {
            let root = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
            Box::new(v2::V2Cgroup::open(root, path)?)
        }
    };
    cgroup.apply(resources)?;
    Ok((cgroup, true))
}
// ANCHOR_END: create_or_join

/// Whether this process may create cgroup `path`: in every hierarchy it would use, the
/// nearest directory that exists on the way to it is writable and searchable by us
/// (access(2)). Root always may; an unprivileged user only below a cgroup delegated to
/// them. Asked before trying, so that a rootless `create` can decide to run without a
/// cgroup instead of failing half way through making one.
pub fn can_create(hierarchies: &Hierarchies, path: &Path) -> bool {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let joined = hierarchies.joined();
    let roots: Vec<&Path> = match hierarchies.version() {
        Ok(Version::V1) => joined.iter().map(|h| h.mount_point.as_path()).collect(),
        Ok(Version::V2) => hierarchies.unified.iter().map(PathBuf::as_path).collect(),
        Err(_) => return false,
    };
    !roots.is_empty()
        && roots.iter().all(|root| {
            let target = root.join(relative);
            let nearest = target.ancestors().find(|dir| dir.exists()).unwrap_or(root);
            nix::unistd::access(nearest, nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK)
                .is_ok()
        })
}

/// Opens the existing cgroup `path`, e.g. to update, read or remove it later.
pub fn open(hierarchies: &Hierarchies, path: &Path) -> Result<Box<dyn CgroupManager>, CgroupError> {
    Ok(match hierarchies.version()? {
        Version::V1 => Box::new(v1::V1Cgroup::open(&hierarchies.joined(), path)?),
        Version::V2 => {
            let root = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
            Box::new(v2::V2Cgroup::open(root, path)?)
        }
    })
}
