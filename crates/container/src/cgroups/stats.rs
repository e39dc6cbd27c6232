//! What a cgroup has used (chapter 4): the counters both drivers read, memory (with
//! OOM kills), CPU time and throttling, and tasks. Read the kernel's
//! admin-guide/cgroup-v2.rst ("Memory", "CPU", "PID") and cgroup-v1/memory.rst.

use serde::Serialize;

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
