//! `bang-oci pause` and `bang-oci resume` (chapter 6): freeze every process of a
//! running container where it stands, and let it go on later, with the cgroup freezer
//! (chapter 4). Read runc-pause(8), runc-resume(8), and the kernel's
//! admin-guide/cgroup-v1/freezer-subsystem.rst and cgroup-v2.rst ("cgroup.freeze").
//!
//! Why the freezer and not SIGSTOP: a stopped process is visible to its parent
//! (waitpid reports it), the payload can catch SIGTSTP or be sent SIGCONT by anyone
//! in the container, and a process forked meanwhile would not be stopped. A frozen
//! cgroup is stopped from outside, all of it, without the payload noticing.

use std::path::Path;

use super::error::{ControlError, LifecycleError};
use super::state::PROC;
use super::state::{ContainerRecord, Status};
use super::store::Store;
use crate::cgroups::{self, CgroupManager, FreezerState, Hierarchies};

/// The container's cgroup, for `what` (a verb for the error).
fn cgroup_of(record: &ContainerRecord, what: &'static str) -> Result<Box<dyn CgroupManager>, LifecycleError> {
    let path = record.cgroup_path.as_ref().ok_or(ControlError::NoCgroup { id: record.id.clone(), what })?;
    Ok(cgroups::open(&Hierarchies::here()?, path)?)
}

// ANCHOR: pause
/// Pauses container `id`: freezes its cgroup and returns once every task is frozen.
/// Only a running container can be paused.
pub fn pause(store: &Store, id: &str) -> Result<(), LifecycleError> {
    let lock = store.lock(id)?;
    let mut record = lock.load()?;
    let status = record.live_status(Path::new(PROC))?;
    if status != Status::Running {
        return Err(ControlError::CannotPause { id: id.to_string(), status }.into());
    }
    cgroup_of(&record, "paused")?.set_freezer(FreezerState::Frozen)?;
    record.status = Status::Paused;
    lock.save(&record)?;
    Ok(())
}

/// Resumes the paused container `id`: thaws its cgroup.
pub fn resume(store: &Store, id: &str) -> Result<(), LifecycleError> {
    let lock = store.lock(id)?;
    let mut record = lock.load()?;
    let status = record.live_status(Path::new(PROC))?;
    if status != Status::Paused {
        return Err(ControlError::CannotResume { id: id.to_string(), status }.into());
    }
    cgroup_of(&record, "resumed")?.set_freezer(FreezerState::Thawed)?;
    record.status = Status::Running;
    lock.save(&record)?;
    Ok(())
}
// ANCHOR_END: pause

// ANCHOR: thaw_after_kill
/// After SIGKILL to a paused container: a frozen task acts on a signal only once it
/// runs again (v1 holds even SIGKILL until the thaw; v2 lets a fatal signal through,
/// where the thaw does no harm), so `kill` and `delete --force` thaw the cgroup, as
/// runc does, or the processes would sit frozen forever with their SIGKILL pending.
pub fn thaw_after_kill(record: &ContainerRecord) -> Result<(), LifecycleError> {
    Ok(cgroup_of(record, "thawed")?.set_freezer(FreezerState::Thawed)?)
}
// ANCHOR_END: thaw_after_kill
