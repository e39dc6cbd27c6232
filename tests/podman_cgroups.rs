//! podman drives bang-oci's cgroup verbs and limits (chapters 4 and 6): `podman pause`
//! and `unpause` (the freezer), `--cpuset-cpus`, `--device` with podman's device rules
//! and the runtime's default ones, and `podman update` (which podman 4.3 passes to the
//! runtime as `update --resources FILE`). Checked through podman inspect, the
//! container's cgroup files and what the payload itself sees.
//!
//! They need root and podman: `sudo -E env PATH="$PATH" cargo test -p bigbang --test podman_cgroups`.
//! See tests/podman.rs for podman's flags and why.

#[path = "support/podman_run.rs"]
mod podman_run;
#[path = "support/podman.rs"]
mod support;

use std::time::Duration;

use bigbang_testkit::cgroups;
use bigbang_testkit::wait::eventually;
use podman_run::*;
use support::*;

/// The last number the payload logged (it logs one per line).
fn last_count(name: &str) -> u64 {
    let output = podman().args(["logs", name]).output().expect("running podman logs");
    text(&output.stdout).lines().rev().find_map(|l| l.trim().parse().ok()).unwrap_or(0)
}

/// `podman pause` freezes the container (podman says paused, the freezer says FROZEN,
/// a counting payload stops counting), `podman unpause` lets it count on, and a
/// paused container is still removed by `podman rm -f`.
#[test]
fn pause_and_unpause_freeze_and_thaw() {
    let mut fx = Fixture::new("pause");
    let counter = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done";
    let (name, _) = fx.run_detached("counter", &[], &["sh", "-c", counter]);
    eventually("the counter has started", || last_count(&name) > 2);
    podman_ok(&["pause", &name]);
    assert_eq!(inspect(&name, "{{.State.Status}}"), "paused");
    assert_eq!(cgroups::read(cgroup_dir(&name, "freezer").join("freezer.state")), "FROZEN");
    let frozen_at = last_count(&name);
    // Many of the payload's 50 ms periods pass; a running payload would log in each.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(last_count(&name), frozen_at, "the payload counted on while paused");
    podman_ok(&["unpause", &name]);
    assert_eq!(inspect(&name, "{{.State.Status}}"), "running");
    eventually("the counter goes on after unpause", || last_count(&name) > frozen_at);
    podman_ok(&["pause", &name]);
    podman_ok(&["rm", "--force", "--time", "0", &name]);
    fx.finish();
}

/// `--cpuset-cpus 1` confines the payload to CPU 1, as runc does (without the cpuset
/// hierarchy it would see every CPU of conmon's cgroup).
#[test]
fn cpuset_cpus_is_applied() {
    let mut fx = Fixture::new("cpuset");
    let output = fx.run_rm(&["--cpuset-cpus", "1"], &["grep", "Cpus_allowed_list", "/proc/self/status"]);
    assert!(output.status.success(), "podman run failed:\n{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).split_whitespace().last(), Some("1"), "{}", text(&output.stdout));
    fx.finish();
}

/// `--device /dev/fuse` puts the node in the container and allows it; podman's rules
/// deny everything else but the runtime's default devices: a /dev/kmsg the payload
/// makes itself with mknod (allowed: `c *:* m`; podman 4 drops CAP_MKNOD unless
/// asked) cannot be opened.
#[test]
fn device_rules_allow_the_given_device_and_the_defaults_only() {
    let mut fx = Fixture::new("device");
    let script = "exec 3</dev/fuse && echo fuse=ok; echo x >/dev/null && echo null=ok; \
                  mknod /tmp/kmsg c 1 11 && echo mknod=ok; head -c1 /tmp/kmsg; echo kmsg=$?";
    let output = fx.run_rm(&["--device", "/dev/fuse", "--cap-add", "MKNOD"], &["sh", "-c", script]);
    let out = text(&output.stdout) + &text(&output.stderr);
    assert!(out.contains("fuse=ok") && out.contains("null=ok") && out.contains("mknod=ok"), "{out}");
    assert!(out.contains("kmsg=1") && out.contains("Operation not permitted"), "{out}");
    let (name, _) = fx.run_detached("list", &["--device", "/dev/fuse"], &["sleep", "1000"]);
    let list = cgroups::read(cgroup_dir(&name, "devices").join("devices.list"));
    for rule in ["c 10:229 rwm", "c 1:3 rwm", "c 136:* rwm", "c *:* m"] {
        assert!(list.lines().any(|l| l == rule), "devices.list lacks {rule}:\n{list}");
    }
    assert!(!list.lines().any(|l| l.starts_with("a ")), "the container may use every device:\n{list}");
    fx.finish();
}

/// `--memory 64m` is readable inside, where programs that size themselves look for it:
/// podman's config.json mounts /sys/fs/cgroup with type `cgroup`, and bang-oci shows
/// the container its own cgroups there (on v1 each hierarchy below a tmpfs), read-only.
#[test]
fn the_memory_limit_is_visible_inside() {
    let mut fx = Fixture::new("cgfs");
    let script =
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; \
                  mkdir /sys/fs/cgroup/x; grep ' /sys/fs/cgroup' /proc/self/mountinfo";
    let output = fx.run_rm(&["--memory", "64m"], &["sh", "-c", script]);
    let out = text(&output.stdout) + &text(&output.stderr);
    assert_eq!(out.lines().next(), Some("67108864"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.lines().filter(|l| l.contains(" /sys/fs/cgroup")).all(|l| l.contains(" ro,")), "{out}");
    fx.finish();
}

/// `podman update` (4.3 has it) reaches the running container's cgroup through
/// `bang-oci update --resources=FILE` (podman writes only the changed fields there,
/// e.g. `{"memory":{"limit":67108864,"swap":134217728}}`).
#[test]
fn podman_update_changes_the_limits() {
    let mut fx = Fixture::new("update");
    let (name, _) = fx.run_detached("target", &["--memory", "128m"], &["sleep", "1000"]);
    let memory = cgroup_dir(&name, "memory").join("memory.limit_in_bytes");
    assert_eq!(cgroups::read(&memory), (128u64 << 20).to_string());
    podman_ok(&["update", "--memory", "64m", "--cpuset-cpus", "0", &name]);
    assert_eq!(cgroups::read(&memory), (64u64 << 20).to_string());
    assert_eq!(cgroups::read(cgroup_dir(&name, "cpuset").join("cpuset.cpus")), "0");
    let pid = inspect(&name, "{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.lines().any(|l| l.split_whitespace().eq(["Cpus_allowed_list:", "0"])), "{status}");
    fx.finish();
}
