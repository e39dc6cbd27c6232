//! The checks and readings of `linux.resources` before anything is written (chapter 4,
//! and chapter 6 for config.json): every value against the range the kernel accepts
//! ([`Resources::validate`]), what a cgroup version cannot do ([`Resources::supported`]),
//! and runc's reading of zeros and of fields the kernel dropped. Read the runtime spec's
//! config-linux.md ("Control groups") and cgroups(7).

use std::fmt;

use super::error::CgroupError;
use super::resources::{BlockIo, DeviceRule, Memory, Resources};
use super::version::Version;

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

/// Checks what [`Resources::validate`] cannot see from one
/// field: a rule for all types must be the whole wildcard, because v1 resets the whole
/// list on any `a` line whatever numbers and access follow it; numbers must fit in 32 bits.
pub fn check_rules(rules: &[DeviceRule]) -> Result<(), CgroupError> {
    for (i, rule) in rules.iter().enumerate() {
        if rule.kind_char() == 'a' && !rule.is_wildcard() {
            return Err(CgroupError::InvalidEntry {
                field: format!("devices[{i}]"),
                value: rule.v1_line(),
                expected: "a rule for all devices (type a or none) with no major, no minor and access rwm; give type c or b to name numbers",
            });
        }
        for (what, n) in [("major", rule.major), ("minor", rule.minor)] {
            if n.is_some_and(|n| n > i32::MAX as i64) {
                return Err(CgroupError::InvalidEntry {
                    field: format!("devices[{i}].{what}"),
                    value: n.unwrap_or_default().to_string(),
                    expected: "a device number below 2^31",
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    /// A rule for all devices must be the whole wildcard; numbers fit in 32 bits.
    #[test]
    fn device_rules_are_checked_as_a_list() {
        let odd = DeviceRule { major: Some(1), ..DeviceRule::deny_all() };
        assert!(matches!(check_rules(&[odd]), Err(CgroupError::InvalidEntry { .. })));
        let big = DeviceRule::allow_char(Some(1 << 31), None, "rwm");
        assert!(matches!(check_rules(&[big]), Err(CgroupError::InvalidEntry { .. })));
        assert!(
            check_rules(&[DeviceRule::deny_all(), DeviceRule::allow_char(Some(1), Some(3), "rwm")]).is_ok()
        );
    }
    use crate::cgroups::files::check_path;
    use crate::cgroups::resources::{Cpu, HugepageLimit};

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
}
