//! `bang-oci run` (chapter 6): create, start, wait for the payload and delete, in one
//! process, passing the payload's exit status through (128+n for signal n, as a shell
//! reports it) and the signals it receives on to the container. Read runc-run(8),
//! wait(2), sigwait(3), and PR_SET_CHILD_SUBREAPER in prctl(2).

use nix::unistd::Pid;

use super::create::{create, CreateOptions};
use super::delete::delete;
use super::error::LifecycleError;
use super::hooks::HookError;
use super::start::start;
use super::store::Store;
use crate::namespaces::init::{become_subreaper, block_init_signals, reap_and_forward};

/// How `run` ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The payload's exit code, or 128+n when signal n killed it (0 with `detach`).
    pub code: i32,
    /// Failed poststart and poststop hooks: warnings.
    pub warnings: Vec<HookError>,
}

// ANCHOR: run
/// Runs a container to its end and returns the exit status to pass on; with
/// `detach`, returns 0 once it has started and leaves it running.
///
/// The container's init is a grandchild (stage 0 of `bang-oci init` forks it and
/// exits); as a child subreaper this process inherits it, so it can wait(2) for it.
pub fn run(store: &Store, options: &CreateOptions, detach: bool) -> Result<RunOutcome, LifecycleError> {
    // Blocked before anything starts, so a signal sent to `bang-oci run` while the
    // container is being created waits, pending, for the loop below to forward it.
    // (Command::spawn resets the mask in `bang-oci init`, so the container does not
    // inherit it.)
    let signals = if detach { None } else { Some(block_init_signals()?) };
    if !detach {
        become_subreaper()?;
    }
    let record = create(store, options)?;
    let mut warnings = match start(store, &options.id) {
        Ok(warnings) => warnings,
        Err(err) => {
            let _ = delete(store, &options.id, true);
            return Err(err);
        }
    };
    let Some(signals) = signals else {
        return Ok(RunOutcome { code: 0, warnings });
    };
    let pid = Pid::from_raw(record.init.expect("created").pid);
    // Chapter 2's init loop: reap, and pass SIGTERM, SIGINT, SIGHUP… on to the
    // container's init, as `runc run` does.
    let code = match reap_and_forward(pid, &signals) {
        Ok(exit) => exit.shell_code(),
        Err(err) => {
            let _ = delete(store, &options.id, true);
            return Err(err.into());
        }
    };
    warnings.extend(delete(store, &options.id, true)?);
    Ok(RunOutcome { code, warnings })
}
// ANCHOR_END: run
