//! Black-box tests of `bang-oci`'s lifecycle verbs (chapter 6): create, start, state,
//! kill, delete, run and list, checked from outside through what the kernel reports
//! (/proc/<pid>/ns, /proc/<pid>/status, the cgroup tree, mountinfo) and the state
//! root. They need root: `sudo -E env PATH="$PATH" cargo test -p bang --test lifecycle`.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bigbang_container::lifecycle::hooks::{HookError, HookKind};
use bigbang_container::lifecycle::state::ContainerRecord;
use bigbang_container::lifecycle::store::Store;
use bigbang_container::lifecycle::{self, CreateOptions, FailureKind, InitError, LifecycleError};
use bigbang_container::security::seal;
use serde_json::Value;

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups;
use bigbang_testkit::names::unique;
use bigbang_testkit::process::{alive, descendants_of, status_field, wait_bounded, wait_for_exec, wait_gone};
use bigbang_testkit::runtime::{bang_oci_path, Runtime};

const SUITE: &str = "lifecycle";

/// create → created (pid file = state pid, own namespaces, runc's caps, no_new_privs),
/// start → running, SIGKILL → stopped, delete → gone.
#[test]
fn create_start_kill_delete_walks_the_states() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("walk");
    let pid_file = runtime.logs().join("pid");
    let (status, err) = runtime.create(&bundle, &id, &["--pid-file", pid_file.to_str().unwrap()]);
    assert!(status.success(), "create failed: {err}");

    let state = runtime.state(&id);
    assert_eq!(state["status"], "created");
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["ociVersion"], "1.0.2-dev");
    assert_eq!(Path::new(state["bundle"].as_str().unwrap()), fs::canonicalize(bundle.path()).unwrap());
    let pid = state["pid"].as_i64().unwrap();
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    for ns in ["pid", "mnt", "uts", "ipc", "net"] {
        let host = fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        let container = fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap();
        assert_ne!(host, container, "the container shares the host's {ns} namespace");
    }
    let exe = fs::File::open(format!("/proc/{pid}/exe")).unwrap();
    assert!(seal::is_sealed_exe(&exe), "the init runs from its binary on disk, not a sealed view or copy");
    let procs = fs::read_to_string(format!("/sys/fs/cgroup/pids/bang-oci/{id}/cgroup.procs")).unwrap();
    assert_eq!(procs.trim(), pid.to_string(), "the init is in the container's cgroup");

    runtime.ok(&["start", &id]);
    assert_eq!(runtime.state(&id)["status"], "running");
    wait_for_exec(pid, |exe| exe.ends_with("busybox"));
    assert_eq!(status_field(pid, "CapEff"), "0000000020000420", "runc's default capabilities");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    assert!(runtime.fails(&["start", &id]).stderr.contains("is running, not created"));

    runtime.ok(&["kill", &id, "KILL"]);
    let state = runtime.wait_status(&id, "stopped");
    assert!(state.get("pid").is_none(), "a stopped container has no pid: {state}");
    runtime.ok(&["delete", &id]);
    assert!(runtime.state_dirs().is_empty());
    assert!(cgroups::leftovers(&id).is_empty(), "{:?}", cgroups::leftovers(&id));
    assert!(runtime.fails(&["state", &id]).stderr.contains("no container with id"));
}

/// `run` passes the payload's exit code through: 0, 1, 255.
#[test]
fn run_passes_exit_codes_through() {
    let runtime = Runtime::new(SUITE);
    for code in [0, 1, 255] {
        let bundle = Bundle::new(&["sh", "-c", &format!("exit {code}")]);
        let id = unique(&format!("exit{code}"));
        let status = runtime
            .cmd()
            .args(["run", "--bundle"])
            .arg(bundle.path())
            .arg(&id)
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code));
        assert!(runtime.state_dirs().is_empty(), "run deletes the container");
        assert!(cgroups::leftovers(&id).is_empty());
    }
}

/// Runs `bundle` with `bang-oci run` in the background, sends `signal` once it runs
/// (and, with `ready`, once the payload has created that file, seen through
/// /proc/<pid>/root), and returns run's exit status.
fn run_and_signal(
    runtime: &Runtime,
    bundle: &Bundle,
    id: &str,
    signal: &str,
    ready: Option<&str>,
) -> ExitStatus {
    let mut run = runtime
        .cmd()
        .args(["run", "--bundle"])
        .arg(bundle.path())
        .arg(id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let pid = loop {
        let state = runtime.cmd().args(["state", id]).output().unwrap();
        if state.status.success() {
            let state: Value = serde_json::from_slice(&state.stdout).unwrap();
            if state["status"] == "running" {
                break state["pid"].as_i64().unwrap();
            }
        }
        assert!(Instant::now() < deadline, "{id} never ran");
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(file) = ready {
        let path = format!("/proc/{pid}/root{file}");
        while !Path::new(&path).exists() {
            assert!(Instant::now() < deadline, "the payload never created {file}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    runtime.ok(&["kill", id, signal]);
    wait_bounded(&mut run)
}

/// `run` reports a payload killed by SIGKILL as 137 (128 + 9).
#[test]
fn run_reports_sigkill_as_137() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let status = run_and_signal(&runtime, &bundle, &unique("sigkill"), "9", None);
    assert_eq!(status.code(), Some(137));
    assert!(runtime.state_dirs().is_empty());
}

/// `kill` with SIGTERM reaches a payload (PID 1 of its namespace) that traps it.
#[test]
fn kill_term_reaches_a_payload_that_traps_it() {
    let runtime = Runtime::new(SUITE);
    // The root is read-only; /dev/shm is the container's own tmpfs.
    let script = "trap 'exit 42' TERM; touch /dev/shm/trapped; while true; do sleep 0.05; done";
    let bundle = Bundle::new(&["sh", "-c", script]);
    let status = run_and_signal(&runtime, &bundle, &unique("term"), "SIGTERM", Some("/dev/shm/trapped"));
    assert_eq!(status.code(), Some(42));
}

/// SIGTERM sent to `bang-oci run` itself is forwarded to the container's payload.
#[test]
fn run_forwards_signals_to_the_payload() {
    let runtime = Runtime::new(SUITE);
    let script = "trap 'exit 43' TERM; touch /dev/shm/trapped; while true; do sleep 0.05; done";
    let bundle = Bundle::new(&["sh", "-c", script]);
    let id = unique("forward");
    let mut run = runtime
        .cmd()
        .args(["run", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = runtime.cmd().args(["state", &id]).output().unwrap();
        if state.status.success() {
            let state: Value = serde_json::from_slice(&state.stdout).unwrap();
            let ready = format!("/proc/{}/root/dev/shm/trapped", state["pid"]);
            if state["status"] == "running" && Path::new(&ready).exists() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "{id} never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill").args(["-TERM", &run.id().to_string()]).status().unwrap();
    assert_eq!(wait_bounded(&mut run).code(), Some(43));
    assert!(runtime.state_dirs().is_empty());
}

/// `kill --all` signals every process of the container's cgroup, not only its init:
/// SIGTERM, which the init (PID 1, no handler) ignores, ends its child.
#[test]
fn kill_all_signals_every_process_in_the_cgroup() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sh", "-c", "sleep 1000 & exec sleep 1001"]);
    let id = unique("killall");
    assert!(runtime.create(&bundle, &id, &[]).0.success());
    runtime.ok(&["start", &id]);
    let procs = format!("/sys/fs/cgroup/pids/bang-oci/{id}/cgroup.procs");
    let count = || fs::read_to_string(&procs).unwrap().lines().count();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count() != 2 {
        assert!(Instant::now() < deadline, "the payload never forked");
        std::thread::sleep(Duration::from_millis(20));
    }
    runtime.ok(&["kill", "--all", &id, "TERM"]);
    while count() != 1 {
        assert!(Instant::now() < deadline, "kill --all did not reach the child");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(runtime.state(&id)["status"], "running", "PID 1 ignores SIGTERM without a handler");
    runtime.ok(&["delete", "--force", &id]);
}

/// `delete` refuses a running container; `--force` kills it and leaves no process,
/// cgroup or state directory.
#[test]
fn delete_refuses_running_unless_forced() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("force");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(status.success(), "{err}");
    runtime.ok(&["start", &id]);
    let pid = runtime.state(&id)["pid"].as_i64().unwrap();
    let err = runtime.fails(&["delete", &id]).stderr;
    assert!(err.contains("is running") && err.contains("--force"), "{err}");
    assert!(alive(pid));
    runtime.ok(&["delete", "--force", &id]);
    assert!(!alive(pid));
    assert!(wait_gone(pid), "pid {pid} was never reaped");
    assert!(runtime.state_dirs().is_empty());
    assert!(cgroups::leftovers(&id).is_empty(), "{:?}", cgroups::leftovers(&id));
}

/// `delete --force` of an id that does not exist succeeds, as runc's does; without
/// --force it is an error naming the id.
#[test]
fn forced_delete_of_an_unknown_id_succeeds() {
    let runtime = Runtime::new(SUITE);
    let id = unique("never-created");
    runtime.ok(&["delete", "--force", &id]);
    let err = runtime.fails(&["delete", &id]).stderr;
    assert!(err.contains(&id), "{err}");
    assert!(runtime.state_dirs().is_empty());
}

/// A created container (never started) is deleted without --force, as runc does.
#[test]
fn delete_of_a_created_container_kills_its_init() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("created");
    assert!(runtime.create(&bundle, &id, &[]).0.success());
    let pid = runtime.state(&id)["pid"].as_i64().unwrap();
    runtime.ok(&["delete", &id]);
    assert!(!alive(pid));
    assert!(runtime.state_dirs().is_empty());
    assert!(cgroups::leftovers(&id).is_empty());
}

/// A second container with the same id is refused, and the first is untouched.
#[test]
fn duplicate_id_is_refused() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("dup");
    assert!(runtime.create(&bundle, &id, &[]).0.success());
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(!status.success());
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(runtime.state(&id)["status"], "created");
}

/// Checks that a failed create left nothing: no state directory, no cgroup.
fn assert_nothing_left(runtime: &Runtime, id: &str) {
    assert!(runtime.state_dirs().is_empty(), "{:?}", runtime.state_dirs());
    assert!(cgroups::leftovers(id).is_empty(), "{:?}", cgroups::leftovers(id));
    let listed = runtime.ok(&["list", "--quiet"]);
    assert!(listed.trim().is_empty(), "{listed}");
}

/// A missing rootfs fails create, names the path, and leaves nothing.
#[test]
fn create_with_missing_rootfs_leaves_nothing() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["true"]);
    bundle.edit(|c| c["root"]["path"] = Value::from("/nonexistent/bigbang-rootfs"));
    let id = unique("norootfs");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(!status.success());
    assert!(err.starts_with("bang-oci: ") && err.contains("/nonexistent/bigbang-rootfs"), "{err}");
    assert_nothing_left(&runtime, &id);
}

/// A malformed config.json fails create with file:line:column, and leaves nothing.
#[test]
fn create_with_malformed_config_leaves_nothing() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["true"]);
    fs::write(bundle.config_path(), "{\"ociVersion\": \"1.0.2\",\n  \"process\": [}").unwrap();
    let id = unique("malformed");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(!status.success());
    assert!(err.contains("config.json:2:"), "{err}");
    assert_nothing_left(&runtime, &id);
}

/// A payload that does not exist fails create (not start), and leaves no process.
#[test]
fn create_with_missing_payload_leaves_nothing() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["no-such-program"]);
    let id = unique("nopayload");
    let log = runtime.logs().join("log.json");
    let err = runtime.logs().join("err");
    let status = runtime
        .cmd()
        .arg("--log")
        .arg(&log)
        .args(["--log-format", "json", "create", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(!status.success());
    let err = fs::read_to_string(err).unwrap();
    assert!(err.contains("\"no-such-program\": executable file not found"), "{err}");
    let line: Value =
        serde_json::from_str(fs::read_to_string(&log).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().contains("no-such-program"));
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
    assert_nothing_left(&runtime, &id);
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&ps.stdout).contains(&id));
}

/// `list` shows each container with its live status, as a table and as JSON.
#[test]
fn list_shows_live_status() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("list");
    assert!(runtime.create(&bundle, &id, &[]).0.success());
    let table = runtime.ok(&["list"]);
    let row = table.lines().find(|l| l.starts_with(&id)).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(" created "), "{row}");
    let json: Value = serde_json::from_str(&runtime.ok(&["list", "--format", "json"])).unwrap();
    assert_eq!(json[0]["id"], id.as_str());
    assert_eq!(json[0]["status"], "created");
    runtime.ok(&["kill", &id, "KILL"]);
    runtime.wait_status(&id, "stopped");
    let json: Value = serde_json::from_str(&runtime.ok(&["list", "--format", "json"])).unwrap();
    assert_eq!(json[0]["status"], "stopped");
}

/// 50 create/start/delete cycles leave no mounts, cgroups, state directories or processes.
#[test]
fn fifty_cycles_leave_nothing_behind() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["true"]);
    let mut pids = Vec::new();
    for i in 0..50 {
        let id = unique(&format!("cycle{i}"));
        let (status, err) = runtime.create(&bundle, &id, &[]);
        assert!(status.success(), "cycle {i}: {err}");
        pids.push(runtime.state(&id)["pid"].as_i64().unwrap());
        runtime.ok(&["start", &id]);
        runtime.wait_status(&id, "stopped");
        runtime.ok(&["delete", &id]);
        assert!(cgroups::leftovers(&id).is_empty(), "cycle {i}: {:?}", cgroups::leftovers(&id));
    }
    assert!(runtime.state_dirs().is_empty());
    let rootfs = bundle.rootfs().to_str().unwrap().to_string();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(&rootfs), "mounts of {rootfs} left behind");
    for pid in pids {
        assert!(!alive(pid), "pid {pid} still runs");
    }
}

/// runc, when installed at /usr/sbin/runc (as on the book's machine).
fn runc(root: &Path) -> Option<Command> {
    let path = Path::new("/usr/sbin/runc");
    path.exists().then(|| {
        let mut command = Command::new(path);
        command.arg("--root").arg(root);
        command
    })
}

/// The same bundle under runc and bang-oci: the same `run` exit codes, and the same
/// runtime-spec fields in `state` of a created container.
#[test]
fn runc_and_bang_oci_agree() {
    let runtime = Runtime::new(SUITE);
    let runc_root = tempfile::Builder::new().prefix("bigbang-runc-root-").tempdir().unwrap();
    let Some(_) = runc(runc_root.path()) else {
        panic!("runc is not installed at /usr/sbin/runc; install it (apt-get install runc) to compare");
    };
    for code in [0, 3, 255] {
        let bundle = Bundle::new(&["sh", "-c", &format!("exit {code}")]);
        let id = unique(&format!("cmp{code}"));
        let theirs = runc(runc_root.path())
            .unwrap()
            .args(["run", "--bundle"])
            .arg(bundle.path())
            .arg(format!("runc-{id}"))
            .stdin(Stdio::null())
            .status()
            .unwrap();
        let ours = runtime
            .cmd()
            .args(["run", "--bundle"])
            .arg(bundle.path())
            .arg(&id)
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(theirs.code(), Some(code), "runc");
        assert_eq!(ours.code(), theirs.code());
    }

    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("cmpstate");
    let runc_id = format!("runc-{id}");
    let created = runc(runc_root.path())
        .unwrap()
        .args(["create", "--bundle"])
        .arg(bundle.path())
        .arg(&runc_id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(created.success(), "runc create failed");
    let state = runc(runc_root.path()).unwrap().args(["state", &runc_id]).output().unwrap();
    let _ = runc(runc_root.path()).unwrap().args(["delete", "--force", &runc_id]).status();
    let theirs: Value = serde_json::from_slice(&state.stdout).unwrap();
    assert!(runtime.create(&bundle, &id, &[]).0.success());
    let ours = runtime.state(&id);
    for field in ["ociVersion", "status", "bundle"] {
        assert_eq!(ours[field], theirs[field], "{field}");
    }
    assert_eq!(theirs["id"], runc_id.as_str());
    assert!(ours["pid"].as_i64().unwrap() > 0 && theirs["pid"].as_i64().unwrap() > 0);
}

/// A hook that runs `script` with sh (the host's, or the container's for startContainer).
fn hook(script: &str) -> Value {
    serde_json::json!({ "path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 10 })
}

/// Each hook kind runs at its moment, with the state on stdin: createRuntime and
/// createContainer during create, startContainer inside the container, poststart
/// after start, poststop during delete.
#[test]
fn hooks_run_at_their_moments_with_the_state() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let out = runtime.logs().to_str().unwrap().to_string();
    bundle.edit(|c| {
        c["hooks"] = serde_json::json!({
            "createRuntime": [hook(&format!("cat > {out}/createRuntime.json"))],
            "createContainer": [hook(&format!("cat > {out}/createContainer.json"))],
            "startContainer": [hook("cat > /dev/shm/startContainer.json")],
            "poststart": [hook(&format!("cat > {out}/poststart.json"))],
            "poststop": [hook(&format!("cat > {out}/poststop.json"))],
        });
    });
    let id = unique("hooks");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(status.success(), "{err}");
    let pid = runtime.state(&id)["pid"].as_i64().unwrap();
    let read = |name: &str| -> Value {
        serde_json::from_str(&fs::read_to_string(runtime.logs().join(name)).unwrap()).unwrap()
    };
    let created = read("createRuntime.json");
    assert_eq!(created["status"], "creating");
    assert_eq!(created["pid"], pid);
    assert_eq!(read("createContainer.json")["id"], id.as_str());
    assert!(!runtime.logs().join("poststart.json").exists());

    runtime.ok(&["start", &id]);
    assert_eq!(read("poststart.json")["status"], "running");
    wait_for_exec(pid, |exe| exe.ends_with("busybox"));
    let inside: Value = serde_json::from_str(
        &fs::read_to_string(format!("/proc/{pid}/root/dev/shm/startContainer.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(inside["id"], id.as_str());

    runtime.ok(&["delete", "--force", &id]);
    assert_eq!(read("poststop.json")["status"], "stopped");
}

/// `create` of `bundle` as `id`, through the library (the init is the bang-oci
/// binary): its error is a value to match.
fn create_in_process(
    runtime: &Runtime,
    bundle: &Bundle,
    id: &str,
) -> Result<ContainerRecord, LifecycleError> {
    let store = Store::open(runtime.root()).expect("the runtime's state root");
    let options = CreateOptions {
        id: id.to_string(),
        bundle: bundle.path().to_path_buf(),
        pid_file: None,
        no_pivot: false,
        runtime: bang_oci_path(),
        console_socket: None,
        preserve_fds: 0,
        no_new_keyring: false,
    };
    lifecycle::create(&store, &options)
}

/// The in-process creates of this file run one at a time: each looks for the
/// `bang-oci init` children (stage 0) of this test process.
static IN_PROCESS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test process's children that are a `bang-oci init` (stage 0), zombies too:
/// only an in-process `create` starts one directly (the CLI tests' are grandchildren).
fn init_children() -> Vec<i32> {
    descendants_of(std::process::id() as i32)
        .into_iter()
        .filter(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1));
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            ppid == Some(std::process::id().to_string().as_str())
                && cmdline.split(|&b| b == 0).nth(1) == Some(b"init".as_slice())
        })
        .collect()
}

/// What a failed in-process `create` may not leave: its state directory, its
/// cgroups, stage 0 (or its zombie), the init.
fn assert_create_undone(runtime: &Runtime, id: &str) {
    assert_nothing_left(runtime, id);
    let stage0 = init_children();
    assert!(stage0.is_empty(), "a failed create left stage 0 of the init: {stage0:?}");
}

/// Errors raised in the container's init come back as the variant the init raised:
/// a missing payload (found missing inside the new root) as ProgramNotFound with its
/// name, a mount chapter 3 cannot make as a rootfs failure; and each leaves nothing.
#[test]
fn init_errors_are_the_same_variant_on_the_callers_side() {
    let _one = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["no-such-program"]);
    let id = unique("initerr-payload");
    match create_in_process(&runtime, &bundle, &id) {
        Err(LifecycleError::Init(InitError::ProgramNotFound { name, .. })) => {
            assert_eq!(name, "no-such-program")
        }
        other => panic!("expected ProgramNotFound from the init, got {other:?}"),
    }
    assert_create_undone(&runtime, &id);

    let bundle = Bundle::new(&["true"]);
    bundle.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/mnt", "type": "bigbang-no-such-fs", "source": "none"
        }))
    });
    let id = unique("initerr-mount");
    match create_in_process(&runtime, &bundle, &id) {
        Err(LifecycleError::Init(InitError::Failed { kind: FailureKind::Rootfs, message })) => {
            assert!(message.contains("/mnt"), "{message}")
        }
        other => panic!("expected a rootfs failure from the init, got {other:?}"),
    }
    assert_create_undone(&runtime, &id);
}

/// A createRuntime hook fails after every step but the last (state directory,
/// cgroup, stage 0 and the container's init all exist): create returns the hook's
/// error as it is, and its rollback leaves no state directory, cgroup or process.
#[test]
fn a_late_failure_is_rolled_back_whole() {
    let _one = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let marker = runtime.logs().join("init-pid");
    bundle.edit(|c| {
        c["hooks"] = serde_json::json!({
            "createRuntime": [hook(&format!("grep -o '\"pid\":[0-9]*' > {}; exit 7", marker.display()))]
        })
    });
    let id = unique("rollback");
    match create_in_process(&runtime, &bundle, &id) {
        Err(LifecycleError::Hook(HookError::Failed { kind: HookKind::CreateRuntime, .. })) => {}
        other => panic!("expected the createRuntime hook's failure, got {other:?}"),
    }
    let seen = fs::read_to_string(&marker).expect("the hook ran and saw the init's pid");
    let pid: i64 = seen.trim().trim_start_matches("\"pid\":").parse().expect("a pid");
    assert!(!alive(pid), "the container's init (pid {pid}) outlived the failed create");
    assert_create_undone(&runtime, &id);
}

/// A failing createRuntime hook fails create, and leaves nothing.
#[test]
fn failing_create_runtime_hook_leaves_nothing() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    bundle.edit(|c| c["hooks"] = serde_json::json!({ "createRuntime": [hook("exit 7")] }));
    let id = unique("hookfail");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(!status.success());
    assert!(err.contains("createRuntime"), "{err}");
    assert_nothing_left(&runtime, &id);
}

/// The payload runs as `process.user` (uid and gid 65534 here), and still gets past
/// the exec fifo, which it reopens after changing user.
#[test]
fn payload_runs_as_process_user() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    bundle.edit(|c| c["process"]["user"] = serde_json::json!({ "uid": 65534, "gid": 65534 }));
    let id = unique("user");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(status.success(), "{err}");
    runtime.ok(&["start", &id]);
    let pid = runtime.state(&id)["pid"].as_i64().unwrap();
    wait_for_exec(pid, |exe| exe.ends_with("busybox"));
    assert_eq!(status_field(pid, "Uid"), "65534\t65534\t65534\t65534");
    assert_eq!(status_field(pid, "Gid"), "65534\t65534\t65534\t65534");
}

/// With a user namespace, the container's root is host uid 100000: the parent wrote
/// the id maps, and the payload runs as that id on the host.
#[test]
fn user_namespace_maps_root_elsewhere() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sleep", "1000"]);
    bundle.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(serde_json::json!({ "type": "user" }));
        let map = serde_json::json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    });
    let id = unique("userns");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(status.success(), "{err}");
    runtime.ok(&["start", &id]);
    let pid = runtime.state(&id)["pid"].as_i64().unwrap();
    wait_for_exec(pid, |exe| exe.ends_with("busybox"));
    let uid_map = fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    assert_eq!(uid_map.split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    assert_ne!(
        fs::read_link("/proc/self/ns/user").unwrap(),
        fs::read_link(format!("/proc/{pid}/ns/user")).unwrap()
    );
    assert_eq!(status_field(pid, "Uid"), "100000\t100000\t100000\t100000");
}

/// `--no-pivot` moves the rootfs onto / and chroots instead: the payload still runs
/// in it (it finds busybox's sh) and its mount namespace is its own.
#[test]
fn no_pivot_runs_the_payload_too() {
    let runtime = Runtime::new(SUITE);
    let bundle = Bundle::new(&["sh", "-c", "test -x /bin/busybox && exit 7"]);
    let id = unique("nopivot");
    let status = runtime
        .cmd()
        .args(["run", "--no-pivot", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));
    assert!(runtime.state_dirs().is_empty());
}

/// CVE-2019-5736 stays closed: the attack of chapter 5 (hold the init's
/// /proc/<pid>/exe, let the init die so the file is no longer busy, reopen it for
/// writing) cannot change the runtime's binary (a copy here), even as the host's root.
#[test]
fn the_runtime_binary_cannot_be_written_through_the_init() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    let runtime = Runtime::new(SUITE);
    let copy = runtime.logs().join("bang-oci-copy");
    fs::copy(assert_cmd::cargo::cargo_bin("bang-oci"), &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    let before = fs::read(&copy).unwrap();
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("sealed");
    let pid_file = runtime.logs().join("sealed.pid");
    let mut create = Command::new(&copy);
    create
        .arg("--root")
        .arg(runtime.root())
        .args(["create", "--bundle"])
        .arg(bundle.path())
        .arg("--pid-file")
        .arg(&pid_file)
        .arg(&id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(runtime.logs().join("sealed.err")).unwrap());
    // The copy was just written: another test thread's fork may still hold its write
    // descriptor for a moment (ETXTBSY), which spawn_retrying outlasts.
    let status = bigbang_testkit::program::spawn_retrying(&mut create).unwrap().wait().unwrap();
    assert!(
        status.success(),
        "create failed: {}",
        fs::read_to_string(runtime.logs().join("sealed.err")).unwrap()
    );
    let pid: i64 = fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    let held = fs::File::open(format!("/proc/{pid}/exe")).unwrap();
    assert!(seal::is_sealed_exe(&held), "the init runs from the copy on disk");
    // While the init runs, the kernel refuses writers (ETXTBSY); the attack waits.
    runtime.ok(&["delete", "--force", &id]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(Instant::now() < deadline, "the init {pid} outlived delete --force");
        std::thread::sleep(Duration::from_millis(10));
    }
    let reopened = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&held));
    let written = fs::OpenOptions::new().write(true).open(&reopened).and_then(|mut f| f.write_all(b"pwned"));
    assert!(written.is_err(), "the host's root wrote to the init's executable");
    assert!(fs::read(&copy).unwrap() == before, "the runtime's binary on the host changed");
}
