//! From config.json to what chapters 2 to 5 take: the namespaces to create and join
//! with their id maps (chapter 2), the root filesystem (chapter 3), the cgroup and its
//! limits (chapter 4), the lock-down profile (chapter 5). Chapter 6. Each conversion
//! refuses what the chapters do not implement, naming the field, rather than
//! silently running a container with less isolation than the file asked for.
//! Read config-linux.md of the OCI runtime specification, setns(2).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cgroups::{Hierarchies, Ignored, ValidResources};
use crate::namespaces::{IdMap, Namespace, Namespaces};
use crate::rootfs::{MountNamespace, Propagation, RootChange, RootfsConfig};
use crate::security::{LinuxSecurity, ProcessSecurity, Profile, RootSecurity};

use super::{Linux, Spec, SpecError};

/// The namespaces of a container: those to create with clone(2), those to join with
/// setns(2) (an entry with a `path`), and the id maps of a new user namespace.
/// Serializable: `create` derives it once and hands it to the container's init.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespacePlan {
    #[serde(with = "namespace_serde::set")]
    pub create: Namespaces,
    /// Kinds to join, and the namespace file to open (`/proc/<pid>/ns/net`, `/run/netns/x`).
    #[serde(with = "namespace_serde::joins")]
    pub join: Vec<(Namespace, PathBuf)>,
    pub uid_map: Vec<IdMap>,
    pub gid_map: Vec<IdMap>,
}

/// Chapter 2's namespace types by their /proc names (`mnt`, `net`), for serde: they
/// have none of their own.
pub mod namespace_serde {
    /// One [`Namespace`](crate::namespaces::Namespace).
    pub mod name {
        use crate::namespaces::Namespace;
        use serde::{de::Error, Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(namespace: &Namespace, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(namespace.proc_name())
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Namespace, D::Error> {
            String::deserialize(deserializer)?.parse().map_err(D::Error::custom)
        }
    }

    /// A set, [`Namespaces`](crate::namespaces::Namespaces), as a list of names.
    pub mod set {
        use crate::namespaces::{Namespace, Namespaces};
        use serde::{de::Error, Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(set: &Namespaces, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(set.iter().map(Namespace::proc_name))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Namespaces, D::Error> {
            Vec::<String>::deserialize(deserializer)?
                .iter()
                .map(|name| name.parse::<Namespace>().map_err(D::Error::custom))
                .collect()
        }
    }

    /// The namespaces to join, as (name, path) pairs.
    pub mod joins {
        use std::path::PathBuf;

        use crate::namespaces::Namespace;
        use serde::{de::Error, Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            joins: &[(Namespace, PathBuf)],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(joins.iter().map(|(kind, path)| (kind.proc_name(), path)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<(Namespace, PathBuf)>, D::Error> {
            Vec::<(String, PathBuf)>::deserialize(deserializer)?
                .into_iter()
                .map(|(name, path)| Ok((name.parse::<Namespace>().map_err(D::Error::custom)?, path)))
                .collect()
        }
    }
}

fn unsupported(field: impl Into<String>, what: impl Into<String>, advice: &'static str) -> SpecError {
    SpecError::Unsupported { field: field.into(), what: what.into(), advice }
}

impl Spec {
    fn linux_or_default(&self) -> Linux {
        self.linux.clone().unwrap_or_default()
    }

    // ANCHOR: namespace_plan
    /// `linux.namespaces` and the id maps, as chapter 2's types.
    pub fn namespace_plan(&self) -> Result<NamespacePlan, SpecError> {
        let linux = self.linux_or_default();
        let mut plan = NamespacePlan {
            uid_map: linux.uid_mappings.clone(),
            gid_map: linux.gid_mappings.clone(),
            ..NamespacePlan::default()
        };
        for (i, entry) in linux.namespaces.iter().enumerate() {
            let kind = Namespace::from_str(&entry.kind).map_err(|err| {
                unsupported(format!("linux.namespaces[{i}].type"), err.to_string(), "remove the entry")
            })?;
            match &entry.path {
                Some(path) => plan.join.push((kind, path.clone())),
                None => plan.create.insert(kind),
            }
        }
        Ok(plan)
    }
    // ANCHOR_END: namespace_plan

    // ANCHOR: rootfs_config
    /// `root`, `mounts`, `linux.rootfsPropagation`, `linux.maskedPaths` and
    /// `linux.readonlyPaths` as chapter 3's configuration. A relative `root.path` is
    /// relative to `bundle`. The default devices are always created, as the
    /// specification requires.
    pub fn rootfs_config(&self, bundle: &Path) -> Result<RootfsConfig, SpecError> {
        let linux = self.linux_or_default();
        let root = self.root.as_ref().ok_or_else(|| SpecError::invalid("root", "missing"))?;
        // Chapter 3 makes the default devices and then, after every mount (the /dev
        // tmpfs among them), the extra ones.
        let mounts = self.mounts.clone();
        let device_nodes = super::devices::device_nodes(&linux.devices)?;
        // runc's `tmpcopyup` fills a new tmpfs with what the directory held; chapter 3
        // does the copy (rootfs::mounts::copy_tree), on tmpfs only.
        if let Some(i) =
            self.mounts.iter().position(|m| m.kind != "tmpfs" && m.options.iter().any(|o| o == "tmpcopyup"))
        {
            return Err(unsupported(
                format!("mounts[{i}].options"),
                format!("\"tmpcopyup\" on a {} mount", self.mounts[i].kind),
                "tmpcopyup copies a directory into a new tmpfs: use it with \"type\": \"tmpfs\" only",
            ));
        }
        let propagation = match linux.rootfs_propagation.as_deref() {
            Some(value @ ("unbindable" | "runbindable")) => {
                return Err(unsupported(
                    "linux.rootfsPropagation",
                    format!("{value:?}"),
                    "chapter 3 sets private, slave and shared propagation only; use private, rprivate, slave or rslave",
                ))
            }
            Some(value) => Propagation::parse(value)?,
            // The field absent: chapter 3's default. runc makes `/` rslave instead, so
            // that the host's later mounts show in the container; rprivate shows none.
            None => Propagation::RPrivate,
        };
        Ok(RootfsConfig {
            rootfs: bundle.join(&root.path),
            propagation,
            mounts,
            devices: true,
            device_nodes,
            masked_paths: linux.masked_paths.iter().map(PathBuf::from).collect(),
            readonly_paths: linux.readonly_paths.iter().map(PathBuf::from).collect(),
            // The read-only remount of the root happens here, once; the security
            // profile below leaves it out so chapter 5 does not do it a second time.
            readonly: root.readonly,
            root_change: RootChange::default(),
            // Which one `create` decides (lifecycle::create::mount_namespace).
            mount_namespace: MountNamespace::default(),
            overlay: None,
            // A cwd the image lacks is made, as runc makes it (ctr run --cwd, and
            // images whose WorkingDir does not exist).
            cwd: self.process.as_ref().map(|p| PathBuf::from(&p.cwd)).filter(|c| c.is_absolute()),
            // Host facts, not config.json's: the init reads them (cgroups::mount).
            cgroupfs: None,
        })
    }
    // ANCHOR_END: rootfs_config

    // ANCHOR: cgroup_resources
    /// `linux.resources` as chapter 4's limits, which model every field of it: each is
    /// applied, or refused by `cgroups::create` with its JSON path when this machine's
    /// cgroup version cannot apply it. `limits` are what [`Spec::validate`] (which
    /// [`Spec::load_validated`] runs) made of this file's `linux.resources`: zeros unset
    /// where runc reads them so (Docker writes `"shares": 0` in every config.json), every
    /// value checked with its JSON path. They are not checked again: what the kernel no
    /// longer has is left out, as runc leaves it ([`Spec::ignored_resources`] lists it
    /// for a warning), which keeps them valid, and the device rules are wrapped as runc
    /// wraps them (see [`device_rules`](super::devices::device_rules)), checking only the
    /// rules added. A configuration without `linux.resources` at all (`runc spec
    /// --rootless`) leaves the cgroup's devices as it inherits them, since an
    /// unprivileged runtime could not write them anyway.
    pub fn cgroup_limits(&self, mut limits: ValidResources) -> Result<ValidResources, SpecError> {
        let linux = self.linux_or_default();
        if linux.resources.is_none() {
            return Ok(ValidResources::default());
        }
        limits.drop_deprecated(leaf_weight_file());
        let (first, last) = super::devices::wrapping(&limits.devices, &linux.devices);
        limits
            .wrap_devices(first, last)
            .map_err(|err| SpecError::invalid("linux.resources.devices", err.to_string()))
    }
    // ANCHOR_END: cgroup_resources

    /// [`Spec::cgroup_limits`] of this spec's `linux.resources`, validated here, for a
    /// caller that has only the spec (`create` has the limits from loading it).
    pub fn cgroup_resources(&self) -> Result<ValidResources, SpecError> {
        self.cgroup_limits(super::validate::check_resources(&self.linux_or_default())?)
    }

    /// The fields of `linux.resources` that [`Spec::cgroup_limits`] leaves out because
    /// the kernel no longer has them (`memory.kernel`, `memory.kernelTCP`, leaf weights
    /// where there is no `blkio.leaf_weight`), for the runtime to warn about, as runc does.
    pub fn ignored_resources(&self) -> Result<Vec<Ignored>, SpecError> {
        let Some(resources) = self.linux_or_default().resources else { return Ok(Vec::new()) };
        Ok(resources.zero_as_unset().drop_deprecated(leaf_weight_file()))
    }

    /// `linux.cgroupsPath` as the relative path chapter 4's `cgroups::create` takes
    /// (from the cgroup root), or `None` when the file leaves the choice to the runtime.
    pub fn cgroup_path(&self) -> Result<Option<PathBuf>, SpecError> {
        let Some(path) = self.linux_or_default().cgroups_path else { return Ok(None) };
        if path.to_string_lossy().contains(':') {
            return Err(unsupported(
                "linux.cgroupsPath",
                format!("the systemd form {:?} (slice:prefix:name)", path.display().to_string()),
                "this runtime manages cgroups itself (cgroupfs); give a path such as /bigbang/web-1",
            ));
        }
        Ok(Some(path.strip_prefix("/").map(Path::to_path_buf).unwrap_or(path)))
    }

    // ANCHOR: security_profile
    /// `process` and `linux.seccomp` as chapter 5's profile. `process` must be present
    /// (it is optional only until `start`).
    pub fn security_profile(&self) -> Result<Profile, SpecError> {
        let process = self.process.as_ref().ok_or_else(|| {
            SpecError::invalid(
                "process",
                "missing; the container needs a process to run, e.g. {\"args\": [\"sh\"], \"cwd\": \"/\"}",
            )
        })?;
        if let Some(profile) = process.apparmor_profile.as_deref().filter(|p| !p.is_empty()) {
            return Err(unsupported(
                "process.apparmorProfile",
                format!("AppArmor profile {profile:?}"),
                "remove it",
            ));
        }
        if let Some(label) = process.selinux_label.as_deref().filter(|l| !l.is_empty()) {
            return Err(unsupported("process.selinuxLabel", format!("SELinux label {label:?}"), "remove it"));
        }
        Ok(Profile {
            process: ProcessSecurity {
                capabilities: process.capabilities.clone(),
                no_new_privileges: process.no_new_privileges,
                rlimits: process.rlimits.clone(),
                user: Some(process.user.id.clone()),
                cwd: PathBuf::from(&process.cwd),
            },
            linux: LinuxSecurity { seccomp: self.linux_or_default().seccomp },
            // Done by chapter 3's prepare_rootfs (see rootfs_config).
            root: RootSecurity { readonly: false },
        })
    }
    // ANCHOR_END: security_profile
}

/// Whether this machine's blkio hierarchy has `blkio.leaf_weight` (see
/// [`Resources::drop_deprecated`](crate::cgroups::Resources::drop_deprecated)).
fn leaf_weight_file() -> bool {
    Hierarchies::here().is_ok_and(|h| h.has_leaf_weight())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LinuxNamespace;

    #[test]
    fn runc_default_namespaces_are_created_not_joined() {
        let plan = Spec::runc_default().namespace_plan().unwrap();
        assert_eq!(plan.create.to_string(), "uts,pid,mnt,ipc,net");
        assert!(plan.join.is_empty());
        assert!(plan.uid_map.is_empty());
    }

    #[test]
    fn rootless_default_carries_the_id_maps() {
        let plan = Spec::rootless_default_for(1000, 100).namespace_plan().unwrap();
        assert!(plan.create.contains(Namespace::User));
        assert!(!plan.create.contains(Namespace::Net));
        assert_eq!(plan.uid_map, vec![IdMap { container_id: 0, host_id: 1000, size: 1 }]);
        assert_eq!(plan.gid_map, vec![IdMap { container_id: 0, host_id: 100, size: 1 }]);
    }

    #[test]
    fn a_namespace_with_a_path_is_joined() {
        let mut spec = Spec::runc_default();
        let linux = spec.linux.as_mut().unwrap();
        linux.namespaces[1] = LinuxNamespace { kind: "network".into(), path: Some("/run/netns/x".into()) };
        let plan = spec.namespace_plan().unwrap();
        assert_eq!(plan.join, vec![(Namespace::Net, PathBuf::from("/run/netns/x"))]);
        assert!(!plan.create.contains(Namespace::Net));
    }

    #[test]
    fn the_time_namespace_is_refused_by_name() {
        let mut spec = Spec::runc_default();
        spec.linux.as_mut().unwrap().namespaces.push(LinuxNamespace::new("time"));
        let err = spec.namespace_plan().unwrap_err().to_string();
        assert!(err.starts_with("linux.namespaces[5].type: the time namespace is not supported"), "{err}");
    }

    #[test]
    fn rootfs_config_resolves_root_against_the_bundle() {
        let config = Spec::runc_default().rootfs_config(Path::new("/b")).unwrap();
        assert_eq!(config.rootfs, PathBuf::from("/b/rootfs"));
        assert!(config.readonly);
        assert!(config.devices);
        assert_eq!(config.propagation, Propagation::RPrivate);
        assert_eq!(config.mounts.len(), 7);
        assert_eq!(config.masked_paths[0], PathBuf::from("/proc/acpi"));
        assert_eq!(config.readonly_paths.len(), 5);
        let mut absolute = Spec::runc_default();
        absolute.root.as_mut().unwrap().path = "/srv/root".into();
        assert_eq!(absolute.rootfs_config(Path::new("/b")).unwrap().rootfs, PathBuf::from("/srv/root"));
    }

    #[test]
    fn rootfs_config_maps_propagation_and_refuses_unusable_devices() {
        let mut spec = Spec::runc_default();
        spec.linux.as_mut().unwrap().rootfs_propagation = Some("rslave".into());
        assert_eq!(spec.rootfs_config(Path::new("/b")).unwrap().propagation, Propagation::RSlave);
        spec.linux.as_mut().unwrap().devices.push(Default::default());
        let err = spec.rootfs_config(Path::new("/b")).unwrap_err().to_string();
        assert!(err.starts_with("linux.devices[0].type"), "{err}");
    }

    #[test]
    fn cgroup_resources_keeps_every_field_and_wraps_the_device_rules() {
        let mut spec = Spec::runc_default();
        let resources = spec.linux.as_mut().unwrap().resources.as_mut().unwrap();
        resources.pids = Some(crate::cgroups::Pids { limit: 64 });
        resources.memory = Some(crate::cgroups::Memory { limit: Some(1 << 26), ..Default::default() });
        resources.block_io = Some(crate::cgroups::BlockIo { weight: Some(10), ..Default::default() });
        let limits = spec.cgroup_resources().unwrap().into_inner();
        assert_eq!(limits.pids.unwrap().limit, 64);
        assert_eq!(limits.memory.unwrap().limit, Some(1 << 26));
        assert_eq!(limits.block_io.unwrap().weight, Some(10));
        assert!(limits.cpu.is_none());
        // runc's default denies everything; the default devices follow it.
        assert!(limits.devices[0].is_wildcard() && !limits.devices[0].allow);
        assert!(limits.devices.iter().any(|r| r.v1_line() == "c 1:3 rwm"));
        assert_eq!(
            Spec::rootless_default_for(0, 0).cgroup_resources().unwrap(),
            crate::cgroups::Resources::default()
        );
    }

    /// The resources Docker 20.10 writes into every config.json pass, and leave the
    /// cgroup's values alone; a shares value that is really out of range is refused.
    #[test]
    fn dockers_zero_resources_mean_unset() {
        let mut spec = Spec::runc_default();
        let resources = spec.linux.as_mut().unwrap().resources.as_mut().unwrap();
        resources.cpu = Some(crate::cgroups::Cpu { shares: Some(0), ..Default::default() });
        resources.block_io = Some(crate::cgroups::BlockIo { weight: Some(0), ..Default::default() });
        resources.pids = Some(crate::cgroups::Pids { limit: 0 });
        spec.validate().unwrap();
        let limits = spec.cgroup_resources().unwrap().into_inner();
        assert_eq!((limits.cpu, limits.block_io, limits.pids), (None, None, None));
        spec.linux.as_mut().unwrap().resources.as_mut().unwrap().cpu =
            Some(crate::cgroups::Cpu { shares: Some(1), ..Default::default() });
        let err = spec.validate().unwrap_err().to_string();
        assert!(err.starts_with("linux.resources.cpu.shares: 1 is out of range"), "{err}");
    }

    /// Kernel memory limits are left out with a warning naming them, not refused.
    #[test]
    fn kernel_memory_is_ignored_with_a_warning() {
        let mut spec = Spec::runc_default();
        let resources = spec.linux.as_mut().unwrap().resources.as_mut().unwrap();
        resources.memory = Some(crate::cgroups::Memory {
            limit: Some(1 << 26),
            kernel: Some(1 << 25),
            kernel_tcp: Some(1 << 20),
            ..Default::default()
        });
        let limits = spec.cgroup_resources().unwrap().into_inner();
        let memory = limits.memory.unwrap();
        assert_eq!((memory.limit, memory.kernel, memory.kernel_tcp), (Some(1 << 26), None, None));
        let fields: Vec<_> = spec.ignored_resources().unwrap().iter().map(|i| i.field).collect();
        assert_eq!(fields, ["memory.kernel", "memory.kernelTCP"]);
        assert!(Spec::runc_default().ignored_resources().unwrap().is_empty());
    }

    #[test]
    fn cgroup_path_is_made_relative_and_systemd_paths_are_refused() {
        let mut spec = Spec::runc_default();
        assert_eq!(spec.cgroup_path().unwrap(), None);
        spec.linux.as_mut().unwrap().cgroups_path = Some("/libpod_parent/libpod-1".into());
        assert_eq!(spec.cgroup_path().unwrap(), Some(PathBuf::from("libpod_parent/libpod-1")));
        spec.linux.as_mut().unwrap().cgroups_path = Some("machine.slice:libpod:1".into());
        assert!(spec.cgroup_path().unwrap_err().to_string().contains("systemd form"));
    }

    #[test]
    fn security_profile_takes_process_and_seccomp() {
        let profile = Spec::runc_default().security_profile().unwrap();
        assert!(profile.process.no_new_privileges);
        assert_eq!(profile.process.rlimits[0].kind, "RLIMIT_NOFILE");
        assert_eq!(profile.process.capabilities.unwrap().bounding.len(), 3);
        assert_eq!(profile.process.user.unwrap().uid, 0);
        assert_eq!(profile.process.cwd, PathBuf::from("/"));
        assert!(!profile.root.readonly, "the rootfs conversion remounts the root read-only");
        let mut spec = Spec::runc_default();
        spec.process = None;
        assert!(spec.security_profile().unwrap_err().to_string().starts_with("process: missing"));
        let mut spec = Spec::runc_default();
        spec.process.as_mut().unwrap().apparmor_profile = Some("docker-default".into());
        assert!(spec.security_profile().unwrap_err().to_string().starts_with("process.apparmorProfile"));
    }

    /// runc's `tmpcopyup` is accepted on a tmpfs (chapter 3 does the copy) and refused
    /// by name on any other mount, never handed to the kernel.
    #[test]
    fn tmpcopyup_is_for_tmpfs_only() {
        let mut spec = Spec::runc_default();
        assert_eq!(spec.mounts[1].kind, "tmpfs");
        spec.mounts[1].options.push("tmpcopyup".into());
        spec.rootfs_config(Path::new("/bundle")).expect("tmpcopyup on a tmpfs");
        spec.mounts[0].options.push("tmpcopyup".into());
        let err = spec.rootfs_config(Path::new("/bundle")).unwrap_err();
        assert!(err.to_string().contains("mounts[0].options"), "{err}");
        assert!(err.to_string().contains("tmpcopyup\" on a proc mount"), "{err}");
    }

    /// An unbindable root, which chapter 3 cannot make (its rootfs bind would fail),
    /// is refused by name; private, slave and shared pass.
    #[test]
    fn unbindable_root_propagation_is_refused_by_name() {
        for value in ["unbindable", "runbindable"] {
            let mut spec = Spec::runc_default();
            spec.linux.as_mut().unwrap().rootfs_propagation = Some(value.into());
            let err = spec.rootfs_config(Path::new("/b")).unwrap_err().to_string();
            assert!(err.starts_with("linux.rootfsPropagation: "), "{value}: {err}");
        }
        for (value, expected) in [
            ("private", Propagation::Private),
            ("slave", Propagation::Slave),
            ("rshared", Propagation::RShared),
        ] {
            let mut spec = Spec::runc_default();
            spec.linux.as_mut().unwrap().rootfs_propagation = Some(value.into());
            assert_eq!(spec.rootfs_config(Path::new("/b")).unwrap().propagation, expected);
        }
    }
}
