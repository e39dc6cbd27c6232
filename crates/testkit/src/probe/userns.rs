//! Unprivileged user namespaces: the sysctls that switch them off or make them
//! powerless, and a live probe that creates one as an unprivileged user and uses
//! CAP_SYS_ADMIN in it. Read user_namespaces(7).

use std::fs;
use std::path::Path;

use nix::sched::CloneFlags;
use nix::unistd::{Gid, Uid};
use serde::Serialize;

use super::live::{at, in_child, IdMaps};
use super::{is_root, Attempt, ProbeError};

/// The sysctls that switch unprivileged user namespaces off or make them powerless.
/// `None` when the file does not exist on this kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UsernsSysctls {
    /// Debian's and older Ubuntu's `kernel.unprivileged_userns_clone` (0 = off).
    pub unprivileged_userns_clone: Option<u64>,
    /// `user.max_user_namespaces` (0 = no user namespaces for anybody but root).
    pub max_user_namespaces: Option<u64>,
    /// Ubuntu 23.10+'s `kernel.apparmor_restrict_unprivileged_userns` (1 = created but powerless).
    pub apparmor_restrict_unprivileged_userns: Option<u64>,
}

/// What the sysctls say about unprivileged user namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsernsPolicy {
    /// Nothing forbids them.
    Allowed,
    /// `kernel.unprivileged_userns_clone = 0`: unshare(CLONE_NEWUSER) fails with EPERM.
    DisabledByUnprivilegedUsernsClone,
    /// `user.max_user_namespaces = 0`: unshare(CLONE_NEWUSER) fails with ENOSPC.
    MaxUserNamespacesZero,
    /// AppArmor restriction: the namespace is created but holds no capabilities.
    AppArmorRestricted,
}

impl UsernsPolicy {
    /// The one-line fix, empty when allowed.
    pub fn fix(self) -> &'static str {
        match self {
            UsernsPolicy::Allowed => "",
            UsernsPolicy::DisabledByUnprivilegedUsernsClone => {
                "sudo sysctl kernel.unprivileged_userns_clone=1, or run the chapters with sudo"
            }
            UsernsPolicy::MaxUserNamespacesZero => {
                "sudo sysctl user.max_user_namespaces=15000, or run the chapters with sudo"
            }
            UsernsPolicy::AppArmorRestricted => {
                "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0, or run the chapters with sudo"
            }
        }
    }
}

impl UsernsSysctls {
    /// Reads the three sysctls under `proc_sys` (`/proc/sys` on a live machine).
    pub fn read(proc_sys: &Path) -> Self {
        let number =
            |rel: &str| -> Option<u64> { fs::read_to_string(proc_sys.join(rel)).ok()?.trim().parse().ok() };
        Self {
            unprivileged_userns_clone: number("kernel/unprivileged_userns_clone"),
            max_user_namespaces: number("user/max_user_namespaces"),
            apparmor_restrict_unprivileged_userns: number("kernel/apparmor_restrict_unprivileged_userns"),
        }
    }

    /// The live machine's sysctls.
    pub fn here() -> Self {
        Self::read(Path::new("/proc/sys"))
    }

    /// What they add up to; a switch that is off wins over the AppArmor restriction.
    pub fn policy(&self) -> UsernsPolicy {
        if self.unprivileged_userns_clone == Some(0) {
            UsernsPolicy::DisabledByUnprivilegedUsernsClone
        } else if self.max_user_namespaces == Some(0) {
            UsernsPolicy::MaxUserNamespacesZero
        } else if self.apparmor_restrict_unprivileged_userns == Some(1) {
            UsernsPolicy::AppArmorRestricted
        } else {
            UsernsPolicy::Allowed
        }
    }
}

/// What an unprivileged process really got from unshare(CLONE_NEWUSER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernsVerdict {
    /// Created, id maps written, and CAP_SYS_ADMIN inside it worked (a UTS namespace and
    /// sethostname).
    Works,
    /// Created but powerless (Ubuntu's AppArmor restriction looks like this).
    Powerless(Attempt),
    /// unshare(CLONE_NEWUSER) itself was refused.
    Refused(Attempt),
    /// The probe could not become the unprivileged user it tests as.
    Untested(Attempt),
}

impl UsernsVerdict {
    pub fn works(&self) -> bool {
        matches!(self, UsernsVerdict::Works)
    }
}

/// The uid and gid a root process drops to for the unprivileged test: nobody/nogroup.
pub const NOBODY: u32 = 65534;

const USERNS_STEPS: &[&str] = &[
    "setgroups([])",
    "setgid(65534)",
    "setuid(65534)",
    "prctl(PR_SET_DUMPABLE)",
    "unshare(CLONE_NEWUSER)",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
    "unshare(CLONE_NEWUTS) inside the user namespace",
    "sethostname inside the user namespace",
];
const USERNS_UNSHARE_STEP: &str = "unshare(CLONE_NEWUSER)";

/// Tests unprivileged user namespaces for real: as root from uid/gid 65534 (a forked child
/// drops to it), otherwise as the current user. The child creates a user namespace, maps
/// root onto itself, then needs CAP_SYS_ADMIN in it: a new UTS namespace and sethostname.
pub fn userns_unprivileged() -> Result<UsernsVerdict, ProbeError> {
    let root = is_root();
    let (uid, gid) = if root {
        (NOBODY, NOBODY)
    } else {
        (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())
    };
    let maps = IdMaps::root_onto(uid, gid);
    let attempt = in_child(USERNS_STEPS, || {
        if root {
            at(0, nix::unistd::setgroups(&[]))?;
            at(1, nix::unistd::setgid(Gid::from_raw(gid)))?;
            at(2, nix::unistd::setuid(Uid::from_raw(uid)))?;
            // Changing uid made the process non-dumpable, which hands /proc/self/*_map
            // to root: make it ours again so it may write its own maps.
            at(3, nix::sys::prctl::set_dumpable(true))?;
        }
        at(4, nix::sched::unshare(CloneFlags::CLONE_NEWUSER))?;
        maps.write(5)?;
        at(8, nix::sched::unshare(CloneFlags::CLONE_NEWUTS))?;
        at(9, nix::unistd::sethostname("bigbang-probe"))
    })?;
    Ok(match attempt {
        Attempt::Worked => UsernsVerdict::Works,
        Attempt::Failed { step, .. } => {
            let position = USERNS_STEPS.iter().position(|s| *s == step).unwrap_or(0);
            let unshare = USERNS_STEPS.iter().position(|s| *s == USERNS_UNSHARE_STEP).unwrap_or(0);
            match position.cmp(&unshare) {
                std::cmp::Ordering::Less => UsernsVerdict::Untested(attempt),
                std::cmp::Ordering::Equal => UsernsVerdict::Refused(attempt),
                std::cmp::Ordering::Greater => UsernsVerdict::Powerless(attempt),
            }
        }
    })
}

/// Whether unprivileged user namespaces really work here (tested as uid 65534 when root);
/// false when the probe itself fails.
pub fn userns_works() -> bool {
    userns_unprivileged().is_ok_and(|v| v.works())
}
