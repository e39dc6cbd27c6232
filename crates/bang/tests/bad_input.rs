//! bang-oci given bad input (chapter 6): invalid config.json values, a missing or
//! unreadable bundle, unknown and hostile container ids, bad signals, a corrupt state
//! file, hooks that fail or hang, payloads that cannot run. Each must end in a clear
//! error naming the problem, a non-zero exit status, and nothing left behind: no state
//! directory, cgroup, mount or process. lifecycle.rs already covers a missing rootfs,
//! malformed JSON, a missing program, a duplicate id and a failing createRuntime hook.
//! Read the runtime-spec's runtime.md ("Errors") and config.md. Needs root:
//! `sudo -E env PATH="$PATH" cargo test -p bang --test bad_input`.

use std::fs;
use std::path::PathBuf;
use std::process::Stdio;

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups;
use bigbang_testkit::names::unique;
use bigbang_testkit::process::{alive, processes};
use bigbang_testkit::runtime::{assert_create_fails, assert_nothing_left, leftovers, Runtime};
use serde_json::{json, Value};

const SUITE: &str = "bad_input";

fn runtime() -> Runtime {
    Runtime::new(SUITE)
}

/// An edit of config.json that makes it invalid, and what the error must name.
struct Case {
    name: &'static str,
    edit: fn(&mut Value),
    needles: &'static [&'static str],
}

fn push(list: &mut Value, item: Value) {
    list.as_array_mut().unwrap().push(item);
}

/// Each invalid value fails `create` with the JSON path of the field and the value,
/// exit status 1, and nothing left.
#[test]
fn invalid_values_are_refused_by_field() {
    let cases = [
        Case {
            name: "bad namespace type",
            edit: |c| push(&mut c["linux"]["namespaces"], json!({ "type": "pdi" })),
            needles: &["linux.namespaces[5].type", "\"pdi\""],
        },
        Case {
            name: "namespace listed twice",
            edit: |c| push(&mut c["linux"]["namespaces"], json!({ "type": "pid" })),
            needles: &["linux.namespaces[5].type", "twice"],
        },
        Case {
            name: "relative mount destination",
            edit: |c| {
                push(&mut c["mounts"], json!({ "destination": "data", "type": "tmpfs", "source": "tmpfs" }))
            },
            needles: &["mounts[7].destination", "\"data\"", "absolute"],
        },
        Case {
            name: "unknown capability",
            edit: |c| push(&mut c["process"]["capabilities"]["effective"], json!("CAP_FLY")),
            needles: &["process.capabilities.effective[3]", "CAP_FLY"],
        },
        Case {
            name: "rlimit soft above hard",
            edit: |c| c["process"]["rlimits"][0]["soft"] = json!(2048),
            needles: &["process.rlimits[0].soft", "2048", "1024"],
        },
        Case {
            name: "rlimit given twice",
            edit: |c| {
                push(&mut c["process"]["rlimits"], json!({ "type": "RLIMIT_NOFILE", "hard": 10, "soft": 10 }))
            },
            needles: &["process.rlimits[1].type", "twice"],
        },
        Case {
            name: "rlimit above the host's hard limit",
            edit: |c| {
                c["process"]["rlimits"][0] =
                    json!({ "type": "RLIMIT_NOFILE", "hard": 1u64 << 40, "soft": 1024 })
            },
            needles: &["RLIMIT_NOFILE", "1099511627776"],
        },
        Case {
            name: "not a 1.x ociVersion",
            edit: |c| c["ociVersion"] = json!("2.0.0"),
            needles: &["ociVersion", "\"2.0.0\""],
        },
        Case {
            name: "global sysctl",
            edit: |c| c["linux"]["sysctl"] = json!({ "vm.swappiness": "10" }),
            needles: &["linux.sysctl[\"vm.swappiness\"]", "host"],
        },
        Case {
            name: "hostname without a uts namespace",
            edit: |c| {
                let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
                ns.retain(|n| n["type"] != "uts");
            },
            needles: &["hostname", "uts"],
        },
        Case {
            name: "uid mappings without a user namespace",
            edit: |c| c["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 1000, "size": 1 }]),
            needles: &["linux.uidMappings", "user namespace"],
        },
        Case {
            name: "a user namespace without mappings",
            edit: |c| push(&mut c["linux"]["namespaces"], json!({ "type": "user" })),
            needles: &["linux.uidMappings", "empty"],
        },
        Case {
            name: "relative hook path",
            edit: |c| c["hooks"] = json!({ "prestart": [{ "path": "true" }] }),
            needles: &["hooks.prestart[0].path", "\"true\""],
        },
        Case {
            name: "hook timeout of zero",
            edit: |c| c["hooks"] = json!({ "poststart": [{ "path": "/bin/true", "timeout": 0 }] }),
            needles: &["hooks.poststart[0].timeout", "0"],
        },
        Case {
            name: "env entry without =",
            edit: |c| push(&mut c["process"]["env"], json!("JUSTANAME")),
            needles: &["process.env[2]", "JUSTANAME"],
        },
        Case {
            name: "relative cwd",
            edit: |c| c["process"]["cwd"] = json!("tmp"),
            needles: &["process.cwd", "\"tmp\""],
        },
        Case {
            name: "empty args",
            edit: |c| c["process"]["args"] = json!([]),
            needles: &["process.args", "empty"],
        },
        Case {
            name: "unknown seccomp action",
            edit: |c| c["linux"]["seccomp"] = json!({ "defaultAction": "SCMP_ACT_EXPLODE" }),
            needles: &["linux.seccomp.defaultAction", "SCMP_ACT_EXPLODE"],
        },
        Case {
            name: "cpu shares out of range",
            edit: |c| c["linux"]["resources"]["cpu"] = json!({ "shares": 1 }),
            needles: &["linux.resources.cpu.shares", "1"],
        },
        Case {
            name: "oomScoreAdj out of range",
            edit: |c| c["process"]["oomScoreAdj"] = json!(2000),
            needles: &["process.oomScoreAdj", "2000"],
        },
        Case {
            name: "systemd cgroupsPath",
            edit: |c| c["linux"]["cgroupsPath"] = json!("machine.slice:libpod:1"),
            needles: &["linux.cgroupsPath", "machine.slice:libpod:1"],
        },
        Case {
            name: "rootfsPropagation without a mount namespace",
            edit: |c| {
                let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
                ns.retain(|n| n["type"] != "mount");
                c["linux"]["rootfsPropagation"] = json!("private");
            },
            needles: &["linux.rootfsPropagation", "mount namespace"],
        },
        Case {
            name: "no root",
            edit: |c| {
                c.as_object_mut().unwrap().remove("root");
            },
            needles: &["root", "missing"],
        },
        Case {
            name: "a wrong type",
            edit: |c| c["process"]["args"] = json!("sh -c true"),
            needles: &["config.json:", "sequence"],
        },
    ];
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    let pristine = fs::read_to_string(bundle.config_path()).unwrap();
    for (i, case) in cases.iter().enumerate() {
        fs::write(bundle.config_path(), &pristine).unwrap();
        bundle.edit(case.edit);
        let id = unique(&format!("invalid{i}"));
        let (status, err) = runtime.create(&bundle, &id, &[]);
        assert_eq!(status.code(), Some(1), "{}: {status}; {err}", case.name);
        assert!(err.starts_with("bang-oci: "), "{}: {err}", case.name);
        for needle in case.needles {
            assert!(err.contains(needle), "{}: the error does not name {needle:?}: {err}", case.name);
        }
        let left = leftovers(&runtime, &id, &bundle);
        assert!(left.is_empty(), "{} left: {left:?}", case.name);
    }
}

/// A config.json that is not an object, one cut short, a bundle without one and a
/// bundle that does not exist: each error names the file and what is wrong.
#[test]
fn unreadable_configurations_name_the_file() {
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    let config = bundle.config_path().display().to_string();
    fs::write(bundle.config_path(), "[]").unwrap();
    assert_create_fails(&runtime, &bundle, &unique("array"), &[&config, "JSON object"]);
    fs::write(bundle.config_path(), "{\"ociVersion\": \"1.0.2\", \"process\": {\"args\"").unwrap();
    assert_create_fails(&runtime, &bundle, &unique("truncated"), &[&config, ":1:"]);
    fs::remove_file(bundle.config_path()).unwrap();
    assert_create_fails(&runtime, &bundle, &unique("noconfig"), &[&config, "No such file"]);

    let missing = bundle.path().join("no-such-bundle");
    let id = unique("nobundle");
    let failure = runtime.fails(&["create", "--bundle", missing.to_str().unwrap(), &id]);
    assert_eq!(failure.code, Some(1));
    assert!(
        failure.stderr.contains(missing.to_str().unwrap()) && failure.stderr.contains("--bundle"),
        "{}",
        failure.stderr
    );
    assert_nothing_left(&runtime, &id, &bundle);
}

/// A rootfs that is a file, not a directory, fails `create` naming it.
#[test]
fn rootfs_that_is_a_file_is_refused() {
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    let file = bundle.path().join("rootfs-file");
    fs::write(&file, "not a directory").unwrap();
    let mut config = bundle.config();
    config["root"]["path"] = Value::from(file.to_str().unwrap());
    // Not bundle.edit, which points root.path back at the busybox rootfs.
    fs::write(bundle.config_path(), config.to_string()).unwrap();
    assert_create_fails(&runtime, &bundle, &unique("rootfs-file"), &[file.to_str().unwrap()]);
}

/// A root.path that is the host's own `/` (as "/", through a symbolic link in the
/// bundle, or by enough "..//") fails `create` in its checks, before the init is
/// started: the error names root.path and what to give instead, not pivot_root.
#[test]
fn rootfs_that_resolves_to_the_host_root_is_refused() {
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    std::os::unix::fs::symlink("/", bundle.path().join("host-root")).unwrap();
    let dots = "..//".repeat(bundle.path().components().count() + 2);
    for (i, root_path) in ["/", "host-root", dots.as_str()].into_iter().enumerate() {
        let mut config = bundle.config();
        config["root"]["path"] = Value::from(root_path);
        // Not bundle.edit, which points root.path back at the busybox rootfs.
        fs::write(bundle.config_path(), config.to_string()).unwrap();
        let err = assert_create_fails(
            &runtime,
            &bundle,
            &unique(&format!("rootfs-slash{i}")),
            &[root_path.trim_end_matches('/'), "host's own root directory", "root.path"],
        );
        assert!(!err.contains("pivot_root") && !err.contains("RootChange"), "{root_path}: {err}");
    }
}

/// A payload that cannot run fails `create` (not `start`), naming it in the kernel's
/// words (ENOENT, EACCES) that engines read: a file that is not executable, a
/// directory, a missing path, a name not on PATH, and a working directory that cannot
/// be made.
#[test]
fn payloads_that_cannot_run_fail_create() {
    let runtime = runtime();
    let bundle = Bundle::new(&["/etc/passwd"]);
    assert_create_fails(&runtime, &bundle, &unique("notexec"), &["\"/etc/passwd\"", "permission denied"]);
    bundle.set_args(&["/bin"]);
    assert_create_fails(&runtime, &bundle, &unique("dir"), &["\"/bin\"", "permission denied"]);
    // The words engines map to exit statuses (Docker: 127 and 126), as runc's.
    bundle.set_args(&["/no/such/program"]);
    assert_create_fails(
        &runtime,
        &bundle,
        &unique("missing"),
        &["\"/no/such/program\"", "no such file or directory"],
    );
    bundle.set_args(&["no-such-program"]);
    assert_create_fails(
        &runtime,
        &bundle,
        &unique("nopath"),
        &["\"no-such-program\"", "executable file not found"],
    );
    // A working directory is made when missing (runc_parity.rs), but not through a file.
    bundle.set_args(&["true"]);
    bundle.edit(|c| c["process"]["cwd"] = json!("/etc/passwd/dir"));
    assert_create_fails(&runtime, &bundle, &unique("nocwd"), &["/etc/passwd/dir", "process.cwd"]);
}

/// Every verb given an id no container has fails with exit status 1 and names the
/// id and the state root (`delete --force` excepted: it succeeds, as runc's does).
#[test]
fn unknown_ids_are_named_by_every_verb() {
    let runtime = runtime();
    let id = unique("nobody");
    for verb in [&["start"][..], &["state"], &["kill"], &["kill", "--all"], &["delete"]] {
        let args: Vec<&str> = verb.iter().copied().chain([id.as_str()]).collect();
        let failure = runtime.fails(&args);
        assert_eq!(failure.code, Some(1), "{args:?}");
        assert!(
            failure.stderr.contains(&format!("no container with id {id}")),
            "{args:?}: {}",
            failure.stderr
        );
        assert!(failure.stderr.contains(runtime.root().to_str().unwrap()), "{args:?}: {}", failure.stderr);
    }
    assert!(runtime.state_dirs().is_empty(), "{:?}", runtime.state_dirs());
}

/// Hostile ids (path escapes, empty, control characters, too long) are refused by
/// every verb before they become a path: nothing is created, read or removed outside
/// the state root, and nothing is left.
#[test]
fn hostile_ids_are_refused() {
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    // A directory next to the state root, which "../<name>" would reach.
    let outside_name = unique("bigbang-outside");
    let outside = runtime.root().parent().unwrap().join(&outside_name);
    let escape = format!("../{outside_name}");
    let long = "a".repeat(300);
    let huge = "b".repeat(5000);
    let cases: [(&str, &str); 8] = [
        (&escape, "does not start with a letter or digit"),
        ("", "it is empty"),
        ("a/b", "character other than"),
        (".hidden", "does not start with a letter or digit"),
        ("x\ny", "character other than"),
        ("caf\u{e9}", "character other than"),
        (&long, "longer than 200 bytes"),
        (&huge, "longer than 200 bytes"),
    ];
    for (id, why) in cases {
        let shown: String = id.chars().take(20).collect();
        let (status, err) = runtime.create(&bundle, id, &[]);
        assert_eq!(status.code(), Some(1), "create {shown:?}: {err}");
        assert!(err.contains(why), "create {shown:?}: {err}");
        assert!(err.len() < 1000, "create {shown:?}: a {} byte message", err.len());
        assert!(!outside.exists(), "create {shown:?} wrote outside the state root");
        assert!(runtime.state_dirs().is_empty(), "create {shown:?} left {:?}", runtime.state_dirs());
        assert!(cgroups::dirs_matching(|n| n == id || n.contains("bigbang-outside")).is_empty());
    }
    // The other verbs must not reach outside either: a directory that looks like a
    // container's is left alone by state, kill and a forced delete.
    fs::create_dir(&outside).unwrap();
    let _remove = RemoveDir(outside.clone());
    fs::write(outside.join("state.json"), "{}").unwrap();
    for verb in ["state", "start", "kill"] {
        let failure = runtime.fails(&[verb, &escape]);
        assert!(failure.stderr.contains("invalid container id"), "{verb}: {}", failure.stderr);
    }
    let failure = runtime.fails(&["delete", "--force", &escape]);
    assert!(failure.stderr.contains("invalid container id"), "{}", failure.stderr);
    assert!(outside.join("state.json").exists(), "delete --force removed a directory outside the state root");
    // An id that looks like an option is the command line's problem, said as such.
    let failure = runtime.fails(&["create", "--bundle", bundle.path().to_str().unwrap(), "-x"]);
    assert_eq!(failure.code, Some(2));
    assert!(failure.stderr.contains("'-x'"), "{}", failure.stderr);
}

/// Signals that do not exist are refused by name, and the container is untouched.
#[test]
fn bad_signals_are_refused() {
    let runtime = runtime();
    let bundle = Bundle::new(&["sleep", "30"]);
    let id = unique("badsignal");
    runtime.created(&bundle, &id);
    let pid = runtime.pid(&id);
    for signal in ["FOO", "SIGFOO", "0", "65", "9x", ""] {
        let failure = runtime.fails(&["kill", &id, signal]);
        assert_eq!(failure.code, Some(1), "{signal:?}");
        assert!(
            failure.stderr.contains(&format!("unknown signal {signal:?}")),
            "{signal:?}: {}",
            failure.stderr
        );
    }
    assert_eq!(runtime.state(&id)["status"], "created");
    assert!(alive(pid));
}

/// Removes a directory the test made, when dropped.
struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes `contents` back to `path` when dropped.
struct Restore {
    path: PathBuf,
    contents: String,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = fs::write(&self.path, &self.contents);
    }
}

/// The state file made corrupt (emptied, garbage, another container's, removed):
/// every verb fails naming the file and saying what to do, changes nothing (the init
/// still lives, the directory and cgroup stay), and `list` still lists the others.
/// Put back, the container is deleted as usual.
#[test]
fn corrupt_state_files_are_named_and_left_alone() {
    let runtime = runtime();
    let bundle = Bundle::new(&["sleep", "30"]);
    let id = unique("corrupt");
    let healthy = unique("healthy");
    runtime.created(&bundle, &id);
    runtime.created(&bundle, &healthy);
    let pid = runtime.pid(&id);
    let file = runtime.root().join(&id).join("state.json");
    let good = fs::read_to_string(&file).unwrap();
    // Dropped before `runtime`: puts the file back even if an assertion fails, so that
    // the runtime's own clean-up (delete --force) can find the container.
    let _restore = Restore { path: file.clone(), contents: good.clone() };
    let other: String = {
        let mut record: Value = serde_json::from_str(&good).unwrap();
        record["id"] = json!("someone-else");
        record.to_string()
    };
    for (what, contents, why) in [
        ("emptied", Some(String::new()), "is corrupt"),
        ("garbage", Some("{garbage".to_string()), "is corrupt"),
        ("another container's", Some(other), "belongs to container \"someone-else\""),
        ("removed", None, "is missing"),
    ] {
        match contents {
            Some(text) => fs::write(&file, text).unwrap(),
            None => fs::remove_file(&file).unwrap(),
        }
        for verb in [&["state"][..], &["start"], &["kill"], &["delete"], &["delete", "--force"]] {
            let args: Vec<&str> = verb.iter().copied().chain([id.as_str()]).collect();
            let failure = runtime.fails(&args);
            assert_eq!(failure.code, Some(1), "{what}, {args:?}");
            assert!(
                failure.stderr.contains(file.to_str().unwrap()) && failure.stderr.contains(why),
                "{what}, {args:?}: {}",
                failure.stderr
            );
        }
        assert!(alive(pid), "{what}: the init was killed");
        assert!(runtime.root().join(&id).is_dir(), "{what}: the state directory was removed");
        assert!(!cgroups::leftovers(&id).is_empty(), "{what}: the cgroup was removed");
        let listed = runtime.cmd().arg("list").stdin(Stdio::null()).output().unwrap();
        assert!(listed.status.success(), "{what}: list failed");
        let rows: Vec<String> =
            String::from_utf8_lossy(&listed.stdout).lines().skip(1).map(str::to_string).collect();
        assert!(rows.len() == 1 && rows[0].starts_with(&healthy), "{what}: {rows:?}");
        let skipped = String::from_utf8_lossy(&listed.stderr).into_owned();
        assert!(
            skipped.contains(&id) && skipped.contains(why),
            "{what}: list does not say what it skipped: {skipped}"
        );
    }
    fs::write(&file, &good).unwrap();
    runtime.ok(&["delete", &id]);
    runtime.ok(&["delete", &healthy]);
    assert!(!alive(pid));
    assert_nothing_left(&runtime, &id, &bundle);
}

/// A hook that does not exist, and one that outlives its timeout, fail `create`
/// naming the hook; the hung one is killed with its process group: nothing is left.
#[test]
fn hooks_that_cannot_run_or_hang_fail_create() {
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    bundle.edit(|c| c["hooks"] = json!({ "createRuntime": [{ "path": "/no/such/hook" }] }));
    assert_create_fails(&runtime, &bundle, &unique("nohook"), &["createRuntime hook #0", "/no/such/hook"]);

    // A sleep with a number no other test uses, to find it among the processes.
    let marker = format!("{}", 900_000 + std::process::id() % 100_000);
    bundle.edit(|c| {
        c["hooks"] = json!({ "prestart": [{
            "path": "/bin/sh", "args": ["sh", "-c", format!("sleep {marker} & wait")], "timeout": 1,
        }] });
    });
    assert_create_fails(&runtime, &bundle, &unique("hunghook"), &["prestart hook #0", "timeout of 1 s"]);
    let sleepers: Vec<i32> = processes()
        .into_iter()
        .map(|p| p.pid)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&marker))
                .unwrap_or(false)
        })
        .collect();
    assert!(sleepers.is_empty(), "the hung hook's child still runs: {sleepers:?}");
}

/// A console socket without a terminal, a terminal without a console socket, and a
/// console socket nobody listens on: each refused naming the flag or the socket,
/// before anything is left.
#[test]
fn console_socket_mismatches_are_refused() {
    let runtime = runtime();
    let bundle = Bundle::new(&["true"]);
    let socket = runtime.logs().join("nobody-listens.sock");
    let socket = socket.to_str().unwrap();
    let create = |id: &str, extra: &[&str]| {
        let mut args = vec!["create", "--bundle", bundle.path().to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(id);
        let failure = runtime.fails(&args);
        assert_eq!(failure.code, Some(1), "{args:?}");
        assert_nothing_left(&runtime, id, &bundle);
        failure.stderr
    };
    let err = create(&unique("console-noterm"), &["--console-socket", socket]);
    assert!(err.contains("--console-socket") && err.contains(socket), "{err}");
    bundle.edit(|c| c["process"]["terminal"] = json!(true));
    let err = create(&unique("console-nosocket"), &[]);
    assert!(err.contains("process.terminal") && err.contains("--console-socket"), "{err}");
    let err = create(&unique("console-nolistener"), &["--console-socket", socket]);
    assert!(err.contains(socket), "{err}");
}
