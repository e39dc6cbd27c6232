//! The cgroup module's error type (chapter 4): each variant names the file, path or
//! field that failed and says what the user can do. The kernel's refusals of a write
//! (EINVAL, EBUSY, EPERM, ESRCH) are told apart in `files::write_file`.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

use super::version::Version;
use crate::mountinfo::MountinfoError;

/// What can go wrong while creating, configuring, reading or removing a cgroup.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup filesystem is mounted (no cgroup or cgroup2 line in /proc/self/mountinfo); mount one at /sys/fs/cgroup, or run on a machine with systemd")]
    NotMounted,
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    Mountinfo { path: PathBuf, source: io::Error },
    /// The mount table could not be read or parsed (`crate::mountinfo`).
    #[error(transparent)]
    MountTable(#[from] MountinfoError),
    #[error("cgroup path {path:?} is not usable: {reason}; give a relative path of plain names such as bigbang/my-container")]
    InvalidPath { path: PathBuf, reason: &'static str },
    #[error("the {controller} controller is not available {place}; `cargo workshop doctor` lists the controllers this machine offers")]
    ControllerMissing { controller: &'static str, place: String },
    #[error("{field} = {value} is out of range: {expected}")]
    InvalidResource { field: &'static str, value: String, expected: &'static str },
    #[error("{field} = {value} is not valid: {expected}")]
    InvalidEntry { field: String, value: String, expected: &'static str },
    #[error("linux.resources.{field} is not supported on cgroup {version}: {why}")]
    NotSupported { field: String, version: Version, why: &'static str },
    #[error("memory.limit = {limit} is below what cgroup {path} uses now ({usage} bytes) and memory.checkBeforeUpdate is set; raise the limit or free memory first")]
    BelowUsage { path: PathBuf, limit: i64, usage: u64 },
    #[error("the tasks of cgroup {path} did not freeze within {seconds} s (a task may be stuck in the kernel, state D); the cgroup was thawed again")]
    FreezeTimeout { path: PathBuf, seconds: u64 },
    #[error("cannot {what} the device program of cgroup {path}: {errno}{hint}")]
    Bpf { what: &'static str, path: PathBuf, errno: Errno, hint: String },
    #[error("this process's cgroup {own} in the hierarchy at {hierarchy} lies outside what that mount shows (its root is {root}), so the container's cgroup cannot be bound at /sys/fs/cgroup; give the container a cgroup namespace, or mount the whole hierarchy there")]
    OwnCgroupHidden { hierarchy: PathBuf, own: PathBuf, root: PathBuf },
    #[error("cgroup {path} already exists; pick another name, or remove it (rmdir) if a crashed run left it behind")]
    AlreadyExists { path: PathBuf },
    #[error("cgroup {path} does not exist; create it first, or check the name")]
    NotFound { path: PathBuf },
    #[error("cannot create cgroup {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("not permitted to change {path}: cgroups need root, or a subtree delegated to you (systemd-run --user --scope -p Delegate=yes); try sudo")]
    NotPermitted { path: PathBuf },
    #[error("{path} does not exist: the controller is not enabled for this cgroup, or this kernel does not have the file")]
    FileMissing { path: PathBuf },
    #[error("the kernel rejected {value:?} for {path} (EINVAL): the value is out of the file's range or malformed; see cgroups(7) and the kernel's cgroup documentation")]
    Rejected { path: PathBuf, value: String },
    #[error("the kernel refused {value:?} for {path} (EBUSY): the cgroup already uses more than that, or the controller cannot change now; raise the value or stop processes first")]
    Busy { path: PathBuf, value: String },
    #[error("process {pid} does not exist (ESRCH writing {path}); it has already exited")]
    NoSuchProcess { pid: i32, path: PathBuf },
    #[error("swap accounting is off: {path} is missing, so a swap limit cannot be set; boot with swapaccount=1 (v1) or leave memory.swap unset")]
    SwapAccountingOff { path: PathBuf },
    #[error("cannot write {value:?} to {path}: {source}")]
    Write { path: PathBuf, value: String, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot parse {path}: unexpected contents {text:?}")]
    Parse { path: PathBuf, text: String },
    #[error("processes {pids:?} are still in {path} after SIGKILL; they may be stuck in the kernel (state D): look at /proc/<pid>/stack and retry")]
    ProcessesRemain { path: PathBuf, pids: Vec<i32> },
    #[error("cannot remove cgroup {path}: {source}; a process or a child cgroup may still be in it")]
    Remove { path: PathBuf, source: io::Error },
}
