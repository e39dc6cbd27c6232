//! The cgroup v1 driver (chapter 4): one directory per controller hierarchy.
//!
//! In v1 each controller (memory, cpu, cpuacct, pids, freezer, …) is its own tree, so a
//! container's cgroup is a directory of the same name in each, and a process joins by
//! writing its pid into every one. Read cgroups(7) and the kernel's admin-guide/cgroup-v1/
//! (memory.rst, pids.rst, freezer-subsystem.rst, cpusets.rst, devices.rst) and
//! scheduler/sched-bwc.rst.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::detect::V1Hierarchy;
use super::error::CgroupError;
use super::files::{
    check_path, flat_keyed, read_file, read_max, read_procs, read_u64, remove_bottom_up, write_file,
};
use super::manager::{CgroupManager, FreezerState, FREEZE_TIMEOUT, KILL_TIMEOUT};
use super::resources::{Cpu, Memory, Pids};
use super::stats::{CpuStats, MemoryStats, PidsStats, Stats};
use super::valid::ValidResources;
use super::version::Version;
use super::{devices, limits};

/// v1 reports "unlimited" as the largest page-aligned 63-bit number; anything this large is no limit.
const UNLIMITED: u64 = 1 << 62;

/// One directory of the cgroup: the hierarchy's controllers and the cgroup's path in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Dir {
    pub controllers: Vec<String>,
    pub dir: PathBuf,
}

/// A container's cgroup in the v1 hierarchies.
#[derive(Debug, Clone)]
pub struct V1Cgroup {
    path: PathBuf,
    dirs: Vec<V1Dir>,
}

impl V1Cgroup {
    /// Every hierarchy of `hierarchies`, each once: a container's cgroup is made in all
    /// of them, as runc does, so that no controller (the devices, cpuset, freezer or
    /// blkio one) leaves the container in the cgroup of whoever started it. The caller
    /// passes [`super::detect::Hierarchies::joined`], which adds the named `name=systemd`
    /// hierarchy and a hybrid host's v2 tree: they limit nothing, but every line of
    /// `/proc/<pid>/cgroup` then names the container's own cgroup.
    fn used(hierarchies: &[V1Hierarchy], path: &Path) -> Result<Vec<V1Dir>, CgroupError> {
        check_path(path)?;
        let dirs: Vec<V1Dir> = hierarchies
            .iter()
            .map(|h| V1Dir { controllers: h.controllers.clone(), dir: h.mount_point.join(path) })
            .collect();
        if dirs.is_empty() {
            return Err(CgroupError::ControllerMissing {
                controller: "memory",
                place: "as a cgroup v1 hierarchy (no cgroup line with a controller in /proc/self/mountinfo)"
                    .into(),
            });
        }
        Ok(dirs)
    }

    // ANCHOR: v1_create
    /// Creates cgroup `path` in every hierarchy. If any directory cannot be made, the
    /// ones already made are removed again, so a failure leaves nothing behind.
    pub fn create(hierarchies: &[V1Hierarchy], path: &Path) -> Result<Self, CgroupError> {
        let dirs = Self::used(hierarchies, path)?;
        if let Some(existing) = dirs.iter().find(|d| d.dir.exists()) {
            return Err(CgroupError::AlreadyExists { path: existing.dir.clone() });
        }
        Self::make(path, dirs)
    }
    // ANCHOR_END: v1_create

    /// Cgroup `path` where it exists, made in the hierarchies where it does not (a
    /// `cgroupsPath` someone else created, perhaps in only some of them).
    pub fn join_or_create(hierarchies: &[V1Hierarchy], path: &Path) -> Result<Self, CgroupError> {
        Self::make(path, Self::used(hierarchies, path)?)
    }

    /// Makes the directories of `dirs` that are missing (parents first, a new cpuset
    /// directory initialised from its parent's); on error removes what it made.
    fn make(path: &Path, dirs: Vec<V1Dir>) -> Result<Self, CgroupError> {
        let mut made: Vec<PathBuf> = Vec::new();
        for d in &dirs {
            let cpuset = d.controllers.iter().any(|c| c == "cpuset");
            let first_made = made.len();
            // Parents first (make_dirs records them top-down): each copies its parent's.
            let result = make_dirs(&d.dir, &mut made).and_then(|()| {
                made[first_made..].iter().filter(|_| cpuset).try_for_each(|dir| limits::init_cpuset(dir))
            });
            if let Err(err) = result {
                // Undo deepest first: a parent can only go once its children have.
                for dir in made.iter().rev() {
                    let _ = fs::remove_dir(dir);
                }
                return Err(err);
            }
        }
        Ok(Self { path: path.to_owned(), dirs })
    }

    /// Opens cgroup `path`, which must exist in at least one hierarchy.
    pub fn open(hierarchies: &[V1Hierarchy], path: &Path) -> Result<Self, CgroupError> {
        let dirs = Self::used(hierarchies, path)?;
        if !dirs.iter().any(|d| d.dir.is_dir()) {
            return Err(CgroupError::NotFound { path: path.to_owned() });
        }
        Ok(Self { path: path.to_owned(), dirs })
    }

    /// The cgroup's path below each hierarchy's mount point.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory of the hierarchy that holds `controller`.
    pub fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs.iter().find(|d| d.controllers.iter().any(|c| c == controller)).map(|d| d.dir.as_path())
    }

    fn need(&self, controller: &'static str) -> Result<&Path, CgroupError> {
        self.dir(controller).ok_or_else(|| CgroupError::ControllerMissing {
            controller,
            place: format!("as a cgroup v1 hierarchy for cgroup {}", self.path.display()),
        })
    }

    // ANCHOR: v1_memory
    /// memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory plus swap). The
    /// kernel keeps memsw ≥ limit at every moment, so the order of the two writes
    /// depends on whether the limits grow or shrink, as runc does it.
    fn set_memory(&self, memory: &Memory) -> Result<(), CgroupError> {
        let dir = self.need("memory")?;
        let limit_file = dir.join("memory.limit_in_bytes");
        let memsw_file = dir.join("memory.memsw.limit_in_bytes");
        let set_limit = || memory.limit.map_or(Ok(()), |l| write_file(&limit_file, &l.to_string()));
        let set_memsw = || match memory.swap {
            None => Ok(()),
            Some(swap) => write_file(&memsw_file, &swap.to_string()).map_err(|err| match err {
                CgroupError::FileMissing { path } => CgroupError::SwapAccountingOff { path },
                other => other,
            }),
        };
        let current = read_u64(&limit_file)?;
        let growing = match memory.swap {
            Some(-1) => true,
            Some(swap) => (current as i128) < swap as i128,
            None => false,
        };
        if growing {
            set_memsw()?;
            set_limit()
        } else {
            set_limit()?;
            set_memsw()
        }
    }
    // ANCHOR_END: v1_memory

    /// cpu.shares, and CFS bandwidth: cpu.cfs_period_us before cpu.cfs_quota_us.
    fn set_cpu(&self, cpu: &Cpu) -> Result<(), CgroupError> {
        if cpu.weight.is_some() && cpu.shares.is_none() {
            return Err(CgroupError::InvalidResource {
                field: "cpu.weight",
                value: format!("{:?}", cpu.weight),
                expected: "unset on cgroup v1, which has cpu.shares (2-262144) instead",
            });
        }
        let dir = self.need("cpu")?;
        if let Some(shares) = cpu.shares {
            write_file(&dir.join("cpu.shares"), &shares.to_string())?;
        }
        if let Some(period) = cpu.period {
            write_file(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
        }
        if let Some(quota) = cpu.quota {
            write_file(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
        }
        Ok(())
    }

    fn set_pids(&self, pids: &Pids) -> Result<(), CgroupError> {
        let value = if pids.limit > 0 { pids.limit.to_string() } else { "max".to_owned() };
        write_file(&self.need("pids")?.join("pids.max"), &value)
    }

    /// Freezes the cgroup so nothing in it can fork; false when there is no freezer
    /// hierarchy or the tasks do not freeze within a second (the kill loop still works,
    /// it only may need more rounds against a fork bomb).
    fn freeze(&self) -> bool {
        let Some(dir) = self.dir("freezer") else { return false };
        let state = dir.join("freezer.state");
        if write_file(&state, "FROZEN").is_err() {
            return false;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if read_file(&state).is_ok_and(|s| s.trim() == "FROZEN") {
                return true;
            }
            sleep(Duration::from_millis(5));
        }
        self.thaw();
        false
    }

    /// Lets frozen tasks run again: a SIGKILLed task dies once thawed.
    fn thaw(&self) {
        if let Some(dir) = self.dir("freezer") {
            let _ = write_file(&dir.join("freezer.state"), "THAWED");
        }
    }

    /// Every pid in the cgroup and in cgroups below it, in any hierarchy.
    pub fn all_procs(&self) -> Result<Vec<i32>, CgroupError> {
        let mut all = BTreeSet::new();
        for d in &self.dirs {
            collect_procs(&d.dir, &mut all)?;
        }
        Ok(all.into_iter().collect())
    }
}

/// Makes `dir` and its missing parents, recording each directory it made.
fn make_dirs(dir: &Path, made: &mut Vec<PathBuf>) -> Result<(), CgroupError> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|a| !a.exists()).collect();
    for d in missing.into_iter().rev() {
        fs::create_dir(d).map_err(|source| match source.raw_os_error().map(Errno::from_raw) {
            Some(Errno::EACCES | Errno::EPERM | Errno::EROFS) => {
                CgroupError::NotPermitted { path: d.to_owned() }
            }
            _ => CgroupError::Create { path: d.to_owned(), source },
        })?;
        made.push(d.to_owned());
    }
    Ok(())
}

fn collect_procs(dir: &Path, into: &mut BTreeSet<i32>) -> Result<(), CgroupError> {
    match read_procs(&dir.join("cgroup.procs")) {
        Ok(pids) => into.extend(pids),
        // Gone already: nothing in it.
        Err(CgroupError::FileMissing { .. }) => return Ok(()),
        Err(err) => return Err(err),
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(CgroupError::Read { path: dir.to_owned(), source }),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_procs(&entry.path(), into)?;
        }
    }
    Ok(())
}

impl CgroupManager for V1Cgroup {
    fn version(&self) -> Version {
        Version::V1
    }

    fn dirs(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.dir.clone()).collect()
    }

    fn apply(&self, resources: &ValidResources) -> Result<(), CgroupError> {
        resources.supported(Version::V1)?;
        if let Some(memory) = &resources.memory {
            limits::check_before_update(self.need("memory")?, "memory.usage_in_bytes", memory)?;
            self.set_memory(memory)?;
            limits::set_memory_extra_v1(self.need("memory")?, memory)?;
        }
        if let Some(cpu) = &resources.cpu {
            self.set_cpu(cpu)?;
            limits::set_cpu_extra(self.need("cpu")?, cpu, false)?;
            if limits::wants_cpuset(&resources.cpu) {
                limits::set_cpuset(self.need("cpuset")?, cpu)?;
            }
        }
        if let Some(pids) = &resources.pids {
            self.set_pids(pids)?;
        }
        if !resources.devices.is_empty() {
            devices::apply_v1(self.need("devices")?, resources)?;
        }
        if let Some(io) = resources.block_io.as_ref().filter(|_| limits::wants_io(&resources.block_io)) {
            limits::set_blkio_v1(self.need("blkio")?, io)?;
        }
        if !resources.hugepage_limits.is_empty() {
            limits::set_hugetlb(self.need("hugetlb")?, &resources.hugepage_limits, false)?;
        }
        if let Some(network) = &resources.network {
            if network.class_id.is_some() {
                limits::set_net_cls(self.need("net_cls")?, network)?;
            }
            if !network.priorities.is_empty() {
                limits::set_net_prio(self.need("net_prio")?, network)?;
            }
        }
        if !resources.rdma.is_empty() {
            limits::set_rdma(self.need("rdma")?, &resources.rdma)?;
        }
        Ok(())
    }

    // ANCHOR: v1_join
    fn join(&self, pid: i32) -> Result<(), CgroupError> {
        // exercise: Write the pid (as text) to cgroup.procs in EVERY directory of self.dirs with super::write_file: in v1 each hierarchy places the process on its own.
        for d in &self.dirs {
            write_file(&d.dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
        // end exercise
    }
    // ANCHOR_END: v1_join

    fn procs(&self) -> Result<Vec<i32>, CgroupError> {
        let mut all = BTreeSet::new();
        for d in &self.dirs {
            match read_procs(&d.dir.join("cgroup.procs")) {
                Ok(pids) => all.extend(pids),
                Err(CgroupError::FileMissing { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(all.into_iter().collect())
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        let memory = match self.dir("memory") {
            None => None,
            Some(dir) => {
                let limit = read_u64(&dir.join("memory.limit_in_bytes"))?;
                let oom = read_file(&dir.join("memory.oom_control"))?;
                Some(MemoryStats {
                    usage: read_u64(&dir.join("memory.usage_in_bytes"))?,
                    max_usage: Some(read_u64(&dir.join("memory.max_usage_in_bytes"))?),
                    limit: (limit < UNLIMITED).then_some(limit),
                    // With a swap limit the charge fails against memsw first, so count both.
                    failcnt: read_u64(&dir.join("memory.failcnt"))?
                        + read_u64(&dir.join("memory.memsw.failcnt")).unwrap_or(0),
                    // The oom_kill counter is there since Linux 4.13.
                    oom_kills: flat_keyed(&oom, "oom_kill").unwrap_or(0),
                })
            }
        };
        let cpu = match (self.dir("cpuacct"), self.dir("cpu")) {
            (Some(acct), cpu) => {
                let stat = cpu.map(|d| read_file(&d.join("cpu.stat"))).transpose()?.unwrap_or_default();
                Some(CpuStats {
                    usage_ns: read_u64(&acct.join("cpuacct.usage"))?,
                    nr_throttled: flat_keyed(&stat, "nr_throttled").unwrap_or(0),
                    throttled_ns: flat_keyed(&stat, "throttled_time").unwrap_or(0),
                })
            }
            (None, _) => None,
        };
        let pids = match self.dir("pids") {
            None => None,
            Some(dir) => Some(PidsStats {
                current: read_u64(&dir.join("pids.current"))?,
                limit: read_max(&dir.join("pids.max"))?,
                // pids.events is there since Linux 4.6.
                refused: read_file(&dir.join("pids.events"))
                    .ok()
                    .and_then(|t| flat_keyed(&t, "max"))
                    .unwrap_or(0),
            }),
        };
        Ok(Stats { memory, cpu, pids })
    }

    // ANCHOR: v1_kill
    fn kill(&self) -> Result<(), CgroupError> {
        // exercise: Freeze (self.freeze()), SIGKILL every pid of self.all_procs() (nix::sys::signal::kill; ESRCH means it is gone), then self.thaw() if frozen; re-read all_procs every 10 ms, killing stragglers, until it is empty; after KILL_TIMEOUT, CgroupError::ProcessesRemain.
        // Frozen, nothing can fork between reading cgroup.procs and the kill (runc does the same).
        let frozen = self.freeze();
        let deadline = Instant::now() + KILL_TIMEOUT;
        let mut thawed = !frozen;
        loop {
            let pids = self.all_procs()?;
            if pids.is_empty() {
                if !thawed {
                    self.thaw();
                }
                return Ok(());
            }
            for pid in &pids {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
            if !thawed {
                // A frozen task only acts on its SIGKILL once it runs again.
                self.thaw();
                thawed = true;
            }
            if Instant::now() >= deadline {
                return Err(CgroupError::ProcessesRemain { path: self.path.clone(), pids });
            }
            sleep(Duration::from_millis(10));
        }
        // end exercise
    }
    // ANCHOR_END: v1_kill

    // ANCHOR: v1_freezer
    /// `freezer.state`: FROZEN asks the kernel to stop every task; the file reads
    /// FREEZING until the last one has, then FROZEN. THAWED lets them run again.
    fn set_freezer(&self, state: FreezerState) -> Result<(), CgroupError> {
        let file = self.need("freezer")?.join("freezer.state");
        if state != FreezerState::Frozen {
            return write_file(&file, "THAWED");
        }
        write_file(&file, "FROZEN")?;
        let deadline = Instant::now() + FREEZE_TIMEOUT;
        while Instant::now() < deadline {
            if self.freezer_state()? == FreezerState::Frozen {
                return Ok(());
            }
            // Writing FROZEN again retries the tasks that could not stop yet, as runc does.
            write_file(&file, "FROZEN")?;
            sleep(Duration::from_millis(10));
        }
        write_file(&file, "THAWED")?;
        Err(CgroupError::FreezeTimeout { path: file, seconds: FREEZE_TIMEOUT.as_secs() })
    }

    fn freezer_state(&self) -> Result<FreezerState, CgroupError> {
        let file = self.need("freezer")?.join("freezer.state");
        match read_file(&file)?.trim() {
            "THAWED" => Ok(FreezerState::Thawed),
            "FREEZING" => Ok(FreezerState::Freezing),
            "FROZEN" => Ok(FreezerState::Frozen),
            other => Err(CgroupError::Parse { path: file, text: other.to_owned() }),
        }
    }
    // ANCHOR_END: v1_freezer

    // ANCHOR: v1_remove
    fn remove(&self) -> Result<(), CgroupError> {
        self.kill()?;
        let mut first_error = None;
        for d in &self.dirs {
            if let Err(err) = remove_bottom_up(&d.dir) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
    // ANCHOR_END: v1_remove
}
