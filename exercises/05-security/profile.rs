// Your file for chapter 5: replace each todo!() with working code, then run
// `cargo workshop check 5`. Generated from crates/container/src/security/profile.rs by `cargo xtask exercises`;
// `cargo workshop reset 5` gives you a fresh copy.
//! A container's security profile: what config.json asks for, prepared before the
//! rootfs is entered, and applied in order just before the payload is executed.

use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::capabilities::{CapSets, LinuxCapabilities};
use super::rlimits::{PosixRlimit, Rlimit};
use super::seccomp::{Filter, LinuxSeccomp};
use super::{capabilities, fds, rlimits, seccomp, SecurityError};

/// The OCI `process.user` object: who the payload runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_gids: Vec<u32>,
}

/// The security-relevant fields of OCI `process`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSecurity {
    /// Absent: the capability sets are left as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<LinuxCapabilities>,
    #[serde(default)]
    pub no_new_privileges: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rlimits: Vec<PosixRlimit>,
    /// Absent: the user is left as it is (root, for a runtime started by root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The payload's working directory, a path inside the container.
    #[serde(default = "root_dir")]
    pub cwd: PathBuf,
}

fn root_dir() -> PathBuf {
    PathBuf::from("/")
}

impl Default for ProcessSecurity {
    fn default() -> Self {
        Self {
            capabilities: None,
            no_new_privileges: false,
            rlimits: Vec::new(),
            user: None,
            cwd: root_dir(),
        }
    }
}

/// The security-relevant fields of OCI `linux`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinuxSecurity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<LinuxSeccomp>,
}

/// The OCI `root` object's `readonly`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootSecurity {
    #[serde(default)]
    pub readonly: bool,
}

/// The parts of an OCI config.json that lock a container down, under the same
/// keys, so a whole config.json (or a file with just these keys) deserializes
/// into it; other keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub process: ProcessSecurity,
    #[serde(default)]
    pub linux: LinuxSecurity,
    #[serde(default)]
    pub root: RootSecurity,
}

/// A profile with every name resolved, every limit checked and the seccomp
/// program assembled: what is left to do cannot fail on bad input. Serializable,
/// so that the runtime prepares it once and hands it to the container's init.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    pub readonly_root: bool,
    pub rlimits: Vec<Rlimit>,
    pub capabilities: Option<CapSets>,
    pub user: Option<User>,
    pub no_new_privileges: bool,
    pub cwd: PathBuf,
    /// Descriptor numbers below this can be open: the RLIMIT_NOFILE hard limit
    /// before the profile's rlimits apply (`fds::descriptor_limit`), the bound of
    /// closing one by one where close_range(2) is refused.
    pub fd_limit: u32,
    /// The BPF program and the seccomp(2) flags.
    #[serde(with = "bpf_program")]
    pub seccomp: Option<(Vec<libc::sock_filter>, u32)>,
}

/// A BPF program as (code, jt, jf, k) tuples: libc's `sock_filter` has no serde.
mod bpf_program {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Wire = Option<(Vec<(u16, u8, u8, u32)>, u32)>;

    pub fn serialize<S: Serializer>(
        program: &Option<(Vec<libc::sock_filter>, u32)>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let wire: Wire = program
            .as_ref()
            .map(|(insns, flags)| (insns.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect(), *flags));
        wire.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<(Vec<libc::sock_filter>, u32)>, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        Ok(wire.map(|(insns, flags)| {
            (
                insns.into_iter().map(|(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k }).collect(),
                flags,
            )
        }))
    }
}

impl Profile {
    /// Checks the whole profile against this machine without changing anything:
    /// run it before creating the container, so bad input leaves nothing behind.
    pub fn prepare(&self) -> Result<Prepared, SecurityError> {
        let sys_resource = capabilities::number("CAP_SYS_RESOURCE").expect("in the table");
        let can_raise = capabilities::current()?.effective & (1 << sys_resource) != 0;
        let seccomp = match &self.linux.seccomp {
            Some(spec) => {
                let filter = Filter::from_spec(spec)?;
                Some((filter.program()?, filter.flags))
            }
            None => None,
        };
        Ok(Prepared {
            readonly_root: self.root.readonly,
            rlimits: rlimits::check(&self.process.rlimits, can_raise)?,
            capabilities: self.process.capabilities.as_ref().map(CapSets::from_spec).transpose()?,
            user: self.process.user.clone(),
            no_new_privileges: self.process.no_new_privileges,
            cwd: self.process.cwd.clone(),
            fd_limit: fds::descriptor_limit(),
            seccomp,
        })
    }
}

impl Prepared {
    /// Locks this process down, step by step, and returns so the caller can
    /// execve(2) the payload at once. Run it in a single-threaded process (the
    /// runtime's init) that is already inside the container's root.
    /// Descriptors other than 0–2 and `preserve` are closed, first of all.
    pub fn apply(&self, preserve: &[RawFd]) -> Result<(), SecurityError> {
        todo!("Apply the steps in this order: read-only root, close fds (fds::close_fds_except with self.fd_limit), enter cwd, rlimits, seccomp early only when no_new_privileges is off, drop the bounding set, keep caps + set_user, capset (set_pei), ambient, no_new_privs, and seccomp last when no_new_privileges is on.");
    }

    fn install_seccomp(&self) -> Result<(), SecurityError> {
        if let Some((program, flags)) = &self.seccomp {
            seccomp::install(program, *flags)?;
        }
        Ok(())
    }
}

/// Sets no_new_privs: from now on execve(2) never grants privileges (set-user-ID
/// bits and file capabilities are ignored). It cannot be unset, and is inherited.
pub fn set_no_new_privs() -> Result<(), SecurityError> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(SecurityError::NoNewPrivs { source: io::Error::last_os_error() });
    }
    Ok(())
}

/// Becomes `user`: supplementary groups, then gid, then uid (after the uid
/// changes, the right to change the others is gone).
pub fn set_user(user: &User) -> Result<(), SecurityError> {
    let fail = |source| SecurityError::User {
        uid: user.uid,
        gid: user.gid,
        additional: user.additional_gids.clone(),
        source,
    };
    let groups: Vec<libc::gid_t> = user.additional_gids.clone();
    // In a user namespace an unprivileged user made, setgroups(2) is denied for good
    // (user_namespaces(7), /proc/<pid>/setgroups "deny"): there is then no group list
    // to drop, and one to set cannot be had. The kernel's EPERM is the answer, not
    // the setgroups file: this runs after pivot_root, where /proc is the image's to
    // fake, and a fake "deny" would let the payload keep the runtime's groups. The
    // caller holds CAP_SETGID in its namespace, so EPERM means the namespace's deny.
    // SAFETY: setgroups reads `groups.len()` ids from the slice we pass.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        let source = io::Error::last_os_error();
        match source.raw_os_error() {
            Some(libc::EPERM) if groups.is_empty() => {}
            Some(libc::EPERM) => {
                return Err(fail(io::Error::other(
                    "additional gids need setgroups(2), which was refused (EPERM): a user namespace made by an unprivileged user denies it; remove process.user.additionalGids",
                )))
            }
            _ => return Err(fail(source)),
        }
    }
    // SAFETY: the two calls read only the values we pass.
    unsafe {
        if libc::setresgid(user.gid, user.gid, user.gid) != 0 {
            return Err(fail(io::Error::last_os_error()));
        }
        if libc::setresuid(user.uid, user.uid, user.uid) != 0 {
            return Err(fail(io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Remounts the container's root (this process's `/`) read-only, keeping its
/// other per-mount flags (nosuid, nodev, noexec), which a remount would
/// otherwise clear, or fail to clear where a user namespace has locked them.
/// Chapter 3 makes the root a mount point with pivot_root; this is the last
/// mount a container's init makes.
pub fn remount_root_readonly() -> Result<(), SecurityError> {
    let fail = |source| SecurityError::ReadonlyRoot { source };
    // SAFETY: statvfs is plain old data, for which all zeroes is a valid value.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs fills the struct we pass for a NUL-terminated path.
    if unsafe { libc::statvfs(c"/".as_ptr(), &mut stat) } != 0 {
        return Err(fail(io::Error::last_os_error()));
    }
    let mut flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    for (st, ms) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if stat.f_flag & st != 0 {
            flags |= ms;
        }
    }
    // SAFETY: mount with NUL-terminated strings and null pointers where allowed.
    let rc =
        unsafe { libc::mount(std::ptr::null(), c"/".as_ptr(), std::ptr::null(), flags, std::ptr::null()) };
    if rc != 0 {
        return Err(fail(io::Error::last_os_error()));
    }
    Ok(())
}
