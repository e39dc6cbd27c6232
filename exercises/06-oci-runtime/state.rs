// Your file for chapter 6: replace each todo!() with working code, then run
// `cargo workshop check 6`. Generated from crates/container/src/lifecycle/state.rs by `cargo xtask exercises`;
// `cargo workshop reset 6` gives you a fresh copy.
//! A container's state (chapter 6): the OCI `State` that `bang-oci state` prints and
//! hooks read on stdin, the legal status transitions, and the runtime's own record
//! of a container, which knows how to tell whether its init process still lives.
//! Read the runtime-spec's runtime.md ("State", "Lifecycle") and proc(5)
//! (`/proc/<pid>/stat`, field 22 `starttime`).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

/// Where the runtime reads processes from.
pub const PROC: &str = "/proc";

/// What can go wrong while reading a process's identity or changing a status.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("a container cannot go from {from} to {to}; {hint}")]
    IllegalTransition { from: Status, to: Status, hint: &'static str },
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    ReadStat { path: PathBuf, source: io::Error },
    #[error("cannot parse {path}: unexpected contents {text:?}")]
    ParseStat { path: PathBuf, text: String },
    #[error("process {pid} does not exist ({path} is missing); it has already exited")]
    NoSuchProcess { pid: i32, path: PathBuf },
    #[error("cannot serialize the state of container {id}: {source}")]
    Serialize { id: String, source: serde_json::Error },
}

/// The status of a container, as runtime.md names them, plus `paused`.
///
/// runtime.md defines `creating`, `created`, `running` and `stopped`, and allows a
/// runtime to add values for states it does not define: runc adds `paused` (and a
/// transient `pausing`, which we do not need: freezing is one write to the freezer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `create` is under way (step 2 of runtime.md's lifecycle).
    Creating,
    /// `create` finished; the init waits for `start` and has not run the payload.
    Created,
    /// The init has executed the user's program, which has not exited.
    Running,
    /// The container's processes are frozen (runc's addition, `runc pause`).
    Paused,
    /// The init has exited (or never got going); only `delete` remains.
    Stopped,
}

impl Status {
    /// Every status, in lifecycle order (for tables and tests).
    pub const ALL: [Status; 5] =
        [Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped];

    /// The name runtime.md (or runc, for `paused`) gives this status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }

    /// Whether a container may go from `self` to `next`.
    ///
    /// `create` ends in `created` (or in `stopped` when the init dies during it);
    /// `start` turns `created` into `running`; `pause`/`resume` toggle `running` and
    /// `paused`; any living status ends in `stopped` when the init exits or is killed.
    /// Nothing leaves `stopped`: `delete` removes the container instead.
    pub fn can_become(self, next: Status) -> bool {
        todo!("the state machine: list the (from, to) pairs runtime.md and runc allow (the doc comment above names them all; eight pairs)");
    }

    /// `next` if `self` may become it, otherwise an error that says what the user can do.
    pub fn transition(self, next: Status) -> Result<Status, StateError> {
        if self.can_become(next) {
            return Ok(next);
        }
        let hint = match (self, next) {
            (Status::Stopped, _) => "a stopped container can only be deleted; create a new one",
            (Status::Running, Status::Running) => "it is already running",
            (Status::Paused, Status::Paused) => "it is already paused",
            (_, Status::Creating | Status::Created) => {
                "a container is created once; delete it and create it again"
            }
            (_, Status::Paused) => "only a running container can be paused",
            _ => "only a created container can be started, and only a paused one resumed",
        };
        Err(StateError::IllegalTransition { from: self, to: next, hint })
    }

    /// Whether the container's init is supposed to be alive in this status, so that a
    /// vanished init means the container has in fact stopped.
    pub fn expects_live_init(self) -> bool {
        !matches!(self, Status::Stopped)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a container exactly as runtime.md specifies it: what `bang-oci state`
/// prints and what every hook receives on its stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The runtime-spec version the container was created with (config.json's `ociVersion`).
    pub oci_version: String,
    /// The container's id, unique on this host.
    pub id: String,
    /// Where the container is in its lifecycle.
    pub status: Status,
    /// The init's pid as the host sees it; REQUIRED when created or running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The absolute path of the bundle directory (it holds config.json).
    pub bundle: PathBuf,
    /// config.json's annotations; absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl State {
    /// The state as JSON, one line, as hooks read it on stdin.
    pub fn to_json(&self) -> Result<String, StateError> {
        serde_json::to_string(self).map_err(|source| StateError::Serialize { id: self.id.clone(), source })
    }
}

/// Who the container's init is: a pid alone is not enough, because the kernel reuses
/// pids; the pair (pid, start time) names one process for the life of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitProcess {
    /// The pid in the runtime's (the host's) pid namespace.
    pub pid: i32,
    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot when the process started.
    pub start_time: u64,
}

impl InitProcess {
    /// The identity of the living process `pid`, read from `<proc_root>/<pid>/stat`.
    pub fn of(pid: i32, proc_root: &Path) -> Result<InitProcess, StateError> {
        match read_proc_stat(pid, proc_root)? {
            Some(stat) => Ok(InitProcess { pid, start_time: stat.start_time }),
            None => Err(StateError::NoSuchProcess { pid, path: stat_path(pid, proc_root) }),
        }
    }

    /// Whether this very process is still alive: `/proc/<pid>` exists, is not a
    /// zombie (it has exited, its parent just has not reaped it yet) and started at
    /// the recorded time (otherwise the pid now belongs to another process).
    pub fn is_alive(&self, proc_root: &Path) -> Result<bool, StateError> {
        todo!("read_proc_stat(self.pid, proc_root): no such process, a zombie or dead one (state Z, X or x), or another start time all mean \"not alive\"");
    }
}

/// The two fields of `/proc/<pid>/stat` the runtime needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Field 3: R, S, D, Z (zombie), T, t, X (dead), I, …
    pub state: char,
    /// Field 22: start time in clock ticks after boot.
    pub start_time: u64,
}

fn stat_path(pid: i32, proc_root: &Path) -> PathBuf {
    proc_root.join(pid.to_string()).join("stat")
}

/// Reads `<proc_root>/<pid>/stat`; `None` when there is no such process.
///
/// Field 2 is the command name in parentheses, and a process may name itself
/// `a) b (c`: so split after the LAST `)`, never on the first space.
pub fn read_proc_stat(pid: i32, proc_root: &Path) -> Result<Option<ProcStat>, StateError> {
    let path = stat_path(pid, proc_root);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // ESRCH: the process exited between the open and the read.
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            return Ok(None)
        }
        Err(source) => return Err(StateError::ReadStat { path, source }),
    };
    let parse_error = || StateError::ParseStat { path: path.clone(), text: text.clone() };
    let after_comm = text.rfind(')').map(|i| &text[i + 1..]).ok_or_else(parse_error)?;
    // After the `)`, fields start at field 3 (state); field 22 is the 20th of them.
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let state = fields.first().and_then(|s| s.chars().next()).ok_or_else(parse_error)?;
    let start_time = fields.get(19).and_then(|s| s.parse().ok()).ok_or_else(parse_error)?;
    Ok(Some(ProcStat { state, start_time }))
}

/// The runtime's own record of a container, persisted as `state.json` in its state
/// directory: everything a later `bang-oci` process needs to find, start, signal and
/// clean up what `create` made. The OCI [`State`] is derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRecord {
    /// The container's id (also the name of its state directory).
    pub id: String,
    /// config.json's `ociVersion`, reported back in [`State::oci_version`].
    pub oci_version: String,
    /// The status as last written; [`ContainerRecord::live_status`] corrects it.
    pub status: Status,
    /// The init process, once `create` has started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitProcess>,
    /// The absolute path of the bundle.
    pub bundle: PathBuf,
    /// The absolute path of the root filesystem on the host.
    pub rootfs: PathBuf,
    /// The container's cgroup, relative to the cgroup mount (`delete` removes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_path: Option<PathBuf>,
    /// The cgroup existed before `create` (a `cgroupsPath` shared with others), which
    /// joined it: `delete` removes it only when nothing else is left in it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cgroup_joined: bool,
    /// When `create` began.
    pub created: SystemTime,
    /// The uid of the user who created the container.
    pub owner: u32,
    /// config.json's annotations, reported back in [`State::annotations`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Set when the container shares the runtime's mount namespace (config.json has
    /// no `mount` entry): its mounts are made on the host, on this directory of its
    /// state directory, a view of the rootfs of its own; `delete` detaches them
    /// ([`super::mount_namespace::remove_host_view`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_view: Option<PathBuf>,
}

impl ContainerRecord {
    /// The status as it really is now: a container recorded as creating, created,
    /// running or paused whose init has exited (or whose pid has since been given to
    /// another process) has stopped, whatever the record says. Nobody updates the
    /// record when the init dies — there is no daemon — so every reader asks /proc.
    pub fn live_status(&self, proc_root: &Path) -> Result<Status, StateError> {
        if !self.status.expects_live_init() {
            return Ok(self.status);
        }
        match &self.init {
            // A `create` that crashed before starting its init: nothing runs.
            None => Ok(Status::Stopped),
            Some(init) if init.is_alive(proc_root)? => Ok(self.frozen_or_not(self.status)),
            Some(_) => Ok(Status::Stopped),
        }
    }

    /// A running container whose cgroup's freezer holds its tasks is `paused`, and a
    /// paused one whose freezer let go (someone wrote THAWED by hand) is `running`: the
    /// kernel, not the record, says which. When the freezer cannot be read (no freezer
    /// hierarchy) the recorded status stands.
    fn frozen_or_not(&self, status: Status) -> Status {
        use crate::cgroups::{self, FreezerState, Hierarchies};
        let (Status::Running | Status::Paused, Some(path)) = (status, &self.cgroup_path) else {
            return status;
        };
        match Hierarchies::here().and_then(|h| cgroups::open(&h, path)).and_then(|c| c.freezer_state()) {
            Ok(FreezerState::Frozen) => Status::Paused,
            Ok(FreezerState::Thawed | FreezerState::Freezing) => Status::Running,
            Err(_) => status,
        }
    }

    /// The OCI state with `status` (usually [`ContainerRecord::live_status`]); the pid
    /// is given only while the init is supposed to live, as runtime.md asks.
    pub fn state(&self, status: Status) -> State {
        State {
            oci_version: self.oci_version.clone(),
            id: self.id.clone(),
            status,
            pid: if status.expects_live_init() { self.init.map(|i| i.pid) } else { None },
            bundle: self.bundle.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

/// A pidfd for process `pid` (pidfd_open(2), Linux 5.3): a descriptor that names the
/// process itself, not its number, and polls readable once the process has exited.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
