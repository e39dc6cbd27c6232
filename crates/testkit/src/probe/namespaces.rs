//! Namespace types: their names under /proc/<pid>/ns, their unshare(2) flags, and
//! live probes of unshare as the current user and inside a new user namespace.
//! Read namespaces(7).

use std::path::Path;

use nix::sched::CloneFlags;
use serde::Serialize;

use super::live::{at, in_child};
use super::{Attempt, ProbeError};

/// A namespace type, as named in `/proc/<pid>/ns/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Uts,
    Pid,
    Mnt,
    Ipc,
    Net,
    User,
    Cgroup,
    Time,
}

/// CLONE_NEWTIME (Linux 5.6), which nix 0.30 does not name.
const CLONE_NEWTIME: i32 = 0x0000_0080;

impl Namespace {
    pub const ALL: [Namespace; 8] = [
        Namespace::Uts,
        Namespace::Pid,
        Namespace::Mnt,
        Namespace::Ipc,
        Namespace::Net,
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Time,
    ];

    /// The name under `/proc/<pid>/ns/`.
    pub fn name(self) -> &'static str {
        match self {
            Namespace::Uts => "uts",
            Namespace::Pid => "pid",
            Namespace::Mnt => "mnt",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
            Namespace::Time => "time",
        }
    }

    /// The unshare(2) flag that creates one.
    pub fn flag(self) -> CloneFlags {
        match self {
            Namespace::Uts => CloneFlags::CLONE_NEWUTS,
            Namespace::Pid => CloneFlags::CLONE_NEWPID,
            Namespace::Mnt => CloneFlags::CLONE_NEWNS,
            Namespace::Ipc => CloneFlags::CLONE_NEWIPC,
            Namespace::Net => CloneFlags::CLONE_NEWNET,
            Namespace::User => CloneFlags::CLONE_NEWUSER,
            Namespace::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Namespace::Time => CloneFlags::from_bits_retain(CLONE_NEWTIME),
        }
    }

    /// The kernel version that introduced it, for "your kernel is too old" advice.
    pub fn since(self) -> &'static str {
        match self {
            Namespace::Mnt => "2.4.19",
            Namespace::Uts | Namespace::Ipc => "2.6.19",
            Namespace::Pid => "2.6.24",
            Namespace::Net => "2.6.29",
            Namespace::User => "3.8",
            Namespace::Cgroup => "4.6",
            Namespace::Time => "5.6",
        }
    }

    /// Whether `<proc_self_ns>/<name>` exists (`/proc/self/ns` on a live machine): the
    /// kernel was built with this namespace type.
    pub fn in_proc(self, proc_self_ns: &Path) -> bool {
        proc_self_ns.join(self.name()).exists()
    }
}

const UNSHARE_STEPS: &[&str] = &["unshare"];
const UNSHARE_IN_USERNS_STEPS: &[&str] = &["unshare(CLONE_NEWUSER | flag)"];

/// Tries unshare(2) of `ns` as the current user, in a forked child.
pub fn try_unshare(ns: Namespace) -> Result<Attempt, ProbeError> {
    let flag = ns.flag();
    in_child(UNSHARE_STEPS, || at(0, nix::sched::unshare(flag)))
}

/// Tries unshare(2) of `ns` together with a new user namespace (the rootless way), in a
/// forked child.
pub fn try_unshare_in_userns(ns: Namespace) -> Result<Attempt, ProbeError> {
    let flags = ns.flag() | CloneFlags::CLONE_NEWUSER;
    in_child(UNSHARE_IN_USERNS_STEPS, || at(0, nix::sched::unshare(flags)))
}
