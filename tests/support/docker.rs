//! What tests/docker.rs and tests/containerd.rs share: an engine daemon the test
//! starts itself (dockerd, or a bare containerd), with everything it keeps (data,
//! state, sockets, pid file) in a temp directory of its own, and stops again with
//! everything it started, even when the test panics: its processes (containerd, the
//! shims, any container left), its mounts and its cgroups. See tests/docker.rs for
//! the flags and why.

#[path = "interop.rs"]
mod interop;
pub use interop::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bigbang_testkit::privilege::require_root;
use bigbang_testkit::probe;
use bigbang_testkit::rootfs::BusyboxRootfs;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// One daemon at a time: two would share this machine's two cores and make each
/// test's timing the other's; a poisoned lock (a test that panicked) is still a lock.
static ONE_DAEMON: Mutex<()> = Mutex::new(());

fn one_daemon() -> MutexGuard<'static, ()> {
    ONE_DAEMON.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fails with one line unless this test can run: root, and `program` installed.
pub fn require(program: &str, package: &str, test: &str) -> PathBuf {
    require_root(
        &format!("these tests start {program} and need root"),
        &format!("cargo test -p bigbang --test {test}"),
    );
    probe::program(program).unwrap_or_else(|| panic!("{program} is not installed: apt-get install {package}"))
}

/// A busybox rootfs (every applet linked in /bin, /etc/passwd with root).
pub fn busybox_rootfs() -> BusyboxRootfs {
    BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)")
}

pub fn output_text(output: &Output) -> String {
    format!("status {}\nstdout:\n{}\nstderr:\n{}", output.status, text(&output.stdout), text(&output.stderr))
}

/// What the daemons make outside the directories they are given, deepest first:
/// containerd 1.6 makes `/run/containerd/s` for its shims' sockets, dockerd 20.10
/// `/run/docker/plugins` to look for plugins, whatever their state directories.
const MADE_OUTSIDE: [&str; 4] =
    ["/run/containerd/s", "/run/containerd", "/run/docker/plugins", "/run/docker"];

/// An engine daemon started by the test, and what it leaves to clean up. `finish`
/// stops it and checks that nothing is left; dropping it unfinished (a test that
/// panicked) still stops it and cleans up, without the checks.
pub struct Daemon {
    /// Where everything of the daemon lives: data, state, sockets, pid file, its log.
    pub dir: tempfile::TempDir,
    /// The daemon's socket.
    pub socket: PathBuf,
    /// The cgroup every container goes below (`<parent>/<id>` in every hierarchy).
    pub cgroup_parent: String,
    child: Option<Child>,
    /// Those of [`MADE_OUTSIDE`] that were absent when the daemon started, and so
    /// are the test's to remove.
    made_outside: Vec<&'static str>,
    finished: bool,
    _one: MutexGuard<'static, ()>,
}

impl Daemon {
    /// Starts `program` with `args` (which name paths below `dir`), its output in
    /// `dir/daemon.log`, and waits (at most 60 s) until `ready` holds.
    pub fn start(
        program: &Path,
        dir: tempfile::TempDir,
        socket: PathBuf,
        cgroup_parent: String,
        args: &[String],
        ready: impl Fn(&Daemon) -> bool,
    ) -> Daemon {
        let one = one_daemon();
        let made_outside: Vec<&str> = MADE_OUTSIDE.into_iter().filter(|p| !Path::new(p).exists()).collect();
        let log = fs::File::create(dir.path().join("daemon.log")).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut daemon = Daemon {
            dir,
            socket,
            cgroup_parent,
            child: Some(child),
            made_outside,
            finished: false,
            _one: one,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready(&daemon) {
            if let Some(status) = daemon.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("{} exited ({status}) before it was ready:\n{}", program.display(), daemon.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 60 s:\n{}",
                program.display(),
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Processes whose command line names the daemon's directory: the daemon, the
    /// containerd it started, the shims (their `-address` is its socket).
    pub fn processes(&self) -> Vec<i32> {
        let needle = self.dir.path().to_string_lossy().into_owned();
        let me = std::process::id() as i32;
        fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid != me)
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(&needle))
            })
            .collect()
    }

    /// The mount points below the daemon's directory, deepest first.
    pub fn mounts(&self) -> Vec<PathBuf> {
        let dir = self.dir.path();
        let mut mounts: Vec<PathBuf> = bigbang_testkit::mounts::of("self")
            .into_iter()
            .map(|m| m.mount_point)
            .filter(|p| p.starts_with(dir))
            .collect();
        mounts.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        mounts
    }

    /// The cgroup parent's directory in each hierarchy that has it (v1 controllers,
    /// name=systemd, the v2 tree).
    pub fn cgroups(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> =
            fs::read_dir("/sys/fs/cgroup").unwrap().flatten().map(|e| e.path()).collect();
        roots.push(PathBuf::from("/sys/fs/cgroup"));
        roots.into_iter().map(|r| r.join(&self.cgroup_parent)).filter(|d| d.is_dir()).collect()
    }

    /// Stops the daemon (SIGTERM, at most 30 s, then SIGKILL), then kills what it
    /// left running, unmounts what it left mounted and removes its cgroups.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(30);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // A shim whose daemon is gone, and the containers it kept.
        for pid in self.processes() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        for dir in self.cgroups() {
            kill_tree(&dir);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.processes().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for mount in self.mounts() {
            let _ = nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH);
        }
        for dir in self.cgroups() {
            remove_tree(&dir);
        }
        // Only empty directories go (one daemon runs at a time: one_daemon).
        for dir in &self.made_outside {
            let _ = fs::remove_dir(dir);
        }
    }

    /// Stops the daemon, then checks that nothing of it is left: no process, no mount
    /// below its directory, no cgroup below its parent.
    pub fn finish(mut self) {
        self.stop();
        self.finished = true;
        assert!(self.processes().is_empty(), "processes of the daemon are left: {:?}", self.processes());
        assert!(self.mounts().is_empty(), "mounts of the daemon are left: {:?}", self.mounts());
        assert!(self.cgroups().is_empty(), "cgroups of the daemon are left: {:?}", self.cgroups());
        let left: Vec<&&str> = self.made_outside.iter().filter(|p| Path::new(p).exists()).collect();
        assert!(left.is_empty(), "made by the daemon and not empty: {left:?}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.finished {
            self.stop();
        }
    }
}

/// SIGKILLs every process in cgroup `dir` and below it.
fn kill_tree(dir: &Path) {
    for entry in walkdirs(dir) {
        if let Ok(procs) = fs::read_to_string(entry.join("cgroup.procs")) {
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// Removes cgroup `dir` and the cgroups below it, deepest first, retrying while the
/// killed tasks leave (EBUSY).
fn remove_tree(dir: &Path) {
    let mut dirs = walkdirs(dir);
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        let deadline = Instant::now() + Duration::from_secs(5);
        while fs::remove_dir(&d).is_err() && d.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `dir` and every directory below it.
fn walkdirs(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < all.len() {
        if let Ok(entries) = fs::read_dir(&all[i]) {
            all.extend(
                entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()),
            );
        }
        i += 1;
    }
    all
}

/// How long a test waits for what an engine does in its own time (a log line, a
/// restart, a task's cgroup going): the daemon and its shims pass it on, so longer
/// than [`bigbang_testkit::wait::PATIENCE`], the wait for the kernel.
pub const ENGINE_PATIENCE: Duration = Duration::from_secs(30);
