//! The container state, its status machine and the state directory store
//! (chapter 6), black-box, in tempdirs; pid reuse against fixture /proc trees.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use bigbang_container::lifecycle::state::{
    read_proc_stat, ContainerRecord, InitProcess, State, StateError, Status,
};
use bigbang_container::lifecycle::store::{
    validate_id, write_pid_file, Store, StoreError, MAX_ID_LEN, STATE_FILE,
};

fn record(id: &str) -> ContainerRecord {
    ContainerRecord {
        id: id.to_string(),
        oci_version: "1.2.0".to_string(),
        status: Status::Created,
        init: Some(InitProcess { pid: 4242, start_time: 777 }),
        bundle: PathBuf::from("/containers/redis"),
        rootfs: PathBuf::from("/containers/redis/rootfs"),
        cgroup_path: Some(PathBuf::from("bigbang/test")),
        cgroup_joined: false,
        created: SystemTime::now(),
        owner: 0,
        annotations: BTreeMap::from([("myKey".to_string(), "myValue".to_string())]),
        host_view: None,
    }
}

/// The names in a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A store in a fresh tempdir: (guard, the tempdir, the store rooted at tempdir/state).
fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state")).unwrap();
    (dir, store)
}

/// Ids that would escape the root or that runc refuses are rejected by every entry point, and nothing is created.
#[test]
fn hostile_ids_are_rejected_everywhere() {
    let (dir, store) = store();
    let long = "a".repeat(2000);
    for id in ["../x", "/etc", long.as_str(), "", "a/b", ".", "..", "-rf", "a b", "a\0b", ".hidden", "é"] {
        assert!(matches!(validate_id(id), Err(StoreError::InvalidId { .. })), "validate_id accepted {id:?}");
        let mut bad = record("placeholder");
        bad.id = id.to_string();
        assert!(matches!(store.create(&bad), Err(StoreError::InvalidId { .. })), "create accepted {id:?}");
        assert!(matches!(store.load(id), Err(StoreError::InvalidId { .. })), "load accepted {id:?}");
        assert!(matches!(store.lock(id), Err(StoreError::InvalidId { .. })), "lock accepted {id:?}");
    }
    let message = validate_id(&long).unwrap_err().to_string();
    assert!(message.len() < 400, "a 2000-byte id must not become a 2000-byte message: {message}");
    assert_eq!(entries(dir.path()), ["state"]);
    assert!(entries(store.root()).is_empty());
}

/// Ordinary ids are accepted, up to 200 bytes; the longest makes a real state
/// directory (its temporary name must fit in NAME_MAX too).
#[test]
fn ordinary_ids_are_accepted() {
    let long = "a".repeat(MAX_ID_LEN);
    for id in ["a", "redis", "abc-1.2_3", "0123456789abcdef0123456789abcdef", long.as_str()] {
        validate_id(id).unwrap_or_else(|e| panic!("{id:?} was refused: {e}"));
    }
    assert!(validate_id(&"a".repeat(MAX_ID_LEN + 1)).is_err());
    let (_dir, store) = store();
    let lock =
        store.create(&record(&long)).unwrap_or_else(|e| panic!("the longest id cannot be stored: {e}"));
    lock.remove().unwrap();
}

/// A created container loads back equal, and its directory holds exactly the lock and state.json.
#[test]
fn create_then_load_round_trips() {
    let (_dir, store) = store();
    let original = record("roundtrip");
    drop(store.create(&original).unwrap());
    assert_eq!(store.load("roundtrip").unwrap(), original);
    assert_eq!(entries(&store.root().join("roundtrip")), ["lock", "state.json"]);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(store.root()), 0o700, "the state root must be private");
    assert_eq!(mode(&store.root().join("roundtrip/state.json")), 0o600);
}

/// The pid file holds the decimal pid, replaces an old one whole, and leaves no temporary file.
#[test]
fn pid_file_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("container.pid");
    write_pid_file(&path, 4242).unwrap();
    write_pid_file(&path, 77).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "77");
    assert_eq!(entries(dir.path()), ["container.pid"]);
    let missing_dir = dir.path().join("no/such/dir/container.pid");
    assert!(matches!(write_pid_file(&missing_dir, 1), Err(StoreError::Write { .. })));
    assert_eq!(entries(dir.path()), ["container.pid"]);
}

/// A second create with the same id fails with Duplicate and leaves the first container untouched.
#[test]
fn duplicate_create_is_refused() {
    let (_dir, store) = store();
    let first = record("dup");
    drop(store.create(&first).unwrap());
    let mut second = record("dup");
    second.bundle = PathBuf::from("/elsewhere");
    assert!(matches!(store.create(&second), Err(StoreError::Duplicate { id, .. }) if id == "dup"));
    assert_eq!(store.load("dup").unwrap(), first);
    assert_eq!(entries(store.root()), ["dup"], "no staging directory may be left behind");
}

/// An id nobody created gives UnknownId from load and lock, naming the id.
#[test]
fn unknown_id_is_a_clear_error() {
    let (_dir, store) = store();
    assert!(matches!(store.load("ghost"), Err(StoreError::UnknownId { id, .. }) if id == "ghost"));
    let err = store.lock("ghost").unwrap_err();
    assert!(matches!(err, StoreError::UnknownId { .. }));
    assert!(err.to_string().contains("ghost"));
}

/// Truncated, garbage and empty state files give Corrupt naming the file, and list still lists the rest.
#[test]
fn corrupt_state_files_are_reported_not_fatal() {
    let (_dir, store) = store();
    drop(store.create(&record("healthy")).unwrap());
    for (id, damage) in [("truncated", "half"), ("garbage", "garbage"), ("empty", "empty")] {
        drop(store.create(&record(id)).unwrap());
        let path = store.root().join(id).join(STATE_FILE);
        let bytes = fs::read(&path).unwrap();
        let contents: Vec<u8> = match damage {
            "half" => bytes[..bytes.len() / 2].to_vec(),
            "garbage" => b"\x00\xffnot json at all".to_vec(),
            _ => Vec::new(),
        };
        fs::write(&path, contents).unwrap();
        let err = store.load(id).unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt { path: p, .. } if *p == path), "{id}: {err:?}");
        assert!(err.to_string().contains(&path.display().to_string()));
    }
    let listing = store.list().unwrap();
    let ids: Vec<&str> = listing.containers.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["healthy"]);
    let broken: Vec<&str> = listing.broken.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(broken, ["empty", "garbage", "truncated"]);
    assert!(listing.broken.iter().all(|(_, e)| matches!(e, StoreError::Corrupt { .. })));
}

/// A state file whose id is not its directory's name is refused rather than trusted.
#[test]
fn state_file_of_another_container_is_refused() {
    let (_dir, store) = store();
    drop(store.create(&record("one")).unwrap());
    fs::create_dir(store.root().join("two")).unwrap();
    fs::copy(store.root().join("one/state.json"), store.root().join("two/state.json")).unwrap();
    assert!(matches!(store.load("two"), Err(StoreError::IdMismatch { .. })));
    let lock = store.lock("one").unwrap();
    assert!(matches!(lock.save(&record("two")), Err(StoreError::IdMismatch { .. })));
}

/// list is sorted by id and skips the hidden staging directories of a create in progress.
#[test]
fn list_is_sorted_and_skips_staging() {
    let (_dir, store) = store();
    for id in ["charlie", "alpha", "bravo"] {
        drop(store.create(&record(id)).unwrap());
    }
    fs::create_dir(store.root().join(".delta.creating-1-0")).unwrap();
    let listing = store.list().unwrap();
    let ids: Vec<&str> = listing.containers.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["alpha", "bravo", "charlie"]);
    assert!(listing.broken.is_empty());
}

/// Locked read-modify-write from several threads loses no update, and an unlocked reader never sees torn JSON.
#[test]
fn concurrent_saves_from_threads_never_tear() {
    let (_dir, store) = store();
    drop(store.create(&record("counter")).unwrap());
    let (threads, rounds) = (4, 50);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut reads = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                store.load("counter").expect("a reader saw a torn or missing state file");
                reads += 1;
            }
            reads
        });
        let writers: Vec<_> =
            (0..threads).map(|_| s.spawn(|| increment(&store, "counter", rounds))).collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    assert_eq!(count(&store, "counter"), threads * rounds);
    assert_eq!(entries(&store.root().join("counter")), ["lock", "state.json"], "temp files left behind");
}

/// The same from several processes (this test binary re-run as a helper): flock works across processes.
#[test]
fn concurrent_saves_from_processes_lose_nothing() {
    let (_dir, store) = store();
    drop(store.create(&record("shared")).unwrap());
    let (processes, rounds) = (3, 30);
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "helper_increment_in_another_process", "--ignored", "--test-threads=1"])
                .env("BANG_OCI_TEST_ROOT", store.root())
                .env("BANG_OCI_TEST_ROUNDS", rounds.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a helper process failed");
    }
    assert_eq!(count(&store, "shared"), processes * rounds);
}

/// Helper for the test above (does nothing unless run by it).
#[test]
#[ignore = "helper: run by concurrent_saves_from_processes_lose_nothing"]
fn helper_increment_in_another_process() {
    let (Some(root), Some(rounds)) =
        (std::env::var_os("BANG_OCI_TEST_ROOT"), std::env::var("BANG_OCI_TEST_ROUNDS").ok())
    else {
        return;
    };
    increment(&Store::open(Path::new(&root)).unwrap(), "shared", rounds.parse().unwrap());
}

fn increment(store: &Store, id: &str, rounds: usize) {
    for _ in 0..rounds {
        let lock = store.lock(id).unwrap();
        let mut rec = lock.load().unwrap();
        let n: usize = rec.annotations.get("n").map_or(0, |n| n.parse().unwrap());
        rec.annotations.insert("n".into(), (n + 1).to_string());
        lock.save(&rec).unwrap();
    }
}

fn count(store: &Store, id: &str) -> usize {
    store.load(id).unwrap().annotations["n"].parse().unwrap()
}

/// remove deletes the container's directory, after which the id is unknown and the root is empty.
#[test]
fn remove_leaves_nothing_behind() {
    let (dir, store) = store();
    let lock = store.create(&record("gone")).unwrap();
    fs::write(lock.dir().join(".state.json.99-1"), b"{").unwrap(); // a crashed save's temp file
    lock.remove().unwrap();
    assert!(entries(store.root()).is_empty());
    assert_eq!(entries(dir.path()), ["state"]);
    assert!(matches!(store.load("gone"), Err(StoreError::UnknownId { .. })));
    drop(store.create(&record("gone")).unwrap()); // the id is free again
}

/// remove refuses to delete files it did not create, and leaves them in place.
#[test]
fn remove_leaves_foreign_files_alone() {
    let (_dir, store) = store();
    let lock = store.create(&record("shared-dir")).unwrap();
    let foreign = lock.dir().join("notes.txt");
    fs::write(&foreign, b"mine").unwrap();
    assert!(matches!(lock.remove(), Err(StoreError::ForeignFiles { .. })));
    assert_eq!(fs::read(&foreign).unwrap(), b"mine");
}

/// A process waiting for the lock while the holder deletes the container gets UnknownId, not a stale lock.
#[test]
fn lock_waiter_sees_a_deleted_container_as_unknown() {
    let (_dir, store) = store();
    let held = store.create(&record("racing")).unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| store.lock("racing").map(|_| ()));
        held.remove().unwrap();
        assert!(matches!(waiter.join().unwrap(), Err(StoreError::UnknownId { .. })));
    });
}

/// The status machine allows exactly the lifecycle's transitions.
#[test]
fn status_transitions_table() {
    use Status::*;
    // rows: from; columns: to, in Status::ALL order (creating, created, running, paused, stopped)
    let table = [
        (Creating, [false, true, false, false, true]),
        (Created, [false, false, true, false, true]),
        (Running, [false, false, false, true, true]),
        (Paused, [false, false, true, false, true]),
        (Stopped, [false, false, false, false, false]),
    ];
    for (from, row) in table {
        for (to, allowed) in Status::ALL.into_iter().zip(row) {
            assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
            assert_eq!(from.transition(to).is_ok(), allowed, "{from} -> {to}");
        }
    }
    assert!(matches!(Stopped.transition(Running), Err(StateError::IllegalTransition { .. })));
}

/// The OCI state serializes with exactly runtime.md's field names, and omits the pid once stopped.
#[test]
fn state_json_has_runtime_md_field_names() {
    let rec = record("oci-container1");
    let json: serde_json::Value = serde_json::to_value(rec.state(Status::Running)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "ociVersion": "1.2.0",
            "id": "oci-container1",
            "status": "running",
            "pid": 4242,
            "bundle": "/containers/redis",
            "annotations": {"myKey": "myValue"}
        })
    );
    let stopped: serde_json::Value = serde_json::to_value(rec.state(Status::Stopped)).unwrap();
    assert_eq!(stopped["status"], "stopped");
    assert!(stopped.get("pid").is_none());
    let back: State = serde_json::from_value(json).unwrap();
    assert_eq!(back, rec.state(Status::Running));
    assert_eq!(serde_json::to_value(Status::Paused).unwrap(), "paused");
}

/// A /proc/<pid>/stat line with 52 fields, `comm` and the fields that matter filled in.
fn stat_line(pid: i32, comm: &str, state: char, start_time: u64) -> String {
    let mut fields: Vec<String> = (4..=52).map(|_| "0".to_string()).collect();
    fields[22 - 4] = start_time.to_string();
    format!("{pid} ({comm}) {state} {}\n", fields.join(" "))
}

fn fixture_proc(processes: &[(i32, &str, char, u64)]) -> tempfile::TempDir {
    let proc_root = tempfile::tempdir().unwrap();
    for &(pid, comm, state, start) in processes {
        let dir = proc_root.path().join(pid.to_string());
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("stat"), stat_line(pid, comm, state, start)).unwrap();
    }
    proc_root
}

/// The live status: same pid and start time keeps the status; gone, reused or zombie reads as stopped.
#[test]
fn live_status_detects_exit_pid_reuse_and_zombies() {
    let proc_root =
        fixture_proc(&[(100, "init", 'S', 5000), (200, "reused", 'S', 9999), (300, "dead", 'Z', 7000)]);
    let with = |status, init: Option<(i32, u64)>| ContainerRecord {
        status,
        init: init.map(|(pid, start_time)| InitProcess { pid, start_time }),
        ..record("live")
    };
    let cases = [
        (with(Status::Running, Some((100, 5000))), Status::Running, "alive"),
        (with(Status::Created, Some((100, 5000))), Status::Created, "alive, waiting for start"),
        (with(Status::Paused, Some((100, 5000))), Status::Paused, "alive, frozen"),
        (with(Status::Running, Some((200, 1234))), Status::Stopped, "pid reused by another process"),
        (with(Status::Running, Some((300, 7000))), Status::Stopped, "zombie"),
        (with(Status::Running, Some((400, 5000))), Status::Stopped, "no such pid"),
        (with(Status::Creating, None), Status::Stopped, "create crashed before the init"),
        (with(Status::Stopped, Some((100, 5000))), Status::Stopped, "stopped stays stopped"),
    ];
    for (rec, expected, why) in cases {
        assert_eq!(rec.live_status(proc_root.path()).unwrap(), expected, "{why}");
    }
}

/// /proc/<pid>/stat is split after the last ')', so a command name with spaces and parentheses parses.
#[test]
fn proc_stat_with_a_hostile_command_name() {
    let proc_root = fixture_proc(&[(100, "a) S 1 (b", 'R', 4242)]);
    let stat = read_proc_stat(100, proc_root.path()).unwrap().unwrap();
    assert_eq!((stat.state, stat.start_time), ('R', 4242));
    assert!(read_proc_stat(101, proc_root.path()).unwrap().is_none());
    fs::write(proc_root.path().join("100/stat"), "100 (x) S 1 2").unwrap();
    assert!(matches!(read_proc_stat(100, proc_root.path()), Err(StateError::ParseStat { .. })));
}

/// Against the real /proc: this process is alive under its own identity, and not under another start time.
#[test]
fn real_proc_identity_of_this_process() {
    let me = InitProcess::of(std::process::id() as i32, Path::new("/proc")).unwrap();
    assert!(me.is_alive(Path::new("/proc")).unwrap());
    let impostor = InitProcess { start_time: me.start_time + 1, ..me };
    assert!(!impostor.is_alive(Path::new("/proc")).unwrap());
}
