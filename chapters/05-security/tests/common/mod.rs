//! Helpers for chapter 5's checks: run the chapter binary on a busybox rootfs
//! with a profile, find the payload and stop it. The unsealed run command is in
//! common/run.rs (every check but seal.rs); /proc readers are the testkit's.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use bigbang_testkit::process::children;
use bigbang_testkit::rootfs::BusyboxRootfs;
use serde_json::Value;

/// Fails the test with one clear line when not root: these checks create mount
/// namespaces, chroot and change capabilities, which only root may do.
pub fn require_root() {
    bigbang_testkit::privilege::require_root(
        "chapter 5's checks need root (mount namespaces, chroot, capability changes)",
        "cargo test -p chapter-5",
    );
}

pub fn rootfs() -> BusyboxRootfs {
    BusyboxRootfs::new().unwrap_or_else(|err| panic!("cannot build the test rootfs: {err}"))
}

/// A profile file in a temporary directory, removed on drop.
pub struct ProfileFile {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn profile_file(profile: &Value) -> ProfileFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    fs::write(&path, serde_json::to_vec_pretty(profile).unwrap()).unwrap();
    ProfileFile { _dir: dir, path }
}

/// The chapter binary, which runs your code.
pub fn runtime() -> Command {
    Command::cargo_bin("chapter-5").expect("the chapter-5 binary is built by cargo test")
}

/// Kills and reaps the runtime and its payload even when the test panics.
pub struct Running {
    pub child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(payload) = children(self.child.id()).first() {
            // SAFETY: kill with a pid we found as our child's child.
            unsafe { libc::kill(payload.pid, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(mut cmd: Command) -> Running {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    Running { child: cmd.spawn().expect("spawning chapter-5") }
}

/// The payload's pid once it has exec'd busybox: the runtime's only child.
pub fn payload_pid(running: &mut Running) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = running.child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            running.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("chapter-5 ended ({status}) before its payload ran: {err}");
        }
        if let Some(payload) = children(running.child.id()).first() {
            if fs::read_link(format!("/proc/{}/exe", payload.pid)).is_ok_and(|exe| exe.ends_with("busybox")) {
                return payload.pid as u32;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the payload did not start within 20 s");
}
