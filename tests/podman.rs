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

#[path = "support/podman_run.rs"]
mod podman_run;
#[path = "support/podman.rs"]
mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use bigbang_testkit::cgroups;
use bigbang_testkit::wait::{self, PATIENCE};
use podman_run::*;
use support::*;

/// A shell function that doubles a string to 256 MiB (several times 32 MiB with the
/// copies), in memory the shell itself holds; bounded, so that a missing limit makes
/// it finish instead of eating the host.
const HOG: &str = "hog() { x=a; i=0; while [ $i -lt 28 ]; do x=$x$x; i=$((i+1)); done; }";

/// A shell loop that starts 40 background processes.
const FORKS: &str = "i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done; echo all forked";

/// Waits (at most [`PATIENCE`], then fails showing the log) until the container's log
/// has a line `line`; returns the log.
fn wait_for_log(name: &str, line: &str) -> String {
    wait::until(PATIENCE, &format!("{name} logs {line:?}"), || {
        let output = podman().args(["logs", name]).output().expect("running podman logs");
        let log = text(&output.stdout) + &text(&output.stderr);
        if log.lines().any(|l| l.trim() == line) {
            Ok(log)
        } else {
            Err(format!("its log:\n{log}"))
        }
    })
}

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
    fx.ids.push(cgroups::read(&cidfile));
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
    assert_eq!(cgroups::read(memory.join("memory.limit_in_bytes")), (32u64 << 20).to_string());
    let oom = cgroups::read(memory.join("memory.oom_control"));
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
    assert_eq!(cgroups::read(pids.join("pids.max")), "16");
    let events = cgroups::read(pids.join("pids.events"));
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

/// `--read-only` mounts the root read-only: a write to / fails with EROFS. podman then
/// also mounts tmpfs on /tmp, /run and /var/tmp with runc's `tmpcopyup` option: they
/// are writable, and /tmp starts with what the image's /tmp held (the fixture's image
/// has a file there).
#[test]
fn read_only_root_refuses_writes() {
    let mut fx = Fixture::new("readonly");
    let script = "touch /written; echo touch=$?; grep ' / / ' /proc/self/mountinfo; \
                  echo x > /tmp/new && echo tmp=ok; cat /tmp/from-the-image; grep ' /tmp ' /proc/self/mountinfo";
    let output = fx.run_rm(&["--read-only"], &["sh", "-c", script]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "podman run failed:\n{}", text(&output.stderr));
    assert!(stdout.lines().any(|l| l == "touch=1"), "the write to / did not fail:\n{stdout}");
    assert!(text(&output.stderr).contains("Read-only file system"), "{}", text(&output.stderr));
    let root = stdout.lines().find(|l| l.contains(" / / ")).expect("the root in mountinfo");
    let mount_options = root.split_whitespace().nth(5).unwrap();
    assert!(mount_options.split(',').any(|o| o == "ro"), "/ is not read-only: {root}");
    assert!(stdout.lines().any(|l| l == "tmp=ok"), "/tmp is not writable:\n{stdout}");
    assert!(stdout.lines().any(|l| l == "seeded"), "/tmp did not start with the image's file:\n{stdout}");
    assert!(
        stdout.lines().any(|l| l.contains(" /tmp ") && l.contains(" - tmpfs ")),
        "/tmp is no tmpfs:\n{stdout}"
    );
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

/// The attack of chapter 5's escapes page through podman: an image whose `/proc` is
/// a symbolic link into a named volume (`/proc -> /data/p`), the volume holding a
/// fake proc whose `cap_last_cap` says 0. bang-oci refuses to mount proc there, podman
/// reports that, and the payload never runs.
#[test]
fn an_image_with_proc_linked_into_a_volume_is_refused() {
    let mut fx = Fixture::with_image("proc-link", |rootfs| {
        fs::remove_dir(rootfs.join("proc")).unwrap();
        std::os::unix::fs::symlink("/data/p", rootfs.join("proc")).unwrap();
        fs::create_dir_all(rootfs.join("data")).unwrap();
    });
    let volume = Volume::new(&format!("{}-data", fx.name));
    let fake = volume.mountpoint.join("p/sys/kernel");
    fs::create_dir_all(&fake).unwrap();
    fs::write(fake.join("cap_last_cap"), "0\n").unwrap();
    let marker = volume.mountpoint.join("ran");
    let output =
        fx.run_rm(&["-v", &format!("{}:/data", volume.name)], &["sh", "-c", "echo yes > /data/ran; sleep 1"]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "podman ran the container: {stderr}");
    assert!(stderr.contains("proc must be mounted on a real directory"), "{stderr}");
    assert!(!marker.exists(), "the payload ran");
    fx.finish();
}

/// A podman named volume, removed on drop.
struct Volume {
    name: String,
    mountpoint: std::path::PathBuf,
}

impl Volume {
    fn new(name: &str) -> Volume {
        podman_ok(&["volume", "create", name]);
        // Made first, so that its Drop removes the volume if the inspect fails.
        let mut volume = Volume { name: name.to_string(), mountpoint: Default::default() };
        let mountpoint = podman_ok(&["volume", "inspect", "--format", "{{.Mountpoint}}", name]);
        volume.mountpoint = mountpoint.trim().into();
        volume
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = podman().args(["volume", "rm", "--force", &self.name]).output();
    }
}
