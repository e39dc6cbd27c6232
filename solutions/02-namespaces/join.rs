// Answer key for chapter 2, generated from crates/container/src/namespaces/join.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! Joining namespaces that exist (chapter 2, used by chapter 6's `create` for
//! config.json's `linux.namespaces[].path` and by `exec`): setns(2) into each, in an
//! order that works when one of them is a user namespace. Read setns(2),
//! user_namespaces(7) and runc's libcontainer/nsenter/nsexec.c (join_namespaces).

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};

use super::Namespace;

/// setns(2) into each namespace, in runc's order: all but the user namespace first
/// (one owned by the host's user namespace may be out of reach from inside the
/// container's), then the user namespace, after which `in_user` runs (the caller
/// becomes the namespace's root there), then what is left (in a user namespace, the
/// others belong to it and need its capabilities). `fail` names what was joined in
/// an error.
pub fn join_in_order<E>(
    namespaces: Vec<(Namespace, OwnedFd)>,
    fail: impl Fn(Namespace, Errno) -> E,
    in_user: impl FnOnce() -> Result<(), E>,
) -> Result<(), E> {
    let (user, others): (Vec<_>, Vec<_>) = namespaces.into_iter().partition(|(ns, _)| *ns == Namespace::User);
    let user = user.into_iter().next().map(|(_, fd)| fd);
    let mut left = Vec::new();
    for (namespace, fd) in others {
        match setns(&fd, namespace.clone_flag()) {
            Ok(()) => {}
            // Perhaps allowed once inside the user namespace: tried again below.
            Err(Errno::EPERM) if user.is_some() => left.push((namespace, fd)),
            Err(source) => return Err(fail(namespace, source)),
        }
    }
    if let Some(fd) = user {
        setns(&fd, CloneFlags::CLONE_NEWUSER).map_err(|source| fail(Namespace::User, source))?;
        in_user()?;
    }
    for (namespace, fd) in left {
        setns(&fd, namespace.clone_flag()).map_err(|source| fail(namespace, source))?;
    }
    Ok(())
}
