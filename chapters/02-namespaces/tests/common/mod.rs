//! Helpers for chapter 2's checks: start the demo binary as a container, find its
//! init through the pid file, read what the kernel says about it in /proc, and
//! leave nothing running when a test ends or panics.

#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use bigbang_testkit::program::{self, SharedProgram};
use bigbang_testkit::rootfs::BusyboxRootfs;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long the checks wait for a container to reach a state; generous, never a
/// measurement: a container that gets there at all gets there in milliseconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn is_root() -> bool {
    bigbang_testkit::probe::is_root()
}

/// A name no other test (or test run) uses: `<prefix>-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `namespaces` plus `user` when not root: an unprivileged user creates the others
/// inside a user namespace of its own.
pub fn with_user(namespaces: &str) -> String {
    if is_root() || namespaces.split(',').any(|n| n == "user") {
        namespaces.to_owned()
    } else if namespaces.is_empty() {
        "user".to_owned()
    } else {
        format!("user,{namespaces}")
    }
}

/// A busybox rootfs with an empty regular file at /dev/null: busybox sh opens it as
/// the stdin of a background job (`cmd &`). Chapter 2 makes no device nodes (mknod
/// needs root outside any user namespace); chapter 3 binds the real ones.
pub fn rootfs() -> BusyboxRootfs {
    let rootfs = BusyboxRootfs::new().unwrap_or_else(|err| panic!("cannot build the test rootfs: {err}"));
    fs::write(rootfs.path().join("dev/null"), "").expect("cannot create dev/null in the test rootfs");
    fs::set_permissions(rootfs.path().join("dev/null"), fs::Permissions::from_mode(0o666)).unwrap();
    rootfs
}

/// The chapter's demo binary, which runs your code.
pub fn demo() -> Command {
    Command::cargo_bin("chapter-2").expect("the chapter-2 demo binary is built by cargo test")
}

/// The user the checks run the demo as when they run as root: nobody.
pub const NOBODY: u32 = 65534;

/// The demo binary placed in a directory every user may enter (the workspace may sit
/// under /root), for running it as another user.
pub struct DemoCopy(SharedProgram);

impl DemoCopy {
    pub fn new() -> Self {
        Self(SharedProgram::new(demo().get_program().as_ref()).expect("cannot share the chapter-2 demo"))
    }

    pub fn path(&self) -> PathBuf {
        self.0.path().to_owned()
    }

    /// The demo, to be run as nobody.
    pub fn as_nobody(&self) -> Command {
        let mut command = Command::new(self.path());
        command.uid(NOBODY).gid(NOBODY);
        command
    }
}

/// Spawns `command`, retrying while exec fails with ETXTBSY.
pub fn spawn_retrying(command: &mut Command) -> Child {
    program::spawn_retrying(command).expect("cannot start the chapter-2 demo")
}

/// Runs the demo once to the end with `args`, stdin closed, and returns its output.
pub fn run(mut command: Command, args: &[&str]) -> Output {
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn_retrying(&mut command).wait_with_output().expect("cannot collect the demo's output")
}

/// A running `chapter-2 run`: the runtime process, its init's host pid (from the pid
/// file) and the rootfs. The payloads the tests use run until their stdin closes.
pub struct Container {
    /// `None` once [`Container::finish`] took it.
    runtime: Option<Child>,
    pub rootfs: BusyboxRootfs,
    pid_dir: tempfile::TempDir,
}

impl Container {
    /// Starts `chapter-2 run --ns NAMESPACES EXTRA… ROOTFS -- sh -c SCRIPT` with
    /// stdin, stdout and stderr piped.
    pub fn start(namespaces: &str, extra: &[&str], script: &str) -> Container {
        Self::start_with(demo(), namespaces, extra, script)
    }

    /// As [`Container::start`], with the runtime command given (e.g. run as another user).
    pub fn start_with(mut command: Command, namespaces: &str, extra: &[&str], script: &str) -> Container {
        let rootfs = rootfs();
        let pid_dir = tempfile::Builder::new().prefix("bigbang-ch2-pid-").tempdir().unwrap();
        fs::set_permissions(pid_dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        command
            .args(["run", "--ns", namespaces, "--pid-file"])
            .arg(pid_dir.path().join("init.pid"))
            .args(extra)
            .arg(rootfs.path())
            .args(["--", "sh", "-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let runtime = spawn_retrying(&mut command);
        Container { runtime: Some(runtime), rootfs, pid_dir }
    }

    /// The init's pid as the host sees it, once the runtime has written the pid file.
    /// Panics with the runtime's stderr if it exits first.
    pub fn init_pid(&mut self) -> Pid {
        let file = self.pid_dir.path().join("init.pid");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(text) = fs::read_to_string(&file) {
                return Pid::from_raw(text.trim().parse().expect("the pid file holds a pid"));
            }
            self.fail_if_exited("before writing its pid file");
            assert!(Instant::now() < deadline, "the runtime wrote no pid file to {}", file.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `path` (inside the container) exists: the payload has got there.
    pub fn wait_for(&mut self, path: &str) {
        let file = self.rootfs.path().join(path.trim_start_matches('/'));
        let deadline = Instant::now() + PATIENCE;
        while !file.exists() {
            self.fail_if_exited(&format!("before the payload created {path}"));
            assert!(Instant::now() < deadline, "the payload never created {path}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The runtime's own pid (the process the test started).
    pub fn runtime_pid(&self) -> Pid {
        Pid::from_raw(self.runtime.as_ref().expect("running").id() as i32)
    }

    fn fail_if_exited(&mut self, when: &str) {
        let runtime = self.runtime.as_mut().expect("running");
        if let Ok(Some(status)) = runtime.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = runtime.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("the runtime exited ({status}) {when}; its stderr:\n{stderr}");
        }
    }

    /// Closes the payload's stdin (its `read` returns) and collects the runtime's output.
    pub fn finish(mut self) -> Output {
        let mut runtime = self.runtime.take().expect("running");
        drop(runtime.stdin.take());
        // The payloads print little, so the pipes cannot fill while we wait.
        let deadline = Instant::now() + PATIENCE;
        while runtime.try_wait().expect("cannot wait for the runtime").is_none() {
            if Instant::now() > deadline {
                kill_tree(Pid::from_raw(runtime.id() as i32));
                let out = runtime.wait_with_output().unwrap();
                panic!(
                    "the runtime did not exit after its payload's stdin closed; stderr:\n{}",
                    text(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        runtime.wait_with_output().expect("cannot collect the runtime's output")
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let Some(mut runtime) = self.runtime.take() else { return };
        drop(runtime.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = runtime.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Still running (a broken init, a panic in the test): kill everything it started.
        kill_tree(Pid::from_raw(runtime.id() as i32));
        let _ = runtime.wait();
    }
}

/// `/proc/<pid>/ns/<name>`'s target, e.g. `uts:[4026531838]`.
pub fn ns_link(pid: &str, name: &str) -> String {
    let path = format!("/proc/{pid}/ns/{name}");
    fs::read_link(&path).unwrap_or_else(|err| panic!("cannot read {path}: {err}")).display().to_string()
}

/// One process as /proc/<pid>/stat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
}

/// Every process on the machine, from /proc/*/stat (the command name may hold spaces
/// and parentheses, so the fields are read after its last ')').
pub fn processes() -> Vec<Proc> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        found.push(Proc { pid, state, ppid });
    }
    found
}

/// The children of `parent`, as the kernel records them.
pub fn children(parent: Pid) -> Vec<Proc> {
    processes().into_iter().filter(|p| p.ppid == parent.as_raw()).collect()
}

/// A process's `NSpid` line: its pid in each PID namespace it is in, outermost first.
pub fn nspid(pid: Pid) -> Vec<i32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:")).expect("NSpid in /proc/<pid>/status");
    line.split_whitespace().map(|n| n.parse().unwrap()).collect()
}

/// SIGKILLs `root` and every process below it, leaves first.
pub fn kill_tree(root: Pid) {
    let all = processes();
    let mut tree = vec![root.as_raw()];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    for pid in tree.into_iter().rev() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Processes whose command line mentions `needle` (a test's unique rootfs path).
pub fn processes_mentioning(needle: &Path) -> Vec<i32> {
    let needle = needle.as_os_str().as_encoded_bytes();
    processes()
        .into_iter()
        .filter(|p| {
            fs::read(format!("/proc/{}/cmdline", p.pid))
                .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
        })
        .map(|p| p.pid)
        .collect()
}

/// A /proc map file as lines of numbers, e.g. `[[0, 1000, 1]]`.
pub fn read_map(pid: Pid, file: &str) -> Vec<Vec<u64>> {
    let text = fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines().map(|l| l.split_whitespace().map(|n| n.parse().unwrap()).collect()).collect()
}

/// Text of an output stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
