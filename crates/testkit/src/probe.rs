//! What this machine lets a container runtime do: root, user namespaces, each namespace
//! type, cgroup mode and controllers, overlayfs, pivot_root, a static busybox, free disk.
//! Parsers are pure functions over text or a root `&Path` (tested on fixtures); live probes
//! try the real syscall in a forked child, so nothing leaks and threads do not matter.
//! Read: namespaces(7), user_namespaces(7), cgroups(7), proc(5) (mountinfo), elf(5), pivot_root(2).

use std::ffi::{CString, OsStr};
use std::fmt;
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{AccessFlags, ForkResult, Gid, Uid};
use serde::Serialize;

/// What went wrong while probing (not what the probe found: a refused syscall is a finding).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot create a pipe to a probe child: {0}; the process may be out of file descriptors")]
    Pipe(#[source] Errno),
    #[error("cannot fork a probe child: {0}; check the process limit (ulimit -u)")]
    Fork(#[source] Errno),
    #[error("cannot wait for probe child {pid}: {source}")]
    Wait { pid: i32, source: Errno },
    #[error("probe child {pid} ended abnormally ({status}); this is a bug in the probe, please report it")]
    ChildCrashed { pid: i32, status: String },
    #[error("cannot prepare the scratch directory {path} for a probe: {source}; is the temp dir writable?")]
    Scratch { path: PathBuf, source: io::Error },
    #[error("{path} contains a NUL byte and cannot be handed to the kernel; use another temp dir")]
    NulInPath { path: PathBuf },
    #[error("not an ELF executable: {reason}")]
    BadElf { reason: &'static str },
    #[error("{path} is not an ELF executable: {reason}; reinstall it from your distribution")]
    BadElfFile { path: PathBuf, reason: &'static str },
}

// ---------------------------------------------------------------------------------------
// Kernel and privileges
// ---------------------------------------------------------------------------------------

/// The running kernel, from its release string (`uname -r`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kernel {
    pub release: String,
    pub major: u32,
    pub minor: u32,
}

impl Kernel {
    /// Parses a release such as `6.18.44-fc-v595` or `5.15.0-91-generic`.
    pub fn parse(release: &str) -> Self {
        let release = release.trim();
        let mut numbers =
            release.split(|c: char| !c.is_ascii_digit()).map(|part| part.parse::<u32>().unwrap_or(0));
        let major = numbers.next().unwrap_or(0);
        let minor = numbers.next().unwrap_or(0);
        Self { release: release.to_owned(), major, minor }
    }

    /// Whether this kernel is `major.minor` or newer.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// The running kernel, read from `/proc/sys/kernel/osrelease` (what uname(2) reports).
pub fn kernel() -> Result<Kernel, ProbeError> {
    Ok(Kernel::parse(&read("/proc/sys/kernel/osrelease")?))
}

/// This process's effective uid.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

// ---------------------------------------------------------------------------------------
// Live probes: a forked child tries, reports the step that failed through a pipe
// ---------------------------------------------------------------------------------------

/// The outcome of a live probe: it worked, or the named step failed with an errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Worked,
    Failed { step: &'static str, errno: Errno },
}

impl Attempt {
    pub fn worked(&self) -> bool {
        matches!(self, Attempt::Worked)
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attempt::Worked => f.write_str("worked"),
            Attempt::Failed { step, errno } => {
                write!(f, "{step} failed: {errno:?} ({})", errno.desc())
            }
        }
    }
}

/// In the child: a failed step, as its index in the probe's step list and the errno.
type StepResult = Result<(), (usize, Errno)>;

fn at<T>(step: usize, result: nix::Result<T>) -> Result<T, (usize, Errno)> {
    result.map_err(|errno| (step, errno))
}

/// Exits the child if its code ever unwinds, so a panic never runs the parent's code twice.
struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        // SAFETY: _exit(2) is async-signal-safe and never returns.
        unsafe { nix::libc::_exit(127) }
    }
}

/// Runs `probe` in a forked child and returns which step failed, if any.
///
/// The child only makes raw syscalls through nix on data prepared before the fork (no
/// allocation, no locks: another thread may have held the allocator's lock at fork time),
/// writes `[step + 1, errno]` into a pipe and calls `_exit`. A fork, not a thread, because
/// `unshare(CLONE_NEWUSER)` and `CLONE_NEWNS` refuse a multi-threaded caller.
fn in_child(
    steps: &'static [&'static str],
    probe: impl FnOnce() -> StepResult,
) -> Result<Attempt, ProbeError> {
    let (reader, writer): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(ProbeError::Pipe)?;
    // SAFETY: the child below only makes async-signal-safe calls and ends in _exit.
    match unsafe { nix::unistd::fork() }.map_err(ProbeError::Fork)? {
        ForkResult::Child => {
            let guard = ExitOnUnwind;
            let mut message = [0u8; 9];
            if let Err((step, errno)) = probe() {
                message[..4].copy_from_slice(&(step as u32 + 1).to_ne_bytes());
                message[4..8].copy_from_slice(&(errno as i32).to_ne_bytes());
            }
            message[8] = 1;
            let _ = nix::unistd::write(&writer, &message);
            std::mem::forget(guard);
            // SAFETY: _exit(2) is async-signal-safe and never returns.
            unsafe { nix::libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(writer);
            let mut message = [0u8; 9];
            let mut filled = 0;
            while filled < message.len() {
                match nix::unistd::read(&reader, &mut message[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            let status = loop {
                match waitpid(child, None) {
                    Err(Errno::EINTR) => continue,
                    other => break other,
                }
            }
            .map_err(|source| ProbeError::Wait { pid: child.as_raw(), source })?;
            if filled != message.len() || !matches!(status, WaitStatus::Exited(_, 0)) {
                return Err(ProbeError::ChildCrashed { pid: child.as_raw(), status: format!("{status:?}") });
            }
            let step = u32::from_ne_bytes(message[..4].try_into().expect("4 bytes")) as usize;
            let errno = i32::from_ne_bytes(message[4..8].try_into().expect("4 bytes"));
            Ok(match step {
                0 => Attempt::Worked,
                n => Attempt::Failed {
                    step: steps.get(n - 1).copied().unwrap_or("an unnamed step"),
                    errno: Errno::from_raw(errno),
                },
            })
        }
    }
}

/// Writes `data` into a /proc file in the child (open, write, close: no allocation).
fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> nix::Result<()> {
    let fd = nix::fcntl::open(path, OFlag::O_WRONLY, Mode::empty())?;
    nix::unistd::write(&fd, data).map(drop)
}

/// The id-map lines a process writes after creating a user namespace, built before the fork.
struct IdMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

impl IdMaps {
    /// Maps root in the new namespace onto `uid`/`gid` outside: the one mapping an
    /// unprivileged process may write for itself (user_namespaces(7)).
    fn root_onto(uid: u32, gid: u32) -> Self {
        Self { uid_map: format!("0 {uid} 1").into_bytes(), gid_map: format!("0 {gid} 1").into_bytes() }
    }

    /// In the child, right after unshare(CLONE_NEWUSER): deny setgroups, write both maps.
    fn write(&self, first_step: usize) -> Result<(), (usize, Errno)> {
        at(first_step, write_proc(c"/proc/self/setgroups", b"deny"))?;
        at(first_step + 1, write_proc(c"/proc/self/uid_map", &self.uid_map))?;
        at(first_step + 2, write_proc(c"/proc/self/gid_map", &self.gid_map))
    }
}

// ---------------------------------------------------------------------------------------
// Unprivileged user namespaces
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Namespace types
// ---------------------------------------------------------------------------------------

/// A namespace type, as named in `/proc/<pid>/ns/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Uts,
    Pid,
    Mnt,
    Ipc,
    Net,
    User,
    Cgroup,
    Time,
}

/// CLONE_NEWTIME (Linux 5.6), which nix 0.30 does not name.
const CLONE_NEWTIME: i32 = 0x0000_0080;

impl Namespace {
    pub const ALL: [Namespace; 8] = [
        Namespace::Uts,
        Namespace::Pid,
        Namespace::Mnt,
        Namespace::Ipc,
        Namespace::Net,
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Time,
    ];

    /// The name under `/proc/<pid>/ns/`.
    pub fn name(self) -> &'static str {
        match self {
            Namespace::Uts => "uts",
            Namespace::Pid => "pid",
            Namespace::Mnt => "mnt",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
            Namespace::Time => "time",
        }
    }

    /// The unshare(2) flag that creates one.
    pub fn flag(self) -> CloneFlags {
        match self {
            Namespace::Uts => CloneFlags::CLONE_NEWUTS,
            Namespace::Pid => CloneFlags::CLONE_NEWPID,
            Namespace::Mnt => CloneFlags::CLONE_NEWNS,
            Namespace::Ipc => CloneFlags::CLONE_NEWIPC,
            Namespace::Net => CloneFlags::CLONE_NEWNET,
            Namespace::User => CloneFlags::CLONE_NEWUSER,
            Namespace::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Namespace::Time => CloneFlags::from_bits_retain(CLONE_NEWTIME),
        }
    }

    /// The kernel version that introduced it, for "your kernel is too old" advice.
    pub fn since(self) -> &'static str {
        match self {
            Namespace::Mnt => "2.4.19",
            Namespace::Uts | Namespace::Ipc => "2.6.19",
            Namespace::Pid => "2.6.24",
            Namespace::Net => "2.6.29",
            Namespace::User => "3.8",
            Namespace::Cgroup => "4.6",
            Namespace::Time => "5.6",
        }
    }

    /// Whether `<proc_self_ns>/<name>` exists (`/proc/self/ns` on a live machine): the
    /// kernel was built with this namespace type.
    pub fn in_proc(self, proc_self_ns: &Path) -> bool {
        proc_self_ns.join(self.name()).exists()
    }
}

const UNSHARE_STEPS: &[&str] = &["unshare"];
const UNSHARE_IN_USERNS_STEPS: &[&str] = &["unshare(CLONE_NEWUSER | flag)"];

/// Tries unshare(2) of `ns` as the current user, in a forked child.
pub fn try_unshare(ns: Namespace) -> Result<Attempt, ProbeError> {
    let flag = ns.flag();
    in_child(UNSHARE_STEPS, || at(0, nix::sched::unshare(flag)))
}

/// Tries unshare(2) of `ns` together with a new user namespace (the rootless way), in a
/// forked child.
pub fn try_unshare_in_userns(ns: Namespace) -> Result<Attempt, ProbeError> {
    let flags = ns.flag() | CloneFlags::CLONE_NEWUSER;
    in_child(UNSHARE_IN_USERNS_STEPS, || at(0, nix::sched::unshare(flags)))
}

// ---------------------------------------------------------------------------------------
// Cgroups
// ---------------------------------------------------------------------------------------

/// Where cgroup hierarchies are mounted on every distribution the workshop supports.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// The cgroup v1 controllers a kernel may offer (cgroups(7)): the product's list.
pub use bigbang_container::cgroups::V1_CONTROLLERS;

/// The controllers chapter 4 uses.
pub const WORKSHOP_CONTROLLERS: &[&str] = &["cpu", "memory", "pids"];

/// One line of `/proc/<pid>/mountinfo` (proc(5)), the fields the probes use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Field 4: the path inside the filesystem that is mounted (`/` unless a bind mount).
    pub root: String,
    /// Field 5, octal escapes (`\040`) decoded.
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
    pub super_options: Vec<String>,
}

/// Parses mountinfo text with the product's parser (`bigbang_container::mountinfo`);
/// malformed lines are skipped: a probe reports what it can read, and never fails on it.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    bigbang_container::mountinfo::entries(text)
        .filter_map(Result::ok)
        .map(|m| Mount {
            root: m.root.to_string_lossy().into_owned(),
            mount_point: m.mount_point.to_string_lossy().into_owned(),
            fstype: m.fstype,
            source: m.source,
            super_options: m.super_options,
        })
        .collect()
}

/// How the cgroup hierarchies are mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupMode {
    /// Only v1 hierarchies, one per controller (or group of controllers).
    V1,
    /// The unified v2 hierarchy at /sys/fs/cgroup (Ubuntu 22.04+, Debian 12, Fedora 31+).
    V2,
    /// v1 controller hierarchies plus a v2 tree, usually at /sys/fs/cgroup/unified.
    Hybrid,
    /// No cgroup filesystem mounted under /sys/fs/cgroup.
    None,
}

impl CgroupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupMode::V1 => "v1",
            CgroupMode::V2 => "v2",
            CgroupMode::Hybrid => "hybrid",
            CgroupMode::None => "none",
        }
    }
}

impl fmt::Display for CgroupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn under_cgroup_mount(mount_point: &str) -> Option<&str> {
    let rest = mount_point.strip_prefix(CGROUP_MOUNT)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// The cgroup mode from mountinfo text alone: cgroup2 at /sys/fs/cgroup is v2; v1
/// hierarchies with a cgroup2 mount beside them is hybrid; v1 hierarchies alone are v1.
pub fn cgroup_mode(mountinfo: &str) -> CgroupMode {
    let mounts = parse_mountinfo(mountinfo);
    let cgroup_mounts = || mounts.iter().filter(|m| under_cgroup_mount(&m.mount_point).is_some());
    let v2_at_top = cgroup_mounts().any(|m| m.fstype == "cgroup2" && m.mount_point == CGROUP_MOUNT);
    let v2_anywhere = cgroup_mounts().any(|m| m.fstype == "cgroup2");
    let v1 = cgroup_mounts().any(|m| m.fstype == "cgroup");
    match (v2_at_top, v1, v2_anywhere) {
        (true, _, _) => CgroupMode::V2,
        (false, true, true) => CgroupMode::Hybrid,
        (false, true, false) => CgroupMode::V1,
        (false, false, true) => CgroupMode::V2,
        (false, false, false) => CgroupMode::None,
    }
}

/// A mounted cgroup v1 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V1Hierarchy {
    /// As mountinfo names it, e.g. `/sys/fs/cgroup/memory`.
    pub mount_point: String,
    /// Its controllers, e.g. `["cpu", "cpuacct"]` when co-mounted; empty for a named one.
    pub controllers: Vec<String>,
    /// `systemd` for `name=systemd`.
    pub name: Option<String>,
    /// This process's cgroup in it, from /proc/self/cgroup.
    pub own_cgroup: Option<String>,
    /// Whether this process may create cgroups at the top of the hierarchy.
    pub writable: bool,
}

/// The mounted cgroup v2 tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V2Tree {
    /// As mountinfo names it: `/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` when hybrid.
    pub mount_point: String,
    /// `cgroup.controllers` of the tree's root.
    pub root_controllers: Vec<String>,
    /// This process's cgroup, from the `0::` line of /proc/self/cgroup.
    pub own_cgroup: Option<String>,
    /// `cgroup.controllers` of this process's cgroup.
    pub own_controllers: Vec<String>,
    /// Whether this process may manage its own cgroup: the directory, `cgroup.procs` and
    /// `cgroup.subtree_control` are writable (root, or a `Delegate=yes` systemd scope).
    pub delegated: bool,
}

/// The cgroup setup of a machine: the mode and what each hierarchy offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cgroups {
    pub mode: CgroupMode,
    pub v1: Vec<V1Hierarchy>,
    pub v2: Option<V2Tree>,
}

impl Cgroups {
    /// Reads the setup from mountinfo text, /proc/self/cgroup text, and the files under
    /// `cgroup_root`, which stands for /sys/fs/cgroup (a fixture tree in tests).
    pub fn detect(mountinfo: &str, self_cgroup: &str, cgroup_root: &Path) -> Self {
        let mode = cgroup_mode(mountinfo);
        let own = parse_self_cgroup(self_cgroup);
        let mut v1 = Vec::new();
        let mut v2 = None;
        for mount in parse_mountinfo(mountinfo) {
            let Some(rel) = under_cgroup_mount(&mount.mount_point) else {
                continue;
            };
            let dir = if rel.is_empty() { cgroup_root.to_owned() } else { cgroup_root.join(rel) };
            match mount.fstype.as_str() {
                "cgroup" => {
                    let controllers: Vec<String> = mount
                        .super_options
                        .iter()
                        .filter(|o| V1_CONTROLLERS.contains(&o.as_str()))
                        .cloned()
                        .collect();
                    let name =
                        mount.super_options.iter().find_map(|o| o.strip_prefix("name=")).map(str::to_owned);
                    let key = match &name {
                        Some(n) => vec![format!("name={n}")],
                        None => controllers.clone(),
                    };
                    let own_cgroup = own
                        .iter()
                        .find(|(ctrls, _)| !ctrls.is_empty() && same_set(ctrls, &key))
                        .map(|(_, path)| path.clone());
                    v1.push(V1Hierarchy {
                        writable: writable(&dir),
                        mount_point: mount.mount_point,
                        controllers,
                        name,
                        own_cgroup,
                    });
                }
                "cgroup2" if v2.is_none() => {
                    let own_cgroup = own.iter().find(|(ctrls, _)| ctrls.is_empty()).map(|(_, p)| p.clone());
                    let own_dir = own_cgroup.as_deref().map(|path| {
                        let inside = path.strip_prefix(mount.root.as_str()).unwrap_or(path);
                        dir.join(inside.trim_start_matches('/'))
                    });
                    let own_controllers = own_dir.as_deref().map(read_controllers).unwrap_or_default();
                    let delegated = own_dir.as_deref().is_some_and(|d| {
                        writable(d)
                            && writable(&d.join("cgroup.procs"))
                            && writable(&d.join("cgroup.subtree_control"))
                    });
                    v2 = Some(V2Tree {
                        root_controllers: read_controllers(&dir),
                        mount_point: mount.mount_point,
                        own_cgroup,
                        own_controllers,
                        delegated,
                    });
                }
                _ => {}
            }
        }
        v1.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
        Self { mode, v1, v2 }
    }

    /// The live machine's setup (/proc/self/mountinfo, /proc/self/cgroup, /sys/fs/cgroup).
    pub fn here() -> Result<Self, ProbeError> {
        let mountinfo = read("/proc/self/mountinfo")?;
        let self_cgroup = read("/proc/self/cgroup")?;
        Ok(Self::detect(&mountinfo, &self_cgroup, Path::new(CGROUP_MOUNT)))
    }

    /// Every controller mounted as a v1 hierarchy, sorted.
    pub fn v1_controllers(&self) -> Vec<&str> {
        let mut all: Vec<&str> =
            self.v1.iter().flat_map(|h| h.controllers.iter().map(String::as_str)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The controllers root can use: v1 hierarchies first (hybrid machines run their
    /// controllers there), then whatever the v2 root offers that v1 does not.
    pub fn controllers_for_root(&self) -> Vec<&str> {
        let mut all = self.v1_controllers();
        if let Some(v2) = &self.v2 {
            all.extend(v2.root_controllers.iter().map(String::as_str));
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The controllers a non-root process can use: those of its own v2 cgroup when that is
    /// delegated to it, else none.
    pub fn controllers_for_user(&self) -> Vec<&str> {
        match &self.v2 {
            Some(v2) if v2.delegated => v2.own_controllers.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Which of `wanted` are not among `have`.
    pub fn lacking<'a>(have: &[&str], wanted: &[&'a str]) -> Vec<&'a str> {
        wanted.iter().copied().filter(|w| !have.contains(w)).collect()
    }

    /// One phrase, e.g. `hybrid (v1 controllers: cpu, memory; v2 at /sys/fs/cgroup/unified
    /// has no controllers)`.
    pub fn describe(&self) -> String {
        let v1 = || {
            let list = self.v1_controllers();
            if list.is_empty() {
                "no v1 controllers".to_owned()
            } else {
                format!("v1 controllers: {}", list.join(", "))
            }
        };
        let v2 = |v2: &V2Tree| {
            if v2.root_controllers.is_empty() {
                format!("v2 at {} has no controllers", v2.mount_point)
            } else {
                format!("v2 at {} has controllers: {}", v2.mount_point, v2.root_controllers.join(", "))
            }
        };
        match (self.mode, &self.v2) {
            (CgroupMode::V2, Some(tree)) => format!("v2 ({})", v2(tree)),
            (CgroupMode::Hybrid, Some(tree)) => format!("hybrid ({}; {})", v1(), v2(tree)),
            (CgroupMode::V1, _) => format!("v1 ({})", v1()),
            (mode, _) => format!("{mode} (nothing mounted under {CGROUP_MOUNT})"),
        }
    }
}

/// /proc/self/cgroup lines `id:controllers:path` as (controller list, path); the v2 line
/// `0::/path` has an empty list.
fn parse_self_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let list = controllers.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
            Some((list, path.to_owned()))
        })
        .collect()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn read_controllers(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("cgroup.controllers"))
        .map(|text| text.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// access(2) W_OK: honours the effective uid, read-only mounts and root's override.
fn writable(path: &Path) -> bool {
    nix::unistd::access(path, AccessFlags::W_OK).is_ok()
}

// ---------------------------------------------------------------------------------------
// overlayfs and pivot_root
// ---------------------------------------------------------------------------------------

/// Whether `/proc/filesystems` text lists `fstype` (e.g. `nodev\toverlay`).
pub fn filesystem_listed(proc_filesystems: &str, fstype: &str) -> bool {
    proc_filesystems.lines().any(|line| line.split_whitespace().last() == Some(fstype))
}

/// The overlay module under `modules_dir` (`/lib/modules`) for kernel `release`, if
/// `modprobe overlay` could load it: the `.ko` file, or a modules.builtin entry.
pub fn overlay_module(modules_dir: &Path, release: &str) -> Option<PathBuf> {
    let dir = modules_dir.join(release);
    let module_dir = dir.join("kernel/fs/overlayfs");
    for ext in ["ko", "ko.xz", "ko.zst", "ko.gz"] {
        let file = module_dir.join(format!("overlay.{ext}"));
        if file.is_file() {
            return Some(file);
        }
    }
    let builtin = dir.join("modules.builtin");
    fs::read_to_string(&builtin)
        .ok()
        .filter(|text| text.lines().any(|l| l.trim() == "kernel/fs/overlayfs/overlay.ko"))
        .map(|_| builtin)
}

/// Scratch directories for the mount probes, made before the fork, removed on drop.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(subdirs: &[&str]) -> Result<Self, ProbeError> {
        let dir = tempfile::Builder::new()
            .prefix("bigbang-probe-")
            .tempdir()
            .map_err(|source| ProbeError::Scratch { path: std::env::temp_dir(), source })?;
        for sub in subdirs {
            let path = dir.path().join(sub);
            fs::create_dir_all(&path).map_err(|source| ProbeError::Scratch { path, source })?;
        }
        // A rootless probe maps only the current user: keep the tree ours and traversable.
        let _ = fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755));
        Ok(Self { dir })
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.dir.path().to_owned()
        } else {
            self.dir.path().join(rel)
        }
    }

    fn c_path(&self, rel: &str) -> Result<CString, ProbeError> {
        c_string(self.path(rel).as_os_str())
    }
}

impl Drop for Scratch {
    /// overlayfs leaves `work/work` with mode 000: an unprivileged owner could not
    /// remove it, and the tempdir would stay behind. Open the modes up first.
    fn drop(&mut self) {
        fn open_up(dir: &Path) {
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
            if let Ok(entries) = fs::read_dir(dir) {
                for entry in entries.flatten() {
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        open_up(&entry.path());
                    }
                }
            }
        }
        open_up(self.dir.path());
    }
}

fn c_string(s: &OsStr) -> Result<CString, ProbeError> {
    CString::new(s.as_bytes()).map_err(|_| ProbeError::NulInPath { path: PathBuf::from(s) })
}

/// How the child gets a private mount namespace: as root directly, otherwise inside a
/// new user namespace that maps root onto the current user (id maps built before fork).
struct PrivateMounts {
    maps: Option<IdMaps>,
}

impl PrivateMounts {
    fn for_current_user() -> Self {
        if is_root() {
            Self { maps: None }
        } else {
            let uid = nix::unistd::geteuid().as_raw();
            let gid = nix::unistd::getegid().as_raw();
            Self { maps: Some(IdMaps::root_onto(uid, gid)) }
        }
    }

    const STEPS: [&'static str; 5] = [
        "unshare(CLONE_NEWNS)",
        "write /proc/self/setgroups",
        "write /proc/self/uid_map",
        "write /proc/self/gid_map",
        "mount --make-rprivate /",
    ];

    /// In the child: steps 0..=4. Nothing mounted afterwards propagates to the host.
    fn enter(&self) -> Result<(), (usize, Errno)> {
        match &self.maps {
            None => at(0, nix::sched::unshare(CloneFlags::CLONE_NEWNS))?,
            Some(maps) => {
                at(0, nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS))?;
                maps.write(1)?;
            }
        }
        at(
            4,
            nix::mount::mount(
                None::<&str>,
                c"/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            ),
        )
    }
}

const OVERLAY_STEPS: &[&str] = &[
    PrivateMounts::STEPS[0],
    PrivateMounts::STEPS[1],
    PrivateMounts::STEPS[2],
    PrivateMounts::STEPS[3],
    PrivateMounts::STEPS[4],
    "mount -t overlay",
    "stat a lower-layer file through the overlay",
    "umount the overlay",
];

/// Mounts a tiny overlay (one lower layer holding one file) on scratch dirs in a forked
/// child's private mount namespace (a user namespace too when not root), checks the file
/// shows through, and unmounts it.
pub fn try_overlay_mount() -> Result<Attempt, ProbeError> {
    let scratch = Scratch::new(&["lower", "upper", "work", "merged"])?;
    let file = scratch.path("lower/probe");
    fs::write(&file, b"bigbang\n").map_err(|source| ProbeError::Scratch { path: file, source })?;
    let private = PrivateMounts::for_current_user();
    let mut data = format!(
        "lowerdir={},upperdir={},workdir={}",
        scratch.path("lower").display(),
        scratch.path("upper").display(),
        scratch.path("work").display()
    );
    if private.maps.is_some() {
        // Inside a user namespace overlay may not write trusted.* xattrs (Linux 5.11+).
        data.push_str(",userxattr");
    }
    let data = c_string(OsStr::new(&data))?;
    let merged = scratch.c_path("merged")?;
    let through = scratch.c_path("merged/probe")?;
    in_child(OVERLAY_STEPS, || {
        private.enter()?;
        at(
            5,
            nix::mount::mount(
                Some(c"overlay"),
                merged.as_c_str(),
                Some(c"overlay"),
                MsFlags::empty(),
                Some(data.as_c_str()),
            ),
        )?;
        at(6, nix::sys::stat::stat(through.as_c_str()))?;
        at(7, nix::mount::umount2(merged.as_c_str(), MntFlags::empty()))
    })
}

const PIVOT_STEPS: &[&str] = &[
    PrivateMounts::STEPS[0],
    PrivateMounts::STEPS[1],
    PrivateMounts::STEPS[2],
    PrivateMounts::STEPS[3],
    PrivateMounts::STEPS[4],
    "bind-mount the new root on itself",
    "pivot_root",
    "chdir /",
    "umount the old root",
];

/// pivot_root(2) into a bind-mounted scratch dir with put_old inside it, in a forked
/// child's private mount namespace (a user namespace too when not root); then detaches
/// the old root and exits.
pub fn try_pivot_root() -> Result<Attempt, ProbeError> {
    let scratch = Scratch::new(&["old"])?;
    let new_root = scratch.c_path("")?;
    let put_old = scratch.c_path("old")?;
    let private = PrivateMounts::for_current_user();
    in_child(PIVOT_STEPS, || {
        private.enter()?;
        at(
            5,
            nix::mount::mount(
                Some(new_root.as_c_str()),
                new_root.as_c_str(),
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            ),
        )?;
        at(6, nix::unistd::pivot_root(new_root.as_c_str(), put_old.as_c_str()))?;
        at(7, nix::unistd::chdir(c"/"))?;
        at(8, nix::mount::umount2(c"/old", MntFlags::MNT_DETACH))
    })
}

// ---------------------------------------------------------------------------------------
// Programs: busybox and the interop tools
// ---------------------------------------------------------------------------------------

/// How an ELF executable is linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Linkage {
    /// No PT_INTERP program header: runs without a dynamic loader (static or static-pie),
    /// so it works inside a rootfs that has nothing else.
    Static,
    /// Needs the loader named in PT_INTERP (e.g. `/lib64/ld-linux-x86-64.so.2`).
    Dynamic { interpreter: String },
}

const PT_INTERP: u32 = 3;

/// Reads the ELF header and program headers (elf(5)) in `bytes` (the file's start, up to
/// the end of its program headers) and says whether a PT_INTERP header is present.
pub fn elf_linkage(bytes: &[u8]) -> Result<Linkage, ProbeError> {
    let bad = |reason| ProbeError::BadElf { reason };
    if bytes.len() < 52 || bytes[..4] != *b"\x7fELF" {
        return Err(bad("no ELF magic number"));
    }
    let wide = match bytes[4] {
        1 => false,
        2 => true,
        _ => return Err(bad("unknown ELF class")),
    };
    let little = match bytes[5] {
        1 => true,
        2 => false,
        _ => return Err(bad("unknown ELF byte order")),
    };
    let uint = |offset: usize, size: usize| -> Result<u64, ProbeError> {
        let field = bytes.get(offset..offset + size).ok_or(bad("truncated header"))?;
        let mut value = 0u64;
        for (i, byte) in field.iter().enumerate() {
            let shift = if little { i } else { size - 1 - i };
            value |= u64::from(*byte) << (8 * shift);
        }
        Ok(value)
    };
    // e_phoff, e_phentsize, e_phnum; then p_offset and p_filesz within a program header.
    let (phoff, phentsize, phnum) = if wide {
        (uint(0x20, 8)?, uint(0x36, 2)?, uint(0x38, 2)?)
    } else {
        (uint(0x1C, 4)?, uint(0x2A, 2)?, uint(0x2C, 2)?)
    };
    let (p_offset, p_filesz) = if wide { ((8, 8), (32, 8)) } else { ((4, 4), (16, 4)) };
    for index in 0..phnum {
        let header = usize::try_from(phoff + index * phentsize).map_err(|_| bad("huge offset"))?;
        if uint(header, 4)? as u32 == PT_INTERP {
            let start = uint(header + p_offset.0, p_offset.1)? as usize;
            let len = uint(header + p_filesz.0, p_filesz.1)? as usize;
            let interpreter = bytes
                .get(start..start.saturating_add(len))
                .map(|raw| String::from_utf8_lossy(raw).trim_end_matches('\0').to_owned())
                .unwrap_or_default();
            return Ok(Linkage::Dynamic { interpreter });
        }
    }
    Ok(Linkage::Static)
}

/// [`elf_linkage`] of the file at `path`.
pub fn elf_linkage_of(path: &Path) -> Result<Linkage, ProbeError> {
    let bytes = fs::read(path).map_err(|source| ProbeError::Read { path: path.to_owned(), source })?;
    elf_linkage(&bytes).map_err(|e| match e {
        ProbeError::BadElf { reason } => ProbeError::BadElfFile { path: path.to_owned(), reason },
        other => other,
    })
}

/// The first executable file called `name` in the directories of `path_var` (a `$PATH`
/// value), then in `fallback` directories.
pub fn find_program(name: &str, path_var: Option<&OsStr>, fallback: &[&Path]) -> Option<PathBuf> {
    let from_path = path_var.into_iter().flat_map(std::env::split_paths);
    from_path.chain(fallback.iter().map(|p| p.to_path_buf())).map(|dir| dir.join(name)).find(|candidate| {
        fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// `name` on this process's PATH, or in /usr/bin, /bin, /usr/sbin, /sbin.
pub fn program(name: &str) -> Option<PathBuf> {
    let fallback = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(Path::new);
    find_program(name, std::env::var_os("PATH").as_deref(), &fallback)
}

/// The first non-empty line `program <args>` prints on stdout or stderr.
pub fn version_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    [output.stdout, output.stderr]
        .iter()
        .flat_map(|out| String::from_utf8_lossy(out).lines().map(str::to_owned).collect::<Vec<_>>())
        .map(|line| line.trim().to_owned())
        .find(|line| !line.is_empty())
}

/// busybox as the rootfs fixtures use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Busybox {
    pub path: PathBuf,
    pub linkage: Linkage,
    /// e.g. `BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary.`
    pub version: Option<String>,
}

impl Busybox {
    pub fn is_static(&self) -> bool {
        self.linkage == Linkage::Static
    }
}

/// Names the busybox to use instead of searching, as for the rootfs fixture.
pub const BUSYBOX_ENV: &str = "BIGBANG_BUSYBOX";

/// busybox as `$BIGBANG_BUSYBOX` names it, else on PATH (or /usr/bin, /bin, /usr/sbin),
/// its linkage and version; `None` when there is none.
pub fn busybox() -> Result<Option<Busybox>, ProbeError> {
    let named = std::env::var_os(BUSYBOX_ENV).map(PathBuf::from).filter(|p| p.is_file());
    let Some(path) = named.or_else(|| program("busybox")) else {
        return Ok(None);
    };
    let linkage = elf_linkage_of(&path)?;
    let version = version_line(&path, &["--help"]);
    Ok(Some(Busybox { path, linkage, version }))
}

/// An interop tool (podman, runc, skopeo, umoci, etcd) found on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub path: PathBuf,
    /// The first line of `<tool> --version`.
    pub version: Option<String>,
}

/// `name` on PATH and its `--version` line; `None` when absent.
pub fn tool(name: &str) -> Option<Tool> {
    let path = program(name)?;
    let version = version_line(&path, &["--version"]);
    Some(Tool { path, version })
}

// ---------------------------------------------------------------------------------------
// Disk
// ---------------------------------------------------------------------------------------

/// Bytes an unprivileged user may still write on the filesystem holding `path` (statvfs(3)).
// fsblkcnt_t and c_ulong are u32 on 32-bit targets, u64 here: the conversions are for them.
#[allow(clippy::useless_conversion)]
pub fn free_bytes(path: &Path) -> Result<u64, ProbeError> {
    let stat = nix::sys::statvfs::statvfs(path)
        .map_err(|errno| ProbeError::Read { path: path.to_owned(), source: io::Error::from(errno) })?;
    Ok(u64::from(stat.blocks_available()) * u64::from(stat.fragment_size()))
}

fn read(path: &str) -> Result<String, ProbeError> {
    fs::read_to_string(path).map_err(|source| ProbeError::Read { path: PathBuf::from(path), source })
}
