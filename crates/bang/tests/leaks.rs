//! Does bang-oci leak (chapter 6)? 200 create/start/wait/delete cycles and 50 forced
//! deletes of running containers, then a search for anything left: mounts in this
//! process's mountinfo naming the bundle or the state root, cgroup directories of the
//! containers in every hierarchy, state directories, processes (by command line,
//! working directory, root or executable, or descended from this test), descriptors
//! of this test process; and the descriptors a payload is given. Read proc(5)
//! (mountinfo, fd) and cgroups(7). Needs root:
//! `sudo -E env PATH="$PATH" cargo test -p bang --test leaks -- --nocapture` (prints
//! how long each part took).

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups;
use bigbang_testkit::names::unique;
use bigbang_testkit::process::{
    alive, descendants_of, open_fds, processes_touching, wait_for_exec, wait_gone,
};
use bigbang_testkit::runtime::{assert_create_fails, bang_oci_path, mounts_mentioning, Runtime};
use bigbang_testkit::wait::PATIENCE;
use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

const SUITE: &str = "leaks";

/// The tests of this file run one at a time: each counts this process's descriptors
/// before and after, which a neighbour's pipes would disturb.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Everything left of the containers whose ids start with `prefix`, made from
/// `bundle` in `runtime`: one line per leftover.
fn leftovers_of(runtime: &Runtime, bundle: &Bundle, prefix: &str, pids: &[i64]) -> Vec<String> {
    let mut left = Vec::new();
    left.extend(runtime.state_dirs().into_iter().map(|d| format!("state directory {d}")));
    left.extend(
        cgroups::dirs_matching(|name| name.starts_with(prefix))
            .into_iter()
            .map(|p| format!("cgroup {}", p.display())),
    );
    let mut paths = bundle.paths();
    paths.push(runtime.root().to_path_buf());
    left.extend(mounts_mentioning(&paths).into_iter().map(|l| format!("mount {l}")));
    left.extend(processes_touching(&paths).into_iter().map(|p| format!("process {p}")));
    left.extend(descendants_of(std::process::id() as i32).into_iter().map(|p| format!("child process {p}")));
    left.extend(pids.iter().filter(|&&pid| alive(pid)).map(|pid| format!("init {pid} still runs")));
    left
}

/// 200 containers created, started, waited for and deleted one after the other
/// leave no mount, cgroup, state directory, process or descriptor behind.
#[test]
fn two_hundred_cycles_leave_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["true"]);
    let prefix = format!("{}-", unique("leak-cycle"));
    let fds_before = open_fds("self");
    let started = Instant::now();
    let mut pids = Vec::new();
    for i in 0..200 {
        let id = format!("{prefix}{i}");
        let (status, err) = runtime.create(&bundle, &id, &[]);
        assert!(status.success(), "cycle {i}: {err}");
        pids.push(runtime.pid(&id));
        runtime.ok(&["start", &id]);
        runtime.wait_status(&id, "stopped");
        runtime.ok(&["delete", &id]);
    }
    let took = started.elapsed();
    println!(
        "200 create/start/wait/delete cycles: {:.1} s ({:.0} ms each)",
        took.as_secs_f64(),
        took.as_millis() as f64 / 200.0
    );
    let left = leftovers_of(&runtime, &bundle, &prefix, &pids);
    assert!(left.is_empty(), "after 200 cycles:\n{}", left.join("\n"));
    assert_eq!(open_fds("self"), fds_before, "this test process gained or lost descriptors");
}

/// 50 running containers (`sleep 1000`) deleted with --force leave nothing behind
/// either: their inits are killed and reaped, their cgroups removed.
#[test]
fn fifty_forced_deletes_leave_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let prefix = format!("{}-", unique("leak-force"));
    let fds_before = open_fds("self");
    let started = Instant::now();
    let mut pids = Vec::new();
    for i in 0..50 {
        let id = format!("{prefix}{i}");
        let (status, err) = runtime.create(&bundle, &id, &[]);
        assert!(status.success(), "container {i}: {err}");
        pids.push(runtime.pid(&id));
        runtime.ok(&["start", &id]);
        assert_eq!(runtime.state(&id)["status"], "running", "container {i}");
        runtime.ok(&["delete", "--force", &id]);
    }
    let took = started.elapsed();
    println!(
        "50 create/start/delete --force: {:.1} s ({:.0} ms each)",
        took.as_secs_f64(),
        took.as_millis() as f64 / 50.0
    );
    for &pid in &pids {
        assert!(wait_gone(pid), "init {pid} was never reaped");
    }
    let left = leftovers_of(&runtime, &bundle, &prefix, &pids);
    assert!(left.is_empty(), "after 50 forced deletes:\n{}", left.join("\n"));
    assert_eq!(open_fds("self"), fds_before, "this test process gained or lost descriptors");
}

/// The payload gets descriptors 0, 1 and 2 only: not the runtime's socket to its init,
/// not the exec fifo, and not a descriptor the caller of `create` left open without
/// close-on-exec (here fd 7, opened by a shell that then execs bang-oci). Seen from
/// the host in /proc/<pid>/fd and from inside, where PID 1 lists its own.
#[test]
fn no_descriptor_reaches_the_payload() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sh", "-c", "ls /proc/1/fd; exec sleep 1000"]);
    let id = unique("leak-fds");
    let out = runtime.logs().join("fds.out");
    let create = format!(
        "exec 7</etc/hostname; exec {} --root {} create --bundle {} {id} </dev/null >{} 2>&1",
        bang_oci_path().display(),
        runtime.root().display(),
        bundle.path().display(),
        out.display()
    );
    let status = Command::new("sh").args(["-c", &create]).status().unwrap();
    assert!(status.success(), "create: {}", fs::read_to_string(&out).unwrap_or_default());
    let pid = runtime.pid(&id);
    let before = fs::read_link(format!("/proc/{pid}/exe")).ok();
    runtime.ok(&["start", &id]);
    wait_for_exec(pid, |exe| Some(exe) != before.as_deref());
    // The shell has listed its descriptors once it execs sleep.
    let deadline = Instant::now() + PATIENCE;
    while !fs::read_link(format!("/proc/{pid}/exe")).map(|e| e.ends_with("busybox")).unwrap_or(false)
        || fs::read_to_string(format!("/proc/{pid}/cmdline")).map(|c| !c.starts_with("sleep")).unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "the payload never reached sleep");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let from_host = open_fds(pid);
    let inside: BTreeSet<i32> =
        fs::read_to_string(&out).unwrap().lines().filter_map(|l| l.trim().parse().ok()).collect();
    let expected: BTreeSet<i32> = [0, 1, 2].into();
    let describe = |fds: &BTreeSet<i32>| -> Vec<String> {
        fds.iter()
            .map(|fd| {
                let target = fs::read_link(format!("/proc/{pid}/fd/{fd}")).map(|t| t.display().to_string());
                format!("{fd} -> {}", target.unwrap_or_else(|_| "?".into()))
            })
            .collect()
    };
    assert_eq!(from_host, expected, "the payload holds {:?}", describe(&from_host));
    assert_eq!(inside, expected, "inside, PID 1 listed {inside:?}");
}

/// A create that fails after the container's cgroup was made leaves no directory of
/// it in any hierarchy, name=systemd's and the v2 tree's included: a createRuntime
/// hook records /proc/<pid>/cgroup of the container's init (which shows the cgroup
/// exists in every hierarchy, 0:: too) and fails; a missing program and a cgroup
/// mount redirected onto /proc fail later, in the init.
#[test]
fn failed_creates_leave_no_cgroup_in_any_hierarchy() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["true"]);
    let seen = runtime.logs().join("hook-saw");
    let hook = format!(
        "read -r state; pid=$(echo \"$state\" | sed 's/.*\"pid\": *\\([0-9]*\\).*/\\1/'); cat /proc/$pid/cgroup > {}; exit 1",
        seen.display()
    );
    bundle.edit(|c| {
        c["hooks"] =
            serde_json::json!({ "createRuntime": [{ "path": "/bin/sh", "args": ["sh", "-c", hook] }] })
    });
    let id = unique("leak-hook");
    assert_create_fails(&runtime, &bundle, &id, &["createRuntime hook #0"]);
    let cgroups = fs::read_to_string(&seen).expect("the hook ran");
    let own = format!("/bang-oci/{id}");
    assert!(
        !cgroups.is_empty() && cgroups.lines().all(|l| l.ends_with(&own)),
        "the init was not in its own cgroup everywhere:\n{cgroups}"
    );
    if bigbang_container::cgroups::Hierarchies::here().unwrap().joined().len() > 1 {
        assert!(cgroups.lines().any(|l| l.starts_with("0::")), "{cgroups}");
    }

    bundle.edit(|c| c["hooks"] = serde_json::Value::Null);
    bundle.set_args(&["/no/such/program"]);
    assert_create_fails(&runtime, &bundle, &unique("leak-noprog"), &["/no/such/program"]);

    bundle.set_args(&["true"]);
    std::os::unix::fs::symlink("/proc/sys", bundle.rootfs().join("cg")).unwrap();
    bundle.edit(|c| {
        let cgroup = serde_json::json!({ "destination": "/cg", "type": "cgroup", "source": "cgroup", "options": ["ro"] });
        c["mounts"].as_array_mut().unwrap().push(cgroup);
    });
    assert_create_fails(&runtime, &bundle, &unique("leak-cgmount"), &["/cg"]);
}
