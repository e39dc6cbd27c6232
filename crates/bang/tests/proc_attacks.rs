//! Attacks on bang-oci through a fake /proc (chapters 3, 5 and 6): after pivot_root the
//! path `/proc` is the image's, and a runtime that believes what it reads there can
//! be talked out of its defences. The attack that found this: an image whose `/proc`
//! is a symbolic link into a volume (`/proc -> /data/p`, a volume at /data). The real
//! proc then lands under the volume, and the image's fake `sys/kernel/cap_last_cap`
//! ("0") kept every capability in the bounding set, so a root payload got them all.
//! Each test replays one part: the image's link (refused up front), and fakes laid
//! over single /proc files by config.json itself, which the runtime must not believe
//! either (the last capability, the exec fifo's magic link, the setgroups state).
//! Read proc(5), capabilities(7) (the bounding set) and user_namespaces(7).
//! Needs root: `sudo -E env PATH="$PATH" cargo test -p bang --test proc_attacks`.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::names::unique;
use bigbang_testkit::process::{capability_mask, capability_names, status_field, wait_for_exec};
use bigbang_testkit::runtime::{assert_create_fails, Runtime};
use bigbang_testkit::wait::PATIENCE;
use serde_json::{json, Value};

const SUITE: &str = "proc_attacks";

/// A bind mount of `source` at `destination`, as config.json spells one.
fn bind(source: &Path, destination: &str) -> Value {
    json!({ "destination": destination, "type": "bind", "source": source, "options": ["rbind", "rw"] })
}

/// Lays out, under `dir`, the fake /proc of the attack: a `cap_last_cap` saying 0,
/// `self/fd/N` as plain files the init could "reopen" without waiting for start,
/// and a `self/setgroups` saying deny.
fn fake_proc(dir: &Path) {
    fs::create_dir_all(dir.join("sys/kernel")).unwrap();
    fs::write(dir.join("sys/kernel/cap_last_cap"), "0\n").unwrap();
    fs::create_dir_all(dir.join("self/fd")).unwrap();
    for fd in 0..64 {
        fs::write(dir.join(format!("self/fd/{fd}")), "").unwrap();
    }
    fs::write(dir.join("self/setgroups"), "deny\n").unwrap();
}

/// The whole attack as a bundle: `/proc -> /data/p` in the rootfs, a volume at /data
/// holding the fake tree. create refuses it, naming the link, and leaves nothing; the
/// same for `/sys -> /tmp`.
#[test]
fn a_proc_symlink_into_a_volume_is_refused() {
    let runtime = Runtime::new(SUITE);
    let volume = tempfile::Builder::new().prefix("bigbang-volume-").tempdir().unwrap();
    fake_proc(&volume.path().join("p"));
    let bundle = Bundle::new(&["sleep", "30"]);
    fs::remove_dir(bundle.rootfs().join("proc")).unwrap();
    std::os::unix::fs::symlink("/data/p", bundle.rootfs().join("proc")).unwrap();
    fs::create_dir(bundle.rootfs().join("data")).unwrap();
    bundle.edit(|c| c["mounts"].as_array_mut().unwrap().push(bind(volume.path(), "/data")));
    let err =
        assert_create_fails(&runtime, &bundle, &unique("proc-link"), &["/proc", "/data/p", "real directory"]);
    assert!(err.contains("proc must be mounted"), "{err}");

    let bundle = Bundle::new(&["true"]);
    fs::remove_dir(bundle.rootfs().join("sys")).unwrap();
    std::os::unix::fs::symlink("/tmp", bundle.rootfs().join("sys")).unwrap();
    assert_create_fails(&runtime, &bundle, &unique("sys-link"), &["sysfs must be mounted", "/sys", "/tmp"]);
}

/// The other way round: `/data -> /proc` in the rootfs and a volume at /data would
/// lay the volume over the real proc. Refused, naming both paths.
#[test]
fn a_volume_redirected_onto_proc_is_refused() {
    let runtime = Runtime::new(SUITE);
    let volume = tempfile::Builder::new().prefix("bigbang-volume-").tempdir().unwrap();
    fake_proc(volume.path());
    let bundle = Bundle::new(&["true"]);
    std::os::unix::fs::symlink("/proc", bundle.rootfs().join("data")).unwrap();
    bundle.edit(|c| c["mounts"].as_array_mut().unwrap().push(bind(volume.path(), "/data")));
    assert_create_fails(&runtime, &bundle, &unique("onto-proc"), &["/data", "redirected", "/proc"]);
}

/// A fake `cap_last_cap` saying 0 under the container's /proc does not change the
/// bounding set: the container's init has runc's three capabilities in CapBnd, as
/// the host sees in /proc/<pid>/status, not all but CAP_CHOWN.
#[test]
fn a_fake_cap_last_cap_keeps_no_capability() {
    let runtime = Runtime::new(SUITE);
    let fake = tempfile::Builder::new().prefix("bigbang-fake-proc-").tempdir().unwrap();
    fake_proc(fake.path());
    let bundle = Bundle::new(&["sleep", "30"]);
    let file = fake.path().join("sys/kernel/cap_last_cap");
    bundle.edit(|c| c["mounts"].as_array_mut().unwrap().push(bind(&file, "/proc/sys/kernel/cap_last_cap")));
    let expected = capability_mask(&strings(&bundle.config()["process"]["capabilities"]["bounding"]));
    let id = unique("cap-last-cap");
    let pid = runtime.start_running(&bundle, &id);
    let bounding = status_field(pid, "CapBnd");
    let effective = status_field(pid, "CapEff");
    runtime.ok(&["delete", "--force", &id]);
    assert_eq!(bounding.trim(), expected, "CapBnd: {:?}", capability_names(&bounding));
    assert_eq!(effective.trim(), expected, "CapEff: {:?}", capability_names(&effective));
}

/// A fake `/proc/1/fd` (the init's own, as the container sees it) does not let the
/// payload run before `start`: the init reopens the exec fifo through the /proc it
/// pinned before pivot_root, so after create the payload has not run, and start runs it.
#[test]
fn a_fake_proc_self_fd_does_not_start_the_container() {
    let runtime = Runtime::new(SUITE);
    let fake = tempfile::Builder::new().prefix("bigbang-fake-proc-").tempdir().unwrap();
    fake_proc(fake.path());
    let bundle = Bundle::new(&["sh", "-c", "echo ran; sleep 30"]);
    let fds = fake.path().join("self/fd");
    bundle.edit(|c| c["mounts"].as_array_mut().unwrap().push(bind(&fds, "/proc/1/fd")));
    let id = unique("fake-fd");
    runtime.created(&bundle, &id);
    // Long enough for an init that did not wait to have run `echo`.
    std::thread::sleep(Duration::from_millis(300));
    let early = runtime.out(&id);
    let status = runtime.state(&id)["status"].clone();
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "running");
    let deadline = std::time::Instant::now() + PATIENCE;
    while !runtime.out(&id).contains("ran") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = runtime.out(&id);
    runtime.ok(&["delete", "--force", &id]);
    assert_eq!(early, "", "the payload ran before start");
    assert_eq!(status, "created");
    assert_eq!(after, "ran\n", "start did not run the payload");
}

/// A fake `setgroups` saying deny does not let a payload keep the runtime's
/// supplementary groups: bang-oci started with groups 0 and 10 (as its prestart hook,
/// which runs as the runtime does, shows) runs a uid-1000 payload whose Groups line
/// is empty.
#[test]
fn a_fake_setgroups_keeps_no_group() {
    let runtime = Runtime::new(SUITE);
    let fake = tempfile::Builder::new().prefix("bigbang-fake-proc-").tempdir().unwrap();
    fake_proc(fake.path());
    let bundle = Bundle::new(&["sleep", "30"]);
    let file = fake.path().join("self/setgroups");
    let hook_saw = runtime.logs().join("hook-groups");
    bundle.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(bind(&file, "/proc/1/setgroups"));
        c["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        c["hooks"] = json!({ "prestart": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("grep Groups /proc/self/status > {}", hook_saw.display())],
        }]});
    });
    let id = unique("fake-setgroups");
    let mut create = runtime.cmd();
    create.arg("create").arg("--bundle").arg(bundle.path()).arg(&id);
    // A file, not a pipe: the container's init inherits it and lives on.
    let stderr = runtime.logs().join("create.err");
    create.stdin(Stdio::null()).stdout(Stdio::null()).stderr(fs::File::create(&stderr).unwrap());
    // SAFETY: setgroups(2) is a plain system call in the single-threaded child.
    unsafe {
        create.pre_exec(|| {
            let groups: [nix::libc::gid_t; 2] = [0, 10];
            if nix::libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    let status = create.status().unwrap();
    assert!(status.success(), "create: {}", fs::read_to_string(&stderr).unwrap_or_default());
    let pid = runtime.pid(&id);
    runtime.ok(&["start", &id]);
    wait_for_exec(pid, |_| true);
    let groups = status_field(pid, "Groups");
    runtime.ok(&["delete", "--force", &id]);
    let runtime_groups = fs::read_to_string(&hook_saw).unwrap();
    assert_eq!(
        runtime_groups.trim(),
        "Groups:\t0 10",
        "the runtime did not run with the groups the test gave it"
    );
    assert_eq!(groups, "", "the payload kept the runtime's groups");
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}
