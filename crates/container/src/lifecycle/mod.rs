//! The container lifecycle (chapter 6): the state a container is in, where the
//! runtime keeps it between invocations, the hooks it runs, and how `create` hands
//! over to `start`. Read the runtime-spec's runtime.md ("State", "Lifecycle",
//! "Operations") and config.md ("POSIX-platform Hooks").
//!
//! # Layout
//! - `state`: the OCI `State` (what `bang-oci state` prints and hooks read), the
//!   `Status` machine, and the runtime's own `ContainerRecord` with the live-status
//!   check against /proc (pid + start time, so a reused pid is not mistaken for ours).
//! - `store`: the state directory (`/run/bang-oci/<id>/`): validated ids, atomic
//!   create/save, load, list, remove, and flock(2) between concurrent `bang-oci`s.
//! - `hooks`: running one OCI hook with the state on stdin and a timeout; which kinds
//!   abort and which only warn.
//! - `fifo`: the exec fifo that keeps a created container's init waiting for `start`.
//! - `protocol`: the socket between the runtime and `bang-oci init`: the request
//!   and message types, one send, one receive, and starting the init.
//! - `init`: `bang-oci init`, the container's init: the clone into the namespaces,
//!   the set-up, the wait and the execve.
//! - `process`: what the init and `exec` both do for the payload: find the program,
//!   give it a `HOME`, adjust its security profile.
//! - `plan`: what `create` derives from config.json, once (namespaces, rootfs,
//!   cgroup and limits, the prepared security profile), and hands to the init.
//! - `create`, `start`, `kill`, `delete`, `run`: one verb each, as youki has them;
//!   the `bang-oci` binary only parses its command line and prints.
//! - `pause`, `update`: freeze and thaw a container's cgroup, and change its limits
//!   while it runs (runc-pause(8), runc-update(8)).
//! - `exec`, `ps`: a new process in a running container (setns into its init's
//!   namespaces, its cgroup, its own security profile); the container's pids.
//! - `console`: `process.terminal`, a pty from the container's devpts whose master
//!   goes to the caller over `--console-socket` (SCM_RIGHTS).
//! - `mount_namespace`: whose mount namespace the container's mounts go into, and
//!   the host view a container without one of its own has its tree on.
//! - `error`: [`LifecycleError`], joining the lower modules' errors and the
//!   lifecycle's own by concern (create, control verbs, exec, the protocol).
//! - `init_error`: [`InitError`], what the init reports, a value that crosses the
//!   socket and is matched on the runtime's side.
//!
//! # How `create` hands over to `start`
//! `create` and `start` are two processes, and the init must be fully set up (its
//! namespaces, mounts, cgroup, pid file) when `create` returns, yet must not run the
//! payload before `start`. We use runc's mechanism, a fifo `exec.fifo` in the
//! container's state directory: the init, as its last step before execve, opens it
//! for writing, which blocks in the kernel until `start` opens it for reading; the
//! init writes one byte and execs; `start` reads the byte and removes the fifo, so a
//! second `start` finds none and fails clearly. Why a fifo:
//! - it needs no process besides the init between `create` and `start` (podman runs
//!   each verb as a separate `bang-oci` and keeps only conmon around);
//! - the waiting costs nothing and survives the runtime exiting: the state lives in
//!   the kernel and the file system, not in a process that could crash;
//! - `start` learns the init got through (the byte), or that it died (a pidfd polled
//!   next to the fifo), without timers.
//!
//! Rejected: a unix socket would work the same but needs a listener and a protocol
//! for one bit; a pipe held by a long-lived monitor (a shim per container, as
//! containerd-shim is) adds a process whose crash strands the container; a signal
//! (SIGCONT to a stopped init) can be sent by anyone, and is lost if it comes early.

pub mod console;
pub mod create;
pub mod delete;
pub mod error;
pub mod exec;
pub mod fifo;
pub mod hooks;
pub mod init;
pub mod init_error;
pub mod kill;
pub mod mount_namespace;
pub mod pause;
pub mod plan;
pub mod process;
pub mod protocol;
pub mod ps;
pub mod run;
pub mod start;
pub mod state;
pub mod store;
pub mod update;

pub use create::{create, CreateOptions};
pub use delete::delete;
pub use error::{ControlError, CreateError, ExecError, LifecycleError, ProtocolError};
pub use exec::{exec, ExecOptions, ExecProcess, ProcessFlags};
pub use init_error::{FailureKind, InitError};
pub use kill::{kill, parse_signal};
pub use pause::{pause, resume};
pub use plan::{default_cgroup_path, ContainerPlan, InitPlan};
pub use ps::ps;
pub use run::{run, RunOutcome};
pub use start::start;
pub use state::PROC;
pub use update::update;
