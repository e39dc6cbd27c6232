//! What `create` derives from config.json, derived once (chapter 6): the namespaces
//! to create and join, the root filesystem's configuration, the cgroup with its
//! limits, and the security profile prepared (its seccomp filter compiled). `create`
//! checks the bundle by deriving it, before anything exists, and hands the init the
//! parts it needs, which it then uses as they are: no layer validates or derives them
//! again. Read the runtime-spec's runtime.md ("create") and config.md.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::console::check_terminal;
use super::error::{CreateError, LifecycleError};
use super::mount_namespace::shares_runtime_mount_namespace;
use super::process::security_profile;
use crate::cgroups::{self, Hierarchies, ValidResources};
use crate::rootfs::{RootChange, RootfsConfig};
use crate::security::Prepared;
use crate::spec::{NamespacePlan, Spec};

/// What the init takes of the plan, in its [`CreateRequest`](super::protocol::CreateRequest).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitPlan {
    /// `linux.namespaces` and the id maps.
    pub namespaces: NamespacePlan,
    /// Chapter 3's configuration; the mount namespace is `create`'s decision, and the
    /// cgroup view (`cgroupfs`) a fact the init reads in its own cgroup namespace.
    pub rootfs: RootfsConfig,
    /// Chapter 5's profile, every name resolved and the seccomp program compiled.
    pub security: Prepared,
}

/// The container's cgroup: where, and the limits.
#[derive(Debug, Clone)]
pub struct CgroupPlan {
    /// Relative to the cgroup root: `linux.cgroupsPath`, or `bang-oci/<id>`.
    pub path: PathBuf,
    /// `linux.resources` as chapter 4 takes them, validated when config.json was loaded
    /// ([`Spec::load_validated`]): the type tells the drivers they need not check again.
    pub resources: ValidResources,
}

/// Everything `create` derives from config.json.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    pub init: InitPlan,
    /// The root filesystem, resolved and checked (what the state records).
    pub rootfs: PathBuf,
    /// `None`: an unprivileged user without a cgroup of their own (see `rootless_cgroup`).
    pub cgroup: Option<CgroupPlan>,
}

/// The cgroup of a container whose config.json names none: `bang-oci/<id>`.
pub fn default_cgroup_path(id: &str) -> PathBuf {
    Path::new("bang-oci").join(id)
}

impl ContainerPlan {
    // ANCHOR: derive
    /// Derives the plan of container `id` from `spec` (loaded, so validated, from
    /// `bundle`) and `limits`, what validating it made of its `linux.resources`
    /// ([`Spec::load_validated`]), checking everything that can be checked before
    /// anything is created: a bad config.json leaves not even a state directory.
    pub fn derive(
        spec: &Spec,
        limits: ValidResources,
        bundle: &Path,
        id: &str,
        no_pivot: bool,
        console_socket: Option<&Path>,
    ) -> Result<ContainerPlan, LifecycleError> {
        let namespaces = spec.namespace_plan()?;
        for (kind, path) in &namespaces.join {
            if let Err(err) = std::fs::metadata(path) {
                return Err(CreateError::JoinPath {
                    namespace: *kind,
                    path: path.clone(),
                    source: nix::errno::Errno::from_raw(err.raw_os_error().unwrap_or(libc::ENOENT)),
                }
                .into());
            }
        }
        if spec.linux.as_ref().is_some_and(|linux| linux.rootfs_propagation.is_some())
            && shares_runtime_mount_namespace(&namespaces)?
        {
            return Err(CreateError::Unsupported {
                what: "linux.rootfsPropagation for a container without a mount namespace of its own".into(),
                advice: "it would change the propagation of the host's mounts: add {\"type\": \"mount\"} to linux.namespaces, or remove rootfsPropagation",
            }
            .into());
        }
        let mut rootfs = spec.rootfs_config(bundle)?;
        let rootfs_path = rootfs.validate()?;
        if no_pivot {
            rootfs.root_change = RootChange::MoveAndChroot;
        }
        let resources = spec.cgroup_limits(limits)?;
        let cgroup_path = spec.cgroup_path()?.unwrap_or_else(|| default_cgroup_path(id));
        let security = security_profile(spec)?.prepare()?;
        // `create` always returns before the payload runs: a terminal needs a socket.
        let terminal = spec.process.as_ref().is_some_and(|p| p.terminal);
        check_terminal(terminal, console_socket, true)?;
        let cgroup = rootless_cgroup(spec, cgroup_path)?.map(|path| CgroupPlan { path, resources });
        Ok(ContainerPlan { init: InitPlan { namespaces, rootfs, security }, rootfs: rootfs_path, cgroup })
    }
    // ANCHOR_END: derive
}

// ANCHOR: rootless_cgroup
/// The container's cgroup `path`, or none for an unprivileged user who may not make one.
///
/// As root, always one: config.json's `linux.cgroupsPath`, or `bang-oci/<id>`. An
/// unprivileged user (a `bang-oci spec --rootless` bundle) can write the cgroup tree
/// only where it was delegated to them (a systemd user slice on cgroup v2): if the
/// default place is writable, the container gets its cgroup there; otherwise it runs
/// in the caller's cgroup, as runc's rootless mode does, provided config.json asks
/// for no limits, which would then be silently void.
fn rootless_cgroup(spec: &Spec, path: PathBuf) -> Result<Option<PathBuf>, LifecycleError> {
    if nix::unistd::geteuid().is_root() {
        return Ok(Some(path));
    }
    let hierarchies = Hierarchies::here()?;
    if cgroups::can_create(&hierarchies, &path) {
        return Ok(Some(path));
    }
    if spec.linux.as_ref().is_some_and(|linux| linux.resources.is_some()) {
        return Err(CreateError::Unsupported {
            what: format!("linux.resources for an unprivileged user who may not create the cgroup {}", path.display()),
            advice: "remove linux.resources from config.json, run as root, or delegate a cgroup subtree to this user (systemd: Delegate=yes)",
        }
        .into());
    }
    Ok(None)
}
// ANCHOR_END: rootless_cgroup

#[cfg(test)]
mod tests {
    use super::*;

    /// The profile is prepared once, in `create`: its compiled seccomp program and
    /// every checked limit reach the init as they were compiled.
    #[test]
    fn the_prepared_profile_crosses_the_socket_whole() {
        let mut spec = Spec::runc_default();
        spec.linux.as_mut().unwrap().seccomp = Some(
            serde_json::from_str(
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}"#,
            )
            .unwrap(),
        );
        let prepared = security_profile(&spec).unwrap().prepare().unwrap();
        let back: Prepared = serde_json::from_str(&serde_json::to_string(&prepared).unwrap()).unwrap();
        let insns = |p: &Prepared| {
            let (program, flags) = p.seccomp.as_ref().expect("a seccomp program");
            (program.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect::<Vec<_>>(), *flags)
        };
        assert!(!insns(&prepared).0.is_empty());
        assert_eq!(insns(&back), insns(&prepared));
        assert_eq!(back.rlimits, prepared.rlimits);
        assert_eq!(back.capabilities, prepared.capabilities);
    }

    /// The namespace plan crosses as it was derived: created, joined, id maps.
    #[test]
    fn the_namespace_plan_crosses_the_socket_whole() {
        let mut plan = Spec::rootless_default_for(1000, 100).namespace_plan().unwrap();
        plan.join.push((crate::namespaces::Namespace::Net, PathBuf::from("/run/netns/x")));
        let back: NamespacePlan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
        assert_eq!(back, plan);
    }
}
