//! Helpers for chapter 4's kernel checks (tests/kernel.rs): a guard that makes a test's
//! cgroup with the chapter's factory (your drivers) and removes it with the PRODUCT's
//! (so cleanup works even while your code is a todo!()), and the chapter binary's
//! payloads. The v2 fixture tree is in tests/v2.rs.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use bigbang_testkit::wait::Lines;
use chapter_4::cgroups::{self, CgroupManager, Hierarchies, Resources, ValidResources, Version};

/// Stops a test that needs root with one line saying how to run it.
pub fn require_root() {
    bigbang_testkit::privilege::require_root(
        "chapter 4's kernel tests need root to create cgroups (the v2 fixture tests, \
         `cargo test -p chapter-4 --test v2`, run without it)",
        "cargo test -p chapter-4",
    );
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
    /// Creates the cgroup (no limits yet), as the chapter's `cgroups::create` does it.
    pub fn new() -> Self {
        require_root();
        let hierarchies = hierarchies();
        let name = PathBuf::from(bigbang_testkit::names::numbered("bigbang-test"));
        let cgroup = cgroups::create(&hierarchies, &name, &ValidResources::default())
            .unwrap_or_else(|err| panic!("create cgroup {}: {err}", name.display()));
        Self { cgroup, name, hierarchies }
    }

    /// Creates the cgroup and applies `resources` (validated first) with your driver.
    pub fn with(resources: &Resources) -> Self {
        let cg = Self::new();
        let valid =
            resources.clone().validated().unwrap_or_else(|err| panic!("validate {resources:?}: {err}"));
        cg.cgroup.apply(&valid).unwrap_or_else(|err| panic!("apply {resources:?}: {err}"));
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
        // The product's driver: yours may still be todo!().
        let hierarchies = bigbang_container::cgroups::Hierarchies::here();
        let opened = hierarchies.and_then(|h| bigbang_container::cgroups::open(&h, &self.name));
        if let Ok(cgroup) = opened {
            if let Err(err) = cgroup.remove() {
                eprintln!("cleanup of cgroup {}: {err}", self.name.display());
            }
        }
    }
}

/// A payload of the chapter binary, waiting on stdin for its go; killed and reaped on drop.
pub struct Payload {
    pub child: Child,
    stdout: Lines,
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
        let stdout = Lines::new(child.stdout.take().unwrap());
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

    /// The next line it prints (at most [`bigbang_testkit::wait::PATIENCE`] away).
    pub fn line(&mut self) -> String {
        self.stdout.next_line().unwrap_or_default()
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
