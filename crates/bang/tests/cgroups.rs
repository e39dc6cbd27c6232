//! `bang-oci`'s cgroups on the real kernel (chapters 4 and 6): the container's cgroup
//! in every v1 hierarchy, cpusets, device rules (v1 lists, and the eBPF program on the
//! v2 tree), pause/resume with the freezer, and update. Asserted from outside:
//! /proc/<pid>/cgroup and status, the cgroup files, what a process inside can open.
//! They need root: `sudo -E env PATH="$PATH" cargo test -p bang --test cgroups`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bigbang_container::cgroups::v2::V2Cgroup;
use bigbang_container::cgroups::{ebpf, CgroupManager, DeviceRule, Hierarchies, Resources};
use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups::CONTAINER_PARENT;
use bigbang_testkit::names::unique;
use bigbang_testkit::process::status_field;
use bigbang_testkit::runtime::{require_root_for_suite, Runtime};
use bigbang_testkit::wait::eventually;
use serde_json::{json, Value};

const SUITE: &str = "cgroups";

/// One container of a test: its bundle (from `bang-oci spec`, edited), the id and a
/// bang-oci with a state root of its own, which force-deletes it on drop, even on
/// panic. The verbs here name the container's id for the test.
struct Container {
    id: String,
    bundle: Bundle,
    runtime: Runtime,
}

impl Container {
    fn new(name: &str, args: &[&str], change: impl FnOnce(&mut Value)) -> Container {
        let runtime = Runtime::new(SUITE);
        let bundle = Bundle::new(args);
        bundle.edit(change);
        Container { id: unique(&format!("cg-{name}")), bundle, runtime }
    }

    fn cmd(&self) -> Command {
        self.runtime.cmd()
    }

    /// `bang-oci VERB… ID`, which must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        self.runtime.ok(&[args, &[self.id.as_str()]].concat())
    }

    /// `bang-oci VERB… ID`, which must fail; its standard error.
    fn fails(&self, args: &[&str]) -> String {
        self.runtime.fails(&[args, &[self.id.as_str()]].concat()).stderr
    }

    /// `run --detach`: the container's output goes to a file so that nobody waits on it.
    fn start(&self) -> i64 {
        let log = fs::File::create(self.bundle.path().join("out")).unwrap();
        let status = self
            .cmd()
            .args(["run", "--detach", "--bundle"])
            .arg(self.bundle.path())
            .arg(&self.id)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .unwrap();
        assert!(status.success(), "run --detach failed: {}", self.output());
        self.state()["pid"].as_i64().unwrap()
    }

    /// `run` in the foreground: (exit code, standard output and error).
    fn run(&self) -> (i32, String) {
        let output =
            self.cmd().args(["run", "--bundle"]).arg(self.bundle.path()).arg(&self.id).output().unwrap();
        let text =
            String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status.code().unwrap_or(-1), text)
    }

    fn output(&self) -> String {
        fs::read_to_string(self.bundle.path().join("out")).unwrap_or_default()
    }

    fn state(&self) -> Value {
        self.runtime.state(&self.id)
    }

    /// The path of the container's cgroup (`bang-oci/<id>`) under each v1 hierarchy.
    fn v1_dirs(&self) -> Vec<PathBuf> {
        Hierarchies::here()
            .unwrap()
            .v1
            .iter()
            .map(|h| h.mount_point.join(CONTAINER_PARENT).join(&self.id))
            .collect()
    }
}

/// The container's init is in its own cgroup in every v1 hierarchy, cpuset, devices,
/// blkio and freezer included; delete removes every one of them.
#[test]
fn every_v1_hierarchy_holds_the_init() {
    let c = Container::new("hier", &["sleep", "1000"], |_| {});
    let pid = c.start();
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let hierarchies = Hierarchies::here().unwrap();
    assert!(hierarchies.v1.len() >= 4, "this test wants a v1 or hybrid host: {hierarchies:?}");
    for h in &hierarchies.v1 {
        let line = cgroups
            .lines()
            .find(|l| {
                l.split(':')
                    .nth(1)
                    .is_some_and(|c| c.split(',').any(|c| h.controllers.contains(&c.to_string())))
            })
            .unwrap_or_else(|| panic!("no line for {:?} in\n{cgroups}", h.controllers));
        assert!(line.ends_with(&format!(":/bang-oci/{}", c.id)), "{:?}: {line}", h.controllers);
    }
    for dir in c.v1_dirs() {
        assert!(dir.is_dir(), "{} is missing", dir.display());
    }
    c.ok(&["delete", "--force"]);
    for dir in c.v1_dirs() {
        assert!(!dir.exists(), "{} is left after delete", dir.display());
    }
}

/// cpu.cpus becomes the cpuset, and the kernel confines the init to it.
#[test]
fn cpuset_cpus_confines_the_init() {
    let cpus = fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.effective_cpus").unwrap();
    let last = cpus.trim().rsplit(['-', ',']).next().unwrap().to_string();
    let c = Container::new("cpuset", &["sleep", "1000"], |config| {
        config["linux"]["resources"]["cpu"] = json!({ "cpus": last });
    });
    let pid = c.start();
    assert_eq!(status_field(pid, "Cpus_allowed_list"), last);
    let dir = Path::new("/sys/fs/cgroup/cpuset/bang-oci").join(&c.id);
    assert_eq!(fs::read_to_string(dir.join("cpuset.cpus")).unwrap().trim(), last);
}

/// Device rules in order: everything denied, then /dev/null allowed; /dev/zero, made by
/// linux.devices (which drops its default rule, as in runc), cannot be opened (EPERM).
#[test]
fn device_rules_deny_what_they_do_not_allow() {
    let c = Container::new(
        "devices",
        &["sh", "-c", "head -c1 /dev/zero >/dev/null; echo zero=$?; echo x > /dev/null && echo null=ok"],
        |config| {
            config["linux"]["devices"] = json!([{ "path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 438, "uid": 0, "gid": 0 }]);
            config["linux"]["resources"]["devices"] = json!([{ "allow": false, "access": "rwm" }, { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" }]);
        },
    );
    let (code, output) = c.run();
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("Operation not permitted"), "{output}");
    assert!(output.contains("zero=1") && output.contains("null=ok"), "{output}");
}

/// pause freezes every task (freezer.state FROZEN, the kernel shows the init in state
/// D, `state` and `list` say paused), resume thaws; both refuse the wrong status; a
/// paused container still dies of `kill KILL`.
#[test]
fn pause_freezes_and_resume_thaws() {
    let c = Container::new("pause", &["sh", "-c", "while :; do :; done"], |_| {});
    let pid = c.start();
    let freezer = Path::new("/sys/fs/cgroup/freezer/bang-oci").join(&c.id).join("freezer.state");
    assert!(c.fails(&["resume"]).contains("is running, not paused"));
    c.ok(&["pause"]);
    assert_eq!(fs::read_to_string(&freezer).unwrap().trim(), "FROZEN");
    assert_eq!(c.state()["status"], "paused");
    assert!(status_field(pid, "State").starts_with('D'), "{}", status_field(pid, "State"));
    let list: Value = serde_json::from_str(&c.ok_list()).unwrap();
    assert_eq!(list[0]["status"], "paused", "{list}");
    assert!(c.fails(&["pause"]).contains("is paused, not running"));
    c.ok(&["resume"]);
    assert_eq!(fs::read_to_string(&freezer).unwrap().trim(), "THAWED");
    assert_eq!(c.state()["status"], "running");
    assert!(status_field(pid, "State").starts_with('R'), "a busy loop runs: {}", status_field(pid, "State"));
    c.ok(&["pause"]);
    let killed = c.cmd().args(["kill", &c.id, "KILL"]).output().unwrap();
    assert!(killed.status.success(), "{}", String::from_utf8_lossy(&killed.stderr));
    eventually("the paused container to die of SIGKILL", || c.state()["status"] == "stopped");
    c.ok(&["delete"]);
}

impl Container {
    fn ok_list(&self) -> String {
        let output = self.cmd().args(["list", "--format", "json"]).output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    }
}

/// A created container cannot be paused, and delete --force removes a paused one.
#[test]
fn only_running_containers_pause() {
    let c = Container::new("created", &["sleep", "1000"], |_| {});
    let status = c
        .cmd()
        .args(["create", "--bundle"])
        .arg(c.bundle.path())
        .arg(&c.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(c.fails(&["pause"]).contains("is created, not running"));
    c.ok(&["start"]);
    c.ok(&["pause"]);
    c.ok(&["delete", "--force"]);
    for dir in c.v1_dirs() {
        assert!(!dir.exists(), "{} is left after delete --force of a paused container", dir.display());
    }
}

/// update changes the limits of a running container, from flags and from a
/// linux.resources file; runc's deprecated --kernel-memory is ignored with a warning.
#[test]
fn update_changes_the_limits() {
    let c = Container::new("update", &["sleep", "1000"], |_| {});
    c.start();
    let memory = Path::new("/sys/fs/cgroup/memory/bang-oci").join(&c.id).join("memory.limit_in_bytes");
    let pids = Path::new("/sys/fs/cgroup/pids/bang-oci").join(&c.id).join("pids.max");
    c.ok(&["update", "--memory", "32M"]);
    assert_eq!(fs::read_to_string(&memory).unwrap().trim(), (32 << 20).to_string());
    let file = c.bundle.path().join("resources.json");
    fs::write(&file, r#"{"memory": {"limit": 67108864}, "pids": {"limit": 42}}"#).unwrap();
    c.ok(&["update", "--resources", file.to_str().unwrap()]);
    assert_eq!(fs::read_to_string(&memory).unwrap().trim(), (64 << 20).to_string());
    assert_eq!(fs::read_to_string(&pids).unwrap().trim(), "42");
    // runc's deprecated flag is accepted and ignored, with a warning in the log.
    let log = c.bundle.path().join("update.log");
    let output = c
        .cmd()
        .arg("--log")
        .arg(&log)
        .args(["update", "--kernel-memory", "64M", "--memory", "48M", &c.id])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(fs::read_to_string(&memory).unwrap().trim(), (48 << 20).to_string());
    let logged = fs::read_to_string(&log).unwrap();
    assert!(logged.contains("level=warning msg=\"linux.resources.memory.kernel is ignored"), "{logged}");
    assert!(c.fails(&["update"]).contains("nothing to update"));
}

/// Docker's zeros mean "not set", as runc reads them: a config.json with Docker's
/// `"cpu": {"shares": 0}` and `"blockIO": {"weight": 0}` runs, and `update` with the
/// body `docker update --memory 64m` sends (0 for every field it leaves alone) changes
/// the memory limit and nothing else.
#[test]
fn docker_zeros_leave_the_limits_alone() {
    let c = Container::new("zeros", &["sleep", "1000"], |config| {
        let resources = &mut config["linux"]["resources"];
        resources["cpu"] = json!({ "shares": 0 });
        resources["blockIO"] = json!({ "weight": 0 });
        resources["memory"] = json!({ "limit": 33554432, "disableOOMKiller": false });
        resources["pids"] = json!({ "limit": 20 });
    });
    c.start();
    let file = |controller: &str, name: &str| {
        let path = Path::new("/sys/fs/cgroup").join(controller).join("bang-oci").join(&c.id).join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim().to_string()
    };
    let files = [
        ("cpu", "cpu.shares"),
        ("cpu", "cpu.cfs_quota_us"),
        ("cpu", "cpu.cfs_period_us"),
        ("cpuset", "cpuset.cpus"),
        ("pids", "pids.max"),
        ("memory", "memory.soft_limit_in_bytes"),
    ];
    let before: Vec<String> = files.iter().map(|(c, n)| file(c, n)).collect();
    assert_eq!(before[0], "1024", "cpu.shares 0 must leave the kernel's default");
    assert_eq!(before[4], "20");
    let body = c.bundle.path().join("docker-update.json");
    fs::write(
        &body,
        r#"{"memory":{"limit":67108864,"reservation":0,"swap":0,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0,"realtimeRuntime":0,"realtimePeriod":0,"cpus":"","mems":""},"blockIO":{"weight":0},"pids":{"limit":0}}"#,
    )
    .unwrap();
    c.ok(&["update", "--resources", body.to_str().unwrap()]);
    assert_eq!(file("memory", "memory.limit_in_bytes"), (64 << 20).to_string());
    let after: Vec<String> = files.iter().map(|(c, n)| file(c, n)).collect();
    assert_eq!(after, before, "update changed a limit it was given 0 for ({files:?})");
    // runc's flags read the same way: --pids-limit 0 and --cpu-share 0 change nothing.
    c.ok(&["update", "--pids-limit", "0", "--cpu-share", "0", "--blkio-weight", "0"]);
    assert_eq!(files.iter().map(|(c, n)| file(c, n)).collect::<Vec<_>>(), before);
}

/// `docker run --kernel-memory` writes linux.resources.memory.kernel: the container
/// runs with the rest of its limits, and the log (where engines read the runtime's
/// messages) warns that the field is ignored, as runc does.
#[test]
fn kernel_memory_is_ignored_with_a_warning() {
    let c = Container::new("kmem", &["sleep", "1000"], |config| {
        config["linux"]["resources"]["memory"] =
            json!({ "limit": 33554432, "kernel": 16777216, "kernelTCP": 8388608 });
    });
    let log = c.bundle.path().join("log.json");
    let status = c
        .cmd()
        .arg("--log")
        .arg(&log)
        .args(["--log-format", "json", "run", "--detach", "--bundle"])
        .arg(c.bundle.path())
        .arg(&c.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let dir = Path::new("/sys/fs/cgroup/memory/bang-oci").join(&c.id);
    assert_eq!(fs::read_to_string(dir.join("memory.limit_in_bytes")).unwrap().trim(), "33554432");
    let tcp = fs::read_to_string(dir.join("memory.kmem.tcp.limit_in_bytes")).unwrap();
    assert_ne!(tcp.trim(), "8388608", "kernelTCP was written");
    let warnings: Vec<Value> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["level"] == "warning")
        .collect();
    let messages: Vec<&str> = warnings.iter().map(|w| w["msg"].as_str().unwrap()).collect();
    assert!(messages[0].starts_with("linux.resources.memory.kernel is ignored"), "{messages:?}");
    assert!(messages[1].starts_with("linux.resources.memory.kernelTCP is ignored"), "{messages:?}");
}

/// A configuration asking for what this kernel cannot do is refused by name before
/// anything is made: no state, no cgroup.
#[test]
fn unsupported_resources_leave_nothing() {
    let c = Container::new("refused", &["true"], |config| {
        config["linux"]["resources"]["unified"] = json!({ "memory.high": "64M" });
    });
    let (code, output) = c.run();
    assert_ne!(code, 0);
    assert!(output.contains("linux.resources.unified is not supported on cgroup v1"), "{output}");
    for dir in c.v1_dirs() {
        assert!(!dir.exists(), "{} is left", dir.display());
    }
    assert_eq!(c.runtime.state_dirs().len(), 0, "a state directory is left");
}

/// A cgroup in the v2 tree (/sys/fs/cgroup/unified on a hybrid host), removed on drop.
struct V2Fixture(V2Cgroup);

impl Drop for V2Fixture {
    fn drop(&mut self) {
        let _ = self.0.remove();
    }
}

/// On the v2 tree, device rules become an eBPF program attached to the cgroup: a
/// process in it can write /dev/null but not read /dev/zero (EPERM), and read but not
/// write /dev/urandom (a rule granting `r` alone, as runc's default `c *:* m` grants
/// part of the accesses); applying rules again replaces the program rather than
/// adding one.
#[test]
fn ebpf_device_program_on_the_v2_tree() {
    require_root_for_suite(SUITE);
    let unified = Hierarchies::here()
        .unwrap()
        .unified
        .expect("a cgroup2 tree (/sys/fs/cgroup/unified on this machine)");
    let fixture = V2Fixture(V2Cgroup::create(&unified, Path::new(&unique("cg-ebpf"))).unwrap());
    let rules = Resources {
        devices: vec![
            DeviceRule::deny_all(),
            DeviceRule::allow_char(Some(1), Some(3), "rwm"),
            DeviceRule::allow_char(Some(1), Some(9), "r"),
        ],
        ..Resources::default()
    }
    .validated()
    .unwrap();
    fixture.0.apply(&rules).unwrap();
    fixture.0.apply(&rules).unwrap();
    assert_eq!(
        ebpf::attached_programs(fixture.0.dir()).unwrap().len(),
        1,
        "the second apply replaced the program"
    );
    let mut child = Command::new("/bin/sh")
        .args([
            "-c",
            "read go; head -c1 /dev/zero >/dev/null; echo zero=$?; echo x > /dev/null && echo null=ok; \
             head -c1 /dev/urandom >/dev/null; echo urandom-read=$?; echo x >/dev/urandom; echo urandom-write=$?",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    fixture.0.join(child.id() as i32).unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("Operation not permitted") && text.contains("zero=1"), "{text}");
    assert!(text.contains("null=ok"), "{text}");
    assert!(text.contains("urandom-read=0"), "{text}");
    assert!(text.contains("cannot create /dev/urandom: Operation not permitted"), "{text}");
}
