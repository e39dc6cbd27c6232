//! Devices in config.json (chapter 6): the device rules a runtime adds to
//! `linux.resources.devices` (runc's default allow-list, so that /dev/null works in a
//! container whose configuration denies everything), and the extra device nodes of
//! `linux.devices` (podman --device) as bind mounts of the host's nodes. Read
//! config-linux.md ("Devices", "Default Devices", "Allowed Device Access"), mknod(2).

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::cgroups::DeviceRule;
use crate::rootfs::Mount;

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
    let mut out = Vec::new();
    if !rules.first().is_some_and(DeviceRule::is_wildcard) {
        out.push(DeviceRule::deny_all());
    }
    out.extend(rules.iter().cloned());
    for (path, kind, major, minor, access) in DEFAULT_RULES {
        if path.is_some_and(|p| devices.iter().any(|d| d.path == p)) {
            continue;
        }
        let number = |n: i64| (n >= 0).then_some(n);
        out.push(DeviceRule {
            allow: true,
            kind: Some(kind.to_string()),
            major: number(*major),
            minor: number(*minor),
            access: Some(access.to_string()),
        });
    }
    out
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

// ANCHOR: device_mounts
/// `linux.devices` as bind mounts of the host's nodes, to append after the
/// configuration's mounts (after the /dev tmpfs). Why binds and not mknod(2) in the
/// container's /dev: chapter 3 makes only the default devices, and a bind needs no
/// new code there; it is what runc does in a user namespace, where mknod is refused.
/// The cost: the node keeps the host's mode and owner, so a `fileMode`, `uid` or `gid`
/// that differs from the host node's is refused by name rather than ignored; FIFOs
/// (`p`), which have no host node to share, are refused too. Access is still the device
/// cgroup's to grant: it checks the numbers, however the node was reached.
pub fn device_mounts(devices: &[LinuxDevice]) -> Result<Vec<Mount>, SpecError> {
    let mut mounts = Vec::new();
    for (i, device) in devices.iter().enumerate() {
        let field = format!("linux.devices[{i}]");
        let unsupported =
            |what: String, advice| SpecError::Unsupported { field: field.clone(), what, advice };
        let kind = match device.kind.as_str() {
            "c" | "u" => "c",
            "b" => "b",
            other => {
                return Err(unsupported(
                    format!("a device of type {other:?} at {}", device.path),
                    "only character and block devices are bound from the host; drop the entry",
                ))
            }
        };
        let (major, minor) = (device.major.unwrap_or(0) as u64, device.minor.unwrap_or(0) as u64);
        let source = host_node(Path::new(&device.path), kind, major, minor).ok_or_else(|| {
            unsupported(
                format!("{kind} {major}:{minor} ({})", device.path),
                "the host has no such device node under /dev to bind into the container; load its driver or drop the entry",
            )
        })?;
        let meta = fs::metadata(&source)
            .map_err(|source_err| SpecError::Read { path: source.clone(), source: source_err })?;
        let differs = [
            ("fileMode", device.file_mode.map(|m| m & 0o7777), meta.mode() & 0o7777),
            ("uid", device.uid, meta.uid()),
            ("gid", device.gid, meta.gid()),
        ]
        .into_iter()
        .find(|(_, wanted, host)| wanted.is_some_and(|w| w != *host));
        if let Some((name, wanted, host)) = differs {
            return Err(SpecError::Unsupported {
                field: format!("{field}.{name}"),
                what: format!("{name} {} for {} (the host's {} has {host})", wanted.unwrap_or_default(), device.path, source.display()),
                advice: "the node is bound from the host and keeps its mode and owner; drop the field or change the host's node",
            });
        }
        mounts.push(Mount {
            destination: PathBuf::from(&device.path),
            kind: "bind".into(),
            source: source.to_string_lossy().into_owned(),
            options: vec!["bind".into()],
        });
    }
    Ok(mounts)
}
// ANCHOR_END: device_mounts

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

    /// A device is bound from the host's node of the same numbers; a FIFO is refused.
    #[test]
    fn devices_become_binds_of_host_nodes() {
        let null = LinuxDevice {
            path: "/dev/my-null".into(),
            kind: "c".into(),
            major: Some(1),
            minor: Some(3),
            file_mode: Some(0o666),
            ..LinuxDevice::default()
        };
        let mounts = device_mounts(std::slice::from_ref(&null)).unwrap();
        assert_eq!(mounts[0].destination, PathBuf::from("/dev/my-null"));
        assert_eq!(mounts[0].source, "/dev/null");
        assert_eq!(mounts[0].kind, "bind");
        let wrong_mode = LinuxDevice { file_mode: Some(0o600), ..null };
        let err = device_mounts(&[wrong_mode]).unwrap_err().to_string();
        assert!(err.starts_with("linux.devices[0].fileMode: "), "{err}");
        let fifo = LinuxDevice { path: "/dev/f".into(), kind: "p".into(), ..LinuxDevice::default() };
        assert!(device_mounts(&[fifo]).unwrap_err().to_string().starts_with("linux.devices[0]: "));
    }
}
