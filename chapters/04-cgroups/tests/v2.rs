//! Chapter 4's v2 checks: your `v2.rs` against fixture trees in a tempdir, written and
//! read as on a real v2 host (memory.max, memory.events, cpu.max, pids.max,
//! cgroup.procs, cgroup.subtree_control, cgroup.freeze). No root needed: `cargo test -p chapter-4 --test v2`.

use std::fs;
use std::path::Path;

use bigbang_testkit::cgroups::read;
use chapter_4::cgroups::v2::{cpu_max, V2Cgroup};
use chapter_4::cgroups::{
    CgroupError, CgroupManager, Cpu, FreezerState, Memory, Pids, Resources, ValidResources,
};

/// A fixture cgroup `name` below a fresh v2 root, populated as the kernel would.
fn fixture_cgroup(name: &str) -> (tempfile::TempDir, V2Cgroup) {
    let root = v2_fixture();
    let cgroup = V2Cgroup::create(root.path(), Path::new(name)).unwrap();
    populate_v2_cgroup(cgroup.dir());
    (root, cgroup)
}

/// Limits as the drivers take them: validated first (a bad one fails the test here).
fn valid(resources: Resources) -> ValidResources {
    resources.validated().unwrap()
}

fn memory(limit: i64, swap: Option<i64>) -> ValidResources {
    valid(Resources {
        memory: Some(Memory { limit: Some(limit), swap, ..Memory::default() }),
        ..Resources::default()
    })
}

fn cpu(cpu: Cpu) -> ValidResources {
    valid(Resources { cpu: Some(cpu), ..Resources::default() })
}

/// Creating hands cpu, memory and pids down through every ancestor's cgroup.subtree_control.
#[test]
fn create_enables_controllers_in_every_ancestor() {
    let root = v2_fixture();
    // An intermediate cgroup that exists already, as a systemd slice would.
    fs::create_dir(root.path().join("bigbang")).unwrap();
    fs::write(root.path().join("bigbang/cgroup.subtree_control"), "memory\n").unwrap();
    let cgroup = V2Cgroup::create(root.path(), Path::new("bigbang/web-1")).unwrap();
    assert_eq!(cgroup.dir(), root.path().join("bigbang/web-1"));
    assert!(cgroup.dir().is_dir());
    assert_eq!(read(root.path().join("cgroup.subtree_control")), "+cpu +memory +pids");
    // memory was on already: only the missing ones are added (a busy cgroup refuses the write).
    assert_eq!(read(root.path().join("bigbang/cgroup.subtree_control")), "+cpu +pids");
    let again = V2Cgroup::create(root.path(), Path::new("bigbang/web-1")).unwrap_err();
    assert!(matches!(again, CgroupError::AlreadyExists { .. }), "{again:?}");
}

/// Bad paths are refused before anything is made.
#[test]
fn bad_paths_leave_nothing() {
    let root = v2_fixture();
    for bad in ["../escape", "/abs", "", "a/../b"] {
        let err = V2Cgroup::create(root.path(), Path::new(bad)).unwrap_err();
        assert!(matches!(err, CgroupError::InvalidPath { .. }), "{bad}: {err:?}");
    }
    assert_eq!(read(root.path().join("cgroup.subtree_control")), "");
    let entries: Vec<_> =
        fs::read_dir(root.path()).unwrap().flatten().filter(|e| e.path().is_dir()).collect();
    assert!(entries.is_empty(), "left behind: {entries:?}");
}

/// memory.max gets the limit in bytes, memory.swap.max the swap beyond it (OCI counts memory plus swap).
#[test]
fn memory_limit_and_swap() {
    let (_root, cgroup) = fixture_cgroup("mem");
    cgroup.apply(&memory(32 << 20, Some(32 << 20))).unwrap();
    assert_eq!(read(cgroup.dir().join("memory.max")), "33554432");
    assert_eq!(read(cgroup.dir().join("memory.swap.max")), "0", "swap = limit means no swap");
    cgroup.apply(&memory(64 << 20, Some(96 << 20))).unwrap();
    assert_eq!(read(cgroup.dir().join("memory.max")), "67108864");
    assert_eq!(read(cgroup.dir().join("memory.swap.max")), "33554432");
    cgroup.apply(&memory(-1, Some(-1))).unwrap();
    assert_eq!(read(cgroup.dir().join("memory.max")), "max");
    assert_eq!(read(cgroup.dir().join("memory.swap.max")), "max");
}

/// Without swap accounting memory.swap.max is missing: a swap limit says so; a memory limit alone still works.
#[test]
fn swap_accounting_off_is_reported() {
    let (_root, cgroup) = fixture_cgroup("noswap");
    fs::remove_file(cgroup.dir().join("memory.swap.max")).unwrap();
    let err = cgroup.apply(&memory(32 << 20, Some(32 << 20))).unwrap_err();
    assert!(matches!(err, CgroupError::SwapAccountingOff { .. }), "{err:?}");
    cgroup.apply(&memory(16 << 20, None)).unwrap();
    assert_eq!(read(cgroup.dir().join("memory.max")), "16777216");
    // No memory controller at all: the error names it.
    fs::remove_file(cgroup.dir().join("memory.max")).unwrap();
    let err = cgroup.apply(&memory(16 << 20, None)).unwrap_err();
    assert!(matches!(err, CgroupError::ControllerMissing { controller: "memory", .. }), "{err:?}");
}

/// cpu.max is one line, "quota period" or "max period"; shares become a weight.
#[test]
fn cpu_max_line_and_weight() {
    assert_eq!(cpu_max(20_000, 100_000), "20000 100000");
    assert_eq!(cpu_max(-1, 50_000), "max 50000");
    let (_root, cgroup) = fixture_cgroup("cpu");
    cgroup.apply(&cpu(Cpu { quota: Some(20_000), period: Some(100_000), ..Cpu::default() })).unwrap();
    assert_eq!(read(cgroup.dir().join("cpu.max")), "20000 100000");
    cgroup.apply(&cpu(Cpu { quota: Some(50_000), ..Cpu::default() })).unwrap();
    assert_eq!(read(cgroup.dir().join("cpu.max")), "50000 100000", "the default period is 100 ms");
    cgroup.apply(&cpu(Cpu { quota: Some(-1), period: Some(250_000), ..Cpu::default() })).unwrap();
    assert_eq!(read(cgroup.dir().join("cpu.max")), "max 250000");
    cgroup.apply(&cpu(Cpu { shares: Some(1024), ..Cpu::default() })).unwrap();
    assert_eq!(
        read(cgroup.dir().join("cpu.weight")),
        "100",
        "1024 shares, the v1 default, are the v2 default weight 100"
    );
}

/// pids.max takes the limit; 0 or less is "max", as runc reads OCI's pids.limit.
#[test]
fn pids_max() {
    let (_root, cgroup) = fixture_cgroup("pids");
    cgroup.apply(&valid(Resources { pids: Some(Pids { limit: 16 }), ..Resources::default() })).unwrap();
    assert_eq!(read(cgroup.dir().join("pids.max")), "16");
    cgroup.apply(&valid(Resources { pids: Some(Pids { limit: -1 }), ..Resources::default() })).unwrap();
    assert_eq!(read(cgroup.dir().join("pids.max")), "max");
}

/// Out-of-range values are refused by name where limits are validated, before any
/// driver can be handed them, so nothing is written.
#[test]
fn invalid_values_write_nothing() {
    let (_root, cgroup) = fixture_cgroup("bad");
    let err = Resources {
        memory: Some(Memory { limit: Some(-5), swap: None, ..Memory::default() }),
        pids: Some(Pids { limit: 3 }),
        ..Resources::default()
    }
    .validated()
    .unwrap_err();
    assert!(matches!(err, CgroupError::InvalidResource { field: "memory.limit", .. }), "{err:?}");
    assert_eq!(read(cgroup.dir().join("memory.max")), "max");
    assert_eq!(read(cgroup.dir().join("pids.max")), "max");
    let bad_period = Cpu { quota: Some(20_000), period: Some(10), ..Cpu::default() };
    let err = Resources { cpu: Some(bad_period), ..Resources::default() }.validated().unwrap_err();
    assert!(matches!(err, CgroupError::InvalidResource { field: "cpu.period", .. }), "{err:?}");
    assert_eq!(read(cgroup.dir().join("cpu.max")), "max 100000");
}

/// Joining writes the pid to the cgroup's cgroup.procs.
#[test]
fn join_writes_cgroup_procs() {
    let (_root, cgroup) = fixture_cgroup("join");
    cgroup.join(4242).unwrap();
    assert_eq!(read(cgroup.dir().join("cgroup.procs")), "4242");
    assert_eq!(cgroup.procs().unwrap(), vec![4242]);
}

/// The counters come from memory.events (oom_kill, max), memory.current/peak/max, cpu.stat and pids.*.
#[test]
fn stats_read_the_counters() {
    let (_root, cgroup) = fixture_cgroup("stats");
    let dir = cgroup.dir();
    fs::write(dir.join("memory.current"), "1048576\n").unwrap();
    fs::write(dir.join("memory.peak"), "33550336\n").unwrap();
    fs::write(dir.join("memory.max"), "33554432\n").unwrap();
    fs::write(dir.join("memory.events"), "low 0\nhigh 0\nmax 212\noom 3\noom_kill 2\noom_group_kill 0\n")
        .unwrap();
    fs::write(dir.join("cpu.stat"), "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 8\nthrottled_usec 640000\n").unwrap();
    fs::write(dir.join("pids.current"), "16\n").unwrap();
    fs::write(dir.join("pids.max"), "16\n").unwrap();
    fs::write(dir.join("pids.events"), "max 5\n").unwrap();
    let stats = cgroup.stats().unwrap();
    let memory = stats.memory.unwrap();
    assert_eq!(memory.oom_kills, 2, "oom_kill of memory.events");
    assert_eq!(memory.failcnt, 212, "max of memory.events");
    assert_eq!((memory.usage, memory.max_usage, memory.limit), (1 << 20, Some(33_550_336), Some(32 << 20)));
    let cpu = stats.cpu.unwrap();
    assert_eq!((cpu.usage_ns, cpu.nr_throttled, cpu.throttled_ns), (2_000_000, 8, 640_000_000));
    let pids = stats.pids.unwrap();
    assert_eq!((pids.current, pids.limit, pids.refused), (16, Some(16), 5));

    // Before Linux 5.19 there is no memory.peak; an unlimited cgroup says "max".
    fs::remove_file(dir.join("memory.peak")).unwrap();
    fs::write(dir.join("memory.max"), "max\n").unwrap();
    let memory = cgroup.memory_stats().unwrap();
    assert_eq!((memory.max_usage, memory.limit, memory.oom_kills), (None, None, 2));
}

/// The freezer's state comes from cgroup.freeze (asked) and cgroup.events (done), and
/// freezing writes 1 and returns once the kernel says `frozen 1`.
#[test]
fn freezer_state_reads_freeze_and_events() {
    let (_root, cgroup) = fixture_cgroup("frozen");
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Thawed);
    fs::write(cgroup.dir().join("cgroup.freeze"), "1\n").unwrap();
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Freezing);
    // The kernel has stopped every task.
    fs::write(cgroup.dir().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Frozen);
    cgroup.set_freezer(FreezerState::Frozen).unwrap();
    assert_eq!(read(cgroup.dir().join("cgroup.freeze")), "1");
    cgroup.set_freezer(FreezerState::Thawed).unwrap();
    assert_eq!(read(cgroup.dir().join("cgroup.freeze")), "0");
    fs::write(cgroup.dir().join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Thawed);
}

/// A v2 tree as a host with systemd has it, in a tempdir: the root offers the usual
/// controllers and enables none.
pub fn v2_fixture() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let files = [
        ("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"),
        ("cgroup.subtree_control", ""),
        ("cgroup.procs", "1\n"),
    ];
    for (name, text) in files {
        fs::write(root.path().join(name), text).unwrap();
    }
    root
}

/// What the kernel puts in a new v2 cgroup with cpu, memory and pids enabled.
pub fn populate_v2_cgroup(dir: &Path) {
    let files = [
        ("cgroup.controllers", "cpu memory pids\n"),
        ("cgroup.subtree_control", ""),
        ("cgroup.procs", ""),
        ("cgroup.events", "populated 0\nfrozen 0\n"),
        ("cgroup.freeze", "0\n"),
        ("cgroup.kill", ""),
        ("memory.max", "max\n"),
        ("memory.swap.max", "max\n"),
        ("memory.current", "0\n"),
        ("memory.peak", "0\n"),
        ("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"),
        ("cpu.max", "max 100000\n"),
        ("cpu.weight", "100\n"),
        (
            "cpu.stat",
            "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
        ),
        ("pids.max", "max\n"),
        ("pids.current", "0\n"),
        ("pids.events", "max 0\n"),
    ];
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
}

/// Removing a cgroup tree: one already gone is fine, but a path that cannot be read as
/// a directory (here a file) is an error naming it, never silently taken as removed.
#[test]
fn removal_reports_what_it_cannot_remove() {
    let dir = tempfile::tempdir().unwrap();
    chapter_4::cgroups::remove_bottom_up(&dir.path().join("gone")).unwrap();
    let file = dir.path().join("not-a-cgroup");
    fs::write(&file, "").unwrap();
    let err = chapter_4::cgroups::remove_bottom_up(&file).unwrap_err();
    assert!(matches!(err, CgroupError::Remove { ref path, .. } if path == &file), "{err:?}");
    assert!(file.exists(), "the file was removed");
}
