//! The checks a runtime makes on a parsed config.json before it creates anything: the
//! MUSTs of the OCI runtime specification a runtime can verify, and the few more runc
//! makes. Each failure names the JSON path of the field (`linux.namespaces[2].type`),
//! the value, and what is allowed. Chapter 6. Read config.md and config-linux.md.
//!
//! Why a pass over the typed [`Spec`] rather than checks inside `Deserialize`: a custom
//! deserializer knows neither its own path nor its siblings (a uid map is only wrong
//! next to a missing user namespace); here every rule sees the whole file.

use std::collections::BTreeSet;
use std::path::Path;

use crate::cgroups::{CgroupError, ValidResources};
use crate::namespaces::idmap::{check_map, IdKind};
use crate::security::capabilities;
use crate::security::rlimits::RLIMITS;

use super::linux::{Linux, NAMESPACE_TYPES};
use super::{Process, Spec, SpecError};

/// Seccomp actions the specification names.
pub const SECCOMP_ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// Seccomp argument operators the specification names.
pub const SECCOMP_OPERATORS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

/// `linux.rootfsPropagation` values: the specification's four and runc's recursive forms.
pub const PROPAGATIONS: &[&str] =
    &["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"];

type Check = Result<(), SpecError>;

fn fail<T>(field: impl Into<String>, problem: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError::invalid(field, problem))
}

fn absolute(field: &str, value: &str, example: &str) -> Check {
    if value.is_empty() {
        return fail(field, format!("missing; give an absolute path, e.g. {example}"));
    }
    if !Path::new(value).is_absolute() {
        return fail(field, format!("{value:?} is not an absolute path; write it from /, e.g. {example}"));
    }
    Ok(())
}

impl Spec {
    // ANCHOR: validate
    /// Checks the rules of the specification a runtime can check without touching the
    /// machine. Returns the first violation, as [`SpecError::Invalid`]; or, when there is
    /// none, what the check made of `linux.resources`: the limits, validated (see
    /// `check_resources`), so that what uses them need not check them again.
    pub fn validate(&self) -> Result<ValidResources, SpecError> {
        check_version(&self.oci_version)?;
        match &self.root {
            None => return fail("root", "missing; give the root filesystem, e.g. {\"path\": \"rootfs\"}"),
            Some(root) if root.path.as_os_str().is_empty() => {
                return fail(
                    "root.path",
                    "missing; give the rootfs directory, absolute or relative to the bundle, e.g. \"rootfs\"",
                )
            }
            Some(_) => {}
        }
        if let Some(process) = &self.process {
            check_process(process)?;
        }
        for (i, mount) in self.mounts.iter().enumerate() {
            absolute(&format!("mounts[{i}].destination"), &mount.destination.to_string_lossy(), "/data")?;
        }
        if let Some(hooks) = &self.hooks {
            for (list, entries) in hooks.lists() {
                for (i, hook) in entries.iter().enumerate() {
                    absolute(&format!("hooks.{list}[{i}].path"), &hook.path, "/usr/bin/true")?;
                    if let Some(timeout) = hook.timeout {
                        if timeout <= 0 {
                            return fail(
                                format!("hooks.{list}[{i}].timeout"),
                                format!("{timeout} is not a positive number of seconds"),
                            );
                        }
                    }
                }
            }
        }
        let linux = self.linux.clone().unwrap_or_default();
        let has_uts = linux.namespaces.iter().any(|ns| ns.kind == "uts");
        for (field, name) in [("hostname", &self.hostname), ("domainname", &self.domainname)] {
            if let Some(name) = name.as_deref().filter(|n| !n.is_empty()) {
                if !has_uts {
                    return fail(
                        field,
                        format!("{name:?} given without a uts namespace; it would rename the host: add {{\"type\": \"uts\"}} to linux.namespaces"),
                    );
                }
            }
        }
        check_sysctl(&linux)?;
        check_linux(&linux)
    }
    // ANCHOR_END: validate
}

/// `ociVersion`: present, and a 1.x version (`1.0.2`, `1.0.2-dev`, `1.2.0`).
fn check_version(version: &str) -> Check {
    if version.is_empty() {
        return fail(
            "ociVersion",
            "missing; give the specification version the file follows, e.g. \"1.0.2\"",
        );
    }
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let numeric =
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !numeric || parts[0] != "1" {
        return fail(
            "ociVersion",
            format!("{version:?} is not a 1.x version; this runtime reads version 1 of the specification, e.g. \"1.0.2\""),
        );
    }
    Ok(())
}

fn check_process(process: &Process) -> Check {
    if process.args.is_empty() {
        return fail("process.args", "empty; give at least the program to run, e.g. [\"sh\"]");
    }
    absolute("process.cwd", &process.cwd, "\"/\"")?;
    for (i, entry) in process.env.iter().enumerate() {
        if !entry.contains('=') || entry.starts_with('=') {
            return fail(format!("process.env[{i}]"), format!("{entry:?} is not NAME=value"));
        }
    }
    if let Some(umask) = process.user.umask {
        if umask > 0o777 {
            return fail("process.user.umask", format!("{umask} is above 511 (0o777), the largest mask"));
        }
    }
    if let Some(adj) = process.oom_score_adj {
        if !(-1000..=1000).contains(&adj) {
            return fail(
                "process.oomScoreAdj",
                format!("{adj} is outside -1000 to 1000 (proc(5), oom_score_adj)"),
            );
        }
    }
    if let Some(caps) = &process.capabilities {
        for (set, names) in [
            ("bounding", &caps.bounding),
            ("effective", &caps.effective),
            ("inheritable", &caps.inheritable),
            ("permitted", &caps.permitted),
            ("ambient", &caps.ambient),
        ] {
            for (i, name) in names.iter().enumerate() {
                if capabilities::number(name).is_none() {
                    return fail(
                        format!("process.capabilities.{set}[{i}]"),
                        format!("{name:?} is not a capability; names look like CAP_NET_BIND_SERVICE (capabilities(7))"),
                    );
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (i, limit) in process.rlimits.iter().enumerate() {
        let field = format!("process.rlimits[{i}]");
        if !RLIMITS.iter().any(|(name, _)| *name == limit.kind) {
            return fail(
                format!("{field}.type"),
                format!(
                    "{:?} is not a resource limit; use a name of getrlimit(2), e.g. RLIMIT_NOFILE",
                    limit.kind
                ),
            );
        }
        if !seen.insert(limit.kind.as_str()) {
            return fail(
                format!("{field}.type"),
                format!("{} is given twice; give each limit once", limit.kind),
            );
        }
        if limit.soft > limit.hard {
            return fail(
                format!("{field}.soft"),
                format!(
                    "{} is above the hard limit {}; the soft limit may be at most the hard one",
                    limit.soft, limit.hard
                ),
            );
        }
    }
    Ok(())
}

/// The namespace a sysctl belongs to, as runc decides it; `None`: it is global, and
/// setting it would change the host.
fn sysctl_namespace(key: &str) -> Option<&'static str> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if key.starts_with("net.") {
        Some("network")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some("uts")
    } else {
        None
    }
}

/// `linux.sysctl`: only parameters of a namespace the container has (sysctl(8), and
/// runc's rule). A global one such as `vm.swappiness` would be set for the whole machine.
fn check_sysctl(linux: &Linux) -> Check {
    for key in linux.sysctl.keys() {
        let field = format!("linux.sysctl[{key:?}]");
        // The key becomes a path under /proc/sys: no `/`, no empty or `..` component.
        if key.contains('/') || key.split('.').any(|part| part.is_empty()) {
            return fail(
                field,
                "not a parameter name; write it with dots, as sysctl(8) prints it (net.ipv4.ip_forward)",
            );
        }
        match sysctl_namespace(key) {
            None => {
                return fail(
                    field,
                    "not a parameter of any namespace: setting it would change the host; only net.*, fs.mqueue.*, kernel.hostname, kernel.domainname and the kernel.msg*/sem/shm* parameters are allowed",
                )
            }
            Some(kind) if !linux.namespaces.iter().any(|ns| ns.kind == kind) => {
                return fail(
                    field,
                    format!("belongs to the {kind} namespace, which the container does not have; add {{\"type\": \"{kind}\"}} to linux.namespaces"),
                )
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn check_linux(linux: &Linux) -> Result<ValidResources, SpecError> {
    let mut kinds = BTreeSet::new();
    for (i, ns) in linux.namespaces.iter().enumerate() {
        if !NAMESPACE_TYPES.contains(&ns.kind.as_str()) {
            return fail(
                format!("linux.namespaces[{i}].type"),
                format!("{:?} is not a namespace; use one of {}", ns.kind, NAMESPACE_TYPES.join(", ")),
            );
        }
        if !kinds.insert(ns.kind.as_str()) {
            return fail(
                format!("linux.namespaces[{i}].type"),
                format!("{:?} is listed twice; give each namespace once", ns.kind),
            );
        }
        if let Some(path) = &ns.path {
            absolute(&format!("linux.namespaces[{i}].path"), &path.to_string_lossy(), "/proc/1234/ns/net")?;
        }
    }
    let user = linux.namespaces.iter().find(|ns| ns.kind == "user");
    for (field, kind, map) in [
        ("linux.uidMappings", IdKind::Uid, &linux.uid_mappings),
        ("linux.gidMappings", IdKind::Gid, &linux.gid_mappings),
    ] {
        match user {
            None if !map.is_empty() => {
                return fail(field, "given without a user namespace; add {\"type\": \"user\"} to linux.namespaces, or drop the mappings")
            }
            Some(ns) if ns.path.is_some() && !map.is_empty() => {
                return fail(
                    field,
                    format!("given for the existing user namespace {}, whose maps are already written; mappings apply only to a new user namespace: drop them, or the namespace's path", ns.path.as_deref().unwrap_or(Path::new("")).display()),
                )
            }
            // As runc: a new user namespace with no maps has no root and no ids at all.
            Some(ns) if ns.path.is_none() && map.is_empty() => {
                return fail(field, "empty, but a new user namespace is requested; map at least the container's root onto your own id, e.g. [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]")
            }
            _ if !map.is_empty() => {
                check_map(kind, map).map_err(|err| SpecError::invalid(field, err.to_string()))?
            }
            _ => {}
        }
    }
    if let Some(propagation) = &linux.rootfs_propagation {
        if !PROPAGATIONS.contains(&propagation.as_str()) {
            return fail(
                "linux.rootfsPropagation",
                format!("{propagation:?} is not a propagation; use one of {}", PROPAGATIONS.join(", ")),
            );
        }
    }
    for (name, paths) in [("maskedPaths", &linux.masked_paths), ("readonlyPaths", &linux.readonly_paths)] {
        for (i, path) in paths.iter().enumerate() {
            absolute(&format!("linux.{name}[{i}]"), path, "/proc/kcore")?;
        }
    }
    for (i, device) in linux.devices.iter().enumerate() {
        let field = format!("linux.devices[{i}]");
        absolute(&format!("{field}.path"), &device.path, "/dev/fuse")?;
        match device.kind.as_str() {
            "c" | "b" | "u" if device.major.is_none() || device.minor.is_none() => {
                return fail(field, format!("a {:?} device needs major and minor numbers", device.kind))
            }
            "c" | "b" | "u" | "p" => {}
            other => {
                return fail(
                    format!("{field}.type"),
                    format!("{other:?} is not a device type; use c (character), b (block), u (unbuffered) or p (FIFO)"),
                )
            }
        }
    }
    let limits = check_resources(linux)?;
    if let Some(seccomp) = &linux.seccomp {
        let action = |field: String, name: &str| -> Check {
            if SECCOMP_ACTIONS.contains(&name) {
                Ok(())
            } else {
                fail(
                    field,
                    format!("{name:?} is not a seccomp action; use one of {}", SECCOMP_ACTIONS.join(", ")),
                )
            }
        };
        action("linux.seccomp.defaultAction".into(), &seccomp.default_action)?;
        for (i, rule) in seccomp.syscalls.iter().enumerate() {
            let field = format!("linux.seccomp.syscalls[{i}]");
            if rule.names.is_empty() {
                return fail(format!("{field}.names"), "empty; name at least one system call");
            }
            action(format!("{field}.action"), &rule.action)?;
            for (j, arg) in rule.args.iter().enumerate() {
                if arg.index > 5 {
                    return fail(
                        format!("{field}.args[{j}].index"),
                        format!("{} is out of range; system calls have arguments 0 to 5", arg.index),
                    );
                }
                if !SECCOMP_OPERATORS.contains(&arg.op.as_str()) {
                    return fail(
                        format!("{field}.args[{j}].op"),
                        format!(
                            "{:?} is not an operator; use one of {}",
                            arg.op,
                            SECCOMP_OPERATORS.join(", ")
                        ),
                    );
                }
            }
        }
    }
    Ok(limits)
}

// ANCHOR: check_resources
/// `linux.resources` read as runc reads it (a zero is unset) and validated by chapter 4
/// ([`Resources::validated`](crate::cgroups::Resources::validated)), its errors named by
/// their JSON path: the one check config.json's limits get. `create` applies what it
/// returns (through [`Spec::cgroup_limits`]), and no layer below checks them again.
pub(super) fn check_resources(linux: &Linux) -> Result<ValidResources, SpecError> {
    let Some(resources) = &linux.resources else { return Ok(ValidResources::default()) };
    for (i, rule) in resources.devices.iter().enumerate() {
        let field = format!("linux.resources.devices[{i}]");
        if let Some(kind) = rule.kind.as_deref() {
            if !matches!(kind, "a" | "b" | "c") {
                return Err(SpecError::invalid(
                    format!("{field}.type"),
                    format!("{kind:?} is not a device type; use a (all), c or b"),
                ));
            }
        }
        if let Some(access) = rule.access.as_deref() {
            if access.is_empty() || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
                return Err(SpecError::invalid(
                    format!("{field}.access"),
                    format!("{access:?} is not an access; use letters of rwm, e.g. \"rwm\""),
                ));
            }
        }
    }
    // Chapter 4 knows the kernel's ranges; its field names are the paths below `linux.resources`.
    // Zero is unset, as runc reads it (Docker writes `"cpu": {"shares": 0}`).
    resources.clone().zero_as_unset().validated().map_err(|err| match err {
        CgroupError::InvalidResource { field, value, expected } => SpecError::invalid(
            format!("linux.resources.{field}"),
            format!("{value} is out of range; use {expected}"),
        ),
        CgroupError::InvalidEntry { field, value, expected } => SpecError::invalid(
            format!("linux.resources.{field}"),
            format!("{value} is not valid; use {expected}"),
        ),
        other => SpecError::invalid("linux.resources", other.to_string()),
    })
}
// ANCHOR_END: check_resources
