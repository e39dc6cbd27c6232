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

pub mod fifo;
pub mod hooks;
pub mod state;
pub mod store;
