// Your file for chapter 2: replace each todo!() with working code, then run
// `cargo workshop check 2`. Generated from crates/container/src/namespaces/mod.rs by `cargo xtask exercises`;
// `cargo workshop reset 2` gives you a fresh copy.
//! Namespaces: what a process sees of the machine, one kind of resource at a time.
//!
//! Chapter 2 builds a child with its own hostname (UTS), process ids (PID), mount
//! table, IPC objects, network stack, user and group ids and cgroup root, chosen by
//! the caller. Read namespaces(7), clone(2), unshare(2), setns(2).
//!
//! # Layout
//! - this file: [`Namespace`], a requested set of them ([`Namespaces`]), and the
//!   module's one error type.
//! - `spawn`: clone(2) a child into new namespaces, and the parent/child handshake.
//! - `idmap`: user namespace id maps, checked, and written for the child by the parent.
//! - `uts`: the hostname of a new UTS namespace.
//! - `init`: PID 1's job: reap every child, forward signals to the payload.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

pub mod idmap;
pub mod init;
pub mod spawn;
pub mod uts;

pub use idmap::{IdKind, IdMap, Setgroups};

/// What can go wrong while creating namespaces, writing id maps or running PID 1.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("unknown namespace {name:?}; use one of: cgroup, ipc, mnt (or mount), net (or network), pid, user, uts")]
    UnknownNamespace { name: String },
    #[error("the time namespace is not supported: this runtime creates namespaces with clone(2), whose flags have no room for CLONE_NEWTIME (it shares bits with the exit signal; only unshare(2) and clone3(2) make one); leave `time` out")]
    TimeNamespace,
    #[error("bad id map {text:?}: {reason}; write CONTAINER:HOST:SIZE, e.g. 0:1000:1")]
    BadIdMap { text: String, reason: &'static str },
    #[error("no {kind} given for the user namespace; map at least the container's root, e.g. 0:{}:1 (your own id)", kind.own_id())]
    EmptyIdMap { kind: IdKind },
    #[error("{kind} line {map} has size 0; every range maps at least one id")]
    IdMapSizeZero { kind: IdKind, map: IdMap },
    #[error("{kind} line {map} runs past the last id 4294967294; make it smaller")]
    IdMapOverflow { kind: IdKind, map: IdMap },
    #[error("{kind} lines {first} and {second} overlap on the {side} side; each id may be mapped once")]
    IdMapOverlap { kind: IdKind, first: IdMap, second: IdMap, side: &'static str },
    #[error("{kind} has {count} lines; the kernel accepts at most {max}", max = idmap::MAX_LINES)]
    TooManyIdLines { kind: IdKind, count: usize },
    #[error("{kind} does not map id 0 inside the container, so the container has no root; add a line such as 0:{}:1", kind.own_id())]
    RootNotMapped { kind: IdKind },
    #[error("id maps were given but no user namespace was requested; add `user` to the namespaces, or drop the maps")]
    IdMapsWithoutUserNamespace,
    #[error("cannot write {contents:?} to /proc/{pid}/{file}: {source}; an unprivileged user may map only its own id (0:<your id>:1), after writing `deny` to setgroups; more ranges need root (or newuidmap(1))")]
    WriteIdMap { pid: Pid, file: &'static str, contents: String, source: io::Error },
    #[error("cannot read {path}: {source}; is /proc mounted and the process still running?")]
    ReadProc { path: PathBuf, source: io::Error },
    #[error("bad hostname {name:?}: {reason}")]
    BadHostname { name: String, reason: &'static str },
    #[error("hostname {name:?} given without a UTS namespace: it would rename the host; add `uts` to the namespaces")]
    HostnameWithoutUts { name: String },
    #[error("cannot set the hostname to {name:?}: {source}; the process needs CAP_SYS_ADMIN in its UTS namespace's user namespace")]
    SetHostname { name: String, source: Errno },
    #[error("refusing to clone into namespaces from a process with {threads} threads: only the calling thread survives in the child, which may then deadlock on a lock another thread held; do it from a single-threaded helper (as chapter-2 and `runc init` do)")]
    MultiThreaded { threads: usize },
    #[error("creating {namespaces} namespaces needs CAP_SYS_ADMIN: run as root (sudo), or add `user` so they are created inside a user namespace you own")]
    NeedsPrivilege { namespaces: Namespaces },
    #[error("the kernel refused a new user namespace ({source}); unprivileged user namespaces may be switched off (kernel.unprivileged_userns_clone, user.max_user_namespaces): `cargo workshop doctor` says which and how to fix it")]
    UserNamespaceRefused { source: Errno },
    #[error("cannot clone a child into {namespaces} namespaces: {source}; EINVAL means this kernel lacks one of them (see /proc/self/ns/)")]
    Clone { namespaces: Namespaces, source: Errno },
    #[error(
        "cannot create the pipe between runtime and child: {0}; the process may be out of file descriptors"
    )]
    Pipe(#[source] Errno),
    #[error("the handshake with child {pid} failed: {source}")]
    Handshake { pid: Pid, source: Errno },
    #[error("cannot change the signal mask: {0}")]
    SignalMask(#[source] Errno),
    #[error("cannot become a child subreaper (prctl PR_SET_CHILD_SUBREAPER): {0}; without it orphans go to the host's init")]
    Subreaper(#[source] Errno),
    #[error("cannot wait for children: {0}")]
    Wait(#[source] Errno),
    #[error("cannot forward {signal} to pid {pid}: {source}")]
    Forward { pid: Pid, signal: Signal, source: Errno },
}

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

    /// The clone(2)/unshare(2) flag that creates a namespace of this kind.
    pub fn clone_flag(self) -> CloneFlags {
        todo!("Map each namespace to its CLONE_NEW* flag (see clone(2)); the mount namespace's flag is CLONE_NEWNS, named before there were other kinds.");
    }

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

    /// The flags for clone(2) that create every namespace in the set at once.
    /// The kernel creates the user namespace first, so the others belong to it.
    pub fn clone_flags(&self) -> CloneFlags {
        self.iter().fold(CloneFlags::empty(), |flags, ns| flags | ns.clone_flag())
    }
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
