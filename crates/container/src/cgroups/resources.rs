//! What a container's cgroup limits (chapter 4): `linux.resources` of OCI's config.json
//! as Rust types, with the same field names and units (checked in `validate`), and the
//! v1-to-v2 conversion of CPU shares. Read the runtime spec's config-linux.md
//! ("Control groups") and cgroups(7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

// ANCHOR: resources_struct
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
// ANCHOR_END: resources_struct
// ANCHOR: resources_fields

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
// ANCHOR_END: resources_fields

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

/// The CFS period the kernel and runc use when none is given: 100 ms.
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;

// ANCHOR: shares_to_weight
/// v1 `cpu.shares` (2–262144) to v2 `cpu.weight` (1–10000) with the log-quadratic map
/// runc (1.3.2 and 1.4) and crun (1.23) adopted in 2025: 2 ↦ 1, 1024 ↦ 100 and
/// 262144 ↦ 10000, so the v1 default lands on the v2 default. Zero means unset.
/// (Before, both used the linear `1 + (shares - 2) * 9999 / 262142`, which gives
/// 1024 ↦ 39; Debian 12's runc 1.1.5 still does.)
pub fn shares_to_weight(shares: u64) -> u64 {
    match shares {
        0 => 0,
        1..=2 => 1,
        262_144.. => 10_000,
        _ => {
            let l = (shares as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            10f64.powf(exponent).ceil() as u64
        }
    }
}
// ANCHOR_END: shares_to_weight

#[cfg(test)]
mod tests {
    use super::*;

    /// The map runc 1.3.2+ and crun 1.23+ use keeps the ends and sends the v1
    /// default onto the v2 default; between, it rounds up as they do (runc#4896: 2000
    /// shares are 170).
    #[test]
    fn shares_map_onto_weights() {
        let pairs =
            [(0, 0), (1, 1), (2, 1), (3, 2), (102, 17), (512, 59), (1024, 100), (2000, 170), (2048, 174)];
        for (shares, weight) in pairs {
            assert_eq!(shares_to_weight(shares), weight, "{shares} shares");
        }
        assert_eq!(shares_to_weight(262_143), 10_000);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(u64::MAX), 10_000);
    }

    /// The weight never falls as the shares grow, so the order of two containers
    /// under contention is the same on v1 and v2.
    #[test]
    fn the_map_is_monotonic() {
        let mut last = 0;
        for shares in 2..=262_144 {
            let weight = shares_to_weight(shares);
            assert!(weight >= last, "{shares} shares gave {weight}, below {last}");
            last = weight;
        }
    }
}
