//! Helpers for chapter 4's checks: unique cgroup names, a guard that removes a test's
//! cgroup with the PRODUCT's driver (so cleanup works even while your code is a
//! todo!()), the chapter binary's payloads, and a v2 fixture tree.

#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::cargo::CommandCargoExt;
use chapter_4::cgroups::{self, v1, v2, CgroupManager, Hierarchies, Resources, Version};

/// Stops a test that needs root with one line saying how to run it.
pub fn require_root() {
    if !bigbang_testkit::probe::is_root() {
        panic!(
            "chapter 4's kernel tests need root to create cgroups: run `sudo -E env PATH=\"$PATH\" cargo test -p chapter-4` \
             (the v2 fixture tests, `cargo test -p chapter-4 --test v2`, run without it)"
        );
    }
}

/// A cgroup name no other test or run uses: bigbang-test-<pid>-<n>.
pub fn unique_name() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    PathBuf::from(format!("bigbang-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst)))
}

/// This machine's cgroup hierarchies.
pub fn hierarchies() -> Hierarchies {
    Hierarchies::here().expect("cannot read /proc/self/mountinfo")
}

/// A cgroup made with YOUR driver (the one this machine's hierarchies call for),
/// removed on drop with the product's driver, whatever state the test left it in.
pub struct TestCgroup {
    pub cgroup: Box<dyn CgroupManager>,
    pub name: PathBuf,
    hierarchies: Hierarchies,
}

impl TestCgroup {
    /// Creates the cgroup (no limits yet).
    pub fn new() -> Self {
        require_root();
        let hierarchies = hierarchies();
        let name = unique_name();
        let cgroup: Box<dyn CgroupManager> = match hierarchies.version().expect("no cgroup hierarchy mounted")
        {
            Version::V1 => Box::new(v1::V1Cgroup::create(&hierarchies.v1, &name).expect("v1 create")),
            Version::V2 => {
                let root = hierarchies.unified.as_deref().expect("a v2 tree");
                Box::new(v2::V2Cgroup::create(root, &name).expect("v2 create"))
            }
        };
        Self { cgroup, name, hierarchies }
    }

    /// Creates the cgroup and applies `resources` with your driver.
    pub fn with(resources: &Resources) -> Self {
        let cg = Self::new();
        cg.cgroup.apply(resources).unwrap_or_else(|err| panic!("apply {resources:?}: {err}"));
        cg
    }

    pub fn version(&self) -> Version {
        self.cgroup.version()
    }

    /// The cgroup's directory for `controller` (the v2 directory on v2).
    pub fn dir(&self, controller: &str) -> PathBuf {
        match self.version() {
            Version::V1 => self
                .hierarchies
                .v1_mount(controller)
                .unwrap_or_else(|| panic!("no v1 hierarchy for {controller}"))
                .join(&self.name),
            Version::V2 => self.hierarchies.unified.as_ref().unwrap().join(&self.name),
        }
    }

    /// Directories of the cgroup that still exist.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        self.cgroup.dirs().into_iter().filter(|d| d.exists()).collect()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if let Ok(cgroup) = cgroups::open(&self.hierarchies, &self.name) {
            if let Err(err) = cgroup.remove() {
                eprintln!("cleanup of cgroup {}: {err}", self.name.display());
            }
        }
    }
}

/// A payload of the chapter binary, waiting on stdin for its go; killed and reaped on drop.
pub struct Payload {
    pub child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Payload {
    /// Starts `chapter-4 <args>`; it does nothing until [`Payload::go`].
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::cargo_bin("chapter-4")
            .expect("the chapter-4 binary is built by cargo test")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start chapter-4");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { child, stdout }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Lets it run.
    pub fn go(&mut self) {
        let mut stdin = self.child.stdin.take().expect("go only once");
        stdin.write_all(b"go\n").unwrap();
    }

    /// The next line it prints.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_owned()
    }
}

/// Thaws the freezer cgroup `pid` is in (v1 freezer.state, v2 cgroup.freeze): a frozen
/// process cannot die, and waiting for it would hang the test.
pub fn thaw(pid: i32) {
    if let Some(path) = proc_cgroup(pid, Version::V1, "freezer") {
        let _ = fs::write(format!("/sys/fs/cgroup/freezer{path}/freezer.state"), "THAWED");
    }
    let hierarchies = hierarchies();
    if let (Some(unified), Some(path)) = (&hierarchies.unified, proc_cgroup(pid, Version::V2, "")) {
        let _ = fs::write(unified.join(path.trim_start_matches('/')).join("cgroup.freeze"), "0");
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            thaw(self.pid());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `/proc/<pid>/cgroup` line for a v1 controller, or the v2 `0::` line's path.
pub fn proc_cgroup(pid: i32, version: Version, controller: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let hit = match version {
            Version::V1 => controllers.split(',').any(|c| c == controller),
            Version::V2 => controllers.is_empty(),
        };
        hit.then(|| path.to_owned())
    })
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

/// A file's contents, trimmed.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())).trim().to_owned()
}
