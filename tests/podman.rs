//! Interop tests of `bang-oci`, the OCI runtime of chapter 6, with a real client: podman
//! 4.3 drives it through conmon exactly as it drives runc (`podman --runtime <path>`).
//! Each test imports a busybox rootfs as an image of its own, runs containers from it
//! and checks what podman reports (exit codes, `podman inspect`) and what the kernel
//! reports (the container's cgroup files, mountinfo), then that nothing is left: no
//! container, no image, no state directory, no cgroup, no mount.
//!
//! They need root and podman: `apt-get install podman`, then
//! `sudo -E env PATH="$PATH" cargo test -p bigbang --test podman`.
//!
//! podman's flags: `--cgroup-manager cgroupfs` because bang-oci writes the cgroup
//! filesystem itself (no systemd); `--network none` because networking is not this
//! runtime's job; `--ulimit nofile/nproc=1024` because podman's default rlimits exceed
//! this machine's hard limits, which a runtime without CAP_SYS_RESOURCE cannot raise.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bigbang_testkit::probe;
use bigbang_testkit::rootfs::BusyboxRootfs;

/// Where bang-oci keeps its container state. podman 4.3.1 running as root passes no
/// `--root` to its runtime (only rootless podman does), so bang-oci uses its default.
const STATE_ROOT: &str = "/run/bang-oci";

/// The flags every `podman run` here gets (see the header).
const RUN_FLAGS: &[&str] =
    &["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

/// The bang-oci binary, built once per test process.
///
/// Why build it here rather than take target/debug/bang-oci next to the test executable:
/// `cargo test -p bigbang` builds only this package's targets, so that file may be
/// missing or, worse, left over from an older commit, and the tests would pass or fail
/// against a runtime nobody is looking at. The nested cargo gets a target directory of
/// its own (target/interop) so that it never waits for the lock the outer cargo holds
/// on target/; it is incremental, so after the first run this takes well under a second.
fn bang_oci() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = workspace.join("target").join("interop");
        let output = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "bang", "--bin", "bang-oci"])
            .current_dir(workspace)
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("running cargo to build bang-oci");
        assert!(
            output.status.success(),
            "cargo build -p bang --bin bang-oci failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target.join("debug").join("bang-oci")
    })
}

/// Fails with one line unless this test can run: root, and podman installed.
fn require() {
    assert!(
        probe::is_root(),
        "these tests run podman as root: run `sudo -E env PATH=\"$PATH\" cargo test -p bigbang --test podman`"
    );
    podman_path();
}

/// podman's path (on PATH, or in /usr/bin and the other usual directories).
fn podman_path() -> &'static Path {
    static PODMAN: OnceLock<Option<PathBuf>> = OnceLock::new();
    PODMAN.get_or_init(|| probe::program("podman")).as_deref().expect("apt-get install podman")
}

/// `podman` with bang-oci as its runtime.
fn podman() -> Command {
    let mut command = Command::new(podman_path());
    command.arg("--runtime").arg(bang_oci()).args(["--cgroup-manager", "cgroupfs"]);
    command.stdin(Stdio::null());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs podman and insists on success; returns its standard output.
fn podman_ok(args: &[&str]) -> String {
    let output = podman().args(args).output().expect("running podman");
    assert!(output.status.success(), "podman {args:?} failed ({}):\n{}", output.status, text(&output.stderr));
    text(&output.stdout)
}

/// A test's image, imported from a fresh busybox rootfs, and the containers the test
/// made from it. `finish` removes them and checks that nothing is left; dropping it
/// without `finish` (a test that panicked) still removes them.
struct Fixture {
    /// Unique per test and per test run: the image's name and every container's prefix.
    name: String,
    /// Container names, for `podman rm -f`.
    containers: Vec<String>,
    /// Full container ids, for the leftover checks.
    ids: Vec<String>,
    scratch: tempfile::TempDir,
    finished: bool,
}

impl Fixture {
    fn new(test: &str) -> Fixture {
        require();
        let name = format!("bigbang-podman-{test}-{}", std::process::id());
        let rootfs = BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)");
        // The fixture first, so that its Drop removes a half-imported image too.
        let fixture = Fixture {
            name,
            containers: Vec::new(),
            ids: Vec::new(),
            scratch: tempfile::Builder::new().prefix("bigbang-podman-").tempdir().unwrap(),
            finished: false,
        };
        let mut tar = Command::new("tar")
            .arg("-C")
            .arg(rootfs.path())
            .args(["-c", "."])
            .stdout(Stdio::piped())
            .spawn()
            .expect("running tar");
        let import = podman()
            .args(["import", "-", &fixture.name])
            .stdin(tar.stdout.take().unwrap())
            .output()
            .expect("running podman import");
        let tarred = tar.wait().unwrap();
        assert!(tarred.success(), "tar -c {} failed: {tarred}", rootfs.path().display());
        assert!(import.status.success(), "podman import failed:\n{}", text(&import.stderr));
        fixture
    }

    /// A new container name, removed at the end.
    fn container(&mut self, what: &str) -> String {
        let name = format!("{}-{what}", self.name);
        self.containers.push(name.clone());
        name
    }

    /// `podman run` with the common flags, in the scratch directory: conmon inherits
    /// podman's working directory and writes a file called `oom` there when the
    /// container's memory cgroup reports an OOM kill (podman 4.3 passes it no
    /// --persist-dir), which must not land in the workspace.
    fn podman_run(&self) -> Command {
        let mut command = podman();
        command.arg("run").args(RUN_FLAGS).current_dir(self.scratch.path());
        command
    }

    /// `podman run --rm <flags> <image> <cmd>`, in the foreground; the container's id
    /// is kept (through --cidfile) for the leftover checks.
    fn run_rm(&mut self, flags: &[&str], cmd: &[&str]) -> Output {
        let name = self.container(&format!("rm{}", self.containers.len()));
        let cidfile = self.scratch.path().join(&name);
        let output = self
            .podman_run()
            .args(["--rm", "--name", &name, "--cidfile"])
            .arg(&cidfile)
            .args(flags)
            .arg(&self.name)
            .args(cmd)
            .output()
            .expect("running podman run");
        if let Ok(id) = fs::read_to_string(&cidfile) {
            self.ids.push(id.trim().to_string());
        }
        output
    }

    /// `podman run -d`; returns the container's name and id.
    fn run_detached(&mut self, what: &str, flags: &[&str], cmd: &[&str]) -> (String, String) {
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

    fn remove_all(&mut self) {
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "--force", "--ignore", "--time", "0"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = podman().args(&args).output();
        }
        let _ = podman().args(["rmi", "--force", &self.name]).output();
    }

    /// Removes the test's containers and image, then checks nothing of them is left.
    fn finish(mut self) {
        self.remove_all();
        self.finished = true;
        let ps = podman_ok(&["ps", "-a", "--format", "{{.Names}}"]);
        let prefix = format!("{}-", self.name);
        assert!(
            !ps.lines().any(|l| l.starts_with(&prefix)),
            "podman ps -a still lists containers of {}:\n{ps}",
            self.name
        );
        let images = podman_ok(&["images", "--format", "{{.Repository}}"]);
        let image = format!("localhost/{}", self.name);
        assert!(!images.lines().any(|l| l == image), "podman images still lists {image}:\n{images}");
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
fn assert_no_leftovers(id: &str) {
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
fn inspect(name: &str, format: &str) -> String {
    podman_ok(&["inspect", "--format", format, name]).trim().to_string()
}

/// Waits (at most 20 s, then fails) until the container's log has a line `line`.
fn wait_for_log(name: &str, line: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let output = podman().args(["logs", name]).output().expect("running podman logs");
        let log = text(&output.stdout) + &text(&output.stderr);
        if log.lines().any(|l| l.trim() == line) {
            return log;
        }
        assert!(Instant::now() < deadline, "{name} never logged {line:?}; its log:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The directory of the running container `name` in cgroup v1 hierarchy `controller`,
/// as the kernel reports it in /proc/<pid>/cgroup.
fn cgroup_dir(name: &str, controller: &str) -> PathBuf {
    let pid = inspect(name, "{{.State.Pid}}");
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let path = cgroups
        .lines()
        .find_map(|l| {
            let mut fields = l.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            controllers.split(',').any(|c| c == controller).then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("pid {pid} of {name} is in no {controller} cgroup:\n{cgroups}"));
    Path::new("/sys/fs/cgroup").join(controller).join(path.trim_start_matches('/'))
}

fn read_trimmed(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())).trim().to_string()
}

/// A shell function that doubles a string to 256 MiB (several times 32 MiB with the
/// copies), in memory the shell itself holds; bounded, so that a missing limit makes
/// it finish instead of eating the host.
const HOG: &str = "hog() { x=a; i=0; while [ $i -lt 28 ]; do x=$x$x; i=$((i+1)); done; }";

/// A shell loop that starts 40 background processes.
const FORKS: &str = "i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done; echo all forked";

/// `podman run --rm` hands the payload's stdout and stderr back separately.
#[test]
fn run_keeps_stdout_and_stderr_apart() {
    let mut fx = Fixture::new("streams");
    let output = fx.run_rm(&[], &["sh", "-c", "echo to-stdout; echo to-stderr >&2"]);
    assert!(output.status.success(), "podman run failed:\n{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "to-stdout\n");
    let stderr = text(&output.stderr);
    assert!(stderr.lines().any(|l| l == "to-stderr"), "stderr lacks the payload's line:\n{stderr}");
    assert!(!stderr.contains("to-stdout"), "stdout leaked into stderr:\n{stderr}");
    fx.finish();
}

/// `podman run --rm` exits with the payload's exit code: 0, 1 and 255.
#[test]
fn run_reports_the_exit_code() {
    let mut fx = Fixture::new("exit");
    for code in [0, 1, 255] {
        let output = fx.run_rm(&[], &["sh", "-c", &format!("exit {code}")]);
        assert_eq!(output.status.code(), Some(code), "exit {code}:\n{}", text(&output.stderr));
    }
    fx.finish();
}

/// A payload killed by SIGKILL from outside (`podman kill`) makes `podman run` exit 137.
#[test]
fn run_reports_a_sigkill_death_as_137() {
    let mut fx = Fixture::new("sigkill");
    let name = fx.container("victim");
    let cidfile = fx.scratch.path().join(&name);
    // Why from outside: a container's pid 1 ignores SIGKILL sent from inside its own
    // pid namespace (pid_namespaces(7)), so `kill -9 $$` there does nothing.
    let mut run = fx
        .podman_run()
        .args(["--rm", "--name", &name, "--cidfile"])
        .arg(&cidfile)
        .args([&fx.name, "sh", "-c", "echo ready; exec sleep 1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running podman run");
    let mut first = String::new();
    BufReader::new(run.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "ready\n");
    fx.ids.push(read_trimmed(&cidfile));
    podman_ok(&["kill", "--signal", "KILL", &name]);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(137), "podman run after SIGKILL: {status}");
    fx.finish();
}

/// `podman stop` sends SIGTERM; a payload that traps it exits with its own code, and
/// `podman rm` leaves no state directory, cgroup or mount behind.
#[test]
fn stop_delivers_sigterm_to_a_payload_that_traps_it() {
    let mut fx = Fixture::new("stopterm");
    let script = "trap 'echo got TERM; exit 3' TERM; echo ready; while true; do sleep 0.1; done";
    let (name, id) = fx.run_detached("term", &[], &["sh", "-c", script]);
    wait_for_log(&name, "ready");
    assert!(Path::new(STATE_ROOT).join(&id).is_dir(), "bang-oci keeps no state under {STATE_ROOT}/{id}");
    assert!(cgroup_dir(&name, "memory").ends_with(format!("libpod-{id}")));
    podman_ok(&["stop", "--time", "2", &name]);
    assert_eq!(inspect(&name, "{{.State.Status}}"), "exited");
    assert_eq!(inspect(&name, "{{.State.ExitCode}}"), "3");
    wait_for_log(&name, "got TERM");
    podman_ok(&["rm", &name]);
    assert_no_leftovers(&id);
    fx.finish();
}

/// A payload that ignores SIGTERM is SIGKILLed once `podman stop`'s timeout runs out:
/// exit code 137.
#[test]
fn stop_falls_back_to_sigkill_when_sigterm_is_ignored() {
    let mut fx = Fixture::new("stopkill");
    let script = "trap '' TERM; echo ready; while true; do sleep 0.1; done";
    let (name, id) = fx.run_detached("stubborn", &[], &["sh", "-c", script]);
    wait_for_log(&name, "ready");
    let stop = podman().args(["stop", "--time", "2", &name]).output().unwrap();
    assert!(stop.status.success(), "podman stop failed:\n{}", text(&stop.stderr));
    let stderr = text(&stop.stderr);
    assert!(stderr.contains("resorting to SIGKILL"), "podman did not fall back to SIGKILL:\n{stderr}");
    assert_eq!(inspect(&name, "{{.State.ExitCode}}"), "137");
    podman_ok(&["rm", &name]);
    assert_no_leftovers(&id);
    fx.finish();
}

/// `--memory 32m` puts the limit into the container's memory cgroup, and a payload that
/// needs more is OOM-killed: the kernel counts the kill and `podman run` exits 137.
#[test]
fn memory_limit_is_enforced() {
    let mut fx = Fixture::new("memory");
    // The hog in a subshell, so that the container outlives it and its cgroup can be read.
    let script = format!("{HOG}; (hog); echo hog=$?; echo ready; exec sleep 1000");
    let (name, _) = fx.run_detached("counted", &["--memory", "32m"], &["sh", "-c", &script]);
    let log = wait_for_log(&name, "ready");
    assert!(log.lines().any(|l| l == "hog=137"), "the hog was not SIGKILLed:\n{log}");
    let memory = cgroup_dir(&name, "memory");
    assert_eq!(read_trimmed(&memory.join("memory.limit_in_bytes")), (32u64 << 20).to_string());
    let oom = read_trimmed(&memory.join("memory.oom_control"));
    let kills: u64 = oom
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .unwrap_or_else(|| panic!("memory.oom_control has no oom_kill:\n{oom}"))
        .parse()
        .unwrap();
    assert!(kills >= 1, "the kernel counted no OOM kill in {}:\n{oom}", memory.display());
    podman_ok(&["rm", "--force", "--time", "0", &name]);

    // The hog as the container's pid 1: the OOM killer ends the container.
    let output = fx.run_rm(&["--memory", "32m"], &["sh", "-c", &format!("{HOG}; hog; echo survived")]);
    assert_eq!(output.status.code(), Some(137), "stdout: {}", text(&output.stdout));
    assert!(!text(&output.stdout).contains("survived"));
    fx.finish();
}

/// `--pids-limit 16` puts the limit into the container's pids cgroup, and a loop that
/// forks 40 processes fails there while it succeeds without the limit.
#[test]
fn pids_limit_is_enforced() {
    let mut fx = Fixture::new("pids");
    let unlimited = fx.run_rm(&[], &["sh", "-c", FORKS]);
    assert!(unlimited.status.success(), "without a limit:\n{}", text(&unlimited.stderr));
    assert_eq!(text(&unlimited.stdout), "all forked\n");

    let limited = fx.run_rm(&["--pids-limit", "16"], &["sh", "-c", FORKS]);
    assert!(!limited.status.success(), "40 forks succeeded under --pids-limit 16");
    assert!(!text(&limited.stdout).contains("all forked"));
    let stderr = text(&limited.stderr);
    assert!(stderr.contains("can't fork"), "the shell did not fail to fork:\n{stderr}");

    let script = format!("({FORKS}); echo ready; exec sleep 1000");
    let (name, _) = fx.run_detached("counted", &["--pids-limit", "16"], &["sh", "-c", &script]);
    wait_for_log(&name, "ready");
    let pids = cgroup_dir(&name, "pids");
    assert_eq!(read_trimmed(&pids.join("pids.max")), "16");
    let events = read_trimmed(&pids.join("pids.events"));
    let refused: u64 = events.strip_prefix("max ").and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(refused >= 1, "the kernel refused no fork in {}: {events}", pids.display());
    podman_ok(&["rm", "--force", "--time", "0", &name]);
    fx.finish();
}

/// `-v hostdir:/data`: a file written inside appears in the host directory.
#[test]
fn volume_is_shared_with_the_host() {
    let mut fx = Fixture::new("volume");
    let host = tempfile::Builder::new().prefix("bigbang-podman-volume-").tempdir().unwrap();
    let volume = format!("{}:/data", host.path().display());
    let output = fx.run_rm(&["-v", &volume], &["sh", "-c", "echo written inside > /data/note"]);
    assert!(output.status.success(), "podman run failed:\n{}", text(&output.stderr));
    assert_eq!(fs::read_to_string(host.path().join("note")).unwrap(), "written inside\n");
    fx.finish();
}

/// `--read-only` mounts the root read-only: a write to / fails with EROFS.
///
/// `--read-only-tmpfs=false`: podman's default adds tmpfs mounts on /tmp, /run and
/// /var/tmp with the `tmpcopyup` option, which bang-oci does not implement yet.
#[test]
fn read_only_root_refuses_writes() {
    let mut fx = Fixture::new("readonly");
    let script = "touch /written; echo touch=$?; grep ' / / ' /proc/self/mountinfo";
    let output = fx.run_rm(&["--read-only", "--read-only-tmpfs=false"], &["sh", "-c", script]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "podman run failed:\n{}", text(&output.stderr));
    assert!(stdout.lines().any(|l| l == "touch=1"), "the write to / did not fail:\n{stdout}");
    assert!(text(&output.stderr).contains("Read-only file system"), "{}", text(&output.stderr));
    let root = stdout.lines().find(|l| l.contains(" / / ")).expect("the root in mountinfo");
    let mount_options = root.split_whitespace().nth(5).unwrap();
    assert!(mount_options.split(',').any(|o| o == "ro"), "/ is not read-only: {root}");
    fx.finish();
}

/// `--user 65534` runs the payload with every uid and gid 65534.
#[test]
fn user_runs_the_payload_as_that_uid() {
    let mut fx = Fixture::new("user");
    let script = "id -u; grep -E '^(Uid|Gid):' /proc/self/status";
    let output = fx.run_rm(&["--user", "65534"], &["sh", "-c", script]);
    assert!(output.status.success(), "podman run failed:\n{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("65534"));
    for line in lines {
        let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert_eq!(ids, ["65534"; 4], "{line}");
    }
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    fx.finish();
}
