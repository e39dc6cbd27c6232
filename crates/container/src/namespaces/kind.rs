//! The kinds of namespace, their clone(2) flags and `/proc/<pid>/ns` names, and a
//! requested set of them.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::NamespaceError;

// ANCHOR: namespace
/// One kind of namespace. The time namespace (Linux 5.6) is left out: clone(2)
/// cannot create it, and chapter 6's runtime does not need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Namespace {
    /// Hostname and NIS domain name (Linux 2.6.19).
    Uts,
    /// Process ids; the first process is PID 1 (2.6.24).
    Pid,
    /// The mount table (2.4.19, the first namespace).
    Mount,
    /// System V IPC objects and POSIX message queues (2.6.19).
    Ipc,
    /// Network devices, addresses, routes, firewall rules, ports (2.6.29).
    Net,
    /// User and group ids and capabilities (3.8).
    User,
    /// The root of the process's cgroup view (4.6).
    Cgroup,
}
// ANCHOR_END: namespace

impl Namespace {
    /// Every kind, in the order runtimes usually list them.
    pub const ALL: [Namespace; 7] = [
        Namespace::User,
        Namespace::Uts,
        Namespace::Pid,
        Namespace::Mount,
        Namespace::Ipc,
        Namespace::Net,
        Namespace::Cgroup,
    ];

    // ANCHOR: clone_flag
    /// The clone(2)/unshare(2) flag that creates a namespace of this kind.
    pub fn clone_flag(self) -> CloneFlags {
        // exercise: Map each namespace to its CLONE_NEW* flag (see clone(2)); the mount namespace's flag is CLONE_NEWNS, named before there were other kinds.
        match self {
            Namespace::Uts => CloneFlags::CLONE_NEWUTS,
            Namespace::Pid => CloneFlags::CLONE_NEWPID,
            Namespace::Mount => CloneFlags::CLONE_NEWNS,
            Namespace::Ipc => CloneFlags::CLONE_NEWIPC,
            Namespace::Net => CloneFlags::CLONE_NEWNET,
            Namespace::User => CloneFlags::CLONE_NEWUSER,
            Namespace::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        }
        // end exercise
    }
    // ANCHOR_END: clone_flag

    /// Its file under `/proc/<pid>/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Uts => "uts",
            Namespace::Pid => "pid",
            Namespace::Mount => "mnt",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
        }
    }

    /// Its name in an OCI runtime configuration (`linux.namespaces[].type`).
    pub fn oci_name(self) -> &'static str {
        match self {
            Namespace::Mount => "mount",
            Namespace::Net => "network",
            other => other.proc_name(),
        }
    }

    /// `/proc/<pid>/ns/<name>`: a link whose target, such as `uts:[4026531838]`,
    /// names the namespace; two processes share one when the targets are equal.
    pub fn proc_path(self, pid: Pid) -> PathBuf {
        PathBuf::from(format!("/proc/{pid}/ns/{}", self.proc_name()))
    }
}

// ANCHOR: from_str
impl FromStr for Namespace {
    type Err = NamespaceError;

    /// Accepts the OCI names (`mount`, `network`, …) and the /proc names (`mnt`, `net`).
    fn from_str(name: &str) -> Result<Self, NamespaceError> {
        match name {
            "uts" => Ok(Namespace::Uts),
            "pid" => Ok(Namespace::Pid),
            "mount" | "mnt" => Ok(Namespace::Mount),
            "ipc" => Ok(Namespace::Ipc),
            "network" | "net" => Ok(Namespace::Net),
            "user" => Ok(Namespace::User),
            "cgroup" => Ok(Namespace::Cgroup),
            "time" => Err(NamespaceError::TimeNamespace),
            _ => Err(NamespaceError::UnknownNamespace { name: name.to_owned() }),
        }
    }
}
// ANCHOR_END: from_str

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proc_name())
    }
}

/// A set of namespaces to create, written as a comma-separated list (`uts,pid,net`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces(BTreeSet<Namespace>);

impl Namespaces {
    /// No new namespaces: the child shares all of its parent's.
    pub fn none() -> Self {
        Self::default()
    }

    /// All seven kinds.
    pub fn all() -> Self {
        Namespace::ALL.into_iter().collect()
    }

    /// Whether `ns` is to be created.
    pub fn contains(&self, ns: Namespace) -> bool {
        self.0.contains(&ns)
    }

    /// Adds `ns` to the set.
    pub fn insert(&mut self, ns: Namespace) {
        self.0.insert(ns);
    }

    /// Whether the set asks for no new namespace at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The kinds in the set, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = Namespace> + '_ {
        self.0.iter().copied()
    }

    // ANCHOR: clone_flags
    /// The flags for clone(2) that create every namespace in the set at once.
    /// The kernel creates the user namespace first, so the others belong to it.
    pub fn clone_flags(&self) -> CloneFlags {
        self.iter().fold(CloneFlags::empty(), |flags, ns| flags | ns.clone_flag())
    }
    // ANCHOR_END: clone_flags
}

impl FromIterator<Namespace> for Namespaces {
    fn from_iter<I: IntoIterator<Item = Namespace>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl FromStr for Namespaces {
    type Err = NamespaceError;

    /// `""` is the empty set; otherwise every comma-separated name must be known.
    fn from_str(list: &str) -> Result<Self, NamespaceError> {
        if list.is_empty() {
            return Ok(Self::none());
        }
        list.split(',').map(|name| name.trim().parse()).collect::<Result<_, _>>().map(Self)
    }
}

impl fmt::Display for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no");
        }
        let names: Vec<&str> = self.iter().map(Namespace::proc_name).collect();
        f.write_str(&names.join(","))
    }
}
