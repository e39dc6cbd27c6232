//! The limits beyond memory, CPU time and pids (chapter 4, read in chapter 6): cpusets,
//! block I/O, huge pages, packet classes, RDMA, the extra memory and CPU knobs, and v2's
//! raw `unified` files. Each function writes one controller's files in one cgroup
//! directory, so both drivers share them and tests run them on fixture trees.
//! Read the kernel's admin-guide/cgroup-v1/{cpusets,blkio-controller,hugetlb,net_cls,
//! net_prio,rdma}.rst and cgroup-v2.rst ("Controllers").

use std::collections::BTreeMap;
use std::path::Path;

use super::error::CgroupError;
use super::files::{read_file, read_u64, write_file};
use super::resources::{BlockIo, Cpu, HugepageLimit, Memory, Network, Rdma};
use super::validate::hugepage_size;
use super::version::Version;

// ANCHOR: init_cpuset
/// A new v1 cpuset cgroup starts with empty `cpuset.cpus` and `cpuset.mems`, and the
/// kernel refuses to move a task into it (ENOSPC) until both are set: copy the parent's,
/// as runc does. (v2 treats empty as "the parent's", so only v1 needs this; the
/// alternative, `cgroup.clone_children = 1` on the parent, would change the host's
/// hierarchy for everyone.)
pub fn init_cpuset(dir: &Path) -> Result<(), CgroupError> {
    let Some(parent) = dir.parent() else { return Ok(()) };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        if read_file(&dir.join(file))?.trim().is_empty() {
            write_file(&dir.join(file), read_file(&parent.join(file))?.trim())?;
        }
    }
    Ok(())
}
// ANCHOR_END: init_cpuset

/// `cpu.cpus` and `cpu.mems` into `cpuset.cpus` and `cpuset.mems` (the same files on
/// v1 and v2). The kernel refuses CPUs or nodes the parent does not have (EINVAL).
pub fn set_cpuset(dir: &Path, cpu: &Cpu) -> Result<(), CgroupError> {
    if let Some(cpus) = &cpu.cpus {
        write_file(&dir.join("cpuset.cpus"), cpus)?;
    }
    if let Some(mems) = &cpu.mems {
        write_file(&dir.join("cpuset.mems"), mems)?;
    }
    Ok(())
}

/// Whether `cpu` asks anything of the cpuset controller.
pub fn wants_cpuset(cpu: &Option<Cpu>) -> bool {
    cpu.as_ref().is_some_and(|c| c.cpus.is_some() || c.mems.is_some())
}

/// The CPU knobs beyond shares and quota: `burst` (v1 `cpu.cfs_burst_us`, v2
/// `cpu.max.burst`), the real-time bandwidth (v1 only, period before runtime as runc
/// writes them: a runtime is checked against the period in place) and `idle`.
pub fn set_cpu_extra(dir: &Path, cpu: &Cpu, v2: bool) -> Result<(), CgroupError> {
    if let Some(burst) = cpu.burst {
        let file = if v2 { "cpu.max.burst" } else { "cpu.cfs_burst_us" };
        write_file(&dir.join(file), &burst.to_string())?;
    }
    if let Some(period) = cpu.realtime_period {
        write_file(&dir.join("cpu.rt_period_us"), &period.to_string()).map_err(rt_missing)?;
    }
    if let Some(runtime) = cpu.realtime_runtime {
        write_file(&dir.join("cpu.rt_runtime_us"), &runtime.to_string()).map_err(rt_missing)?;
    }
    if let Some(idle) = cpu.idle {
        write_file(&dir.join("cpu.idle"), &idle.to_string())?;
    }
    Ok(())
}

fn rt_missing(err: CgroupError) -> CgroupError {
    match err {
        CgroupError::FileMissing { .. } => CgroupError::NotSupported {
            field: "cpu.realtimeRuntime".into(),
            version: Version::V1,
            why: "this kernel is built without CONFIG_RT_GROUP_SCHED (no cpu.rt_runtime_us); drop realtimeRuntime and realtimePeriod",
        },
        other => other,
    }
}

/// With `memory.checkBeforeUpdate`, refuses a limit below the current usage (read from
/// `usage_file`: v1 `memory.usage_in_bytes`, v2 `memory.current`) instead of letting
/// the kernel reclaim and OOM-kill to get under it.
pub fn check_before_update(dir: &Path, usage_file: &str, memory: &Memory) -> Result<(), CgroupError> {
    let (Some(true), Some(limit)) = (memory.check_before_update, memory.limit) else { return Ok(()) };
    if limit < 0 {
        return Ok(());
    }
    let usage = read_u64(&dir.join(usage_file))?;
    if usage > limit as u64 {
        return Err(CgroupError::BelowUsage { path: dir.to_owned(), limit, usage });
    }
    Ok(())
}

/// The v1 memory knobs beyond the limits: soft limit, swappiness, the OOM killer
/// switch and the TCP buffer limit.
pub fn set_memory_extra_v1(dir: &Path, memory: &Memory) -> Result<(), CgroupError> {
    if let Some(reservation) = memory.reservation {
        write_file(&dir.join("memory.soft_limit_in_bytes"), &reservation.to_string())?;
    }
    if let Some(swappiness) = memory.swappiness {
        write_file(&dir.join("memory.swappiness"), &swappiness.to_string())?;
    }
    if let Some(disable) = memory.disable_oom_killer {
        write_file(&dir.join("memory.oom_control"), if disable { "1" } else { "0" })?;
    }
    if let Some(tcp) = memory.kernel_tcp {
        write_file(&dir.join("memory.kmem.tcp.limit_in_bytes"), &tcp.to_string())?;
    }
    Ok(())
}

/// v2's soft limit: `memory.low`, the protection below which the cgroup's memory is
/// not reclaimed (runc maps `reservation` onto it too).
pub fn set_memory_extra_v2(dir: &Path, memory: &Memory) -> Result<(), CgroupError> {
    if let Some(reservation) = memory.reservation {
        let value = if reservation < 0 { "max".to_owned() } else { reservation.to_string() };
        write_file(&dir.join("memory.low"), &value)?;
    }
    Ok(())
}

/// Picks the weight file this kernel has: BFQ's when the BFQ scheduler is built in
/// (`*.bfq.weight`), else the generic one; the generic v1 `blkio.weight` was CFQ's and
/// is gone since Linux 5.0.
fn weight_file(dir: &Path, bfq: &str, generic: &str) -> std::path::PathBuf {
    let bfq = dir.join(bfq);
    if bfq.exists() {
        bfq
    } else {
        dir.join(generic)
    }
}

/// `blockIO` on v1: `blkio.[bfq.]weight`, `blkio.[bfq.]weight_device` and the four
/// `blkio.throttle.*_device` files, one `MAJ:MIN VALUE` line per device.
pub fn set_blkio_v1(dir: &Path, io: &BlockIo) -> Result<(), CgroupError> {
    if let Some(weight) = io.weight {
        write_file(&weight_file(dir, "blkio.bfq.weight", "blkio.weight"), &weight.to_string())?;
    }
    for device in &io.weight_device {
        if let Some(weight) = device.weight {
            let file = weight_file(dir, "blkio.bfq.weight_device", "blkio.weight_device");
            write_file(&file, &format!("{}:{} {weight}", device.major, device.minor))?;
        }
    }
    for (file, devices) in [
        ("blkio.throttle.read_bps_device", &io.throttle_read_bps_device),
        ("blkio.throttle.write_bps_device", &io.throttle_write_bps_device),
        ("blkio.throttle.read_iops_device", &io.throttle_read_iops_device),
        ("blkio.throttle.write_iops_device", &io.throttle_write_iops_device),
    ] {
        for d in devices {
            write_file(&dir.join(file), &format!("{}:{} {}", d.major, d.minor, d.rate))?;
        }
    }
    Ok(())
}

/// `blockIO` on v2: `io.[bfq.]weight` (`default W` and `MAJ:MIN W` lines) and `io.max`
/// (`MAJ:MIN rbps=… wbps=… riops=… wiops=…`, one key per write is enough).
pub fn set_io_v2(dir: &Path, io: &BlockIo) -> Result<(), CgroupError> {
    if let Some(weight) = io.weight {
        write_file(&weight_file(dir, "io.bfq.weight", "io.weight"), &format!("default {weight}"))?;
    }
    for device in &io.weight_device {
        if let Some(weight) = device.weight {
            let file = weight_file(dir, "io.bfq.weight", "io.weight");
            write_file(&file, &format!("{}:{} {weight}", device.major, device.minor))?;
        }
    }
    for (key, devices) in [
        ("rbps", &io.throttle_read_bps_device),
        ("wbps", &io.throttle_write_bps_device),
        ("riops", &io.throttle_read_iops_device),
        ("wiops", &io.throttle_write_iops_device),
    ] {
        for d in devices {
            write_file(&dir.join("io.max"), &format!("{}:{} {key}={}", d.major, d.minor, d.rate))?;
        }
    }
    Ok(())
}

/// Whether `io` asks anything of the io/blkio controller.
pub fn wants_io(io: &Option<BlockIo>) -> bool {
    io.as_ref().is_some_and(|io| *io != BlockIo::default())
}

/// `hugepageLimits`: v1 `hugetlb.<size>.limit_in_bytes`, v2 `hugetlb.<size>.max`.
pub fn set_hugetlb(dir: &Path, limits: &[HugepageLimit], v2: bool) -> Result<(), CgroupError> {
    for limit in limits {
        debug_assert!(hugepage_size(&limit.page_size).is_some(), "validated");
        let file = if v2 {
            format!("hugetlb.{}.max", limit.page_size)
        } else {
            format!("hugetlb.{}.limit_in_bytes", limit.page_size)
        };
        write_file(&dir.join(file), &limit.limit.to_string())?;
    }
    Ok(())
}

/// `network.classID` into v1's `net_cls.classid`.
pub fn set_net_cls(dir: &Path, network: &Network) -> Result<(), CgroupError> {
    match network.class_id {
        Some(class) => write_file(&dir.join("net_cls.classid"), &class.to_string()),
        None => Ok(()),
    }
}

/// `network.priorities` into v1's `net_prio.ifpriomap`, one `IFACE PRIO` per write.
pub fn set_net_prio(dir: &Path, network: &Network) -> Result<(), CgroupError> {
    for p in &network.priorities {
        write_file(&dir.join("net_prio.ifpriomap"), &format!("{} {}", p.name, p.priority))?;
    }
    Ok(())
}

/// `rdma` into `rdma.max` (the same on v1 and v2): `DEV hca_handle=N hca_object=M`,
/// `max` for an absent count.
pub fn set_rdma(dir: &Path, rdma: &BTreeMap<String, Rdma>) -> Result<(), CgroupError> {
    let count = |n: Option<u32>| n.map_or("max".to_owned(), |n| n.to_string());
    for (device, limits) in rdma {
        let line = format!(
            "{device} hca_handle={} hca_object={}",
            count(limits.hca_handles),
            count(limits.hca_objects)
        );
        write_file(&dir.join("rdma.max"), &line)?;
    }
    Ok(())
}

/// v2's raw `unified` entries, each written to the file it names (validated to be a
/// plain file name). A missing file is reported by key: its controller is not enabled.
pub fn set_unified(dir: &Path, unified: &BTreeMap<String, String>) -> Result<(), CgroupError> {
    for (file, value) in unified {
        write_file(&dir.join(file), value).map_err(|err| match err {
            CgroupError::FileMissing { path } => CgroupError::InvalidEntry {
                field: format!("unified[{file:?}]"),
                value: path.display().to_string(),
                expected: "a file of an enabled controller; this cgroup has no such file",
            },
            other => other,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::resources::{ThrottleDevice, WeightDevice};
    use std::fs;

    fn files(dir: &Path, names: &[&str]) {
        for name in names {
            fs::write(dir.join(name), "").unwrap();
        }
    }

    /// A new v1 cpuset cgroup gets its parent's CPUs and nodes; set ones are kept.
    #[test]
    fn cpuset_is_copied_from_the_parent() {
        let root = tempfile::tempdir().unwrap();
        let child = root.path().join("c");
        fs::create_dir(&child).unwrap();
        fs::write(root.path().join("cpuset.cpus"), "0-3\n").unwrap();
        fs::write(root.path().join("cpuset.mems"), "0\n").unwrap();
        files(&child, &["cpuset.cpus", "cpuset.mems"]);
        init_cpuset(&child).unwrap();
        assert_eq!(fs::read_to_string(child.join("cpuset.cpus")).unwrap(), "0-3");
        set_cpuset(&child, &Cpu { cpus: Some("1".into()), ..Cpu::default() }).unwrap();
        init_cpuset(&child).unwrap();
        assert_eq!(fs::read_to_string(child.join("cpuset.cpus")).unwrap(), "1");
        assert_eq!(fs::read_to_string(child.join("cpuset.mems")).unwrap(), "0");
    }

    /// v2 block I/O: BFQ's weight file when there is one, io.max lines per device.
    #[test]
    fn io_v2_lines() {
        let dir = tempfile::tempdir().unwrap();
        files(dir.path(), &["io.bfq.weight", "io.weight", "io.max"]);
        let io = BlockIo {
            weight: Some(300),
            throttle_write_iops_device: vec![ThrottleDevice { major: 8, minor: 0, rate: 100 }],
            weight_device: vec![WeightDevice { major: 8, minor: 16, weight: Some(50), leaf_weight: None }],
            ..BlockIo::default()
        };
        set_io_v2(dir.path(), &io).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("io.bfq.weight")).unwrap(), "8:16 50");
        assert_eq!(fs::read_to_string(dir.path().join("io.weight")).unwrap(), "");
        assert_eq!(fs::read_to_string(dir.path().join("io.max")).unwrap(), "8:0 wiops=100");
    }

    /// rdma.max spells absent counts "max"; unified refuses a file the cgroup lacks.
    #[test]
    fn rdma_and_unified() {
        let dir = tempfile::tempdir().unwrap();
        files(dir.path(), &["rdma.max"]);
        let rdma = BTreeMap::from([("mlx4_0".to_owned(), Rdma { hca_handles: Some(2), hca_objects: None })]);
        set_rdma(dir.path(), &rdma).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("rdma.max")).unwrap(),
            "mlx4_0 hca_handle=2 hca_object=max"
        );
        let unified = BTreeMap::from([("memory.high".to_owned(), "64M".to_owned())]);
        let err = set_unified(dir.path(), &unified).unwrap_err();
        assert!(
            matches!(err, CgroupError::InvalidEntry { ref field, .. } if field == "unified[\"memory.high\"]")
        );
    }
}
