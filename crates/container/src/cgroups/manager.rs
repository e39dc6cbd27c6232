//! The interface both drivers implement (chapter 4): [`CgroupManager`], one
//! container's cgroup whichever version holds it, what its freezer says, and how long
//! kill and freeze wait. Read cgroups(7).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::error::CgroupError;
use super::stats::Stats;
use super::valid::ValidResources;
use super::version::Version;

// ANCHOR: manager
/// One container's cgroup, whichever version holds it. Both drivers implement it.
pub trait CgroupManager: fmt::Debug + Send + Sync {
    /// The interface this cgroup lives in.
    fn version(&self) -> Version;
    /// The directories that make up the cgroup (one per v1 hierarchy, one on v2).
    fn dirs(&self) -> Vec<PathBuf>;
    /// Writes the limits. They are validated already (the type says so), so the driver
    /// checks only what its version cannot do, before it writes anything.
    fn apply(&self, resources: &ValidResources) -> Result<(), CgroupError>;
    /// Moves process `pid` (and all its threads) into the cgroup.
    fn join(&self, pid: i32) -> Result<(), CgroupError>;
    /// The processes in the cgroup (its own `cgroup.procs`, not its children's).
    fn procs(&self) -> Result<Vec<i32>, CgroupError>;
    /// Reads the counters.
    fn stats(&self) -> Result<Stats, CgroupError>;
    /// SIGKILLs every process in the cgroup and waits until they have left it.
    fn kill(&self) -> Result<(), CgroupError>;
    /// Kills what is left, then removes the cgroup's directories bottom-up.
    fn remove(&self) -> Result<(), CgroupError>;
    /// Freezes (`Frozen`, returning once every task has stopped) or thaws (`Thawed`)
    /// every task of the cgroup: what `pause` and `resume` do to a container.
    fn set_freezer(&self, state: FreezerState) -> Result<(), CgroupError>;
    /// What the freezer says now.
    fn freezer_state(&self) -> Result<FreezerState, CgroupError>;
}
// ANCHOR_END: manager

/// What the freezer says of a cgroup (v1 `freezer.state`, v2 `cgroup.freeze` and the
/// `frozen` line of `cgroup.events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FreezerState {
    /// The tasks run.
    Thawed,
    /// Asked to freeze; some tasks have not stopped yet.
    Freezing,
    /// Every task is stopped in the kernel and will not run until thawed.
    Frozen,
}

/// How long [`CgroupManager::set_freezer`] waits for the tasks to stop before it thaws
/// them again and gives up.
pub const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`CgroupManager::kill`] waits for killed tasks to leave the cgroup, and
/// [`remove_bottom_up`](super::files::remove_bottom_up) retries rmdir(2) on EBUSY.
pub const KILL_TIMEOUT: Duration = Duration::from_secs(5);
