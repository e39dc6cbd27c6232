//! The cgroup v2 driver (chapter 4): one directory in the unified hierarchy.
//!
//! In v2 all controllers share one tree; a parent hands controllers to its children
//! through `cgroup.subtree_control`, and only leaves hold processes. Every function takes
//! the tree's root as a `&Path`, so tests run it against fixture trees in a tempdir.
//! Read cgroups(7) and the kernel's Documentation/admin-guide/cgroup-v2.rst.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::error::CgroupError;
use super::files::{
    check_path, flat_keyed, read_file, read_max, read_procs, read_u64, remove_bottom_up, write_file,
};
use super::manager::{CgroupManager, FreezerState, FREEZE_TIMEOUT, KILL_TIMEOUT};
use super::resources::{shares_to_weight, Cpu, Memory, Pids, DEFAULT_CPU_PERIOD};
use super::stats::{CpuStats, MemoryStats, PidsStats, Stats};
use super::valid::ValidResources;
use super::version::Version;
use super::{devices, limits};

/// The controllers a container's cgroup gets, when the tree offers them. Others
/// (cpuset, io, hugetlb, rdma) are enabled by `apply` when the limits need them, so
/// that a container without such limits changes no ancestor's `cgroup.subtree_control`.
pub const CONTROLLERS: &[&str] = &["cpu", "memory", "pids"];

/// A container's cgroup in the unified hierarchy.
#[derive(Debug, Clone)]
pub struct V2Cgroup {
    path: PathBuf,
    dir: PathBuf,
}

// ANCHOR: cpu_max
/// The line for `cpu.max`: "$QUOTA $PERIOD" in microseconds, or "max $PERIOD" when
/// the quota is -1 (no limit). v1 keeps the two numbers in two files instead.
pub fn cpu_max(quota: i64, period: u64) -> String {
    // exercise: Return the cpu.max line: "max <period>" for quota -1, else "<quota> <period>" (format!).
    if quota < 0 {
        format!("max {period}")
    } else {
        format!("{quota} {period}")
    }
    // end exercise
}
// ANCHOR_END: cpu_max

/// The value for `memory.swap.max` from OCI's `memory.swap`, which counts memory plus
/// swap (v1's memsw): v2 limits swap on its own, so it is `swap - limit` ("max" for −1).
pub fn swap_max(limit: Option<i64>, swap: i64) -> Result<String, CgroupError> {
    match (limit, swap) {
        (_, -1) => Ok("max".to_owned()),
        (Some(limit), swap) if limit > 0 => Ok((swap - limit).to_string()),
        _ => Err(CgroupError::InvalidResource {
            field: "memory.swap",
            value: swap.to_string(),
            expected: "-1, or set together with memory.limit: cgroup v2 limits swap apart from memory",
        }),
    }
}

/// The controllers a directory offers its children, from its `cgroup.controllers` or
/// `cgroup.subtree_control` (space-separated names).
fn controllers(file: &Path) -> Result<Vec<String>, CgroupError> {
    Ok(read_file(file)?.split_whitespace().map(str::to_owned).collect())
}

impl V2Cgroup {
    // ANCHOR: v2_create
    /// Creates cgroup `path` below the tree at `root`. Each ancestor from the root down
    /// gets "+cpu +memory +pids" (those the root offers) in its `cgroup.subtree_control`,
    /// so the controllers reach the new leaf. Directories it made are removed again on error.
    pub fn create(root: &Path, path: &Path) -> Result<Self, CgroupError> {
        check_path(path)?;
        let dir = root.join(path);
        if dir.exists() {
            return Err(CgroupError::AlreadyExists { path: dir });
        }
        let offered = controllers(&root.join("cgroup.controllers"))?;
        let wanted: Vec<&str> =
            CONTROLLERS.iter().copied().filter(|c| offered.iter().any(|o| o == c)).collect();
        let mut made: Vec<PathBuf> = Vec::new();
        let result = (|| {
            let mut ancestor = root.to_owned();
            let parts: Vec<_> = path.components().collect();
            for (i, part) in parts.iter().enumerate() {
                enable(&ancestor, &wanted)?;
                ancestor.push(part);
                if i + 1 == parts.len() || !ancestor.exists() {
                    fs::create_dir(&ancestor).map_err(|source| {
                        match source.raw_os_error().map(Errno::from_raw) {
                            Some(Errno::EACCES | Errno::EPERM | Errno::EROFS) => {
                                CgroupError::NotPermitted { path: ancestor.clone() }
                            }
                            _ => CgroupError::Create { path: ancestor.clone(), source },
                        }
                    })?;
                    made.push(ancestor.clone());
                }
            }
            Ok(())
        })();
        if let Err(err) = result {
            for d in made.iter().rev() {
                let _ = fs::remove_dir(d);
            }
            return Err(err);
        }
        Ok(Self { path: path.to_owned(), dir })
    }
    // ANCHOR_END: v2_create

    /// Opens the existing cgroup `path` below `root`.
    pub fn open(root: &Path, path: &Path) -> Result<Self, CgroupError> {
        check_path(path)?;
        let dir = root.join(path);
        if !dir.is_dir() {
            return Err(CgroupError::NotFound { path: dir });
        }
        Ok(Self { path: path.to_owned(), dir })
    }

    /// The cgroup's path below the tree's root.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cgroup's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Enables `wanted` controllers (those the tree's root offers) in every ancestor
    /// of the cgroup, from the root down, so that their files appear in it.
    fn enable_on_ancestors(&self, wanted: &[&str]) -> Result<(), CgroupError> {
        let depth = self.path.components().count();
        let Some(root) = self.dir.ancestors().nth(depth) else { return Ok(()) };
        let offered = controllers(&root.join("cgroup.controllers"))?;
        let wanted: Vec<&str> = wanted.iter().copied().filter(|c| offered.iter().any(|o| o == c)).collect();
        let mut ancestor = root.to_owned();
        for part in self.path.components() {
            enable(&ancestor, &wanted)?;
            ancestor.push(part);
        }
        Ok(())
    }

    /// A missing control file means the controller was not handed down to this cgroup.
    fn controller(&self, controller: &'static str) -> impl Fn(CgroupError) -> CgroupError + '_ {
        move |err| match err {
            CgroupError::FileMissing { .. } => CgroupError::ControllerMissing {
                controller,
                place: format!(
                    "in cgroup {} (its parent's cgroup.subtree_control lacks it)",
                    self.dir.display()
                ),
            },
            other => other,
        }
    }

    // ANCHOR: v2_memory
    /// `memory.max` and `memory.swap.max`.
    fn set_memory(&self, memory: &Memory) -> Result<(), CgroupError> {
        // exercise: Write memory.limit to memory.max ("max" for -1) with super::write_file; then, when memory.swap is set, write swap_max(limit, swap) to memory.swap.max, where a missing file is CgroupError::SwapAccountingOff.
        if let Some(limit) = memory.limit {
            let value = if limit < 0 { "max".to_owned() } else { limit.to_string() };
            write_file(&self.dir.join("memory.max"), &value).map_err(self.controller("memory"))?;
        }
        if let Some(swap) = memory.swap {
            let file = self.dir.join("memory.swap.max");
            write_file(&file, &swap_max(memory.limit, swap)?).map_err(|err| match err {
                CgroupError::FileMissing { path } => CgroupError::SwapAccountingOff { path },
                other => other,
            })?;
        }
        Ok(())
        // end exercise
    }
    // ANCHOR_END: v2_memory

    /// `cpu.weight` (given, or converted from shares) and `cpu.max`.
    fn set_cpu(&self, cpu: &Cpu) -> Result<(), CgroupError> {
        let weight = cpu.weight.or(cpu.shares.map(shares_to_weight));
        if let Some(weight) = weight {
            write_file(&self.dir.join("cpu.weight"), &weight.to_string()).map_err(self.controller("cpu"))?;
        }
        let file = self.dir.join("cpu.max");
        let line = match (cpu.quota, cpu.period) {
            (None, None) => return Ok(()),
            (Some(quota), period) => cpu_max(quota, period.unwrap_or(DEFAULT_CPU_PERIOD)),
            // A new period alone keeps the quota that is there.
            (None, Some(period)) => {
                let current = read_file(&file).map_err(self.controller("cpu"))?;
                let quota = current.split_whitespace().next().unwrap_or("max").parse().unwrap_or(-1);
                cpu_max(quota, period)
            }
        };
        write_file(&file, &line).map_err(self.controller("cpu"))
    }

    fn set_pids(&self, pids: &Pids) -> Result<(), CgroupError> {
        let value = if pids.limit > 0 { pids.limit.to_string() } else { "max".to_owned() };
        write_file(&self.dir.join("pids.max"), &value).map_err(self.controller("pids"))
    }

    // ANCHOR: v2_memory_stats
    /// The memory counters: `memory.current`, `memory.peak` (Linux 5.19+, else `None`),
    /// `memory.max`, and the `max` and `oom_kill` lines of `memory.events`.
    pub fn memory_stats(&self) -> Result<MemoryStats, CgroupError> {
        // exercise: Read memory.current (read_u64), memory.peak (None when the file is missing), memory.max (read_max), and from memory.events (read_file, flat_keyed) the counts "max" (failcnt) and "oom_kill" (oom_kills).
        let peak = match read_u64(&self.dir.join("memory.peak")) {
            Ok(peak) => Some(peak),
            Err(CgroupError::FileMissing { .. }) => None,
            Err(err) => return Err(err),
        };
        let events = read_file(&self.dir.join("memory.events"))?;
        Ok(MemoryStats {
            usage: read_u64(&self.dir.join("memory.current"))?,
            max_usage: peak,
            limit: read_max(&self.dir.join("memory.max"))?,
            failcnt: flat_keyed(&events, "max").unwrap_or(0),
            oom_kills: flat_keyed(&events, "oom_kill").unwrap_or(0),
        })
        // end exercise
    }
    // ANCHOR_END: v2_memory_stats

    /// Whether any process is in the cgroup or below it (`populated` of `cgroup.events`).
    fn populated(&self) -> Result<bool, CgroupError> {
        match read_file(&self.dir.join("cgroup.events")) {
            Ok(events) => Ok(flat_keyed(&events, "populated").unwrap_or(0) != 0),
            Err(CgroupError::FileMissing { .. }) if !self.dir.exists() => Ok(false),
            Err(CgroupError::FileMissing { .. }) => Ok(!self.procs()?.is_empty()),
            Err(err) => Err(err),
        }
    }
}

/// Adds `wanted` controllers to `dir`'s `cgroup.subtree_control`, skipping the write when
/// they are there already: a non-root cgroup that holds processes refuses it (EBUSY, the
/// "no internal processes" rule), and nothing needs to change.
fn enable(dir: &Path, wanted: &[&str]) -> Result<(), CgroupError> {
    let file = dir.join("cgroup.subtree_control");
    let enabled = controllers(&file)?;
    let missing: Vec<String> =
        wanted.iter().filter(|w| !enabled.iter().any(|e| e == *w)).map(|w| format!("+{w}")).collect();
    if missing.is_empty() {
        return Ok(());
    }
    write_file(&file, &missing.join(" "))
}

/// Every pid in `dir` and below it.
fn all_procs(dir: &Path, into: &mut Vec<i32>) -> Result<(), CgroupError> {
    match read_procs(&dir.join("cgroup.procs")) {
        Ok(pids) => into.extend(pids),
        Err(CgroupError::FileMissing { .. }) => return Ok(()),
        Err(err) => return Err(err),
    }
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                all_procs(&entry.path(), into)?;
            }
        }
    }
    Ok(())
}

impl CgroupManager for V2Cgroup {
    fn version(&self) -> Version {
        Version::V2
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }

    fn apply(&self, resources: &ValidResources) -> Result<(), CgroupError> {
        resources.supported(Version::V2)?;
        let wanted: Vec<&str> = [
            ("cpuset", limits::wants_cpuset(&resources.cpu)),
            ("io", limits::wants_io(&resources.block_io)),
            ("hugetlb", !resources.hugepage_limits.is_empty()),
            ("rdma", !resources.rdma.is_empty()),
        ]
        .into_iter()
        .filter_map(|(controller, needed)| needed.then_some(controller))
        .collect();
        if !wanted.is_empty() {
            self.enable_on_ancestors(&wanted)?;
        }
        if let Some(memory) = &resources.memory {
            limits::check_before_update(&self.dir, "memory.current", memory)
                .map_err(self.controller("memory"))?;
            self.set_memory(memory)?;
            limits::set_memory_extra_v2(&self.dir, memory).map_err(self.controller("memory"))?;
        }
        if let Some(cpu) = &resources.cpu {
            self.set_cpu(cpu)?;
            limits::set_cpu_extra(&self.dir, cpu, true).map_err(self.controller("cpu"))?;
            limits::set_cpuset(&self.dir, cpu).map_err(self.controller("cpuset"))?;
        }
        if let Some(pids) = &resources.pids {
            self.set_pids(pids)?;
        }
        if !resources.devices.is_empty() {
            devices::apply_v2(&self.dir, resources)?;
        }
        if let Some(io) = &resources.block_io {
            limits::set_io_v2(&self.dir, io).map_err(self.controller("io"))?;
        }
        limits::set_hugetlb(&self.dir, &resources.hugepage_limits, true)
            .map_err(self.controller("hugetlb"))?;
        limits::set_rdma(&self.dir, &resources.rdma).map_err(self.controller("rdma"))?;
        limits::set_unified(&self.dir, &resources.unified)
    }

    fn join(&self, pid: i32) -> Result<(), CgroupError> {
        write_file(&self.dir.join("cgroup.procs"), &pid.to_string())
    }

    fn procs(&self) -> Result<Vec<i32>, CgroupError> {
        read_procs(&self.dir.join("cgroup.procs"))
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        let has = |file: &str| self.dir.join(file).exists();
        let memory = if has("memory.current") { Some(self.memory_stats()?) } else { None };
        let cpu = match read_file(&self.dir.join("cpu.stat")) {
            // cpu.stat is always there (usage from the core); throttling only with the cpu controller.
            Ok(stat) => Some(CpuStats {
                usage_ns: flat_keyed(&stat, "usage_usec").unwrap_or(0) * 1000,
                nr_throttled: flat_keyed(&stat, "nr_throttled").unwrap_or(0),
                throttled_ns: flat_keyed(&stat, "throttled_usec").unwrap_or(0) * 1000,
            }),
            Err(CgroupError::FileMissing { .. }) => None,
            Err(err) => return Err(err),
        };
        let pids = if has("pids.current") {
            Some(PidsStats {
                current: read_u64(&self.dir.join("pids.current"))?,
                limit: read_max(&self.dir.join("pids.max"))?,
                refused: read_file(&self.dir.join("pids.events"))
                    .ok()
                    .and_then(|t| flat_keyed(&t, "max"))
                    .unwrap_or(0),
            })
        } else {
            None
        };
        Ok(Stats { memory, cpu, pids })
    }

    // ANCHOR: v2_kill
    /// `cgroup.kill` (Linux 5.14+) SIGKILLs the whole subtree at once, with no race
    /// against fork; older kernels get a SIGKILL per pid in a loop instead.
    fn kill(&self) -> Result<(), CgroupError> {
        let kill_file = self.dir.join("cgroup.kill");
        let one_write = kill_file.exists() && write_file(&kill_file, "1").is_ok();
        let deadline = Instant::now() + KILL_TIMEOUT;
        loop {
            if !self.populated()? {
                return Ok(());
            }
            let mut pids = Vec::new();
            all_procs(&self.dir, &mut pids)?;
            if !one_write {
                for pid in &pids {
                    let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
                }
            }
            if Instant::now() >= deadline {
                return Err(CgroupError::ProcessesRemain { path: self.dir.clone(), pids });
            }
            sleep(Duration::from_millis(10));
        }
    }
    // ANCHOR_END: v2_kill

    fn remove(&self) -> Result<(), CgroupError> {
        self.kill()?;
        remove_bottom_up(&self.dir)
    }

    // ANCHOR: v2_freezer
    /// `cgroup.freeze` (Linux 5.2+): 1 asks the kernel to stop every task of the
    /// subtree, and `cgroup.events` says `frozen 1` once they all have; 0 thaws.
    fn set_freezer(&self, state: FreezerState) -> Result<(), CgroupError> {
        let file = self.dir.join("cgroup.freeze");
        if state != FreezerState::Frozen {
            return write_file(&file, "0");
        }
        write_file(&file, "1")?;
        let deadline = Instant::now() + FREEZE_TIMEOUT;
        while Instant::now() < deadline {
            if self.freezer_state()? == FreezerState::Frozen {
                return Ok(());
            }
            sleep(Duration::from_millis(10));
        }
        write_file(&file, "0")?;
        Err(CgroupError::FreezeTimeout { path: file, seconds: FREEZE_TIMEOUT.as_secs() })
    }

    fn freezer_state(&self) -> Result<FreezerState, CgroupError> {
        // exercise: Read cgroup.freeze ("1" when a freeze was asked for) and the "frozen" key of cgroup.events (flat_keyed): frozen 1 is Frozen; asked but not yet frozen is Freezing; otherwise Thawed.
        let asked = read_file(&self.dir.join("cgroup.freeze"))?.trim() == "1";
        let events = read_file(&self.dir.join("cgroup.events"))?;
        Ok(match (asked, flat_keyed(&events, "frozen") == Some(1)) {
            (_, true) => FreezerState::Frozen,
            (true, false) => FreezerState::Freezing,
            (false, false) => FreezerState::Thawed,
        })
        // end exercise
    }
    // ANCHOR_END: v2_freezer
}
