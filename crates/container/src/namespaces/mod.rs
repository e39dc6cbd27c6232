//! Namespaces: what a process sees of the machine, one kind of resource at a time.
//!
//! Chapter 2 builds a child with its own hostname (UTS), process ids (PID), mount
//! table, IPC objects, network stack, user and group ids and cgroup root, chosen by
//! the caller. Read namespaces(7), clone(2), unshare(2), setns(2).
//!
//! # Layout
//! - `kind`: [`Namespace`], its clone(2) flag and /proc name, and a requested set of
//!   them ([`Namespaces`]).
//! - `error`: the module's one error type, [`NamespaceError`].
//! - `spawn`: clone(2) a child into new namespaces, and the parent/child handshake.
//! - `idmap`: user namespace id maps, checked, and written for the child by the parent.
//! - `uts`: the hostname of a new UTS namespace.
//! - `join`: setns(2) into namespaces that exist, the user namespace in its place.
//! - `init`: PID 1's job: reap every child, forward signals to the payload.

pub mod error;
pub mod idmap;
pub mod init;
pub mod join;
pub mod kind;
pub mod spawn;
pub mod uts;

pub use error::NamespaceError;
pub use idmap::{IdKind, IdMap, Setgroups};
pub use join::join_in_order;
pub use kind::{Namespace, Namespaces};
