//! What the podman interop tests share (tests/podman*.rs): the bang-oci binary built
//! for them, podman with bang-oci as its runtime, a per-test image imported from a
//! busybox rootfs, and the checks that nothing is left behind. See tests/podman.rs
//! for the flags and why. What only tests/podman.rs and tests/podman_cgroups.rs use
//! (a payload run to its end, a container's cgroup) is in support/podman_run.rs.

#[path = "interop.rs"]
mod interop;
pub use interop::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use bigbang_testkit::privilege::require_root;
use bigbang_testkit::probe;
use bigbang_testkit::rootfs::{import_rootfs, BusyboxRootfs};

/// Where bang-oci keeps its container state. podman 4.3.1 running as root passes no
/// `--root` to its runtime (only rootless podman does), so bang-oci uses its default.
pub const STATE_ROOT: &str = "/run/bang-oci";

/// The flags every `podman run` here gets (see the header).
pub const RUN_FLAGS: &[&str] =
    &["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

/// Fails with one line unless this test can run: root, and podman installed.
pub fn require() {
    require_root("these tests run podman as root", "cargo test -p bigbang --test podman");
    podman_path();
}

/// podman's path (on PATH, or in /usr/bin and the other usual directories).
pub fn podman_path() -> &'static Path {
    static PODMAN: OnceLock<Option<PathBuf>> = OnceLock::new();
    PODMAN.get_or_init(|| probe::program("podman")).as_deref().expect("apt-get install podman")
}

/// `podman` with bang-oci as its runtime.
pub fn podman() -> Command {
    let mut command = Command::new(podman_path());
    command.arg("--runtime").arg(bang_oci()).args(["--cgroup-manager", "cgroupfs"]);
    command.stdin(Stdio::null());
    command
}

/// `podman <args>` for the `exists` verbs: exit 0 yes, 1 no, anything else a failure.
pub fn exists(args: &[&str]) -> bool {
    let output = podman().args(args).output().expect("running podman");
    match output.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!("podman {args:?} failed ({}):\n{}", output.status, text(&output.stderr)),
    }
}

/// Runs podman and insists on success; returns its standard output.
pub fn podman_ok(args: &[&str]) -> String {
    let output = podman().args(args).output().expect("running podman");
    assert!(output.status.success(), "podman {args:?} failed ({}):\n{}", output.status, text(&output.stderr));
    text(&output.stdout)
}

/// A test's image, imported from a fresh busybox rootfs, and the containers the test
/// made from it. `finish` removes them and checks that nothing is left; dropping it
/// without `finish` (a test that panicked) still removes them.
pub struct Fixture {
    /// Unique per test and per test run: the image's name and every container's prefix.
    pub name: String,
    /// Container names, for `podman rm -f`.
    pub containers: Vec<String>,
    /// Full container ids, for the leftover checks.
    pub ids: Vec<String>,
    pub scratch: tempfile::TempDir,
    pub finished: bool,
}

impl Fixture {
    pub fn new(test: &str) -> Fixture {
        Fixture::with_image(test, |_| {})
    }

    /// As [`Fixture::new`], with `shape` changing the image's rootfs before the import
    /// (a hostile image, for the attack tests).
    pub fn with_image(test: &str, shape: impl FnOnce(&Path)) -> Fixture {
        require();
        let name = format!("bigbang-podman-{test}-{}", std::process::id());
        let rootfs = BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)");
        // Something in the image's /tmp, which `--read-only`'s tmpcopyup must carry over.
        fs::create_dir_all(rootfs.path().join("tmp")).unwrap();
        fs::write(rootfs.path().join("tmp/from-the-image"), "seeded\n").unwrap();
        shape(rootfs.path());
        // The fixture first, so that its Drop removes a half-imported image too.
        let fixture = Fixture {
            name,
            containers: Vec::new(),
            ids: Vec::new(),
            scratch: tempfile::Builder::new().prefix("bigbang-podman-").tempdir().unwrap(),
            finished: false,
        };
        let mut import = podman();
        import.args(["import", "-", &fixture.name]);
        import_rootfs(rootfs.path(), import, "podman import");
        fixture
    }

    /// A new container name, removed at the end.
    pub fn container(&mut self, what: &str) -> String {
        let name = format!("{}-{what}", self.name);
        self.containers.push(name.clone());
        name
    }

    /// `podman run` with the common flags, in the scratch directory: conmon inherits
    /// podman's working directory and writes a file called `oom` there when the
    /// container's memory cgroup reports an OOM kill (podman 4.3 passes it no
    /// --persist-dir), which must not land in the workspace.
    pub fn podman_run(&self) -> Command {
        let mut command = podman();
        command.arg("run").args(RUN_FLAGS).current_dir(self.scratch.path());
        command
    }

    /// `podman run -d`; returns the container's name and id.
    pub fn run_detached(&mut self, what: &str, flags: &[&str], cmd: &[&str]) -> (String, String) {
        let name = self.container(what);
        let output = self
            .podman_run()
            .args(["-d", "--name", &name])
            .args(flags)
            .arg(&self.name)
            .args(cmd)
            .output()
            .expect("running podman run -d");
        assert!(output.status.success(), "podman run -d failed:\n{}", text(&output.stderr));
        let id = text(&output.stdout).trim().to_string();
        self.ids.push(id.clone());
        (name, id)
    }

    pub fn remove_all(&mut self) {
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "--force", "--ignore", "--time", "0"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = podman().args(&args).output();
        }
        let _ = podman().args(["rmi", "--force", &self.name]).output();
    }

    /// Removes the test's containers and image, then checks nothing of them is left.
    pub fn finish(mut self) {
        self.remove_all();
        self.finished = true;
        // `podman container exists` and `image exists` ask about ours alone. Listing
        // everything (`ps -a`, `images`) races with the other tests' removals: podman
        // 4.3 fails a listing that meets an image whose layers are going ("layer not
        // known").
        for name in &self.containers {
            assert!(!exists(&["container", "exists", name]), "podman still has container {name}");
        }
        let image = format!("localhost/{}", self.name);
        assert!(!exists(&["image", "exists", &image]), "podman still has image {image}");
        for id in &self.ids {
            assert_no_leftovers(id);
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !self.finished {
            self.remove_all();
        }
    }
}

/// Checks that container `id` has no state directory, no cgroup and no mount left.
pub fn assert_no_leftovers(id: &str) {
    let state = Path::new(STATE_ROOT).join(id);
    assert!(!state.exists(), "bang-oci's state directory {} is left", state.display());
    for hierarchy in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let cgroup = hierarchy.path().join("libpod_parent").join(format!("libpod-{id}"));
        assert!(!cgroup.exists(), "cgroup {} is left", cgroup.display());
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mounts: Vec<&str> = mountinfo.lines().filter(|l| l.contains(id)).collect();
    assert!(mounts.is_empty(), "mounts of {id} are left:\n{}", mounts.join("\n"));
}

/// `podman inspect --format <format> <name>`, trimmed.
pub fn inspect(name: &str, format: &str) -> String {
    podman_ok(&["inspect", "--format", format, name]).trim().to_string()
}
