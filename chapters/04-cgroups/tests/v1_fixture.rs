//! Chapter 4's v1 checks without a v1 kernel: your `v1.rs` (and `files.rs`'s removal)
//! against a fixture v1 layout in a tempdir, one directory per hierarchy (memory,
//! cpu,cpuacct, pids, freezer and the named systemd one) holding the files the kernel
//! has (cgroup.procs, tasks, memory.limit_in_bytes, cpu.shares, cpu.cfs_quota_us,
//! pids.max, freezer.state, …). No root, any kernel: `cargo test -p chapter-4 --test v1_fixture`.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::thread;
use std::time::Instant;

use bigbang_testkit::cgroups::read;
use chapter_4::cgroups::v1::V1Cgroup;
use chapter_4::cgroups::{
    remove_bottom_up, CgroupError, CgroupManager, Cpu, FreezerState, Memory, Pids, Resources, V1Hierarchy,
    KILL_TIMEOUT,
};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The hierarchies of a v1 host with systemd (cpu and cpuacct co-mounted, as every
/// distribution mounts them), each a directory of `root`, as `/sys/fs/cgroup/<name>` is.
const HIERARCHIES: [(&str, &[&str]); 5] = [
    ("memory", &["memory"]),
    ("cpu,cpuacct", &["cpu", "cpuacct"]),
    ("pids", &["pids"]),
    ("freezer", &["freezer"]),
    ("systemd", &["name=systemd"]),
];

/// What the kernel puts in a new cgroup directory of each hierarchy (v1 control files
/// with their defaults; cgroup-v1/*.rst).
fn kernel_files(controllers: &[&str]) -> Vec<(&'static str, &'static str)> {
    let mut files = vec![("cgroup.procs", ""), ("tasks", ""), ("notify_on_release", "0\n")];
    for controller in controllers {
        files.extend_from_slice(match *controller {
            "memory" => &[
                ("memory.limit_in_bytes", "9223372036854771712\n"),
                ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
                ("memory.usage_in_bytes", "0\n"),
                ("memory.max_usage_in_bytes", "0\n"),
                ("memory.failcnt", "0\n"),
                ("memory.memsw.failcnt", "0\n"),
                ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
                ("memory.swappiness", "60\n"),
            ][..],
            "cpu" => &[
                ("cpu.shares", "1024\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"),
            ][..],
            "cpuacct" => &[("cpuacct.usage", "0\n")][..],
            "pids" => &[("pids.max", "max\n"), ("pids.current", "0\n"), ("pids.events", "max 0\n")][..],
            "freezer" => &[("freezer.state", "THAWED\n")][..],
            _ => &[][..],
        });
    }
    files
}

/// A fixture v1 host: the hierarchies' root directories, populated as the kernel's are.
struct Host {
    root: tempfile::TempDir,
    hierarchies: Vec<V1Hierarchy>,
}

impl Host {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let hierarchies: Vec<V1Hierarchy> = HIERARCHIES
            .iter()
            .map(|(dir, controllers)| V1Hierarchy {
                mount_point: root.path().join(dir),
                controllers: controllers.iter().map(|c| c.to_string()).collect(),
            })
            .collect();
        for h in &hierarchies {
            fs::create_dir(&h.mount_point).unwrap();
            populate(&h.mount_point, &h.controllers);
            // The root cgroup holds every process of the machine.
            fs::write(h.mount_point.join("cgroup.procs"), "1\n").unwrap();
        }
        Host { root, hierarchies }
    }

    /// Cgroup `name` made by the driver, its directories then filled by "the kernel".
    fn cgroup(&self, name: &str) -> V1Cgroup {
        let cgroup = V1Cgroup::create(&self.hierarchies, Path::new(name)).unwrap();
        for h in &self.hierarchies {
            populate(&h.mount_point.join(name), &h.controllers);
        }
        cgroup
    }

    /// The cgroup's directory in the hierarchy mounted at `root/<hierarchy>`.
    fn dir(&self, hierarchy: &str, name: &str) -> PathBuf {
        self.root.path().join(hierarchy).join(name)
    }
}

fn populate(dir: &Path, controllers: &[String]) {
    let controllers: Vec<&str> = controllers.iter().map(String::as_str).collect();
    for (file, text) in kernel_files(&controllers) {
        fs::write(dir.join(file), text).unwrap();
    }
}

/// A process to put in a fixture cgroup and kill: `sleep 30`.
fn sleeper() -> Child {
    Command::new("sleep").arg("30").spawn().expect("spawn sleep")
}

/// SIGKILLs the sleepers of a test that failed before the driver killed them (a
/// `todo!()`), so no `sleep` outlives the test run.
struct KillOnPanic(Vec<u32>);

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if thread::panicking() {
            for pid in &self.0 {
                let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
            }
        }
    }
}

/// The kernel's part while a task dies: once `child` has exited (reaped here), it is
/// no longer in `procs`, the cgroup.procs file of a fixture cgroup.
fn leave_on_exit(mut child: Child, procs: PathBuf) -> thread::JoinHandle<ExitStatus> {
    thread::spawn(move || {
        let status = child.wait().unwrap();
        let pid = child.id().to_string();
        // Gone with its tempdir when the test has failed already: nothing to update.
        if let Ok(text) = fs::read_to_string(&procs) {
            let left: Vec<&str> = text.lines().filter(|l| l.trim() != pid).collect();
            let _ = fs::write(&procs, left.join("\n"));
        }
        status
    })
}

/// Creating makes the cgroup's directory in every hierarchy, the named systemd one included.
#[test]
fn create_makes_a_directory_in_every_hierarchy() {
    let host = Host::new();
    let cgroup = V1Cgroup::create(&host.hierarchies, Path::new("bigbang/web-1")).unwrap();
    for (hierarchy, _) in HIERARCHIES {
        assert!(host.dir(hierarchy, "bigbang/web-1").is_dir(), "{hierarchy}");
    }
    assert_eq!(cgroup.dir("cpuacct"), Some(host.dir("cpu,cpuacct", "bigbang/web-1").as_path()));
    let again = V1Cgroup::create(&host.hierarchies, Path::new("bigbang/web-1")).unwrap_err();
    assert!(matches!(again, CgroupError::AlreadyExists { .. }), "{again:?}");
}

/// Joining writes the pid to cgroup.procs in EVERY hierarchy (each places the process on
/// its own), not to `tasks`, which would move one thread.
#[test]
fn join_writes_cgroup_procs_in_every_hierarchy() {
    let host = Host::new();
    let cgroup = host.cgroup("join");
    cgroup.join(4242).unwrap();
    for (hierarchy, _) in HIERARCHIES {
        assert_eq!(
            read(host.dir(hierarchy, "join").join("cgroup.procs")),
            "4242",
            "{hierarchy}'s cgroup.procs"
        );
        assert_eq!(read(host.dir(hierarchy, "join").join("tasks")), "", "{hierarchy}'s tasks");
    }
    assert_eq!(cgroup.procs().unwrap(), vec![4242]);
}

/// Killing SIGKILLs every task in every hierarchy, in child cgroups too, thaws the
/// freezer it froze, and returns once the kernel has emptied cgroup.procs.
#[test]
fn kill_sigkills_every_task_and_waits_until_the_cgroup_is_empty() {
    let host = Host::new();
    let cgroup = host.cgroup("kill");
    let (a, b) = (sleeper(), sleeper());
    let a_procs = host.dir("memory", "kill/cgroup.procs");
    let child = host.dir("pids", "kill/worker");
    fs::create_dir(&child).unwrap();
    populate(&child, &["pids".into()]);
    let b_procs = child.join("cgroup.procs");
    fs::write(&a_procs, format!("{}\n", a.id())).unwrap();
    fs::write(&b_procs, format!("{}\n", b.id())).unwrap();
    let (a_pid, b_pid) = (a.id(), b.id());
    let _guard = KillOnPanic(vec![a_pid, b_pid]);
    let (a_exit, b_exit) = (leave_on_exit(a, a_procs), leave_on_exit(b, b_procs));

    let started = Instant::now();
    cgroup.kill().unwrap();
    assert!(started.elapsed() < KILL_TIMEOUT, "kill returned only after its deadline");
    assert_eq!(cgroup.all_procs().unwrap(), Vec::<i32>::new());
    for (pid, exit) in [(a_pid, a_exit), (b_pid, b_exit)] {
        let status = exit.join().unwrap();
        assert_eq!(status.signal(), Some(9), "pid {pid} ended with {status}, not SIGKILL");
    }
    assert_eq!(
        read(host.dir("freezer", "kill/freezer.state")),
        "THAWED",
        "frozen tasks never act on SIGKILL"
    );
}

/// A task that never leaves cgroup.procs is reported after the deadline, by pid, not
/// waited for forever, nor passed over as gone.
#[test]
fn kill_reports_a_task_that_stays() {
    let host = Host::new();
    let cgroup = host.cgroup("stays");
    let mut task = sleeper();
    let _guard = KillOnPanic(vec![task.id()]);
    // No one takes it out of the file: to the driver it never dies.
    fs::write(host.dir("cpu,cpuacct", "stays/cgroup.procs"), format!("{}\n", task.id())).unwrap();
    let started = Instant::now();
    let err = cgroup.kill().unwrap_err();
    let waited = started.elapsed();
    let status = task.wait().unwrap();
    match err {
        CgroupError::ProcessesRemain { pids, .. } => assert_eq!(pids, vec![task.id() as i32]),
        other => panic!("expected ProcessesRemain, got {other:?}"),
    }
    assert!(waited >= KILL_TIMEOUT, "gave up after {waited:?}, before KILL_TIMEOUT ({KILL_TIMEOUT:?})");
    assert_eq!(status.signal(), Some(9), "the task was sent SIGKILL");
}

/// Removal takes the deepest cgroup first (rmdir refuses a cgroup with a child), and a
/// directory already gone is no error. The kernel's files go with a real cgroup's
/// directory; a fixture's directories are empty, as rmdir(2) needs on an ordinary
/// filesystem.
#[test]
fn remove_bottom_up_takes_the_deepest_first() {
    let root = tempfile::tempdir().unwrap();
    let top = root.path().join("bigbang-kill");
    for dir in ["a/b/c", "a/d", "e"] {
        fs::create_dir_all(top.join(dir)).unwrap();
    }
    remove_bottom_up(&top).unwrap();
    assert!(!top.exists(), "{} is still there", top.display());
    remove_bottom_up(&top).unwrap();
    let left: Vec<_> = fs::read_dir(root.path()).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The limits land in the v1 files by their v1 names: memory.limit_in_bytes and
/// memory.memsw.limit_in_bytes, cpu.shares, cpu.cfs_period_us and cpu.cfs_quota_us,
/// pids.max ("max" for 0).
#[test]
fn limits_land_in_the_v1_files() {
    let host = Host::new();
    let cgroup = host.cgroup("limits");
    let resources = Resources {
        memory: Some(Memory { limit: Some(32 << 20), swap: Some(64 << 20), ..Memory::default() }),
        cpu: Some(Cpu { shares: Some(512), quota: Some(20000), period: Some(50000), ..Cpu::default() }),
        pids: Some(Pids { limit: 16 }),
        ..Resources::default()
    };
    cgroup.apply(&resources.validated().unwrap()).unwrap();
    let memory = host.dir("memory", "limits");
    assert_eq!(read(memory.join("memory.limit_in_bytes")), "33554432");
    assert_eq!(read(memory.join("memory.memsw.limit_in_bytes")), "67108864");
    let cpu = host.dir("cpu,cpuacct", "limits");
    assert_eq!(read(cpu.join("cpu.shares")), "512");
    assert_eq!(read(cpu.join("cpu.cfs_period_us")), "50000");
    assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "20000");
    assert_eq!(read(host.dir("pids", "limits").join("pids.max")), "16");
    let unlimited = Resources { pids: Some(Pids { limit: 0 }), ..Resources::default() };
    cgroup.apply(&unlimited.validated().unwrap()).unwrap();
    assert_eq!(read(host.dir("pids", "limits").join("pids.max")), "max");
}

/// The counters come from the v1 files: memory.usage/max_usage/limit_in_bytes, the
/// failcnts, oom_kill of memory.oom_control, cpuacct.usage, cpu.stat, pids.*.
#[test]
fn stats_read_the_v1_counters() {
    let host = Host::new();
    let cgroup = host.cgroup("stats");
    let memory = host.dir("memory", "stats");
    fs::write(memory.join("memory.usage_in_bytes"), "1048576\n").unwrap();
    fs::write(memory.join("memory.max_usage_in_bytes"), "33550336\n").unwrap();
    fs::write(memory.join("memory.limit_in_bytes"), "33554432\n").unwrap();
    fs::write(memory.join("memory.failcnt"), "200\n").unwrap();
    fs::write(memory.join("memory.memsw.failcnt"), "12\n").unwrap();
    fs::write(memory.join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").unwrap();
    let cpu = host.dir("cpu,cpuacct", "stats");
    fs::write(cpu.join("cpuacct.usage"), "2000000\n").unwrap();
    fs::write(cpu.join("cpu.stat"), "nr_periods 10\nnr_throttled 8\nthrottled_time 640000000\n").unwrap();
    let pids = host.dir("pids", "stats");
    fs::write(pids.join("pids.current"), "16\n").unwrap();
    fs::write(pids.join("pids.max"), "16\n").unwrap();
    fs::write(pids.join("pids.events"), "max 5\n").unwrap();
    let stats = cgroup.stats().unwrap();
    let memory = stats.memory.unwrap();
    assert_eq!((memory.usage, memory.max_usage, memory.limit), (1 << 20, Some(33_550_336), Some(32 << 20)));
    assert_eq!((memory.failcnt, memory.oom_kills), (212, 2));
    let cpu = stats.cpu.unwrap();
    assert_eq!((cpu.usage_ns, cpu.nr_throttled, cpu.throttled_ns), (2_000_000, 8, 640_000_000));
    let pids = stats.pids.unwrap();
    assert_eq!((pids.current, pids.limit, pids.refused), (16, Some(16), 5));
}

/// The freezer's state is freezer.state's word; freezing writes FROZEN and returns once
/// the file says FROZEN, thawing writes THAWED.
#[test]
fn freezer_state_is_freezer_state() {
    let host = Host::new();
    let cgroup = host.cgroup("frozen");
    let state = host.dir("freezer", "frozen/freezer.state");
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Thawed);
    fs::write(&state, "FREEZING\n").unwrap();
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Freezing);
    cgroup.set_freezer(FreezerState::Frozen).unwrap();
    assert_eq!(read(&state), "FROZEN");
    assert_eq!(cgroup.freezer_state().unwrap(), FreezerState::Frozen);
    cgroup.set_freezer(FreezerState::Thawed).unwrap();
    assert_eq!(read(&state), "THAWED");
}
