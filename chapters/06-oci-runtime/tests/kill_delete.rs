//! Chapter 6: `kill` and `delete` as runc has them: which statuses each accepts,
//! `kill --all` reaching every process of the cgroup, and `delete` leaving nothing.

mod common;

use std::time::Duration;

use bigbang_testkit::cgroups::container_dirs;
use common::{eventually, process_lives, Bundle, Runtime};

#[test]
fn kill_signals_the_init() {
    let runtime = Runtime::new();
    let kd1 = runtime.id("kd1");
    let bundle =
        Bundle::new(&["sh", "-c", "trap 'echo got TERM; exit 3' TERM; while true; do sleep 0.1; done"]);
    let pid = runtime.create(&bundle, &kd1);
    runtime.ok(&["start", &kd1]);
    std::thread::sleep(Duration::from_millis(200));
    runtime.ok(&["kill", &kd1, "TERM"]);
    runtime.wait_status(&kd1, "stopped");
    assert!(!process_lives(pid));
    assert!(
        runtime.stdout(&kd1).contains("got TERM"),
        "the payload's trap never ran: {:?}",
        runtime.stdout(&kd1)
    );
    let err = runtime.fails(&["kill", &kd1, "KILL"]);
    assert!(err.contains("not running"), "kill of a stopped container: {err}");
    runtime.ok(&["delete", &kd1]);
}

#[test]
fn kill_all_reaches_every_process_of_the_cgroup() {
    // A shell as the namespace's PID 1 without a TERM handler ignores TERM (pid_namespaces(7));
    // its children do not. `kill` (init only) changes nothing; `kill --all` ends the children,
    // and then the shell, whose `wait` returns.
    let runtime = Runtime::new();
    let kd2 = runtime.id("kd2");
    let bundle = Bundle::new(&["sh", "-c", "sleep 1000 & sleep 1000 & wait"]);
    runtime.create(&bundle, &kd2);
    runtime.ok(&["start", &kd2]);
    std::thread::sleep(Duration::from_millis(200));
    runtime.ok(&["kill", &kd2, "TERM"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        runtime.state(&kd2)["status"],
        "running",
        "PID 1 ignores an unhandled TERM; the container must still run"
    );
    runtime.ok(&["kill", "--all", &kd2, "15"]);
    runtime.wait_status(&kd2, "stopped");
    runtime.ok(&["delete", &kd2]);
}

#[test]
fn kill_refuses_an_unknown_signal_and_id() {
    let runtime = Runtime::new();
    let kd3 = runtime.id("kd3");
    let err = runtime.fails(&["kill", "no-such-container", "KILL"]);
    assert!(err.contains("no-such-container"), "{err}");
    let bundle = Bundle::new(&["sleep", "1000"]);
    runtime.create(&bundle, &kd3);
    let err = runtime.fails(&["kill", &kd3, "SIGNOPE"]);
    assert!(err.contains("unknown signal"), "{err}");
    // A created container can be killed: its init has not run the payload yet.
    runtime.ok(&["kill", &kd3, "KILL"]);
    runtime.wait_status(&kd3, "stopped");
    runtime.ok(&["delete", &kd3]);
}

#[test]
fn delete_refuses_a_running_container_unless_forced() {
    let runtime = Runtime::new();
    let kd4 = runtime.id("kd4");
    let bundle = Bundle::new(&["sleep", "1000"]);
    let pid = runtime.create(&bundle, &kd4);
    runtime.ok(&["start", &kd4]);
    let err = runtime.fails(&["delete", &kd4]);
    assert!(err.contains("running") && err.contains("--force"), "delete of a running container: {err}");
    assert!(process_lives(pid), "a refused delete must leave the container alone");
    assert!(!container_dirs(&kd4).is_empty(), "the running container has no cgroup directory?");
    runtime.ok(&["delete", "--force", &kd4]);
    assert!(!process_lives(pid), "delete --force returned but the init (pid {pid}) lives");
    assert!(!runtime.state_dir(&kd4).exists(), "delete --force left the state directory");
    assert_eq!(container_dirs(&kd4), Vec::<std::path::PathBuf>::new(), "delete --force left cgroups");
}

#[test]
fn delete_removes_a_created_and_a_stopped_container() {
    let runtime = Runtime::new();
    let kd5 = runtime.id("kd5");
    let kd6 = runtime.id("kd6");
    let bundle = Bundle::new(&["true"]);
    let pid = runtime.create(&bundle, &kd5);
    runtime.ok(&["delete", &kd5]);
    eventually("the created container's init is gone", || !process_lives(pid));
    assert!(!runtime.state_dir(&kd5).exists());
    assert!(container_dirs(&kd5).is_empty(), "delete left cgroups: {:?}", container_dirs(&kd5));

    runtime.create(&bundle, &kd6);
    runtime.ok(&["start", &kd6]);
    runtime.wait_status(&kd6, "stopped");
    runtime.ok(&["delete", &kd6]);
    assert!(!runtime.state_dir(&kd6).exists());
    let err = runtime.fails(&["delete", &kd6]);
    assert!(err.contains(&kd6), "delete of a deleted container: {err}");
    runtime.ok(&["delete", "--force", &kd6]);
}

/// `delete --force` of a paused container thaws it after the SIGKILL, so the frozen init
/// can act on the signal: the init dies and nothing of the container is left.
#[test]
fn delete_force_ends_a_paused_container() {
    let runtime = Runtime::new();
    let kd7 = runtime.id("kd7");
    let bundle = Bundle::new(&["sleep", "1000"]);
    let pid = runtime.create(&bundle, &kd7);
    runtime.ok(&["start", &kd7]);
    runtime.ok(&["pause", &kd7]);
    runtime.wait_status(&kd7, "paused");
    runtime.ok(&["delete", "--force", &kd7]);
    assert!(!process_lives(pid), "delete --force returned but the paused init (pid {pid}) lives");
    assert!(!runtime.state_dir(&kd7).exists(), "delete --force left the state directory");
    assert_eq!(container_dirs(&kd7), Vec::<std::path::PathBuf>::new(), "delete --force left cgroups");
}

/// `delete` of a stopped container signals nothing: its init's pid may belong to another
/// process by now. Here the record's pid is made that of a live `sleep` of the test's
/// (with the init's start time, as after pid reuse); delete leaves the sleep alive.
#[test]
fn delete_of_a_stopped_container_signals_nothing() {
    let runtime = Runtime::new();
    let kd8 = runtime.id("kd8");
    let bundle = Bundle::new(&["true"]);
    runtime.create(&bundle, &kd8);
    runtime.ok(&["start", &kd8]);
    runtime.wait_status(&kd8, "stopped");
    let mut other = std::process::Command::new("sleep").arg("100").spawn().unwrap();
    let state = runtime.state_dir(&kd8).join("state.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(record["init"]["pid"].is_i64(), "state.json has no init pid: {record}");
    record["init"]["pid"] = serde_json::json!(other.id());
    std::fs::write(&state, record.to_string()).unwrap();
    assert_eq!(runtime.state(&kd8)["status"], "stopped", "a reused pid is not the init");
    runtime.ok(&["delete", &kd8]);
    let still_there = process_lives(other.id() as i32);
    let _ = other.kill();
    let _ = other.wait();
    assert!(still_there, "delete of a stopped container killed pid {}, which was not its init", other.id());
}
