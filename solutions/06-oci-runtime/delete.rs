// Answer key for chapter 6, generated from crates/container/src/lifecycle/delete.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! `bang-oci delete` (chapter 6): removes a stopped (or, with `--force`, any)
//! container: its processes, its cgroup, its state directory and exec fifo. Read the
//! runtime-spec's runtime.md ("delete"), runc-delete(8), pidfd_open(2).

use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::error::{ControlError, LifecycleError};
use super::hooks::{run_hooks, HookError, HookKind};
use super::state::PROC;
use super::state::{pidfd_open, Status};
use super::store::{Store, StoreError};
use crate::cgroups::{self, CgroupError, Hierarchies};
use crate::spec::Spec;

/// How long a SIGKILLed init may take to die before `delete` gives up.
const KILL_WAIT_SECONDS: u64 = 10;

/// Waits until process `pid` has exited (or is a zombie), with a pidfd: no polling
/// of /proc, and it works for a process that is not our child.
pub fn wait_gone(pid: i32) -> Result<(), LifecycleError> {
    let pidfd = match pidfd_open(pid) {
        Ok(fd) => fd,
        Err(Errno::ESRCH) => return Ok(()),
        Err(source) => return Err(ControlError::Wait { pid, source }.into()),
    };
    let timeout = PollTimeout::try_from((KILL_WAIT_SECONDS * 1000) as i32).expect("fits");
    loop {
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => return Err(ControlError::DoesNotDie { pid, seconds: KILL_WAIT_SECONDS }.into()),
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(source) => return Err(ControlError::Wait { pid, source }.into()),
        }
    }
}

/// Deletes container `id`. A created container is deleted (its init never ran the
/// payload, as runc does); a running or paused one only with `force`, which
/// SIGKILLs it first. Returns the failures of poststop hooks, which are warnings.
///
/// With `force`, an id that does not exist is not an error: the container is gone,
/// which is what was asked. runc behaves so, and podman relies on it: after a failed
/// create it calls `delete --force` for a container that was never recorded.
pub fn delete(store: &Store, id: &str, force: bool) -> Result<Vec<HookError>, LifecycleError> {
    let lock = match store.lock(id) {
        Err(StoreError::UnknownId { .. }) if force => return Ok(Vec::new()),
        other => other?,
    };
    let record = lock.load()?;
    let status = record.live_status(Path::new(PROC))?;
    match status {
        Status::Running | Status::Paused if !force => {
            return Err(ControlError::StillRunning { id: id.to_string(), status }.into())
        }
        Status::Stopped => {}
        _ => {
            let init = record.init.expect("a live status has an init");
            match kill(Pid::from_raw(init.pid), Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(source) => {
                    return Err(ControlError::Signal { pid: init.pid, signal: Signal::SIGKILL, source }.into())
                }
            }
            if status == Status::Paused {
                super::pause::thaw_after_kill(&record)?;
            }
            wait_gone(init.pid)?;
        }
    }
    // A container in the host's mount namespace made its mounts on the host: they go
    // now that nothing of it runs.
    if let Some(view) = &record.host_view {
        super::mount_namespace::remove_host_view(view)?;
    }
    // The cgroup kills what is left (processes the payload forked that escaped the
    // pid namespace's end cannot exist, but `--all` and v1 do not know that).
    // A cgroup the container joined (it existed before `create`) is removed as runc
    // removes it, but only when empty: rmdir(2) of each directory, which the kernel
    // refuses (EBUSY, ENOTEMPTY) while processes or child cgroups are in it. Those
    // are others', and not the runtime's to kill.
    if let Some(path) = &record.cgroup_path {
        match cgroups::open(&Hierarchies::here()?, path) {
            Ok(cgroup) if record.cgroup_joined => {
                for dir in cgroup.dirs() {
                    let _ = std::fs::remove_dir(dir);
                }
            }
            Ok(cgroup) => cgroup.remove()?,
            Err(CgroupError::NotFound { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    // poststop: the container is gone, its state still readable (config.json may be
    // gone with the bundle too, then there is nothing to run).
    let hooks = Spec::load(&record.bundle).ok().and_then(|spec| spec.hooks).unwrap_or_default();
    let warnings = run_hooks(HookKind::Poststop, &hooks.poststop, &record.state(Status::Stopped))?;
    lock.remove()?;
    Ok(warnings)
}
