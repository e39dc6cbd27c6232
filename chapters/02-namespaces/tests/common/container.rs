//! The running `chapter-2 run` of init.rs and namespaces.rs: the runtime process,
//! its init's host pid (from the pid file) and the rootfs, killed with everything it
//! started when a test ends or panics.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use bigbang_testkit::probe::is_root;
use bigbang_testkit::process::kill_tree;
use bigbang_testkit::program::spawn_retrying;
use bigbang_testkit::rootfs::BusyboxRootfs;
use bigbang_testkit::wait::PATIENCE;
use nix::unistd::Pid;

use crate::common::{demo, rootfs, text};

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

/// A running `chapter-2 run`: the runtime process, its init's host pid (from the pid
/// file) and the rootfs. The payloads the tests use run until their stdin closes.
pub struct Container {
    /// `None` once [`Container::finish`] took it.
    runtime: Option<Child>,
    /// The runtime's own pid (the process the test started).
    pub runtime_pid: Pid,
    pub rootfs: BusyboxRootfs,
    pid_dir: tempfile::TempDir,
    /// What [`Container::hole_note`] has read of the runtime's stderr so far.
    stderr_seen: Vec<u8>,
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
        let runtime = spawn_retrying(&mut command).expect("cannot start the chapter-2 demo");
        let runtime_pid = Pid::from_raw(runtime.id() as i32);
        Container { runtime: Some(runtime), runtime_pid, rootfs, pid_dir, stderr_seen: Vec::new() }
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
            if Instant::now() >= deadline {
                panic!("the runtime wrote no pid file to {}{}", file.display(), self.hole_note());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `path` (inside the container) exists: the payload has got there.
    pub fn wait_for(&mut self, path: &str) {
        let file = self.rootfs.path().join(path.trim_start_matches('/'));
        let deadline = Instant::now() + PATIENCE;
        while !file.exists() {
            self.fail_if_exited(&format!("before the payload created {path}"));
            if Instant::now() >= deadline {
                panic!("the payload never created {path}{}", self.hole_note());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// For an assertion's message: if the runtime or its init (which shares its stderr)
    /// has reached a `todo!()` by now, which hole, and that it comes first. Reads what
    /// the runtime has written to stderr so far without waiting for more.
    pub fn hole_note(&mut self) -> String {
        use std::os::fd::AsFd;
        let runtime = self.runtime.as_mut().expect("running");
        if let Some(pipe) = runtime.stderr.as_mut() {
            let flags = nix::fcntl::fcntl(pipe.as_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap_or(0);
            let mut flags = nix::fcntl::OFlag::from_bits_truncate(flags);
            flags.insert(nix::fcntl::OFlag::O_NONBLOCK);
            let _ = nix::fcntl::fcntl(pipe.as_fd(), nix::fcntl::FcntlArg::F_SETFL(flags));
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                self.stderr_seen.extend_from_slice(&chunk[..n]);
            }
        }
        bigbang_testkit::holes::note(&text(&self.stderr_seen))
    }

    fn fail_if_exited(&mut self, when: &str) {
        let runtime = self.runtime.as_mut().expect("running");
        if let Ok(Some(status)) = runtime.try_wait() {
            let mut stderr = text(&self.stderr_seen);
            if let Some(mut pipe) = runtime.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!(
                "the runtime exited ({status}) {when}; its stderr:\n{stderr}{}",
                bigbang_testkit::holes::note(&stderr)
            );
        }
    }

    /// [`Container::finish`], and the runtime must have succeeded: else its stderr and,
    /// when it reached one, the hole still open.
    pub fn finish_ok(self) -> Output {
        let out = self.finish();
        let stderr = text(&out.stderr);
        assert!(
            out.status.success(),
            "the runtime failed ({}); its stderr:\n{stderr}{}",
            out.status,
            bigbang_testkit::holes::note(&stderr)
        );
        out
    }

    /// Closes the payload's stdin (its `read` returns) and collects the runtime's output.
    pub fn finish(mut self) -> Output {
        let mut runtime = self.runtime.take().expect("running");
        drop(runtime.stdin.take());
        // The payloads print little, so the pipes cannot fill while we wait.
        let deadline = Instant::now() + PATIENCE;
        while runtime.try_wait().expect("cannot wait for the runtime").is_none() {
            if Instant::now() > deadline {
                kill_tree(self.runtime_pid);
                let mut out = runtime.wait_with_output().unwrap();
                out.stderr.splice(0..0, self.stderr_seen.drain(..));
                panic!(
                    "the runtime did not exit after its payload's stdin closed; stderr:\n{}{}",
                    text(&out.stderr),
                    bigbang_testkit::holes::note(&text(&out.stderr))
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut out = runtime.wait_with_output().expect("cannot collect the runtime's output");
        // Bytes hole_note read before are the start of the stream.
        out.stderr.splice(0..0, self.stderr_seen.drain(..));
        out
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
        kill_tree(self.runtime_pid);
        let _ = runtime.wait();
    }
}
