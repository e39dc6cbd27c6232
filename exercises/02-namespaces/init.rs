// Your file for chapter 2: replace each todo!() with working code, then run
// `cargo workshop check 2`. Generated from crates/container/src/namespaces/init.rs by `cargo xtask exercises`;
// `cargo workshop reset 2` gives you a fresh copy.
//! PID 1: the init of a PID namespace, between the runtime and the payload.
//!
//! Chapter 2. The first process of a PID namespace inherits every orphan in it and
//! gets no default signal actions, so it must reap zombies and pass signals on, as
//! tini and `docker run --init` do. Read pid_namespaces(7), wait(2), sigwait(3).

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::NamespaceError;
use crate::process::Exit;

/// The signals passed on to the payload: the ones a runtime, a terminal or an
/// orchestrator sends to stop, reload or resize a program. SIGKILL and SIGSTOP
/// cannot be caught, and reach PID 1 from outside the namespace anyway.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// The forwarded signals and SIGCHLD: what the init loop waits for.
pub fn init_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in FORWARDED {
        set.add(signal);
    }
    set.add(Signal::SIGCHLD);
    set
}

/// Blocks [`init_signals`] in the calling thread, so they wait, pending, until the
/// loop takes them with sigwait(3). Call it before cloning the init and before
/// starting the payload, so no signal can arrive unhandled in between.
///
/// Why blocked signals and sigwait, not handlers: a handler runs at any point of
/// the loop, and may only set a flag; sigwait hands the loop one signal at a time
/// in ordinary code. And the kernel queues a blocked signal even for PID 1, which
/// would silently drop a signal whose action is the default one.
pub fn block_init_signals() -> Result<SigSet, NamespaceError> {
    let set = init_signals();
    set.thread_swap_mask(SigmaskHow::SIG_BLOCK).map_err(NamespaceError::SignalMask)?;
    Ok(set)
}

/// Starts the payload from the init and returns its pid. The signals
/// [`block_init_signals`] blocked are unblocked in the payload between fork and exec:
/// a process inherits its parent's signal mask across both, and a payload with
/// SIGTERM blocked would never see the SIGTERM the init forwards to it.
pub fn spawn_payload(command: &mut Command, signals: &SigSet) -> io::Result<Pid> {
    let signals = *signals;
    // SAFETY: pthread_sigmask is async-signal-safe, and the set was built before fork.
    unsafe { command.pre_exec(move || signals.thread_unblock().map_err(io::Error::from)) };
    let child = command.spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}

/// Makes the caller adopt the orphans of its descendants, as PID 1 does, when it is
/// not PID 1 (no PID namespace was requested). Read PR_SET_CHILD_SUBREAPER in prctl(2).
pub fn become_subreaper() -> Result<(), NamespaceError> {
    nix::sys::prctl::set_child_subreaper(true).map_err(NamespaceError::Subreaper)
}

/// The init loop. Waits for signals blocked by [`block_init_signals`]: on SIGCHLD it
/// reaps every child that has exited (orphans included), on a forwarded signal it
/// sends the same signal to `payload`. Returns how the payload ended, once it has
/// been reaped.
///
/// The caller exits with [`Exit::shell_code`]: the code itself, or 128+n when
/// signal n killed the payload. Re-raising the signal on itself would not work for
/// PID 1: the kernel ignores a signal sent to a namespace's init whose action is
/// the default one, so the init would go on running.
pub fn reap_and_forward(payload: Pid, signals: &SigSet) -> Result<Exit, NamespaceError> {
    let mut payload_exit: Option<Exit> = None;
    while payload_exit.is_none() {
        let signal = match signals.wait() {
            Ok(signal) => signal,
            Err(Errno::EINTR) => continue,
            Err(source) => return Err(NamespaceError::SignalMask(source)),
        };
        if signal == Signal::SIGCHLD {
            todo!("Reap every child that has exited: loop on waitpid(None, Some(WaitPidFlag::WNOHANG)) until StillAlive or ECHILD (one SIGCHLD may stand for many exits); when the pid is the payload, record Exit::Code or Exit::Signal in payload_exit.");
        } else {
            todo!("Forward the signal to the payload with nix::sys::signal::kill; ESRCH (the payload is already gone) is not an error, anything else is NamespaceError::Forward.");
        }
    }
    Ok(payload_exit.expect("the loop ends once the payload's exit is known"))
}
