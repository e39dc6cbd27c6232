//! Devices in config.json (chapter 6): the device rules a runtime adds to
//! `linux.resources.devices` (runc's default allow-list, so that /dev/null works in a
//! container whose configuration denies everything), and the extra device nodes of
//! `linux.devices` (podman --device), which chapter 3's rootfs makes with mknod. Read
//! config-linux.md ("Devices", "Default Devices", "Allowed Device Access"), mknod(2).

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::cgroups::DeviceRule;
use crate::rootfs::{DeviceNode, NodeKind};

use super::{LinuxDevice, SpecError};

// ANCHOR: default_rules
/// The rules runc appends after a configuration's own (its `AllowedDevices`): mknod
/// of anything (the node is useless without read or write), the default devices, the
/// container's pseudo-terminals (136:*, and 5:2 /dev/ptmx) and /dev/net/tun (10:200).
/// Each default device comes with the path it is made at: a `linux.devices` entry of
/// the same path replaces it, rule included, as in runc.
pub const DEFAULT_RULES: &[(Option<&str>, char, i64, i64, &str)] = &[
    (None, 'c', -1, -1, "m"),
    (None, 'b', -1, -1, "m"),
    (Some("/dev/null"), 'c', 1, 3, "rwm"),
    (Some("/dev/random"), 'c', 1, 8, "rwm"),
    (Some("/dev/full"), 'c', 1, 7, "rwm"),
    (Some("/dev/tty"), 'c', 5, 0, "rwm"),
    (Some("/dev/zero"), 'c', 1, 5, "rwm"),
    (Some("/dev/urandom"), 'c', 1, 9, "rwm"),
    (None, 'c', 136, -1, "rwm"),
    (None, 'c', 5, 2, "rwm"),
    (None, 'c', 10, 200, "rwm"),
];
// ANCHOR_END: default_rules

// ANCHOR: device_rules
/// The device rules the container's cgroup gets: everything denied first (a new
/// cgroup starts with its parent's list, usually everything allowed), then the
/// configuration's rules, then [`DEFAULT_RULES`] less the paths `devices` redefines.
/// A configuration that begins with a rule for all devices decides the start itself.
pub fn device_rules(rules: &[DeviceRule], devices: &[LinuxDevice]) -> Vec<DeviceRule> {
    let (first, last) = wrapping(rules, devices);
    first.into_iter().chain(rules.iter().cloned()).chain(last).collect()
}

/// What [`device_rules`] puts around the configuration's `rules`: the rule before them
/// (deny everything, unless they begin with a rule for all devices) and those after
/// them (the defaults `devices` does not redefine).
pub fn wrapping(rules: &[DeviceRule], devices: &[LinuxDevice]) -> (Option<DeviceRule>, Vec<DeviceRule>) {
    let first = (!rules.first().is_some_and(DeviceRule::is_wildcard)).then(DeviceRule::deny_all);
    let mut last = Vec::new();
    for (path, kind, major, minor, access) in DEFAULT_RULES {
        if path.is_some_and(|p| devices.iter().any(|d| d.path == p)) {
            continue;
        }
        let number = |n: i64| (n >= 0).then_some(n);
        last.push(DeviceRule {
            allow: true,
            kind: Some(kind.to_string()),
            major: number(*major),
            minor: number(*minor),
            access: Some(access.to_string()),
        });
    }
    (first, last)
}
// ANCHOR_END: device_rules

/// Where the host has a node of `kind` (`c` or `b`) with numbers `major`:`minor`: at
/// `path` itself when that node matches, else the first match under /dev.
fn host_node(path: &Path, kind: &str, major: u64, minor: u64) -> Option<PathBuf> {
    let matches = |p: &Path| {
        fs::metadata(p).is_ok_and(|m| {
            let rdev = m.rdev();
            let right_kind =
                if kind == "b" { m.file_type().is_block_device() } else { m.file_type().is_char_device() };
            right_kind && libc::major(rdev) as u64 == major && libc::minor(rdev) as u64 == minor
        })
    };
    if matches(path) {
        return Some(path.to_owned());
    }
    let mut dirs = vec![PathBuf::from("/dev")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && !kind.is_symlink() {
                dirs.push(entry.path());
            // Not a symbolic link: /dev/stdin leads (through /proc/self/fd/0) to
            // whatever the caller's stdin is, often /dev/null, and cannot be bound.
            } else if !kind.is_symlink() && matches(&entry.path()) {
                return Some(entry.path());
            }
        }
    }
    None
}

// ANCHOR: device_nodes
/// `linux.devices` as the nodes chapter 3 creates after the configured mounts (after
/// the /dev tmpfs). Checked here, before anything exists: the type (`c`, `u`, `b` or
/// `p`), an absolute path, and the numbers a device needs (the spec: REQUIRED unless
/// the type is `p`). What the spec leaves out is runc's default: mode 0666, owner 0:0.
/// Each device also carries the host's node of its numbers, when there is one: a user
/// namespace cannot mknod a device and binds that instead.
pub fn device_nodes(devices: &[LinuxDevice]) -> Result<Vec<DeviceNode>, SpecError> {
    let mut nodes = Vec::new();
    for (i, device) in devices.iter().enumerate() {
        let field = format!("linux.devices[{i}]");
        let kind = match device.kind.as_str() {
            "c" | "u" => NodeKind::Char,
            "b" => NodeKind::Block,
            "p" => NodeKind::Fifo,
            other => {
                return Err(SpecError::invalid(
                    format!("{field}.type"),
                    format!("{other:?} is not a device type; use \"c\", \"u\", \"b\" or \"p\""),
                ))
            }
        };
        let path = PathBuf::from(&device.path);
        if !path.is_absolute() {
            return Err(SpecError::invalid(
                format!("{field}.path"),
                format!("{:?} must be an absolute path inside the container", device.path),
            ));
        }
        let number = |value: Option<i64>, name: &str| match (kind, value) {
            (NodeKind::Fifo, None) => Ok(0),
            (_, Some(n)) if (0..=u32::MAX as i64).contains(&n) => Ok(n as u64),
            (_, Some(n)) => {
                Err(SpecError::invalid(format!("{field}.{name}"), format!("{n} is out of range")))
            }
            (_, None) => Err(SpecError::invalid(
                format!("{field}.{name}"),
                format!("missing; a device of type {:?} needs its {name} number", device.kind),
            )),
        };
        let (major, minor) = (number(device.major, "major")?, number(device.minor, "minor")?);
        let host = match kind {
            NodeKind::Fifo => None,
            NodeKind::Char => host_node(&path, "c", major, minor),
            NodeKind::Block => host_node(&path, "b", major, minor),
        };
        nodes.push(DeviceNode {
            path,
            kind,
            major,
            minor,
            mode: device.file_mode.unwrap_or(0o666) & 0o7777,
            uid: device.uid.unwrap_or(0),
            gid: device.gid.unwrap_or(0),
            host,
        });
    }
    Ok(nodes)
}
// ANCHOR_END: device_nodes

#[cfg(test)]
mod tests {
    use super::*;

    /// runc's order: deny all, the configuration's rules, then the defaults; a device
    /// of linux.devices replaces the default rule of its path.
    #[test]
    fn rules_wrap_the_configuration() {
        let own = [DeviceRule::allow_char(Some(10), Some(229), "rwm")];
        let rules = device_rules(&own, &[]);
        assert_eq!(rules[0], DeviceRule::deny_all());
        assert_eq!(rules[1], own[0]);
        assert_eq!(rules.len(), 2 + DEFAULT_RULES.len());
        assert!(rules.iter().any(|r| r.v1_line() == "c 1:5 rwm"));
        let zero = LinuxDevice { path: "/dev/zero".into(), kind: "c".into(), ..LinuxDevice::default() };
        let rules = device_rules(&[DeviceRule::deny_all()], &[zero]);
        assert_eq!(rules.iter().filter(|r| r.is_wildcard()).count(), 1);
        assert!(!rules.iter().any(|r| r.v1_line() == "c 1:5 rwm"));
    }

    /// Every type becomes a node with the configuration's numbers, mode and owner (or
    /// runc's defaults); a device carries the host's node of its numbers, when there is
    /// one; bad types, relative paths and missing numbers are refused by field.
    #[test]
    fn devices_become_nodes() {
        let null = LinuxDevice {
            path: "/dev/my-null".into(),
            kind: "c".into(),
            major: Some(1),
            minor: Some(3),
            file_mode: Some(0o600),
            uid: Some(7),
            ..LinuxDevice::default()
        };
        let nodes = device_nodes(std::slice::from_ref(&null)).unwrap();
        assert_eq!(
            nodes[0],
            DeviceNode {
                path: "/dev/my-null".into(),
                kind: NodeKind::Char,
                major: 1,
                minor: 3,
                mode: 0o600,
                uid: 7,
                gid: 0,
                host: Some("/dev/null".into()),
            }
        );
        let nowhere = LinuxDevice { major: Some(10), minor: Some(666), file_mode: None, ..null.clone() };
        let node = &device_nodes(&[nowhere]).unwrap()[0];
        assert_eq!((node.mode, node.host.as_deref()), (0o666, None));
        let fifo = LinuxDevice { path: "/dev/f".into(), kind: "p".into(), ..LinuxDevice::default() };
        assert_eq!(device_nodes(&[fifo]).unwrap()[0].kind, NodeKind::Fifo);
        for (bad, field) in [
            (LinuxDevice { kind: "x".into(), ..null.clone() }, "linux.devices[0].type"),
            (LinuxDevice { path: "dev/a".into(), ..null.clone() }, "linux.devices[0].path"),
            (LinuxDevice { minor: None, ..null.clone() }, "linux.devices[0].minor"),
        ] {
            let err = device_nodes(&[bad]).unwrap_err().to_string();
            assert!(err.starts_with(field), "{err}");
        }
    }
}
