// Part of chapter 2, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/namespaces/error.rs by `cargo xtask exercises`;
// `cargo workshop reset 2` gives you a fresh copy.
//! The module's one error type: what can go wrong while creating namespaces,
//! writing id maps or running PID 1.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::idmap::{self, IdKind, IdMap};
use super::Namespaces;

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
