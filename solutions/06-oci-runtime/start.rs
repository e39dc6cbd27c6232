// Answer key for chapter 6, generated from crates/container/src/lifecycle/start.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! `bang-oci start` (chapter 6): lets a created container's init exec the payload, by
//! opening the exec fifo it waits on. Read the runtime-spec's runtime.md ("start")
//! and runc-start(8).

use std::path::Path;

use super::error::{ControlError, LifecycleError};
use super::fifo::ExecFifo;
use super::hooks::{run_hooks, HookError, HookKind};
use super::state::Status;
use super::state::PROC;
use super::store::Store;
use crate::spec::Spec;

/// Starts container `id`: only a `created` one, once. Returns the failures of
/// poststart hooks, which are warnings (the payload already runs).
pub fn start(store: &Store, id: &str) -> Result<Vec<HookError>, LifecycleError> {
    let lock = store.lock(id)?;
    let mut record = lock.load()?;
    let status = record.live_status(Path::new(PROC))?;
    let init = match (status, record.init) {
        (Status::Created, Some(init)) => init,
        _ => return Err(ControlError::NotCreated { id: id.to_string(), status }.into()),
    };
    ExecFifo::at(lock.dir()).start(&init)?;
    record.status = record.status.transition(Status::Running)?;
    lock.save(&record)?;
    let hooks = Spec::load(&record.bundle).ok().and_then(|spec| spec.hooks).unwrap_or_default();
    Ok(run_hooks(HookKind::Poststart, &hooks.poststart, &record.state(Status::Running))?)
}
