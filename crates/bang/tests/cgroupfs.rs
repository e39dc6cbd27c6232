//! What a container sees at /sys/fs/cgroup, and the hierarchies its cgroup is made in
//! (chapters 3, 4 and 6): its own cgroup in each hierarchy, its limits readable
//! inside, read-only when the mount says `ro`, links for co-mounted controllers, a
//! destination that stays in the rootfs; on a hybrid host its cgroup in name=systemd
//! and the v2 tree too, all removed by delete or by a failed create. Asserted from
//! the kernel: mountinfo inside, /proc/<pid>/cgroup and the cgroup directories outside.
//! Needs root: `sudo -E env PATH="$PATH" cargo test -p bang --test cgroupfs`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use bigbang_container::cgroups::{Hierarchies, Version};
use bigbang_container::mountinfo::MountInfo;
use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups;
use bigbang_testkit::mounts;
use bigbang_testkit::names::unique;
use bigbang_testkit::payload::{probe_args, sections};
use bigbang_testkit::runtime::{
    assert_create_fails, assert_nothing_left, bang_oci_path, require_root_for_suite, Runtime,
};
use bigbang_testkit::wait::PATIENCE;
use serde_json::{json, Value};

const SUITE: &str = "cgroupfs";

fn hierarchies() -> Hierarchies {
    Hierarchies::here().expect("this machine's cgroup hierarchies")
}

fn is_v1() -> bool {
    hierarchies().version().unwrap() == Version::V1
}

/// Runs `script` with sh in a private mount namespace of its own (unshare(1)), so
/// that whatever it mounts or unmounts stays there; fails unless it succeeds. Its
/// output, and the output's `=== name` sections.
fn in_a_mount_namespace(script: &str) -> (String, BTreeMap<String, String>) {
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    let out = sections(&text);
    (text, out)
}

/// The mounts of a mountinfo text whose mount point is `point` or below it.
fn mounts_under(mountinfo: &str, point: &str) -> Vec<MountInfo> {
    mounts::parse(mountinfo).into_iter().filter(|m| m.mount_point.starts_with(point)).collect()
}

/// The memory limit set in config.json is in the container's own memory cgroup, read
/// from inside (memory.limit_in_bytes on v1, memory.max on v2), and the mount there is
/// the container's cgroup directory (mountinfo's root), not the host's hierarchy.
#[test]
fn the_memory_limit_is_visible_inside() {
    require_root_for_suite(SUITE);
    let runtime = Runtime::new(SUITE);
    let file =
        if is_v1() { "/sys/fs/cgroup/memory/memory.limit_in_bytes" } else { "/sys/fs/cgroup/memory.max" };
    let bundle = Bundle::new(&probe_args(&[
        ("limit", &format!("cat {file}")),
        ("mountinfo", "cat /proc/self/mountinfo"),
    ]));
    bundle.edit(|c| c["linux"]["resources"]["memory"] = json!({ "limit": 64 << 20 }));
    let id = unique("cgfs-limit");
    let out = sections(&runtime.run_to_end(&bundle, &id));
    assert_eq!(out["limit"].trim(), (64 << 20).to_string(), "{out:?}");
    let point = if is_v1() { "/sys/fs/cgroup/memory" } else { "/sys/fs/cgroup" };
    let mount =
        mounts_under(&out["mountinfo"], point).into_iter().find(|m| m.mount_point == Path::new(point));
    let mount = mount.unwrap_or_else(|| panic!("nothing mounted at {point}:\n{}", out["mountinfo"]));
    assert!(mount.root.to_str().unwrap().ends_with(&format!("/bang-oci/{id}")), "{mount:?}");
}

/// Every v1 hierarchy the container is in, the named systemd one included, is at
/// /sys/fs/cgroup/<its name on the host>, rooted at the container's own cgroup; a
/// co-mounted hierarchy's controllers are links to it (here none is co-mounted: see
/// `comounted_controllers_are_links`).
#[test]
fn each_v1_hierarchy_is_the_containers_own() {
    require_root_for_suite(SUITE);
    if !is_v1() {
        eprintln!("skipped: a cgroup v2 host has one tree (the_memory_limit_is_visible_inside covers it)");
        return;
    }
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&probe_args(&[
        ("mountinfo", "cat /proc/self/mountinfo"),
        ("ls", "ls -l /sys/fs/cgroup | awk 'NR > 1 {print substr($1, 1, 1), $NF}'"),
    ]));
    let id = unique("cgfs-each");
    let out = sections(&runtime.run_to_end(&bundle, &id));
    let mounts = mounts_under(&out["mountinfo"], "/sys/fs/cgroup");
    let h = hierarchies();
    let mut expected: Vec<String> = Vec::new();
    for hierarchy in h.v1.iter().chain(&h.named) {
        let name = hierarchy.mount_point.file_name().unwrap().to_str().unwrap().to_string();
        let point = format!("/sys/fs/cgroup/{name}");
        let mount = mounts.iter().find(|m| m.mount_point == Path::new(&point));
        let mount = mount.unwrap_or_else(|| panic!("{point} is not mounted: {mounts:#?}"));
        assert_eq!(mount.fstype, "cgroup", "{mount:?}");
        assert_eq!(mount.root, Path::new(&format!("/bang-oci/{id}")), "{mount:?}");
        expected.push(format!("d {name}"));
        if name.contains(',') {
            expected.extend(name.split(',').map(|c| format!("l {c}")));
        }
    }
    let mut listed: Vec<&str> = out["ls"].lines().collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "what /sys/fs/cgroup holds inside");
    assert!(listed.contains(&"d systemd"), "the name=systemd hierarchy is shown too: {listed:?}");
}

/// The links of co-mounted controllers, made on the kernel: in a mount namespace of
/// the test's own, a named hierarchy mounted at a directory whose name has a comma
/// (`a,b`, as `cpu,cpuacct` is) shows inside as that directory with links `a` and
/// `b` to it. (The host's cpu and cpuacct are mounted apart and cannot be remounted
/// together, EBUSY.) The hierarchy goes with the namespace.
#[test]
fn comounted_controllers_are_links() {
    require_root_for_suite(SUITE);
    if !is_v1() {
        eprintln!("skipped: a cgroup v2 host has no v1 hierarchies to co-mount");
        return;
    }
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&probe_args(&[
        ("links", "readlink /sys/fs/cgroup/a; readlink /sys/fs/cgroup/b"),
        ("own", "grep name=bigbang /proc/self/cgroup"),
        ("procs", "cat /sys/fs/cgroup/a/cgroup.procs"),
    ]));
    let id = unique("cgfs-links");
    let name = format!("bigbang{}", std::process::id());
    let _hierarchy = NamedHierarchy(name.clone());
    let dir = tempfile::Builder::new().prefix("bigbang-comount-").tempdir().unwrap();
    let point = dir.path().join("a,b");
    fs::create_dir(&point).unwrap();
    let script = format!(
        // bang-oci removes bang-oci/<id>; the parent bang-oci/ is left to the test, and
        // the kernel destroys an unmounted hierarchy only once it has no cgroup below its root.
        "mount -t cgroup -o none,name={name} cgroup '{point}' || exit 1; \
         {oci} --root '{root}' run --bundle '{bundle}' {id}; status=$?; \
         echo '=== left'; find '{point}/bang-oci' -mindepth 1 -type d; umount '{point}'; exit $status",
        point = point.display(),
        oci = bang_oci_path().display(),
        root = runtime.root().display(),
        bundle = bundle.path().display(),
    );
    let (text, out) = in_a_mount_namespace(&script);
    assert_eq!(out["links"], "a,b\na,b\n", "{text}");
    assert!(out["own"].trim().ends_with(&format!(":name={name}:/bang-oci/{id}")), "{text}");
    assert!(out["procs"].lines().any(|p| p == "1"), "the container's own cgroup, holding its init: {text}");
    assert_eq!(out["left"], "", "delete left the container's cgroup in the named hierarchy");
}

/// A named v1 hierarchy the test made, destroyed on drop. The kernel destroys an
/// unmounted hierarchy once no cgroup is below its root; a cgroup just removed may
/// still be dying at the umount, so the hierarchy is mounted again (in a mount
/// namespace of its own), emptied and unmounted until no /proc/<pid>/cgroup lists it.
struct NamedHierarchy(String);

impl Drop for NamedHierarchy {
    fn drop(&mut self) {
        let listed =
            || fs::read_to_string("/proc/self/cgroup").unwrap().contains(&format!("name={}:", self.0));
        let deadline = std::time::Instant::now() + PATIENCE;
        while listed() && std::time::Instant::now() < deadline {
            let dir = tempfile::tempdir().unwrap();
            let script = format!(
                "mount -t cgroup -o none,name={0} cgroup '{1}' && find '{1}' -mindepth 1 -depth -type d -exec rmdir {{}} \\; ; umount '{1}'",
                self.0,
                dir.path().display()
            );
            let _ = Command::new("unshare")
                .args(["--mount", "--propagation", "private", "sh", "-c", &script])
                .status();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if listed() && !std::thread::panicking() {
            panic!("the test's hierarchy name={} is still there", self.0);
        }
    }
}

/// A v2 host, made of this one in a mount namespace of the test's own: the v1
/// hierarchies and the tmpfs unmounted, the (one) cgroup2 hierarchy mounted at
/// /sys/fs/cgroup, which is all bang-oci then finds in its mountinfo. The container's
/// /sys/fs/cgroup is its own v2 directory bound read-only, holding its init; with a
/// cgroup namespace, cgroup2 mounted anew with its root at the container's cgroup.
#[test]
fn a_v2_host_shows_the_containers_own_directory() {
    require_root_for_suite(SUITE);
    if hierarchies().unified.is_none() {
        eprintln!("skipped: no cgroup2 hierarchy on this host");
        return;
    }
    let runtime = Runtime::new(SUITE);
    for cgroupns in [false, true] {
        let bundle = Bundle::new(&probe_args(&[
            ("mountinfo", "cat /proc/self/mountinfo"),
            ("procs", "cat /sys/fs/cgroup/cgroup.procs"),
            ("own", "grep ^0:: /proc/self/cgroup"),
        ]));
        if cgroupns {
            bundle
                .edit(|c| c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "cgroup" })));
        }
        let id = unique(&format!("cgfs-v2-{cgroupns}"));
        let script = format!(
            "for m in $(grep ' /sys/fs/cgroup/' /proc/self/mountinfo | cut -d' ' -f5); do umount $m || exit 1; done; \
             umount /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1; \
             {oci} --root '{root}' run --bundle '{bundle}' {id}",
            oci = bang_oci_path().display(),
            root = runtime.root().display(),
            bundle = bundle.path().display(),
        );
        let (text, out) = in_a_mount_namespace(&script);
        let mounts = mounts_under(&out["mountinfo"], "/sys/fs/cgroup");
        assert_eq!(mounts.len(), 1, "one tree: {mounts:#?}");
        assert_eq!(mounts[0].fstype, "cgroup2");
        assert!(mounts[0].has_option("ro"), "{:?}", mounts[0]);
        let root = if cgroupns { "/".to_string() } else { format!("/bang-oci/{id}") };
        assert_eq!(mounts[0].root, Path::new(&root), "cgroupns={cgroupns}");
        assert!(out["procs"].lines().any(|p| p == "1"), "the container's own cgroup holds its init: {text}");
        let own = if cgroupns { "0::/".to_string() } else { format!("0::/bang-oci/{id}") };
        assert_eq!(out["own"].trim(), own);
        assert!(cgroups::leftovers(&id).is_empty(), "{:?}", cgroups::leftovers(&id));
    }
}

/// With `ro` every mount under /sys/fs/cgroup is read-only (mountinfo) and a cgroup
/// cannot be made there (EROFS); without it the container's cgroups are writable,
/// as runc gives them.
#[test]
fn read_only_when_the_mount_says_ro() {
    require_root_for_suite(SUITE);
    let runtime = Runtime::new(SUITE);
    let inside = if is_v1() { "/sys/fs/cgroup/memory/sub" } else { "/sys/fs/cgroup/sub" };
    let probe = probe_args(&[
        ("mountinfo", "cat /proc/self/mountinfo"),
        ("mkdir", &format!("mkdir {inside} && rmdir {inside} && echo made")),
    ]);
    for ro in [true, false] {
        let bundle = Bundle::new(&probe);
        bundle.edit(|c| {
            let mounts = c["mounts"].as_array_mut().unwrap();
            let cgroup =
                mounts.iter_mut().find(|m| m["type"] == "cgroup").expect("bang-oci spec has a cgroup mount");
            let mut options: Vec<Value> =
                cgroup["options"].as_array().unwrap().iter().filter(|o| *o != "ro").cloned().collect();
            if ro {
                options.push(Value::from("ro"));
            }
            cgroup["options"] = Value::Array(options);
        });
        let id = unique(&format!("cgfs-ro-{ro}"));
        let out = sections(&runtime.run_to_end(&bundle, &id));
        let mounts = mounts_under(&out["mountinfo"], "/sys/fs/cgroup");
        assert!(mounts.len() >= if is_v1() { 2 } else { 1 }, "{mounts:#?}");
        for m in &mounts {
            assert_eq!(m.has_option("ro"), ro, "ro={ro}: {m:?}");
            for flag in ["nosuid", "nodev", "noexec"] {
                assert!(m.has_option(flag), "{flag} missing: {m:?}");
            }
        }
        if ro {
            assert!(out["mkdir"].contains("Read-only file system"), "{}", out["mkdir"]);
        } else {
            assert_eq!(out["mkdir"].trim(), "made");
        }
    }
}

/// In a cgroup namespace each hierarchy is mounted anew and the kernel roots it at the
/// container's cgroup: mountinfo shows `/`, /proc/self/cgroup shows `/`, and the
/// limit is there.
#[test]
fn a_cgroup_namespace_mounts_each_hierarchy_at_its_root() {
    require_root_for_suite(SUITE);
    let runtime = Runtime::new(SUITE);
    let file = if is_v1() { "/sys/fs/cgroup/pids/pids.max" } else { "/sys/fs/cgroup/pids.max" };
    let bundle = Bundle::new(&probe_args(&[
        ("limit", &format!("cat {file}")),
        ("mountinfo", "cat /proc/self/mountinfo"),
        ("own", "cat /proc/self/cgroup"),
    ]));
    bundle.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "cgroup" }));
        c["linux"]["resources"]["pids"] = json!({ "limit": 99 });
    });
    let id = unique("cgfs-ns");
    let out = sections(&runtime.run_to_end(&bundle, &id));
    assert_eq!(out["limit"].trim(), "99", "{out:?}");
    let mounts: Vec<MountInfo> = mounts_under(&out["mountinfo"], "/sys/fs/cgroup")
        .into_iter()
        .filter(|m| m.fstype.starts_with("cgroup"))
        .collect();
    assert!(!mounts.is_empty());
    for m in &mounts {
        assert_eq!(m.root, Path::new("/"), "{m:?}");
    }
    for line in out["own"].lines() {
        assert!(line.ends_with(":/"), "{}", out["own"]);
    }
}

/// A cgroup destination that is a symbolic link in the image is resolved inside the
/// rootfs: `/cg -> ../../../../../../tmp/<dir>` lands in the rootfs's /tmp/<dir>, and the
/// host's directory of that name gets no mount; a link onto /proc is refused, and
/// the failed create leaves no cgroup in any hierarchy (systemd's and the v2 tree's
/// included), no state and no mount.
#[test]
fn a_symlinked_destination_stays_in_the_rootfs() {
    require_root_for_suite(SUITE);
    let runtime = Runtime::new(SUITE);
    let host = tempfile::Builder::new().prefix("bigbang-cgfs-host-").tempdir_in("/tmp").unwrap();
    let name = host.path().file_name().unwrap().to_str().unwrap().to_string();
    let bundle =
        Bundle::new(&probe_args(&[("ls", "ls /cg | head -1"), ("mountinfo", "cat /proc/self/mountinfo")]));
    let link = bundle.rootfs().join("cg");
    std::os::unix::fs::symlink(format!("../../../../../../tmp/{name}"), &link).unwrap();
    fs::create_dir_all(bundle.rootfs().join("tmp")).unwrap();
    bundle.edit(|c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "destination": "/cg", "type": "cgroup", "source": "cgroup", "options": ["ro"] }));
    });
    let id = unique("cgfs-link");
    runtime.created(&bundle, &id);
    let pid = runtime.pid(&id);
    let theirs = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let ours = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let host_path = host.path().to_str().unwrap();
    assert!(!ours.lines().any(|l| l.contains(host_path)), "a mount reached the host's {host_path}");
    assert!(fs::read_dir(host.path()).unwrap().next().is_none(), "the host's {host_path} was written");
    let expected = format!("/tmp/{name}");
    assert!(
        mounts::parse(&theirs).iter().any(|m| m.mount_point == Path::new(&expected)),
        "the cgroup tree is not at {expected} inside:\n{theirs}"
    );
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    let out = sections(&runtime.out(&id));
    assert!(!out["ls"].trim().is_empty(), "nothing under /cg: {out:?}");
    runtime.ok(&["delete", &id]);
    assert_nothing_left(&runtime, &id, &bundle);

    fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/proc/sys", &link).unwrap();
    let id = unique("cgfs-proc");
    assert_create_fails(&runtime, &bundle, &id, &["/cg", "/proc/sys"]);
}

/// On a hybrid host the container's init is in its own cgroup in name=systemd and in
/// the v2 tree too (/proc/<pid>/cgroup, and its pid in their cgroup.procs), as under
/// runc; delete removes those directories with the others.
#[test]
fn the_container_joins_name_systemd_and_the_v2_tree() {
    require_root_for_suite(SUITE);
    let h = hierarchies();
    let (Some(systemd), Some(unified)) = (h.named.first(), h.unified.clone().filter(|_| is_v1())) else {
        eprintln!("skipped: not a hybrid host with a named hierarchy ({h:?})");
        return;
    };
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("cgfs-join");
    let pid = runtime.start_running(&bundle, &id);
    let cgroup = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let own = format!("/bang-oci/{id}");
    let line = |prefix: &str| {
        cgroup.lines().find(|l| l.split_once(':').is_some_and(|(_, rest)| rest.starts_with(prefix)))
    };
    assert_eq!(
        line(&format!("{}:", systemd.controllers[0])).map(|l| l.ends_with(&own)),
        Some(true),
        "{cgroup}"
    );
    assert_eq!(line(":").map(|l| l.ends_with(&own)), Some(true), "the 0:: line: {cgroup}");
    let dirs: Vec<PathBuf> =
        [systemd.mount_point.clone(), unified].iter().map(|root| root.join("bang-oci").join(&id)).collect();
    for dir in &dirs {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|p| p == pid.to_string()), "{}: {procs}", dir.display());
    }
    runtime.ok(&["delete", "--force", &id]);
    for dir in &dirs {
        assert!(!Path::new(dir).exists(), "{} is left after delete", dir.display());
    }
    assert_nothing_left(&runtime, &id, &bundle);
}
