//! What chapter 6's tests share: a bundle (busybox rootfs + the config.json your
//! `chapter-6 spec` writes) and a runtime with a state root of its own, whose
//! containers are force-deleted when a test ends, even a failed one.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use bigbang_testkit::probe;
use bigbang_testkit::rootfs::BusyboxRootfs;
use serde_json::Value;

pub fn require_root() {
    assert!(
        probe::is_root(),
        "chapter 6 creates containers (cgroups, namespaces, mounts) and needs root: run `sudo -E env PATH=\"$PATH\" cargo test -p chapter-6`"
    );
}

/// A bundle: a busybox rootfs and runc's default config.json, edited.
pub struct Bundle {
    dir: tempfile::TempDir,
    rootfs: BusyboxRootfs,
}

impl Bundle {
    /// A bundle running `args`, without a terminal, with a writable root.
    pub fn new(args: &[&str]) -> Bundle {
        let dir = tempfile::Builder::new().prefix("bigbang-ch6-bundle-").tempdir().unwrap();
        let rootfs = BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)");
        Command::cargo_bin("chapter-6")
            .unwrap()
            .args(["spec", "--bundle"])
            .arg(dir.path())
            .assert()
            .success();
        let bundle = Bundle { dir, rootfs };
        bundle.edit(|config| {
            config["process"]["terminal"] = Value::Bool(false);
            config["process"]["args"] = args.iter().map(|a| Value::from(*a)).collect();
            config["root"]["readonly"] = Value::Bool(false);
        });
        bundle
    }

    pub fn edit(&self, change: impl FnOnce(&mut Value)) {
        let path = self.dir.path().join("config.json");
        let mut config: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        config["root"]["path"] = Value::from(self.rootfs.path().to_str().unwrap());
        change(&mut config);
        fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A file of the container's root filesystem, seen from the host.
    pub fn file(&self, name: &str) -> PathBuf {
        self.rootfs.path().join(name)
    }
}

/// `chapter-6` with a state root of its own. Container ids get a suffix unique to
/// this test process (see [`Runtime::id`]).
pub struct Runtime {
    root: tempfile::TempDir,
    logs: tempfile::TempDir,
    /// The ids handed out, cleaned up on drop.
    ids: std::cell::RefCell<Vec<String>>,
}

impl Runtime {
    pub fn new() -> Runtime {
        require_root();
        Runtime {
            root: tempfile::Builder::new().prefix("bigbang-ch6-root-").tempdir().unwrap(),
            logs: tempfile::Builder::new().prefix("bigbang-ch6-logs-").tempdir().unwrap(),
            ids: Default::default(),
        }
    }

    /// A container id unique to this test run: `name-<pid>`. Fixed ids would collide
    /// with what an unfinished exercise left behind in an earlier run (a `delete`
    /// that is still `todo!()` cannot remove its cgroup).
    pub fn id(&self, name: &str) -> String {
        let id = format!("{name}-{}", std::process::id());
        self.ids.borrow_mut().push(id.clone());
        id
    }

    pub fn cmd(&self) -> Command {
        let mut command = Command::cargo_bin("chapter-6").unwrap();
        command.arg("--root").arg(self.root.path());
        command.stdin(Stdio::null());
        command
    }

    /// Runs a verb that starts no container (its output is read through pipes, which
    /// a container would inherit and hold open).
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// `run --bundle BUNDLE ID` in the foreground; the container's standard streams
    /// go to files (see [`Runtime::stdout`]): a container left waiting by a broken
    /// `start` must not keep the test waiting for the end of a pipe. Returns its status.
    pub fn run_container(&self, bundle: &Bundle, id: &str) -> ExitStatus {
        self.cmd()
            .arg("run")
            .arg("--bundle")
            .arg(bundle.path())
            .arg(id)
            .stdout(fs::File::create(self.logs.path().join(format!("{id}.out"))).unwrap())
            .stderr(fs::File::create(self.logs.path().join(format!("{id}.err"))).unwrap())
            .status()
            .unwrap()
    }

    /// Runs a verb that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "`chapter-6 {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs a verb that must fail; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "`chapter-6 {}` succeeded but must fail", args.join(" "));
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// `create ID` with a pid file; the container's standard streams go to files
    /// (nobody must wait for the container to close a pipe). Panics unless it worked.
    pub fn create(&self, bundle: &Bundle, id: &str) -> i32 {
        let pid_file = self.logs.path().join(format!("{id}.pid"));
        let status: ExitStatus = self
            .cmd()
            .arg("create")
            .arg("--bundle")
            .arg(bundle.path())
            .arg("--pid-file")
            .arg(&pid_file)
            .arg(id)
            .stdout(fs::File::create(self.logs.path().join(format!("{id}.out"))).unwrap())
            .stderr(fs::File::create(self.logs.path().join(format!("{id}.err"))).unwrap())
            .status()
            .unwrap();
        let err = fs::read_to_string(self.logs.path().join(format!("{id}.err"))).unwrap();
        assert!(status.success(), "`chapter-6 create {id}` failed ({status}): {err}");
        let pid = fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("create returned but wrote no pid file {}: {e}", pid_file.display()));
        pid.trim().parse().unwrap_or_else(|_| panic!("the pid file holds {pid:?}, not a pid"))
    }

    /// What the container `id` wrote to its standard output so far.
    pub fn stdout(&self, id: &str) -> String {
        fs::read_to_string(self.logs.path().join(format!("{id}.out"))).unwrap_or_default()
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["state", id])).unwrap()
    }

    /// Waits (at most 10 s, then fails) until `state` reports `status`.
    pub fn wait_status(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self.state(id);
            if state["status"] == status {
                return state;
            }
            assert!(Instant::now() < deadline, "container {id} never became {status}: its state is {state}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The state directory of container `id`.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.path().join(id)
    }
}

impl Drop for Runtime {
    /// Deletes every container left in the state root with your `delete --force`,
    /// then, because your `delete` may not work yet, kills whatever is still in their
    /// cgroups and removes those, so that a failing test does not leave them behind.
    fn drop(&mut self) {
        let mut ids = self.ids.borrow().clone();
        if let Ok(entries) = fs::read_dir(self.root.path()) {
            for entry in entries.flatten() {
                let id = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_dir() && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        for id in ids {
            let _ = self.cmd().args(["delete", "--force", &id]).output();
            for dir in cgroup_dirs(&id) {
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                    for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                    let _ = fs::write(dir.join("freezer.state"), "THAWED");
                    if fs::remove_dir(&dir).is_ok() || !dir.exists() || Instant::now() > deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

/// Whether process `pid` exists and is not a zombie.
pub fn process_lives(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

/// Waits (at most 10 s) until `what` holds.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The container's cgroup directories (in every hierarchy where it has one).
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(hierarchies) = fs::read_dir("/sys/fs/cgroup") {
        for hierarchy in hierarchies.flatten() {
            let dir = hierarchy.path().join("bang-oci").join(id);
            if dir.exists() {
                dirs.push(dir);
            }
        }
    }
    let v2 = Path::new("/sys/fs/cgroup/bang-oci").join(id);
    if v2.exists() && !dirs.contains(&v2) {
        dirs.push(v2);
    }
    dirs
}
