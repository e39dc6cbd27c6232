//! User namespace id maps: which ids inside the container are which ids outside.
//!
//! Chapter 2. A new user namespace starts with no ids mapped; its creator's parent
//! writes `/proc/<pid>/uid_map` and `gid_map` once each, `setgroups` first when it is
//! unprivileged. Read user_namespaces(7) ("User and group ID mappings").

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::str::FromStr;

use nix::unistd::{getegid, geteuid, Pid};
use serde::{Deserialize, Serialize};

use super::NamespaceError;

/// The most lines the kernel accepts in one map (Linux 4.15 and later).
pub const MAX_LINES: usize = 340;

// ANCHOR: id_map
/// One line of a map: `size` ids from `container_id` inside are `host_id`… outside.
/// The field names are the OCI configuration's (`linux.uidMappings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    #[serde(rename = "containerID")]
    pub container_id: u32,
    #[serde(rename = "hostID")]
    pub host_id: u32,
    pub size: u32,
}
// ANCHOR_END: id_map

impl IdMap {
    /// The rootless map: root inside is `host_id` (the caller's own id) outside.
    pub fn root_onto(host_id: u32) -> Self {
        Self { container_id: 0, host_id, size: 1 }
    }

    /// The line the kernel reads: `container host size`.
    pub fn proc_line(&self) -> String {
        format!("{} {} {}\n", self.container_id, self.host_id, self.size)
    }

    /// The last id inside and outside, or `None` when the range runs past the last valid id.
    fn ends(&self) -> Option<(u32, u32)> {
        let last = |first: u32| first.checked_add(self.size).filter(|end| *end != 0).map(|end| end - 1);
        // u32::MAX itself is (uid_t)-1, "no id", which the kernel never maps.
        let container = last(self.container_id).filter(|l| *l < u32::MAX)?;
        let host = last(self.host_id).filter(|l| *l < u32::MAX)?;
        Some((container, host))
    }
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.container_id, self.host_id, self.size)
    }
}

impl FromStr for IdMap {
    type Err = NamespaceError;

    /// Parses `CONTAINER:HOST:SIZE`, the form podman's `--uidmap` takes.
    fn from_str(text: &str) -> Result<Self, NamespaceError> {
        let bad = |reason| NamespaceError::BadIdMap { text: text.to_owned(), reason };
        let fields: Vec<&str> = text.split(':').collect();
        let [container, host, size] = fields.as_slice() else {
            return Err(bad("it needs three numbers separated by ':'"));
        };
        let number = |field: &str| {
            field.parse::<u32>().map_err(|_| bad("each field is a number from 0 to 4294967295"))
        };
        Ok(IdMap { container_id: number(container)?, host_id: number(host)?, size: number(size)? })
    }
}

/// Which of the two maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

impl IdKind {
    /// The file under `/proc/<pid>/`.
    pub fn file(self) -> &'static str {
        match self {
            IdKind::Uid => "uid_map",
            IdKind::Gid => "gid_map",
        }
    }

    /// The caller's effective id of this kind, for advice in messages.
    pub fn own_id(self) -> u32 {
        match self {
            IdKind::Uid => geteuid().as_raw(),
            IdKind::Gid => getegid().as_raw(),
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file())
    }
}

// ANCHOR: check_map
/// Checks a map as the kernel will (user_namespaces(7)): 1 to 340 lines, no empty
/// range, none past the last id, no id mapped twice inside or outside.
pub fn check_map(kind: IdKind, map: &[IdMap]) -> Result<(), NamespaceError> {
    if map.is_empty() {
        return Err(NamespaceError::EmptyIdMap { kind });
    }
    if map.len() > MAX_LINES {
        return Err(NamespaceError::TooManyIdLines { kind, count: map.len() });
    }
    let mut ranges = Vec::with_capacity(map.len());
    for line in map {
        if line.size == 0 {
            return Err(NamespaceError::IdMapSizeZero { kind, map: *line });
        }
        let (container_last, host_last) =
            line.ends().ok_or(NamespaceError::IdMapOverflow { kind, map: *line })?;
        for (other, other_container_last, other_host_last) in &ranges {
            let other: &IdMap = other;
            let overlap = |a: u32, a_last: u32, b: u32, b_last: u32| a <= b_last && b <= a_last;
            let side =
                if overlap(line.container_id, container_last, other.container_id, *other_container_last) {
                    "container"
                } else if overlap(line.host_id, host_last, other.host_id, *other_host_last) {
                    "host"
                } else {
                    continue;
                };
            return Err(NamespaceError::IdMapOverlap { kind, first: *other, second: *line, side });
        }
        ranges.push((*line, container_last, host_last));
    }
    Ok(())
}
// ANCHOR_END: check_map

/// Checks that id 0 inside is mapped: the container's init becomes root in it.
pub fn check_root_mapped(kind: IdKind, map: &[IdMap]) -> Result<(), NamespaceError> {
    if map.iter().any(|line| line.container_id == 0) {
        Ok(())
    } else {
        Err(NamespaceError::RootNotMapped { kind })
    }
}

/// The text written to a map file: one `container host size` line per range.
pub fn proc_text(map: &[IdMap]) -> String {
    map.iter().map(IdMap::proc_line).collect()
}

// ANCHOR: setgroups
/// Whether `/proc/<pid>/setgroups` must say `deny` before `gid_map` may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setgroups {
    /// The writer has CAP_SETGID outside: it may map any groups, and the container
    /// may call setgroups(2).
    Allow,
    /// An unprivileged writer: the kernel lets it map its own gid only after the
    /// container gave up setgroups(2), which could otherwise drop a group that
    /// denies access (a file mode such as 0705).
    Deny,
}

impl Setgroups {
    /// `Deny` unless this process has CAP_SETGID (bit 6 of CapEff in /proc/self/status).
    pub fn for_caller() -> Result<Self, NamespaceError> {
        let path = PathBuf::from("/proc/self/status");
        let status =
            std::fs::read_to_string(&path).map_err(|source| NamespaceError::ReadProc { path, source })?;
        let cap_eff = status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or(0);
        const CAP_SETGID: u32 = 6;
        Ok(if cap_eff & (1 << CAP_SETGID) != 0 { Setgroups::Allow } else { Setgroups::Deny })
    }
}
// ANCHOR_END: setgroups

/// Writes `contents` to `/proc/<pid>/<file>` in one write(2): the kernel reads a map
/// from a single write and refuses a second one.
fn write_proc(pid: Pid, file: &'static str, contents: &str) -> Result<(), NamespaceError> {
    let error = |source| NamespaceError::WriteIdMap { pid, file, contents: contents.to_owned(), source };
    let mut handle = OpenOptions::new().write(true).open(format!("/proc/{pid}/{file}")).map_err(error)?;
    match handle.write(contents.as_bytes()) {
        Ok(n) if n == contents.len() => Ok(()),
        Ok(_) => Err(error(io::Error::new(io::ErrorKind::WriteZero, "the kernel took only part of the map"))),
        Err(source) => Err(error(source)),
    }
}

// ANCHOR: write_id_maps
/// Gives the user namespace of `pid` its maps, from the parent (the child cannot map
/// more than its own id: it has no capabilities outside its namespace). Checks both
/// maps first, so nothing is written when either is wrong.
pub fn write_id_maps(
    pid: Pid,
    uid_map: &[IdMap],
    gid_map: &[IdMap],
    setgroups: Setgroups,
) -> Result<(), NamespaceError> {
    check_map(IdKind::Uid, uid_map)?;
    check_map(IdKind::Gid, gid_map)?;
    // exercise: With write_proc, write "deny" to setgroups first when setgroups is Setgroups::Deny, then proc_text(uid_map) to uid_map, then proc_text(gid_map) to gid_map.
    if setgroups == Setgroups::Deny {
        write_proc(pid, "setgroups", "deny")?;
    }
    write_proc(pid, IdKind::Uid.file(), &proc_text(uid_map))?;
    write_proc(pid, IdKind::Gid.file(), &proc_text(gid_map))?;
    Ok(())
    // end exercise
}
// ANCHOR_END: write_id_maps

/// Reads a map back from `/proc/<pid>/uid_map` or `gid_map`, as the kernel shows it.
pub fn read_id_map(pid: Pid, kind: IdKind) -> Result<Vec<IdMap>, NamespaceError> {
    let path = PathBuf::from(format!("/proc/{pid}/{}", kind.file()));
    let text = std::fs::read_to_string(&path).map_err(|source| NamespaceError::ReadProc { path, source })?;
    text.lines()
        .map(|line| {
            let joined = line.split_whitespace().collect::<Vec<_>>().join(":");
            joined.parse()
        })
        .collect()
}
