// Your file for chapter 2: replace each todo!() with working code, then run
// `cargo workshop check 2`. Generated from crates/container/src/namespaces/uts.rs by `cargo xtask exercises`;
// `cargo workshop reset 2` gives you a fresh copy.
//! The hostname of a new UTS namespace.
//!
//! Chapter 2. A UTS namespace holds the two names uname(2) reports besides the
//! kernel's: the hostname and the NIS domain name. Setting one in a new namespace
//! leaves the host's alone. Read uts_namespaces(7), sethostname(2).

use super::{Namespace, NamespaceError, Namespaces};

/// The longest hostname the kernel accepts (`HOST_NAME_MAX`, sethostname(2)).
pub const HOST_NAME_MAX: usize = 64;

/// Checks `name` before anything is created: 1 to 64 characters, letters, digits,
/// `-` and `.`, not starting with `-` (RFC 1123). The kernel itself only checks the
/// length; a name with spaces or slashes would break every tool that prints it.
pub fn check_hostname(name: &str) -> Result<(), NamespaceError> {
    let bad = |reason| Err(NamespaceError::BadHostname { name: name.to_owned(), reason });
    if name.is_empty() {
        return bad("it is empty; give a name such as `box1`");
    }
    if name.len() > HOST_NAME_MAX {
        return bad("it is longer than 64 characters, the kernel's limit");
    }
    if name.starts_with('-') || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return bad("use letters, digits, '-' and '.', and do not start with '-'");
    }
    Ok(())
}

/// Checks a requested hostname against the requested namespaces: without a UTS
/// namespace of its own, setting one would rename the host.
pub fn check_uts(namespaces: &Namespaces, hostname: Option<&str>) -> Result<(), NamespaceError> {
    match hostname {
        None => Ok(()),
        Some(name) if !namespaces.contains(Namespace::Uts) => {
            Err(NamespaceError::HostnameWithoutUts { name: name.to_owned() })
        }
        Some(name) => check_hostname(name),
    }
}

/// Sets the hostname of the calling process's UTS namespace. Call it in the child,
/// inside the new namespace: anywhere else it renames the host.
pub fn set_hostname(name: &str) -> Result<(), NamespaceError> {
    check_hostname(name)?;
    todo!("Give the UTS namespace its hostname with nix::unistd::sethostname; an error becomes NamespaceError::SetHostname naming the hostname.");
}
