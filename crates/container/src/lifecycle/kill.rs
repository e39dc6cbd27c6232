//! `bang-oci kill` (chapter 6): sends a signal to a container's init, or with `--all`
//! to every process in its cgroup. Read kill(2), signal(7) and runc-kill(8).

use std::path::Path;
use std::str::FromStr;

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use super::error::{ControlError, LifecycleError};
use super::state::Status;
use super::state::PROC;
use super::store::Store;
use crate::cgroups::{self, Hierarchies};

// ANCHOR: parse_signal
/// A signal as runc accepts it: a number (`9`), a name (`KILL`), or a name with its
/// prefix (`SIGKILL`), in any case.
pub fn parse_signal(text: &str) -> Result<Signal, LifecycleError> {
    let unknown = || LifecycleError::from(ControlError::UnknownSignal { name: text.to_string() });
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| unknown());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    Signal::from_str(&name).map_err(|_| unknown())
}
// ANCHOR_END: parse_signal

// ANCHOR: kill
/// Sends `signal` to container `id`'s init (created, running or paused), or with
/// `all` to every process of its cgroup.
pub fn kill(store: &Store, id: &str, signal: Signal, all: bool) -> Result<(), LifecycleError> {
    // exercise: load the record, take its live_status; a stopped container (or one without an init) → NotRunning; signal the init, or with `all` every pid of cgroups::open(&Hierarchies::here()?, path)?.procs(); a process gone meanwhile (ESRCH) is fine; SIGKILL to a paused container: then super::pause::thaw_after_kill(&record)
    let record = store.load(id)?;
    let status = record.live_status(Path::new(PROC))?;
    let init = match (status, record.init) {
        (Status::Stopped, _) | (_, None) => {
            return Err(ControlError::NotRunning { id: id.to_string(), status }.into())
        }
        (_, Some(init)) => init,
    };
    let mut pids = vec![init.pid];
    if all {
        if let Some(path) = &record.cgroup_path {
            pids = cgroups::open(&Hierarchies::here()?, path)?.procs()?;
        }
    }
    for pid in pids {
        match signal::kill(Pid::from_raw(pid), signal) {
            // Gone between the check and the signal: nothing left to signal.
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(source) => return Err(ControlError::Signal { pid, signal, source }.into()),
        }
    }
    if status == Status::Paused && signal == Signal::SIGKILL {
        super::pause::thaw_after_kill(&record)?;
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: kill

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_number_name_and_prefixed_name() {
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("SIGHUP").unwrap(), Signal::SIGHUP);
        assert_eq!(parse_signal("usr1").unwrap(), Signal::SIGUSR1);
        for bad in ["0", "65", "", "SIGNOPE", "-9"] {
            let err = parse_signal(bad).unwrap_err().to_string();
            assert!(err.starts_with("unknown signal"), "{bad}: {err}");
        }
    }
}
