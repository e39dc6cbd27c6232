//! Helpers for chapter 3's checks: start a container with the chapter's binary (your
//! code), wait (with a deadline) until its command runs, and read the kernel's view of
//! its mounts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use bigbang_container::mountinfo::MountInfo;
use bigbang_testkit::mounts;
use bigbang_testkit::rootfs::BusyboxRootfs;
use bigbang_testkit::wait::Lines;

pub fn rootfs() -> BusyboxRootfs {
    BusyboxRootfs::new().unwrap_or_else(|err| panic!("cannot build the test rootfs: {err}"))
}

/// The chapter's binary, which runs your code.
pub fn demo() -> Command {
    Command::cargo_bin("chapter-3").expect("the chapter-3 binary is built by cargo test")
}

/// A temporary directory every user may enter and write (for pid files, overlay dirs).
pub fn open_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("bigbang-c3-").tempdir().expect("a temp dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).expect("chmod the temp dir");
    dir
}

/// A running container: the chapter binary and the pid (on the host) of its command.
/// Dropping it kills the binary; the container's PID 1 dies with it (PR_SET_PDEATHSIG).
pub struct Container {
    child: Option<Child>,
    pub pid: i32,
    _pid_dir: Option<tempfile::TempDir>,
}

impl Container {
    /// Runs `chapter-3 run OPTIONS ROOTFS -- sh -c "SETUP; echo ready; exec sleep 600"`
    /// and returns once the container printed `ready`.
    pub fn start(
        program: &Path,
        uid: Option<u32>,
        options: &[&str],
        rootfs: &Path,
        setup: &str,
    ) -> Container {
        let pid_dir = open_tempdir();
        let pid_file = pid_dir.path().join("pid");
        let script = format!("{setup}\necho ready; exec sleep 600");
        let mut command = Command::new(program);
        if let Some(uid) = uid {
            command.uid(uid).gid(uid);
        }
        command
            .arg("run")
            .args(options)
            .arg("--pid-file")
            .arg(&pid_file)
            .arg(rootfs)
            .args(["--", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A just-copied binary can be briefly "busy" (ETXTBSY) while another test
        // thread's fork still holds the copy's write descriptor: retried.
        let mut child = bigbang_testkit::program::spawn_retrying(&mut command).expect("start chapter-3");
        let line = Lines::new(child.stdout.take().expect("stdout")).next_line().unwrap_or_default();
        if line != "ready" {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait for chapter-3");
            panic!(
                "the container did not start (stdout {line:?}, status {}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let pid = fs::read_to_string(&pid_file).expect("the pid file").trim().parse().expect("a pid");
        Container { child: Some(child), pid, _pid_dir: Some(pid_dir) }
    }

    /// A container whose runtime someone else started (and will stop).
    pub fn adopt(pid: i32) -> Container {
        Container { child: None, pid, _pid_dir: None }
    }

    /// With the binary cargo built.
    pub fn run(options: &[&str], rootfs: &Path, setup: &str) -> Container {
        Container::start(demo().get_program().as_ref(), None, options, rootfs, setup)
    }

    /// The kernel's list of the container's mounts.
    pub fn mounts(&self) -> Vec<MountInfo> {
        mounts::of(self.pid)
    }

    /// A path inside the container, reached from the host through /proc/<pid>/root.
    /// Panics unless the container's `/` is a test rootfs: the tests write through
    /// these paths, and a container that never entered its rootfs would have them
    /// write to the host's own files.
    pub fn inside(&self, path: &str) -> PathBuf {
        let root = PathBuf::from(format!("/proc/{}/root", self.pid));
        assert!(
            root.join(bigbang_testkit::rootfs::MARKER).exists(),
            "the container's / (/proc/{}/root) is not the test rootfs: it has no /{}, so the \
             container never entered the rootfs (did chroot or pivot_root happen?)",
            self.pid,
            bigbang_testkit::rootfs::MARKER
        );
        PathBuf::from(format!("/proc/{}/root{path}", self.pid))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The mount at `point`, the top one when several are stacked there.
pub fn mount_at<'a>(mounts: &'a [MountInfo], point: &str) -> &'a MountInfo {
    mounts::mount_at(mounts, point)
        .unwrap_or_else(|| panic!("no mount at {point} in the container's mountinfo: {mounts:#?}"))
}

/// A copy of the chapter binary that uid 65534 can execute (the workspace may be under /root).
pub fn binary_for_nobody(dir: &Path) -> PathBuf {
    let bin = dir.join("chapter-3");
    fs::copy(demo().get_program(), &bin).expect("copy the chapter-3 binary");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod the binary");
    bin
}
