//! bang-oci next to runc (chapter 6): the same bundles, written by `runc spec` and
//! adapted as runc's own documentation says (no terminal, our args, our rootfs), run
//! under runc 1.1.5 and under bang-oci, must give the same observable results: the
//! state JSON, exit codes, hook failures, and what the payload sees (its mounts,
//! capabilities, hostname, devices, masked and read-only paths, limits, ids,
//! environment, descriptors). Where they differ on purpose, the difference is named
//! in [`KNOWN_DIFFERENCES`] and left out of the comparison, never hidden. lifecycle.rs
//! has the first comparison (run exit codes 0, 3, 255 and the created state).
//! Needs root and runc: `sudo -E env PATH="$PATH" cargo test -p bang --test runc_parity`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups;
use bigbang_testkit::mounts;
use bigbang_testkit::names::unique;
use bigbang_testkit::payload::{probe_args, sections};
use bigbang_testkit::process::{status_line, wait_bounded};
use bigbang_testkit::runtime::{runc_path, Runtime};
use bigbang_testkit::wait::PATIENCE;
use serde_json::{json, Value};

const SUITE: &str = "runc_parity";

/// What bang-oci does differently from runc 1.1.5, on purpose or as runc's own
/// deviation from the specification, and is therefore not compared.
pub const KNOWN_DIFFERENCES: &[&str] = &[
    "the tmpfs at /sys/fs/cgroup of a `ro` cgroup mount on a v1 (or hybrid) host: runc 1.1.5 leaves it \
     read-write with mode 0555 (a root payload with CAP_DAC_OVERRIDE can write into it), bang-oci remounts \
     it read-only; the hierarchies bound below it are compared",
    "the cgroup a container without linux.cgroupsPath gets: runc nests it below runc's own cgroup in each \
     hierarchy (<own>/<id>), bang-oci makes bang-oci/<id> at each hierarchy's root",
    "the propagation of the container's root when linux.rootfsPropagation is absent: runc makes it rslave \
     (master:N in mountinfo), bang-oci rprivate",
    "state: runc adds rootfs, created and owner, which the runtime-spec's State does not have, and prints \
     \"pid\": 0 for a stopped container, where bang-oci leaves pid out (the spec requires it only while \
     created or running)",
    "a failing poststart hook: runc 1.1.5 fails `create` (sic), bang-oci warns at `start` as runtime.md says",
];

/// bang-oci and runc, each with a state root of its own.
struct Pair {
    ours: Runtime,
    runc: Runtime,
}

impl Pair {
    fn new() -> Pair {
        Pair { ours: Runtime::new(SUITE), runc: Runtime::runc(SUITE) }
    }

    fn both(&self) -> [&Runtime; 2] {
        [&self.runc, &self.ours]
    }
}

/// A bundle whose config.json `runc spec` wrote, running `args`.
fn runc_bundle(args: &[&str]) -> Bundle {
    Bundle::spec_by(&runc_path(), args)
}

/// The state of a container, without the fields only runc prints (see
/// [`KNOWN_DIFFERENCES`]), with its id and pid replaced by placeholders that the
/// caller checked.
fn comparable_state(mut state: Value, id: &str) -> Value {
    let object = state.as_object_mut().unwrap();
    for extra in ["rootfs", "created", "owner"] {
        object.remove(extra);
    }
    assert_eq!(object.remove("id"), Some(json!(id)));
    match object.remove("pid") {
        Some(pid) if pid.as_i64().unwrap() > 0 => {
            object.insert("pid".into(), json!("a live pid"));
        }
        // runc's "pid": 0 for a stopped container is bang-oci's absent pid.
        Some(pid) if pid == 0 => {}
        None => {}
        Some(other) => panic!("pid {other}"),
    }
    state
}

/// `state` of a created, a running and a stopped container: the same ociVersion,
/// status, bundle and annotations, a live pid while created or running, and the
/// container's own id; bang-oci prints no field runc does not.
#[test]
fn state_fields_agree() {
    let pair = Pair::new();
    let bundle = runc_bundle(&["sleep", "30"]);
    bundle.edit(|c| c["annotations"] = json!({ "org.bigbang.parity": "yes", "empty": "" }));
    let mut seen: Vec<BTreeMap<&str, Value>> = Vec::new();
    for runtime in pair.both() {
        let id = unique(&format!("state-{}", runtime.name()));
        let mut states = BTreeMap::new();
        runtime.created(&bundle, &id);
        states.insert("created", runtime.state(&id));
        runtime.ok(&["start", &id]);
        states.insert("running", runtime.wait_status(&id, "running"));
        runtime.ok(&["kill", &id, "KILL"]);
        states.insert("stopped", runtime.wait_status(&id, "stopped"));
        runtime.ok(&["delete", &id]);
        let ours_keys: BTreeSet<String> = states["created"].as_object().unwrap().keys().cloned().collect();
        seen.push(states.into_iter().map(|(k, v)| (k, comparable_state(v, &id))).collect());
        if runtime.name() == "bang-oci" {
            let runc_keys =
                ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"];
            for key in ours_keys {
                assert!(runc_keys.contains(&key.as_str()), "bang-oci's state has {key}, runc's has not");
            }
        }
    }
    assert_eq!(seen[1], seen[0], "bang-oci's states (right) differ from runc's (left)");
    assert_eq!(
        seen[0]["created"]["bundle"],
        Value::from(fs::canonicalize(bundle.path()).unwrap().to_str().unwrap())
    );
}

/// `run` passes the payload's exit code through, and reports a payload killed with
/// SIGKILL as 137, under both runtimes; a payload that does not exist fails both.
#[test]
fn exit_codes_agree() {
    let pair = Pair::new();
    for code in [1, 42] {
        let bundle = runc_bundle(&["sh", "-c", &format!("exit {code}")]);
        for runtime in pair.both() {
            let id = unique(&format!("exit{code}-{}", runtime.name()));
            let status = runtime
                .cmd()
                .args(["run", "--bundle"])
                .arg(bundle.path())
                .arg(&id)
                .stdin(Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.code(), Some(code), "{}", runtime.name());
        }
    }
    let bundle = runc_bundle(&["sleep", "30"]);
    for runtime in pair.both() {
        let id = unique(&format!("killed-{}", runtime.name()));
        let mut run = runtime
            .cmd()
            .args(["run", "--bundle"])
            .arg(bundle.path())
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + PATIENCE;
        while runtime
            .cmd()
            .args(["state", &id])
            .output()
            .map(|o| !String::from_utf8_lossy(&o.stdout).contains("running"))
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "{} never ran {id}", runtime.name());
            std::thread::sleep(Duration::from_millis(20));
        }
        runtime.ok(&["kill", &id, "KILL"]);
        assert_eq!(wait_bounded(&mut run).code(), Some(137), "{}", runtime.name());
    }
    let bundle = runc_bundle(&["/no/such/program"]);
    for runtime in pair.both() {
        let id = unique(&format!("missing-{}", runtime.name()));
        let status = runtime
            .cmd()
            .args(["run", "--bundle"])
            .arg(bundle.path())
            .arg(&id)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{}", runtime.name());
        assert!(runtime.state_dirs().is_empty(), "{} left {:?}", runtime.name(), runtime.state_dirs());
    }
}

/// The per-mount flags compared: what a container can observe about a mount.
const FLAGS: &[&str] = &["ro", "nosuid", "nodev", "noexec"];

/// The mounts a payload saw, as (mount point, type, flags), less the known
/// difference of the tmpfs at /sys/fs/cgroup (the mounts below it are compared).
fn comparable_mounts(mountinfo: &str) -> BTreeSet<(PathBuf, String, Vec<String>)> {
    mounts::parse(mountinfo)
        .into_iter()
        .filter(|m| m.mount_point != Path::new("/sys/fs/cgroup"))
        .map(|m| {
            let flags = m.options.into_iter().filter(|o| FLAGS.contains(&o.as_str())).collect();
            (m.mount_point, m.fstype, flags)
        })
        .collect()
}

/// The payload of the default configuration, as `runc spec` writes it, sees the same
/// container under both runtimes: the same mounts (points, types, flags), the same
/// capabilities, no_new_privs, seccomp mode, ids and groups, hostname, device nodes,
/// masked and read-only paths, limits, umask, working directory, environment and
/// descriptors of PID 1.
#[test]
fn payloads_see_the_same_container() {
    let pair = Pair::new();
    let bundle = runc_bundle(&["true"]);
    bundle.edit(|c| c["linux"]["resources"]["memory"] = json!({ "limit": 64 << 20 }));
    let config = bundle.config();
    let masked: Vec<String> = config["linux"]["maskedPaths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let masked_probe: Vec<String> = masked
        .iter()
        .map(|p| {
            format!(
                "if [ -d {p} ]; then echo \"{p} dir $(ls -A {p} | wc -l)\"; elif [ -e {p} ]; then echo \"{p} file $(head -c 4096 {p} | wc -c)\"; else echo \"{p} absent\"; fi"
            )
        })
        .collect();
    let commands: Vec<(&str, String)> = vec![
        ("status", "grep -E '^(Cap|NoNewPrivs|Seccomp|Uid|Gid|Groups)' /proc/self/status".into()),
        ("mountinfo", "cat /proc/self/mountinfo".into()),
        ("hostname", "hostname".into()),
        ("dev", "ls -l /dev | awk '{print $1, $3, $4, $5, $6, $NF}'".into()),
        ("masked", masked_probe.join("; ")),
        ("limits", "cat /proc/self/limits".into()),
        ("id", "id".into()),
        ("umask", "umask".into()),
        ("cwd", "pwd".into()),
        ("env", "env | sort".into()),
        ("fds", "ls /proc/1/fd".into()),
        ("write", "touch /probe 2>&1 | sed 's/.*: //'".into()),
        // Kind and name of each entry, and the limits file of the memory cgroup (v1).
        ("cgroupfs", "ls -l /sys/fs/cgroup | awk 'NR > 1 {print substr($1, 1, 1), $NF}'".into()),
        (
            "memory",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null".into(),
        ),
    ];
    let commands: Vec<(&str, &str)> = commands.iter().map(|(n, c)| (*n, c.as_str())).collect();
    bundle.set_args(&probe_args(&commands));
    let mut seen = Vec::new();
    for runtime in pair.both() {
        let id = unique(&format!("payload-{}", runtime.name()));
        let mut sections = sections(&runtime.run_to_end(&bundle, &id));
        let mounts = comparable_mounts(&sections.remove("mountinfo").unwrap());
        seen.push((sections, mounts));
    }
    let (runc, ours) = (&seen[0], &seen[1]);
    assert_eq!(ours.1, runc.1, "the mounts differ (bang-oci left, runc right)");
    for (name, theirs) in &runc.0 {
        assert_eq!(&ours.0[name], theirs, "{name} differs (bang-oci left, runc right)");
    }
    // The comparison must have compared something.
    assert!(runc.0["status"].contains("CapEff:\t0000000020000420"), "{}", runc.0["status"]);
    assert!(runc.1.iter().any(|(point, kind, _)| point == Path::new("/proc") && kind == "proc"));
    assert_eq!(runc.0["memory"].trim(), (64 << 20).to_string(), "the limit is visible inside under runc");
}

/// The same user namespace configuration (root mapped to 100000, 65536 ids) gives the
/// same id maps, ids and capabilities under both runtimes, seen from the host.
#[test]
fn user_namespaces_agree() {
    let pair = Pair::new();
    let bundle = runc_bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "user" }));
        let map = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    });
    let mut seen = Vec::new();
    for runtime in pair.both() {
        let id = unique(&format!("userns-{}", runtime.name()));
        let pid = runtime.start_running(&bundle, &id);
        let read = |file: &str| fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
        let status = read("status");
        let fields: Vec<String> = ["Uid", "Gid", "CapEff", "CapBnd", "CapPrm", "NoNewPrivs"]
            .iter()
            .map(|f| format!("{f} {}", status_line(&status, f).unwrap()))
            .collect();
        seen.push((read("uid_map"), read("gid_map"), fields));
        runtime.ok(&["delete", "--force", &id]);
    }
    assert_eq!(seen[1], seen[0], "bang-oci (right) differs from runc (left)");
}

/// Failing hooks end the same way under both (where runc follows runtime.md): a
/// failing prestart or createContainer hook fails `create` and leaves no container; a
/// failing startContainer hook lets `start` succeed but the payload never runs; a
/// failing poststop hook lets `delete` succeed. (poststart: see [`KNOWN_DIFFERENCES`].)
#[test]
fn hook_failures_agree() {
    let pair = Pair::new();
    let failing = json!([{ "path": "/bin/false", "args": ["false"] }]);
    for kind in ["prestart", "createContainer"] {
        let bundle = runc_bundle(&["true"]);
        bundle.edit(|c| c["hooks"] = json!({ kind: failing }));
        for runtime in pair.both() {
            let id = unique(&format!("{kind}-{}", runtime.name()));
            let (status, err) = runtime.create(&bundle, &id, &[]);
            assert_eq!(status.code(), Some(1), "{} {kind}: {err}", runtime.name());
            assert!(
                runtime.state_dirs().is_empty(),
                "{} {kind} left {:?}",
                runtime.name(),
                runtime.state_dirs()
            );
            assert!(
                cgroups::leftovers(&id).is_empty(),
                "{} {kind}: {:?}",
                runtime.name(),
                cgroups::leftovers(&id)
            );
        }
    }
    let bundle = runc_bundle(&["sh", "-c", "touch /ran"]);
    bundle.writable();
    bundle.edit(|c| c["hooks"] = json!({ "startContainer": failing }));
    for runtime in pair.both() {
        let id = unique(&format!("startContainer-{}", runtime.name()));
        runtime.created(&bundle, &id);
        runtime.ok(&["start", &id]);
        runtime.wait_status(&id, "stopped");
        assert!(!bundle.rootfs().join("ran").exists(), "{}: the payload ran", runtime.name());
        runtime.ok(&["delete", &id]);
    }
    let bundle = runc_bundle(&["true"]);
    bundle.edit(|c| c["hooks"] = json!({ "poststop": failing }));
    for runtime in pair.both() {
        let id = unique(&format!("poststop-{}", runtime.name()));
        runtime.created(&bundle, &id);
        runtime.ok(&["start", &id]);
        runtime.wait_status(&id, "stopped");
        runtime.ok(&["delete", &id]);
        assert!(runtime.state_dirs().is_empty(), "{} left {:?}", runtime.name(), runtime.state_dirs());
    }
    assert!(Path::new("/bin/false").exists());
}

/// A `process.cwd` the rootfs lacks is made and entered, as runc makes it: inside the
/// container's root even through an absolute symbolic link on the way (`/work ->
/// /etc`: the rootfs's /etc, never the host's), on a read-only root (runc's
/// default), owned by the container's root with mode 0755. Both runtimes print the same.
#[test]
fn a_missing_cwd_is_made_as_runc_makes_it() {
    let pair = Pair::new();
    let name = format!("bigbang-cwd-{}", std::process::id());
    let mut seen = Vec::new();
    for runtime in pair.both() {
        let bundle = runc_bundle(&["sh", "-c", "pwd; stat -c '%u:%g %a' . ..; ls -d /etc/*-cwd-*"]);
        bundle.edit(|c| c["process"]["cwd"] = json!(format!("/work/{name}/sub")));
        assert!(bundle.config()["root"]["readonly"] == json!(true));
        std::os::unix::fs::symlink("/etc", bundle.rootfs().join("work")).unwrap();
        let id = unique(&format!("cwd-{}", runtime.name()));
        let out = runtime.run_to_end(&bundle, &id);
        let made = bundle.rootfs().join("etc").join(&name).join("sub");
        assert!(made.is_dir(), "{}: {} was not made", runtime.name(), made.display());
        assert!(!Path::new("/etc").join(&name).exists(), "{} made /etc/{name} on the host", runtime.name());
        seen.push(out);
    }
    assert_eq!(seen[0], format!("/etc/{name}/sub\n0:0 755\n0:0 755\n/etc/{name}\n"));
    assert_eq!(seen[1], seen[0], "bang-oci (right) differs from runc (left)");
}
