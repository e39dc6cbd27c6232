//! Cgroups (chapter 4): one interface, two drivers. A container's cgroup caps its
//! memory (OOM kill past the limit), its CPU time (CFS quota/period, shares or weight)
//! and its number of tasks, and counts what it used. Cgroup v1 has one hierarchy per
//! controller (`v1`), v2 one unified tree (`v2`); [`Hierarchies::version`] picks one.
//! Read cgroups(7), and the kernel's admin-guide/cgroup-v2.rst and cgroup-v1/*.rst.
//!
//! # Layout
//! - this file: the interface ([`CgroupManager`]), the limits ([`Resources`]) and the
//!   counters ([`Stats`]) shaped after OCI's `linux.resources`, detection from
//!   mountinfo, the errors, and the file helpers both drivers share.
//! - `v1`: a cgroup made of one directory per v1 hierarchy (every one mounted).
//! - `v2`: a cgroup as one directory of the unified hierarchy.
//! - `limits`: the controllers beyond memory, cpu and pids (cpuset, block I/O, huge
//!   pages, net_cls/net_prio, rdma, `unified`), as file writes both drivers share.
//! - `mount`: what a container sees at `/sys/fs/cgroup` (its own cgroup in each
//!   hierarchy), derived from mountinfo and `/proc/self/cgroup` for chapter 3 to mount.
//! - `devices`: the device rules, as v1 `devices.allow`/`devices.deny` lines or as the
//!   eBPF program v2 runs; `ebpf`: the instruction encoding and bpf(2) calls for it.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

pub mod devices;
pub mod ebpf;
pub mod limits;
pub mod mount;
pub mod v1;
pub mod v2;

/// Where distributions mount the cgroup filesystems.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// What can go wrong while creating, configuring, reading or removing a cgroup.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup filesystem is mounted (no cgroup or cgroup2 line in /proc/self/mountinfo); mount one at /sys/fs/cgroup, or run on a machine with systemd")]
    NotMounted,
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    Mountinfo { path: PathBuf, source: io::Error },
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

// ---------------------------------------------------------------------------------------
// What to limit, and what was used
// ---------------------------------------------------------------------------------------

// ANCHOR: resources
/// The limits of a container, shaped after OCI `config.json`'s `linux.resources`
/// (same field names and units), so that chapter 6 maps one onto the other.
/// `None` (or an empty list) leaves the kernel's value alone; `-1` means unlimited.
/// Every field the runtime specification defines is here, so that none is lost on
/// the way: each is either written to the kernel or refused by name (see
/// [`Resources::supported`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Which device nodes the cgroup's tasks may open or create, in order; the last
    /// rule that matches a request decides (v1 `devices.allow`/`devices.deny`, v2 an
    /// eBPF program, see `devices`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<Pids>,
    /// Block I/O weights and throttles (v1 blkio, v2 io).
    #[serde(default, rename = "blockIO", skip_serializing_if = "Option::is_none")]
    pub block_io: Option<BlockIo>,
    /// Huge page limits per page size (the hugetlb controller).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hugepage_limits: Vec<HugepageLimit>,
    /// Packet class and priorities (v1 net_cls and net_prio; v2 has neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// RDMA handles and objects per device (the rdma controller).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rdma: BTreeMap<String, Rdma>,
    /// Raw v2 files and values (`"memory.high": "64M"`), written as given; v2 only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unified: BTreeMap<String, String>,
}

/// `linux.resources.memory`, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// The most memory the cgroup may use; past it the kernel reclaims, then OOM-kills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Memory plus swap (v1's memsw); equal to `limit` means no swap at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap: Option<i64>,
    /// A soft limit, reclaimed towards under pressure (v1 `memory.soft_limit_in_bytes`,
    /// v2 `memory.low`, the protection below which the cgroup is not reclaimed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<i64>,
    /// Kernel memory limit: refused by chapter 4, dropped with a warning from a
    /// config.json ([`Resources::drop_deprecated`]): kernels ignore it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<i64>,
    /// TCP buffer memory limit (v1 `memory.kmem.tcp.limit_in_bytes`).
    #[serde(default, rename = "kernelTCP", skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<i64>,
    /// How eagerly anonymous memory is swapped, 0-100 (v1 `memory.swappiness`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<u64>,
    /// Pause tasks at the limit instead of OOM-killing them (v1 `memory.oom_control`).
    #[serde(default, rename = "disableOOMKiller", skip_serializing_if = "Option::is_none")]
    pub disable_oom_killer: Option<bool>,
    /// v1's `memory.use_hierarchy`; the kernel is always hierarchical, so only `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_hierarchy: Option<bool>,
    /// Refuse a new limit below the current usage instead of reclaiming towards it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_before_update: Option<bool>,
}

/// `linux.resources.cpu`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    /// Relative weight under contention, v1's `cpu.shares` (2–262144, default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    /// v2's `cpu.weight` (1–10000, default 100). Not in OCI's `cpu` (runc takes it from
    /// `unified`); when unset, v2 converts `shares` with [`shares_to_weight`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
    /// Microseconds of CPU time per `period` (−1: no limit). 20000 of 100000 is 20% of a core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    /// Unused quota that may be carried into a later period, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// The CFS bandwidth period in microseconds (1000–1000000, default 100000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    /// Real-time runtime per `realtimePeriod`, in microseconds (v1 `cpu.rt_runtime_us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_runtime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_period: Option<u64>,
    /// The CPUs the tasks may run on, in cpuset list form (`0-1,3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// The memory nodes they may allocate from (`0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mems: Option<String>,
    /// 1 makes the cgroup SCHED_IDLE: it runs only when nothing else wants the CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<i64>,
}

/// `linux.resources.pids`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pids {
    /// The most tasks (processes and threads) the cgroup may hold; less than 0 means
    /// unlimited. In a config.json 0 means unset, as runc reads it
    /// ([`Resources::zero_as_unset`]); chapter 4 itself writes `max` for it.
    pub limit: i64,
}
// ANCHOR_END: resources

// ANCHOR: device_rule
/// One rule of `linux.resources.devices`: allow or deny `access` to the devices of
/// `type` with numbers `major`:`minor`, which, as a v1 `devices.allow` line, reads
/// `c 1:5 rwm`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRule {
    pub allow: bool,
    /// `a` (all), `c` (character) or `b` (block); absent means all.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Absent (or negative): every major (or minor) number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    /// Some of `r` (read), `w` (write), `m` (mknod); absent means all three.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}
// ANCHOR_END: device_rule

/// `linux.resources.blockIO`: weights (10–1000) and throttles per device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockIo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    /// CFQ's weight for the cgroup's own tasks against its children: refused by
    /// chapter 4, dropped with a warning from a config.json where the kernel has no
    /// file for it (CFQ left the kernel in 5.0, see [`Resources::drop_deprecated`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_read_bps_device: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_write_bps_device: Vec<ThrottleDevice>,
    #[serde(default, rename = "throttleReadIOPSDevice", skip_serializing_if = "Vec::is_empty")]
    pub throttle_read_iops_device: Vec<ThrottleDevice>,
    #[serde(default, rename = "throttleWriteIOPSDevice", skip_serializing_if = "Vec::is_empty")]
    pub throttle_write_iops_device: Vec<ThrottleDevice>,
}

/// A weight for one block device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightDevice {
    pub major: i64,
    pub minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
}

/// A rate (bytes or I/O operations per second) for one block device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleDevice {
    pub major: i64,
    pub minor: i64,
    pub rate: u64,
}

/// One entry of `linux.resources.hugepageLimits`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HugepageLimit {
    /// `2MB`, `1GB`: the size as the hugetlb controller's file names spell it.
    pub page_size: String,
    /// Bytes.
    pub limit: u64,
}

/// `linux.resources.network`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    /// The class id tagged on the cgroup's packets (`net_cls.classid`), for tc.
    #[serde(default, rename = "classID", skip_serializing_if = "Option::is_none")]
    pub class_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<InterfacePriority>,
}

/// The priority of the cgroup's traffic on one interface (`net_prio.ifpriomap`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfacePriority {
    pub name: String,
    pub priority: u32,
}

/// One device's entry of `linux.resources.rdma`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rdma {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hca_handles: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hca_objects: Option<u32>,
}

/// What the freezer says of a cgroup (v1 `freezer.state`, v2 `cgroup.freeze` and the
/// `frozen` line of `cgroup.events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FreezerState {
    /// The tasks run.
    Thawed,
    /// Asked to freeze; some tasks have not stopped yet.
    Freezing,
    /// Every task is stopped in the kernel and will not run until thawed.
    Frozen,
}

/// How long [`CgroupManager::set_freezer`] waits for the tasks to stop before it thaws
/// them again and gives up.
pub const FREEZE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The CFS period the kernel and runc use when none is given: 100 ms.
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;

// ANCHOR: shares_to_weight
/// v1 `cpu.shares` (2–262144) to v2 `cpu.weight` (1–10000), the linear map runc and
/// crun use, so that 2 ↦ 1, 1024 ↦ 39 and 262144 ↦ 10000.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142
}
// ANCHOR_END: shares_to_weight

/// A field of `linux.resources` that is accepted and not applied, because the kernel no
/// longer has what it set (runc 1.1.5 ignores the same ones, with a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The JSON path below `linux.resources` (`memory.kernel`).
    pub field: &'static str,
    pub why: &'static str,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linux.resources.{} is ignored: {}", self.field, self.why)
    }
}

impl Resources {
    // ANCHOR: zero_as_unset
    /// `linux.resources` as runc 1.1.5 reads it: a zero (or an empty cpuset list) means
    /// "not set", for exactly the fields runc's cgroup drivers skip when zero (memory
    /// limit, reservation, swap, kernel and kernelTCP; cpu shares, quota, period, the
    /// real-time pair, cpus and mems; the pids limit; block I/O weights and leaf
    /// weights; the net_cls class id). Docker writes `"shares": 0` and `"weight": 0`
    /// into every config.json, and `docker update` sends 0 for each field it does not
    /// change. What stays keeps its meaning: a swappiness of 0, a hugepage limit of 0
    /// and a throttle rate of 0 are values, and a negative number is still refused by
    /// [`Resources::validate`]. An object left empty is dropped, so nothing is written.
    pub fn zero_as_unset(mut self) -> Self {
        // A zero number, or an object with nothing left in it.
        fn unset<T: Default + PartialEq>(value: &mut Option<T>) {
            if value.as_ref() == Some(&T::default()) {
                *value = None;
            }
        }
        if let Some(memory) = self.memory.as_mut() {
            for field in [
                &mut memory.limit,
                &mut memory.swap,
                &mut memory.reservation,
                &mut memory.kernel,
                &mut memory.kernel_tcp,
            ] {
                unset(field);
            }
        }
        unset(&mut self.memory);
        if let Some(cpu) = self.cpu.as_mut() {
            unset(&mut cpu.shares);
            unset(&mut cpu.weight);
            unset(&mut cpu.quota);
            unset(&mut cpu.period);
            unset(&mut cpu.realtime_runtime);
            unset(&mut cpu.realtime_period);
            for list in [&mut cpu.cpus, &mut cpu.mems] {
                if list.as_deref().is_some_and(|l| l.trim().is_empty()) {
                    *list = None;
                }
            }
        }
        unset(&mut self.cpu);
        if self.pids.as_ref().is_some_and(|p| p.limit == 0) {
            self.pids = None;
        }
        if let Some(io) = self.block_io.as_mut() {
            unset(&mut io.weight);
            unset(&mut io.leaf_weight);
            for device in &mut io.weight_device {
                unset(&mut device.weight);
                unset(&mut device.leaf_weight);
            }
            io.weight_device.retain(|d| d.weight.is_some() || d.leaf_weight.is_some());
        }
        unset(&mut self.block_io);
        if let Some(network) = self.network.as_mut() {
            unset(&mut network.class_id);
        }
        unset(&mut self.network);
        self
    }
    // ANCHOR_END: zero_as_unset

    /// Takes out the fields current kernels no longer have, and says which: kernel
    /// memory limits always (runc ignores `kernel` and `kernelTCP` on both versions:
    /// the kernel deprecated kmem accounting limits in 5.4 and counts that memory in
    /// the memory limit), and leaf weights when `leaf_weight_file` is false (the blkio
    /// hierarchy has no `blkio.leaf_weight`: CFQ, which had them, left the kernel in
    /// 5.0; cgroup v2 never had them). Where the file exists they stay, and
    /// [`Resources::supported`] refuses them by name: this runtime does not write them.
    pub fn drop_deprecated(&mut self, leaf_weight_file: bool) -> Vec<Ignored> {
        let mut ignored = Vec::new();
        if let Some(memory) = self.memory.as_mut() {
            if memory.kernel.take().is_some() {
                ignored.push(Ignored {
                    field: "memory.kernel",
                    why: "kernel memory limits are deprecated (Linux 5.4) and have no effect; memory.limit counts kernel memory",
                });
            }
            if memory.kernel_tcp.take().is_some() {
                ignored.push(Ignored {
                    field: "memory.kernelTCP",
                    why: "kernel memory limits are deprecated and runc ignores this one too; memory.limit counts socket buffers",
                });
            }
        }
        if !leaf_weight_file {
            if let Some(io) = self.block_io.as_mut() {
                let device_leaf = io.weight_device.iter().any(|d| d.leaf_weight.is_some());
                if io.leaf_weight.take().is_some() || device_leaf {
                    for device in &mut io.weight_device {
                        device.leaf_weight = None;
                    }
                    io.weight_device.retain(|d| d.weight.is_some());
                    ignored.push(Ignored {
                        field: "blockIO.leafWeight",
                        why: "this kernel has no blkio.leaf_weight (leaf weights were CFQ's, removed in Linux 5.0)",
                    });
                }
            }
        }
        if self.memory.as_ref().is_some_and(|m| *m == Memory::default()) {
            self.memory = None;
        }
        if self.block_io.as_ref().is_some_and(|io| *io == BlockIo::default()) {
            self.block_io = None;
        }
        ignored
    }
}

impl Hierarchies {
    /// Whether the kernel has CFQ's leaf weights: a `blkio.leaf_weight` at the root of
    /// the v1 blkio hierarchy (never on cgroup v2).
    pub fn has_leaf_weight(&self) -> bool {
        self.v1_mount("blkio").is_some_and(|root| root.join("blkio.leaf_weight").exists())
    }
}

impl Resources {
    /// Checks every value against the range the kernel accepts before anything is written,
    /// so a typo is reported by field name and leaves the cgroup as it was.
    pub fn validate(&self) -> Result<(), CgroupError> {
        fn bad(field: &'static str, value: impl fmt::Display, expected: &'static str) -> CgroupError {
            CgroupError::InvalidResource { field, value: value.to_string(), expected }
        }
        if let Some(memory) = &self.memory {
            if let Some(limit) = memory.limit {
                if limit != -1 && limit <= 0 {
                    return Err(bad("memory.limit", limit, "a positive number of bytes, or -1 for no limit"));
                }
            }
            if let Some(swap) = memory.swap {
                if swap != -1 && swap <= 0 {
                    return Err(bad("memory.swap", swap, "a positive number of bytes, or -1 for no limit"));
                }
                match memory.limit {
                    Some(limit) if limit > 0 && swap != -1 && swap < limit => {
                        return Err(bad(
                            "memory.swap",
                            swap,
                            "memory plus swap, so at least memory.limit (equal means no swap)",
                        ))
                    }
                    Some(-1) if swap != -1 => {
                        return Err(bad("memory.swap", swap, "-1 when memory.limit is -1 (unlimited)"))
                    }
                    _ => {}
                }
            }
        }
        if let Some(cpu) = &self.cpu {
            if let Some(shares) = cpu.shares {
                if !(2..=262_144).contains(&shares) {
                    return Err(bad("cpu.shares", shares, "2 to 262144 (the default is 1024)"));
                }
            }
            if let Some(weight) = cpu.weight {
                if !(1..=10_000).contains(&weight) {
                    return Err(bad("cpu.weight", weight, "1 to 10000 (the default is 100)"));
                }
            }
            if let Some(period) = cpu.period {
                if !(1_000..=1_000_000).contains(&period) {
                    return Err(bad(
                        "cpu.period",
                        period,
                        "1000 to 1000000 microseconds (the default is 100000)",
                    ));
                }
            }
            if let Some(quota) = cpu.quota {
                if quota != -1 && quota < 1_000 {
                    return Err(bad("cpu.quota", quota, "at least 1000 microseconds, or -1 for no limit"));
                }
            }
            if let Some(runtime) = cpu.realtime_runtime {
                if runtime < -1 {
                    return Err(bad("cpu.realtimeRuntime", runtime, "microseconds, or -1 for no limit"));
                }
            }
            if cpu.realtime_period == Some(0) {
                return Err(bad("cpu.realtimePeriod", 0, "a positive number of microseconds"));
            }
            for (field, list) in [("cpu.cpus", &cpu.cpus), ("cpu.mems", &cpu.mems)] {
                if let Some(list) = list {
                    if !is_cpu_list(list) {
                        return Err(bad(field, format!("{list:?}"), "a list such as \"0-1,3\""));
                    }
                }
            }
            if let Some(idle) = cpu.idle {
                if !(0..=1).contains(&idle) {
                    return Err(bad("cpu.idle", idle, "0, or 1 for SCHED_IDLE"));
                }
            }
        }
        if let Some(memory) = &self.memory {
            for (field, value) in
                [("memory.reservation", memory.reservation), ("memory.kernelTCP", memory.kernel_tcp)]
            {
                if let Some(value) = value {
                    if value != -1 && value <= 0 {
                        return Err(bad(field, value, "a positive number of bytes, or -1 for no limit"));
                    }
                }
            }
            if let Some(swappiness) = memory.swappiness {
                if swappiness > 100 {
                    return Err(bad("memory.swappiness", swappiness, "0 to 100"));
                }
            }
        }
        let entry =
            |field: String, value: String, expected| CgroupError::InvalidEntry { field, value, expected };
        for (i, rule) in self.devices.iter().enumerate() {
            if let Some(kind) = rule.kind.as_deref() {
                if !matches!(kind, "a" | "b" | "c") {
                    return Err(entry(
                        format!("devices[{i}].type"),
                        format!("{kind:?}"),
                        "a (all), c (character) or b (block)",
                    ));
                }
            }
            if let Some(access) = rule.access.as_deref() {
                if access.is_empty() || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
                    return Err(entry(
                        format!("devices[{i}].access"),
                        format!("{access:?}"),
                        "letters of rwm, e.g. \"rwm\"",
                    ));
                }
            }
        }
        if let Some(io) = &self.block_io {
            let weights = io.weight.iter().map(|w| ("blockIO.weight".to_owned(), *w)).chain(
                io.weight_device
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| Some((format!("blockIO.weightDevice[{i}].weight"), d.weight?))),
            );
            for (field, weight) in weights {
                if !(10..=1000).contains(&weight) {
                    return Err(entry(field, weight.to_string(), "10 to 1000"));
                }
            }
        }
        for (i, limit) in self.hugepage_limits.iter().enumerate() {
            if hugepage_size(&limit.page_size).is_none() {
                return Err(entry(
                    format!("hugepageLimits[{i}].pageSize"),
                    format!("{:?}", limit.page_size),
                    "a size as the hugetlb files spell it: 2MB, 1GB, 64KB",
                ));
            }
        }
        for key in self.unified.keys() {
            let plain = !key.is_empty() && !key.contains('/') && key != "." && key != "..";
            if !plain || !key.contains('.') || key.starts_with("cgroup.") {
                return Err(entry(
                    format!("unified[{key:?}]"),
                    format!("{key:?}"),
                    "the name of a controller's file in the cgroup, such as memory.high (cgroup.* files are the runtime's)",
                ));
            }
        }
        Ok(())
    }

    // ANCHOR: supported
    /// Refuses, by field, what cgroup `version` (or any current kernel) cannot do, so
    /// that nothing is dropped silently: a container never runs with less than its
    /// configuration asked for. Checked before anything is created.
    pub fn supported(&self, version: Version) -> Result<(), CgroupError> {
        let no = |field: &str, why| Err(CgroupError::NotSupported { field: field.to_owned(), version, why });
        if let Some(memory) = &self.memory {
            // Refused here; chapter 6 reads config.json as runc does and takes it out
            // first, with a warning (`drop_deprecated`).
            if memory.kernel.is_some() {
                return no("memory.kernel", "kernel memory limits have no effect on current kernels (memory.kmem.limit_in_bytes is deprecated and ignored); drop it, memory.limit counts kernel memory too");
            }
            if memory.use_hierarchy == Some(false) {
                return no("memory.useHierarchy", "the memory controller is always hierarchical (the kernel refuses memory.use_hierarchy = 0); drop it or set true");
            }
        }
        if let Some(io) = &self.block_io {
            if io.leaf_weight.is_some() || io.weight_device.iter().any(|d| d.leaf_weight.is_some()) {
                return no(
                    "blockIO.leafWeight",
                    "this runtime does not write CFQ's leaf weights (blkio.leaf_weight, gone from kernels since 5.0, where a config.json's are ignored with a warning); drop them",
                );
            }
        }
        match version {
            Version::V1 => {
                if !self.unified.is_empty() {
                    return no(
                        "unified",
                        "it holds cgroup v2 files; give the limits in their named fields instead",
                    );
                }
            }
            Version::V2 => {
                let memory = self.memory.clone().unwrap_or_default();
                if memory.swappiness.is_some() {
                    return no(
                        "memory.swappiness",
                        "v2 has no per-cgroup swappiness; drop it (memory.swap.max limits swap)",
                    );
                }
                if memory.disable_oom_killer == Some(true) {
                    return no(
                        "memory.disableOOMKiller",
                        "v2 cannot switch the OOM killer off for a cgroup; drop it, or raise memory.limit",
                    );
                }
                if memory.kernel_tcp.is_some() {
                    return no(
                        "memory.kernelTCP",
                        "v2 counts socket buffers in memory.max and has no separate limit; drop it",
                    );
                }
                let cpu = self.cpu.clone().unwrap_or_default();
                if cpu.realtime_runtime.is_some() || cpu.realtime_period.is_some() {
                    return no("cpu.realtimeRuntime", "v2 has no real-time bandwidth per cgroup (the processes must run in the root cgroup); drop realtimeRuntime and realtimePeriod");
                }
                if self.network.is_some() {
                    return no("network", "v2 has no net_cls or net_prio controller; classify packets by cgroup path with nftables (socket cgroupv2) or tc instead");
                }
            }
        }
        Ok(())
    }
    // ANCHOR_END: supported
}

/// Whether `text` is a cpuset list: numbers and ranges separated by commas (`0-1,3`).
pub fn is_cpu_list(text: &str) -> bool {
    let number = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    !text.trim().is_empty()
        && text.trim().split(',').all(|part| match part.split_once('-') {
            Some((from, to)) => number(from) && number(to),
            None => number(part),
        })
}

/// The bytes of a hugetlb page size as its files spell it (`2MB`, `1GB`, `64KB`).
pub fn hugepage_size(text: &str) -> Option<u64> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let shift = match unit {
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        _ => return None,
    };
    number.parse::<u64>().ok().filter(|n| *n > 0).map(|n| n << shift)
}

/// What a cgroup has used, read from its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// `None` when the cgroup has no memory controller.
    pub memory: Option<MemoryStats>,
    pub cpu: Option<CpuStats>,
    pub pids: Option<PidsStats>,
}

/// Memory counters, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryStats {
    /// Memory charged now (v1 `memory.usage_in_bytes`, v2 `memory.current`).
    pub usage: u64,
    /// The highest usage seen (v1 `memory.max_usage_in_bytes`, v2 `memory.peak` on 5.19+).
    pub max_usage: Option<u64>,
    /// The limit; `None` when unlimited.
    pub limit: Option<u64>,
    /// How often a charge hit the limit (v1 `memory.failcnt` plus `memory.memsw.failcnt`,
    /// v2 `max` in `memory.events`).
    pub failcnt: u64,
    /// Processes the OOM killer killed in this cgroup (`oom_kill`).
    pub oom_kills: u64,
}

/// CPU counters, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpuStats {
    /// CPU time used by all tasks (v1 `cpuacct.usage`, v2 `usage_usec` of `cpu.stat`).
    pub usage_ns: u64,
    /// Periods in which the quota ran out (`nr_throttled` of `cpu.stat`).
    pub nr_throttled: u64,
    /// Time spent throttled.
    pub throttled_ns: u64,
}

/// Task counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PidsStats {
    /// `pids.current`.
    pub current: u64,
    /// `pids.max`; `None` when unlimited.
    pub limit: Option<u64>,
    /// Forks refused because of the limit (`max` in `pids.events`).
    pub refused: u64,
}

// ---------------------------------------------------------------------------------------
// The interface
// ---------------------------------------------------------------------------------------

/// Which cgroup interface a driver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    V1,
    V2,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        })
    }
}

// ANCHOR: manager
/// One container's cgroup, whichever version holds it. Both drivers implement it.
pub trait CgroupManager: fmt::Debug + Send + Sync {
    /// The interface this cgroup lives in.
    fn version(&self) -> Version;
    /// The directories that make up the cgroup (one per v1 hierarchy, one on v2).
    fn dirs(&self) -> Vec<PathBuf>;
    /// Writes the limits; validates them first, so an invalid one writes nothing.
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError>;
    /// Moves process `pid` (and all its threads) into the cgroup.
    fn join(&self, pid: i32) -> Result<(), CgroupError>;
    /// The processes in the cgroup (its own `cgroup.procs`, not its children's).
    fn procs(&self) -> Result<Vec<i32>, CgroupError>;
    /// Reads the counters.
    fn stats(&self) -> Result<Stats, CgroupError>;
    /// SIGKILLs every process in the cgroup and waits until they have left it.
    fn kill(&self) -> Result<(), CgroupError>;
    /// Kills what is left, then removes the cgroup's directories bottom-up.
    fn remove(&self) -> Result<(), CgroupError>;
    /// Freezes (`Frozen`, returning once every task has stopped) or thaws (`Thawed`)
    /// every task of the cgroup: what `pause` and `resume` do to a container.
    fn set_freezer(&self, state: FreezerState) -> Result<(), CgroupError>;
    /// What the freezer says now.
    fn freezer_state(&self) -> Result<FreezerState, CgroupError>;
}
// ANCHOR_END: manager

// ANCHOR: create
/// Creates cgroup `path` (relative, e.g. `bigbang/web-1`) with the driver this machine's
/// hierarchies call for, and applies `resources`. When the limits are refused, the new
/// cgroup is removed again and the error returned: nothing is left behind.
pub fn create(
    hierarchies: &Hierarchies,
    path: &Path,
    resources: &Resources,
) -> Result<Box<dyn CgroupManager>, CgroupError> {
    resources.validate()?;
    resources.supported(hierarchies.version()?)?;
    devices::check_rules(&resources.devices)?;
    let cgroup: Box<dyn CgroupManager> = match hierarchies.version()? {
        Version::V1 => Box::new(v1::V1Cgroup::create(&hierarchies.joined(), path)?),
        Version::V2 => {
            let root = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
            Box::new(v2::V2Cgroup::create(root, path)?)
        }
    };
    if let Err(err) = cgroup.apply(resources) {
        let _ = cgroup.remove();
        return Err(err);
    }
    Ok(cgroup)
}
// ANCHOR_END: create

// ANCHOR: create_or_join
/// Cgroup `path` for a container: created as [`create`] does when it does not exist;
/// joined when it does, since the OCI spec says a runtime given the same cgroupsPath
/// "MUST consistently attach to the same place" (a pod's containers share one). On v1
/// a cgroup found in some hierarchies is made in the others. `resources` are applied
/// either way, as runc applies them. Returns whether it existed: a joined cgroup is not
/// the runtime's, and a failure leaves it as it was (but for the limits written).
pub fn create_or_join(
    hierarchies: &Hierarchies,
    path: &Path,
    resources: &Resources,
) -> Result<(Box<dyn CgroupManager>, bool), CgroupError> {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let existed = match hierarchies.version()? {
        Version::V1 => hierarchies.v1.iter().any(|h| h.mount_point.join(relative).is_dir()),
        Version::V2 => hierarchies.unified.as_deref().is_some_and(|root| root.join(relative).is_dir()),
    };
    if !existed {
        return Ok((create(hierarchies, path, resources)?, false));
    }
    resources.validate()?;
    resources.supported(hierarchies.version()?)?;
    devices::check_rules(&resources.devices)?;
    let cgroup: Box<dyn CgroupManager> = match hierarchies.version()? {
        Version::V1 => Box::new(v1::V1Cgroup::join_or_create(&hierarchies.joined(), path)?),
        Version::V2 => {
            let root = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
            Box::new(v2::V2Cgroup::open(root, path)?)
        }
    };
    cgroup.apply(resources)?;
    Ok((cgroup, true))
}
// ANCHOR_END: create_or_join

/// Whether this process may create cgroup `path`: in every hierarchy it would use, the
/// nearest directory that exists on the way to it is writable and searchable by us
/// (access(2)). Root always may; an unprivileged user only below a cgroup delegated to
/// them. Asked before trying, so that a rootless `create` can decide to run without a
/// cgroup instead of failing half way through making one.
pub fn can_create(hierarchies: &Hierarchies, path: &Path) -> bool {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let joined = hierarchies.joined();
    let roots: Vec<&Path> = match hierarchies.version() {
        Ok(Version::V1) => joined.iter().map(|h| h.mount_point.as_path()).collect(),
        Ok(Version::V2) => hierarchies.unified.iter().map(PathBuf::as_path).collect(),
        Err(_) => return false,
    };
    !roots.is_empty()
        && roots.iter().all(|root| {
            let target = root.join(relative);
            let nearest = target.ancestors().find(|dir| dir.exists()).unwrap_or(root);
            nix::unistd::access(nearest, nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK)
                .is_ok()
        })
}

/// Opens the existing cgroup `path`, e.g. to update, read or remove it later.
pub fn open(hierarchies: &Hierarchies, path: &Path) -> Result<Box<dyn CgroupManager>, CgroupError> {
    Ok(match hierarchies.version()? {
        Version::V1 => Box::new(v1::V1Cgroup::open(&hierarchies.joined(), path)?),
        Version::V2 => {
            let root = hierarchies.unified.as_deref().ok_or(CgroupError::NotMounted)?;
            Box::new(v2::V2Cgroup::open(root, path)?)
        }
    })
}

// ---------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------

/// The v1 controllers a kernel may offer (cgroups(7)); other mount options are not controllers.
pub const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// One mounted v1 hierarchy: where it is and which controllers it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V1Hierarchy {
    /// e.g. `/sys/fs/cgroup/memory`, or `/sys/fs/cgroup/cpu,cpuacct` when co-mounted.
    pub mount_point: PathBuf,
    /// `cpu`, `cpuacct`; `name=systemd` for a named hierarchy; none for the v2 tree
    /// of a hybrid host in [`Hierarchies::joined`].
    pub controllers: Vec<String>,
}

/// The cgroup filesystems mounted on a machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Hierarchies {
    /// v1 hierarchies with at least one controller.
    pub v1: Vec<V1Hierarchy>,
    /// v1 hierarchies with a name and no controller (`name=systemd`, in which systemd
    /// keeps its own tree of units); `controllers` holds the `name=` option.
    pub named: Vec<V1Hierarchy>,
    /// The v2 tree: `/sys/fs/cgroup` on a v2 host, `/sys/fs/cgroup/unified` on a hybrid one.
    pub unified: Option<PathBuf>,
}

// ANCHOR: detect
impl Hierarchies {
    /// Reads the hierarchies from the text of `/proc/self/mountinfo` (proc(5)): field 5
    /// is the mount point, and after the ` - ` separator come the filesystem type,
    /// the source and the super options, which name a v1 hierarchy's controllers.
    /// A production runtime also reads field 4 (the mount's root, not `/` inside a
    /// container whose cgroupfs is a bind mount) and `/proc/self/cgroup` to nest below
    /// its own cgroup; this one places cgroups relative to each hierarchy's mount point
    /// (only `mount`, which shows a container its own cgroups, reads both).
    pub fn from_mountinfo(mountinfo: &str) -> Self {
        let mut found = Hierarchies::default();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else { continue };
            let Some(mount_point) = left.split(' ').nth(4) else { continue };
            let mut right = right.split(' ');
            let (Some(fstype), Some(_source), options) = (right.next(), right.next(), right.next()) else {
                continue;
            };
            let mount_point = PathBuf::from(unescape(mount_point));
            match fstype {
                "cgroup" => {
                    let options = options.unwrap_or("");
                    let controllers: Vec<String> = options
                        .split(',')
                        .filter(|o| V1_CONTROLLERS.contains(o))
                        .map(str::to_owned)
                        .collect();
                    let name: Vec<String> =
                        options.split(',').filter(|o| o.starts_with("name=")).map(str::to_owned).collect();
                    let (list, key) = if controllers.is_empty() {
                        (&mut found.named, name)
                    } else {
                        (&mut found.v1, controllers)
                    };
                    // The same hierarchy mounted twice (a bind mount) is one hierarchy.
                    if !key.is_empty() && !list.iter().any(|h| h.controllers == key) {
                        list.push(V1Hierarchy { mount_point, controllers: key });
                    }
                }
                "cgroup2" if found.unified.is_none() => found.unified = Some(mount_point),
                _ => {}
            }
        }
        found
    }

    /// This machine's hierarchies, from `/proc/self/mountinfo`.
    pub fn here() -> Result<Self, CgroupError> {
        let path = PathBuf::from("/proc/self/mountinfo");
        let text = fs::read_to_string(&path).map_err(|source| CgroupError::Mountinfo { path, source })?;
        Ok(Self::from_mountinfo(&text))
    }

    /// The driver to use. On a hybrid host (v1 controllers plus a v2 tree, often with no
    /// controllers of its own) the controllers live in v1, so v1 wins when it has any of
    /// memory, cpu or pids; a pure v2 host has no v1 hierarchy with a controller.
    pub fn version(&self) -> Result<Version, CgroupError> {
        let v1_has = |c: &str| self.v1.iter().any(|h| h.controllers.iter().any(|x| x == c));
        if ["memory", "cpu", "pids"].iter().any(|c| v1_has(c)) {
            Ok(Version::V1)
        } else if self.unified.is_some() {
            Ok(Version::V2)
        } else {
            Err(CgroupError::NotMounted)
        }
    }

    /// Every hierarchy a v1 container's cgroup is made in, as runc does: the controller
    /// hierarchies, the named ones (`name=systemd`), and on a hybrid host the v2 tree
    /// too (an entry with no controllers), so that `/proc/<pid>/cgroup` places the
    /// container in its own cgroup on every line, `0::` included, and not in the
    /// cgroup of whoever started it. On a v2 host: nothing (the driver is v2's).
    pub fn joined(&self) -> Vec<V1Hierarchy> {
        if self.version().ok() != Some(Version::V1) {
            return Vec::new();
        }
        let mut all: Vec<V1Hierarchy> = self.v1.iter().chain(&self.named).cloned().collect();
        if let Some(unified) = &self.unified {
            all.push(V1Hierarchy { mount_point: unified.clone(), controllers: Vec::new() });
        }
        all
    }

    /// The v1 hierarchy that holds `controller`.
    pub fn v1_mount(&self, controller: &str) -> Option<&Path> {
        self.v1
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .map(|h| h.mount_point.as_path())
    }
}
// ANCHOR_END: detect

/// Decodes mountinfo's `\ooo` octal escapes (space, tab, newline, backslash).
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = field.get(i + 1..i + 4).and_then(|digits| u8::from_str_radix(digits, 8).ok());
        if let (b'\\', Some(code)) = (bytes[i], octal) {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Helpers both drivers use
// ---------------------------------------------------------------------------------------

/// Checks that a cgroup path is relative and made of plain names, so that joining it
/// to a hierarchy's mount point can never lead outside it.
pub fn check_path(path: &Path) -> Result<(), CgroupError> {
    let bad = |reason| Err(CgroupError::InvalidPath { path: path.to_owned(), reason });
    if path.as_os_str().is_empty() {
        return bad("it is empty");
    }
    for part in path.components() {
        match part {
            Component::Normal(_) => {}
            Component::RootDir | Component::Prefix(_) => return bad("it is absolute"),
            Component::ParentDir | Component::CurDir => return bad("it has . or .. in it"),
        }
    }
    Ok(())
}

/// Writes `value` to a cgroup control file as one write(2), without O_CREAT: the kernel
/// makes the files, so a missing one is a controller that is not there, not a file to
/// create. The kernel's refusals become errors that name the file and the value.
pub fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    let result = fs::OpenOptions::new().write(true).truncate(true).open(path).and_then(|mut file| {
        // One write: the kernel parses each write(2) on its own, so no BufWriter splitting.
        file.write_all(value.as_bytes())
    });
    result.map_err(|source| {
        let (path, value) = (path.to_owned(), value.to_owned());
        match source.raw_os_error().map(Errno::from_raw) {
            Some(Errno::ENOENT) => CgroupError::FileMissing { path },
            Some(Errno::EINVAL) => CgroupError::Rejected { path, value },
            Some(Errno::EBUSY) => CgroupError::Busy { path, value },
            Some(Errno::EACCES | Errno::EPERM | Errno::EROFS) => CgroupError::NotPermitted { path },
            Some(Errno::ESRCH) => {
                CgroupError::NoSuchProcess { pid: value.trim().parse().unwrap_or(-1), path }
            }
            _ => CgroupError::Write { path, value, source },
        }
    })
}

/// Reads a control file as text.
pub fn read_file(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => CgroupError::FileMissing { path: path.to_owned() },
        _ => CgroupError::Read { path: path.to_owned(), source },
    })
}

/// Reads a file holding one number.
pub fn read_u64(path: &Path) -> Result<u64, CgroupError> {
    let text = read_file(path)?;
    text.trim().parse().map_err(|_| CgroupError::Parse { path: path.to_owned(), text })
}

/// Reads a file holding one number or `max`; `max` is `None`.
pub fn read_max(path: &Path) -> Result<Option<u64>, CgroupError> {
    let text = read_file(path)?;
    match text.trim() {
        "max" => Ok(None),
        number => number.parse().map(Some).map_err(|_| CgroupError::Parse { path: path.to_owned(), text }),
    }
}

/// The value of `key` in a flat-keyed file (`key value` lines, as `memory.events`,
/// `cpu.stat`, `pids.events` and v1's `memory.oom_control`); `None` when absent.
pub fn flat_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        if k == key {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

/// Reads `cgroup.procs`: one pid per line.
pub fn read_procs(path: &Path) -> Result<Vec<i32>, CgroupError> {
    let text = read_file(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim().parse().map_err(|_| CgroupError::Parse { path: path.to_owned(), text: text.clone() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    /// A hybrid host runs its controllers in v1, so v1 is chosen; the v2 tree is still found.
    #[test]
    fn hybrid_is_v1() {
        let h = Hierarchies::from_mountinfo(HYBRID);
        assert_eq!(h.version().unwrap(), Version::V1);
        assert_eq!(h.v1.len(), 4, "name=systemd is not a controller hierarchy: {h:?}");
        assert_eq!(h.unified.as_deref(), Some(Path::new("/sys/fs/cgroup/unified")));
        assert_eq!(h.v1_mount("cpuacct"), Some(Path::new("/sys/fs/cgroup/cpuacct")));
        assert_eq!(h.named[0].controllers, ["name=systemd"]);
        let joined = h.joined();
        assert_eq!(joined.len(), 6, "4 controllers, name=systemd and the v2 tree: {joined:?}");
        assert!(joined.iter().any(|j| j.mount_point == Path::new("/sys/fs/cgroup/systemd")));
        assert!(joined
            .iter()
            .any(|j| j.mount_point == Path::new("/sys/fs/cgroup/unified") && j.controllers.is_empty()));
    }

    /// A unified host is v2; co-mounted v1 controllers are one hierarchy.
    #[test]
    fn v2_and_comounted() {
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(Hierarchies::from_mountinfo(v2).version().unwrap(), Version::V2);
        assert!(Hierarchies::from_mountinfo(v2).joined().is_empty(), "v2's driver is not v1's");
        let v1 = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,nosuid,cpu,cpuacct\n";
        let h = Hierarchies::from_mountinfo(v1);
        assert_eq!(h.v1[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(h.v1_mount("cpu"), h.v1_mount("cpuacct"));
        assert!(matches!(Hierarchies::from_mountinfo("").version(), Err(CgroupError::NotMounted)));
    }

    /// The conversion runc and crun use maps the ends and the defaults as documented.
    #[test]
    fn shares_map_onto_weights() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }

    /// Out-of-range limits are refused by field name before anything is written.
    #[test]
    fn validation_names_the_field() {
        let bad = Resources { cpu: Some(Cpu { shares: Some(1), ..Cpu::default() }), ..Resources::default() };
        assert!(matches!(bad.validate(), Err(CgroupError::InvalidResource { field: "cpu.shares", .. })));
        let bad = Resources {
            memory: Some(Memory { limit: Some(64 << 20), swap: Some(32 << 20), ..Memory::default() }),
            ..Resources::default()
        };
        assert!(matches!(bad.validate(), Err(CgroupError::InvalidResource { field: "memory.swap", .. })));
        let bad = Resources {
            cpu: Some(Cpu { cpus: Some("0-".into()), ..Cpu::default() }),
            ..Resources::default()
        };
        assert!(matches!(bad.validate(), Err(CgroupError::InvalidResource { field: "cpu.cpus", .. })));
        let bad = Resources {
            unified: BTreeMap::from([("cgroup.procs".into(), "1".into())]),
            ..Resources::default()
        };
        assert!(matches!(bad.validate(), Err(CgroupError::InvalidEntry { .. })));
        assert!(check_path(Path::new("../etc")).is_err());
        assert!(check_path(Path::new("/abs")).is_err());
        assert!(check_path(Path::new("bigbang/ok")).is_ok());
    }

    /// Docker's zeros mean unset, as runc reads them; what is left of an object stays,
    /// and zeros that are values (swappiness, hugepage limits) are kept.
    #[test]
    fn zero_is_unset_as_runc_reads_it() {
        // What `docker update --memory 64m` sends: 0 for everything it does not change.
        let json = r#"{"memory":{"limit":67108864,"reservation":0,"swap":0,"kernel":0,"kernelTCP":0,"swappiness":0},"cpu":{"shares":0,"quota":0,"period":0,"realtimeRuntime":0,"realtimePeriod":0,"cpus":"","mems":""},"pids":{"limit":0},"blockIO":{"weight":0,"leafWeight":0,"weightDevice":[{"major":8,"minor":0,"weight":0}]},"network":{"classID":0},"hugepageLimits":[{"pageSize":"2MB","limit":0}]}"#;
        let docker: Resources = serde_json::from_str(json).unwrap();
        assert!(docker.validate().is_err(), "chapter 4 alone refuses shares 0");
        let read = docker.zero_as_unset();
        assert_eq!(
            read,
            Resources {
                memory: Some(Memory { limit: Some(64 << 20), swappiness: Some(0), ..Memory::default() }),
                hugepage_limits: vec![HugepageLimit { page_size: "2MB".into(), limit: 0 }],
                ..Resources::default()
            }
        );
        read.validate().unwrap();
        // `docker run` with no limits: nothing is left to write.
        let run: Resources = serde_json::from_str(r#"{"cpu":{"shares":0},"blockIO":{"weight":0}}"#).unwrap();
        assert_eq!(run.zero_as_unset(), Resources::default());
        // Values that are really out of range are still refused.
        for bad in [
            r#"{"cpu":{"shares":1}}"#,
            r#"{"cpu":{"quota":500}}"#,
            r#"{"cpu":{"cpus":"0-"}}"#,
            r#"{"memory":{"limit":-5}}"#,
            r#"{"blockIO":{"weight":5}}"#,
        ] {
            let r: Resources = serde_json::from_str(bad).unwrap();
            assert!(r.zero_as_unset().validate().is_err(), "{bad} passed");
        }
    }

    /// Kernel memory limits are always taken out; leaf weights only where the kernel
    /// has no blkio.leaf_weight (where it has one, `supported` refuses them by name).
    #[test]
    fn deprecated_fields_are_taken_out_and_named() {
        let json = r#"{"memory":{"kernel":1048576,"kernelTCP":1048576},"blockIO":{"leafWeight":100,"weightDevice":[{"major":8,"minor":0,"leafWeight":50}]}}"#;
        let given: Resources = serde_json::from_str(json).unwrap();
        let mut without_file = given.clone();
        let ignored = without_file.drop_deprecated(false);
        let fields: Vec<_> = ignored.iter().map(|i| i.field).collect();
        assert_eq!(fields, ["memory.kernel", "memory.kernelTCP", "blockIO.leafWeight"]);
        assert_eq!(without_file, Resources::default());
        assert!(ignored[0].to_string().starts_with("linux.resources.memory.kernel is ignored: "));
        let mut with_file = given.clone();
        assert_eq!(with_file.drop_deprecated(true).len(), 2);
        assert_eq!(with_file.block_io, given.block_io);
        assert!(with_file.supported(Version::V1).is_err());
    }

    /// What a version cannot do is refused by its JSON path, never dropped.
    #[test]
    fn unsupported_fields_are_refused_by_name() {
        let swappiness = Resources {
            memory: Some(Memory { swappiness: Some(10), ..Memory::default() }),
            ..Resources::default()
        };
        assert!(swappiness.supported(Version::V1).is_ok());
        let err = swappiness.supported(Version::V2).unwrap_err().to_string();
        assert!(err.starts_with("linux.resources.memory.swappiness is not supported on cgroup v2"), "{err}");
        let kernel = Resources {
            memory: Some(Memory { kernel: Some(1 << 20), ..Memory::default() }),
            ..Resources::default()
        };
        assert!(matches!(kernel.supported(Version::V1), Err(CgroupError::NotSupported { .. })));
        let unified = Resources {
            unified: BTreeMap::from([("memory.high".into(), "1M".into())]),
            ..Resources::default()
        };
        assert!(unified.supported(Version::V1).is_err() && unified.supported(Version::V2).is_ok());
        assert_eq!(hugepage_size("2MB"), Some(2 << 20));
        assert_eq!(hugepage_size("2M"), None);
        assert!(is_cpu_list("0-1,3") && !is_cpu_list("") && !is_cpu_list("a"));
    }

    /// OCI's JSON spelling round-trips.
    #[test]
    fn oci_json() {
        let json = r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}],"memory":{"limit":33554432,"swap":33554432,"disableOOMKiller":false},"cpu":{"shares":512,"quota":20000,"period":100000,"cpus":"1"},"pids":{"limit":16},"blockIO":{"weight":100,"throttleReadIOPSDevice":[{"major":8,"minor":0,"rate":10}]},"hugepageLimits":[{"pageSize":"2MB","limit":0}],"network":{"classID":1},"unified":{"memory.high":"max"}}"#;
        let r: Resources = serde_json::from_str(json).unwrap();
        assert_eq!(r.pids, Some(Pids { limit: 16 }));
        assert_eq!(serde_json::to_string(&r).unwrap(), json);
    }
}
