//! Cgroups (chapter 4): one interface, two drivers. A container's cgroup caps its
//! memory (OOM kill past the limit), its CPU time (CFS quota/period, shares or weight)
//! and its number of tasks, and counts what it used. Cgroup v1 has one hierarchy per
//! controller (`v1`), v2 one unified tree (`v2`); [`Hierarchies::version`] picks one.
//! Read cgroups(7), and the kernel's admin-guide/cgroup-v2.rst and cgroup-v1/*.rst.
//!
//! # Layout
//! - `manager`: the interface both drivers implement ([`CgroupManager`]), the
//!   freezer's states, and how long kill and freeze wait.
//! - `version`: the [`Version`] a driver speaks, v1 or v2.
//! - `factory`: [`create`], [`create_or_join`], [`open`] and [`can_create`], which pick
//!   the driver the hierarchies call for; the only file that names `v1` and `v2`.
//! - `v1`: a cgroup made of one directory per v1 hierarchy (every one mounted).
//! - `v2`: a cgroup as one directory of the unified hierarchy.
//! - `resources`: the limits ([`Resources`]), shaped after OCI's `linux.resources`.
//! - `validate`: the limits checked before anything is written (ranges, what a version
//!   cannot do), and config.json's zeros and deprecated fields read as runc reads them.
//! - `valid`: [`ValidResources`], limits that passed those checks, the only kind the
//!   drivers take: validated once, at the edge ([`Resources::validated`]).
//! - `stats`: the counters ([`Stats`]) both drivers read.
//! - `detect`: the mounted hierarchies ([`Hierarchies`]), from `crate::mountinfo`.
//! - `files`: the control-file helpers both drivers use (write, read, numbers, pids),
//!   path checks, and [`remove_bottom_up`], which removes a cgroup's directory tree.
//! - `error`: the module's error type ([`CgroupError`]).
//! - `limits`: the controllers beyond memory, cpu and pids (cpuset, block I/O, huge
//!   pages, net_cls/net_prio, rdma, `unified`), as file writes both drivers share.
//! - `mount`: what a container sees at `/sys/fs/cgroup` (its own cgroup in each
//!   hierarchy), derived from mountinfo and `/proc/self/cgroup` for chapter 3 to mount.
//! - `devices`: the device rules, as v1 `devices.allow`/`devices.deny` lines or as the
//!   eBPF program v2 runs; `ebpf`: the instruction encoding and bpf(2) calls for it.

pub mod detect;
pub mod devices;
pub mod ebpf;
pub mod error;
pub mod factory;
pub mod files;
pub mod limits;
pub mod manager;
pub mod mount;
pub mod resources;
pub mod stats;
pub mod v1;
pub mod v2;
pub mod valid;
pub mod validate;
pub mod version;

pub use detect::{Hierarchies, V1Hierarchy, CGROUP_MOUNT, V1_CONTROLLERS};
pub use error::CgroupError;
pub use factory::{can_create, create, create_or_join, open};
pub use files::{
    check_path, flat_keyed, read_file, read_max, read_procs, read_u64, remove_bottom_up, write_file,
};
pub use manager::{CgroupManager, FreezerState, FREEZE_TIMEOUT, KILL_TIMEOUT};
pub use resources::{
    shares_to_weight, BlockIo, Cpu, DeviceRule, HugepageLimit, InterfacePriority, Memory, Network, Pids,
    Rdma, Resources, ThrottleDevice, WeightDevice, DEFAULT_CPU_PERIOD,
};
pub use stats::{CpuStats, MemoryStats, PidsStats, Stats};
pub use valid::ValidResources;
pub use validate::{hugepage_size, is_cpu_list, Ignored};
pub use version::Version;

// Kept for callers from before `crate::mountinfo`, which owns it now.
pub use crate::mountinfo::unescape;
