//! `bang-oci update` (chapter 6): changes the cgroup limits of a container that exists,
//! from a runtime-spec `linux.resources` object (`--resources FILE`, what podman update
//! passes) or from runc's flags (`--memory 64M`, `--cpu-quota`, `--pids-limit`, …).
//! Read runc-update(8) and config-linux.md ("Control groups").

use std::io::Read;
use std::path::Path;

use super::error::{ControlError, LifecycleError};
use super::state::Status;
use super::state::PROC;
use super::store::Store;
use crate::cgroups::{self, BlockIo, Cpu, Hierarchies, Ignored, Memory, Pids, Resources};
use crate::spec::devices::device_rules;
use crate::spec::Spec;

/// runc-update(8)'s flags, as given on the command line (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateFlags {
    pub blkio_weight: Option<u16>,
    pub cpu_period: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_burst: Option<u64>,
    pub cpu_share: Option<u64>,
    pub cpu_rt_period: Option<u64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub cpu_idle: Option<i64>,
    /// Sizes as runc takes them: bytes, or a number with k, m, g or t (`64M`); -1.
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub memory_reservation: Option<String>,
    pub kernel_memory: Option<String>,
    pub kernel_memory_tcp: Option<String>,
    pub pids_limit: Option<i64>,
}

/// `64M`, `1g`, `512k`, `4096`, `-1` (binary units, as runc's RAMInBytes reads them).
fn parse_size(flag: &'static str, text: &str) -> Result<i64, LifecycleError> {
    let bad = || LifecycleError::from(ControlError::BadSize { flag, text: text.to_string() });
    if text == "-1" {
        return Ok(-1);
    }
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.trim_end_matches('b').trim_end_matches('i');
    let (digits, shift) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 10),
        Some('m') => (&lower[..lower.len() - 1], 20),
        Some('g') => (&lower[..lower.len() - 1], 30),
        Some('t') => (&lower[..lower.len() - 1], 40),
        _ => (lower, 0),
    };
    let number: i64 = digits.parse().map_err(|_| bad())?;
    number.checked_mul(1 << shift).filter(|n| *n >= 0).ok_or_else(bad)
}

impl UpdateFlags {
    /// Whether no flag was given.
    pub fn is_empty(&self) -> bool {
        *self == UpdateFlags::default()
    }

    /// The flags as a `linux.resources` object: only what was given is set.
    pub fn resources(&self) -> Result<Resources, LifecycleError> {
        let size = |flag, value: &Option<String>| value.as_deref().map(|v| parse_size(flag, v)).transpose();
        let memory = Memory {
            limit: size("memory", &self.memory)?,
            swap: size("memory-swap", &self.memory_swap)?,
            reservation: size("memory-reservation", &self.memory_reservation)?,
            kernel: size("kernel-memory", &self.kernel_memory)?,
            kernel_tcp: size("kernel-memory-tcp", &self.kernel_memory_tcp)?,
            ..Memory::default()
        };
        let cpu = Cpu {
            shares: self.cpu_share,
            quota: self.cpu_quota,
            burst: self.cpu_burst,
            period: self.cpu_period,
            realtime_runtime: self.cpu_rt_runtime,
            realtime_period: self.cpu_rt_period,
            cpus: self.cpuset_cpus.clone(),
            mems: self.cpuset_mems.clone(),
            idle: self.cpu_idle,
            ..Cpu::default()
        };
        let some = |set: bool| set.then_some(());
        Ok(Resources {
            memory: some(memory != Memory::default()).map(|()| memory),
            cpu: some(cpu != Cpu::default()).map(|()| cpu),
            pids: self.pids_limit.map(|limit| Pids { limit }),
            block_io: self.blkio_weight.map(|weight| BlockIo { weight: Some(weight), ..BlockIo::default() }),
            ..Resources::default()
        })
    }
}

/// Reads a `linux.resources` object from `path`, or from standard input for `-`.
pub fn read_resources(path: &Path) -> Result<Resources, LifecycleError> {
    let fail = |reason: String| {
        LifecycleError::from(ControlError::ResourcesFile { path: path.to_path_buf(), reason })
    };
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map_err(|e| fail(e.to_string()))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    }
    serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
}

// ANCHOR: update
/// Applies `resources` to container `id`'s cgroup: created, running or paused. Only
/// what is set changes, and a zero is not set (runc's reading, see
/// [`Resources::zero_as_unset`]): podman writes only the changed fields to the file it
/// passes, Docker (through containerd) sends every field, 0 for those it leaves alone.
/// Device rules, when given, are wrapped as `create` wraps them (deny all first, the
/// default devices after), so that a whole `linux.resources` passed back keeps
/// /dev/null usable; runc instead ignores devices on update, silently. The limits are
/// validated once, as they will be written, before anything is: a value out of range is
/// refused by its field name and changes nothing. A value the kernel refuses stops the
/// update there: the limits written before it stay, as with runc.
///
/// Returns the fields left out because the kernel no longer has them (kernel memory
/// limits, leaf weights without a blkio.leaf_weight), for a warning: runc ignores them.
pub fn update(store: &Store, id: &str, resources: &Resources) -> Result<Vec<Ignored>, LifecycleError> {
    let lock = store.lock(id)?;
    let record = lock.load()?;
    let status = record.live_status(Path::new(PROC))?;
    if !matches!(status, Status::Created | Status::Running | Status::Paused) {
        return Err(ControlError::CannotUpdate { id: id.to_string(), status }.into());
    }
    let path =
        record.cgroup_path.as_ref().ok_or(ControlError::NoCgroup { id: id.to_string(), what: "updated" })?;
    let hierarchies = Hierarchies::here()?;
    let mut resources = resources.clone().zero_as_unset();
    let ignored = resources.drop_deprecated(hierarchies.has_leaf_weight());
    if !resources.devices.is_empty() {
        let nodes =
            Spec::load(&record.bundle).ok().and_then(|s| s.linux).map(|l| l.devices).unwrap_or_default();
        resources.devices = device_rules(&resources.devices, &nodes);
    }
    let cgroup = cgroups::open(&hierarchies, path)?;
    // Validated once, here, as they will be written (wrapped): the driver does not check again.
    cgroup.apply(&resources.validated()?)?;
    Ok(ignored)
}
// ANCHOR_END: update

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_runc_reads_them() {
        assert_eq!(parse_size("memory", "64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("memory", "1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("memory", "512kb").unwrap(), 512 << 10);
        assert_eq!(parse_size("memory", "4096").unwrap(), 4096);
        assert_eq!(parse_size("memory", "-1").unwrap(), -1);
        assert!(parse_size("memory", "lots").is_err());
    }

    #[test]
    fn flags_set_only_what_was_given() {
        let flags =
            UpdateFlags { memory: Some("32M".into()), pids_limit: Some(10), ..UpdateFlags::default() };
        let r = flags.resources().unwrap();
        assert_eq!(r.memory.unwrap().limit, Some(32 << 20));
        assert_eq!(r.pids.unwrap().limit, 10);
        assert!(r.cpu.is_none() && r.block_io.is_none());
        assert_eq!(UpdateFlags::default().resources().unwrap(), Resources::default());
    }
}
