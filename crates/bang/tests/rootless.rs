//! Rootless bang-oci (chapter 6): a `bang-oci spec --rootless` bundle run by an
//! unprivileged user (uid 65534 here). The user namespace maps the container's root
//! onto that user; there is no cgroup the user may create, so the container runs in
//! the caller's; the state lives under `--root` or `$XDG_RUNTIME_DIR/bang-oci`.
//! The harness runs as root and starts bang-oci as uid 65534 through setuid in the
//! child (std's `CommandExt::uid`), from a copy of the binary every user can reach.
//! Run: `sudo -E env PATH="$PATH" cargo test -p bang --test rootless`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bigbang_testkit::privilege::require_root;
use bigbang_testkit::probe::NOBODY;
use bigbang_testkit::program::SharedProgram;
use bigbang_testkit::rootfs::BusyboxRootfs;
use serde_json::Value;

/// A directory of `nobody`'s own (mode 0700), removed on drop.
fn nobodys_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// A rootless bundle, a state root and the runtime, all reachable by `nobody`.
struct Rootless {
    program: SharedProgram,
    bundle: tempfile::TempDir,
    state: tempfile::TempDir,
    rootfs: BusyboxRootfs,
}

impl Rootless {
    fn new(args: &[&str]) -> Rootless {
        require_root(
            "these tests switch to uid 65534 and need root to do so",
            "cargo test -p bang --test rootless",
        );
        let program = SharedProgram::new(&assert_cmd::cargo::cargo_bin("bang-oci")).unwrap();
        let rootfs = BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)");
        let this = Rootless {
            program,
            bundle: nobodys_dir("bigbang-rootless-"),
            state: nobodys_dir("bigbang-rootless-state-"),
            rootfs,
        };
        // `spec --rootless` as nobody: the map must name nobody's uid, not root's.
        let out =
            this.as_nobody(&["spec", "--rootless", "--bundle", this.bundle.path().to_str().unwrap()], None);
        assert!(out.status.success(), "spec --rootless failed: {}", String::from_utf8_lossy(&out.stderr));
        let path = this.bundle.path().join("config.json");
        let mut config: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            config["linux"]["uidMappings"][0]["hostID"], NOBODY,
            "spec --rootless maps root onto the caller"
        );
        config["root"]["path"] = Value::from(this.rootfs.path().to_str().unwrap());
        config["process"]["terminal"] = Value::Bool(false);
        config["process"]["args"] = args.iter().map(|a| Value::from(*a)).collect();
        fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
        this
    }

    fn edit(&self, change: impl FnOnce(&mut Value)) {
        let path = self.bundle.path().join("config.json");
        let mut config: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        change(&mut config);
        fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    }

    /// bang-oci as uid/gid 65534 with no supplementary groups, `--root` the test's
    /// state root unless `xdg` is given (then XDG_RUNTIME_DIR is set instead).
    fn command(&self, args: &[&str], xdg: Option<&Path>) -> Command {
        let mut command = Command::new(self.program.path());
        match xdg {
            Some(dir) => {
                command.env("XDG_RUNTIME_DIR", dir);
            }
            None => {
                command.env_remove("XDG_RUNTIME_DIR").arg("--root").arg(self.state.path());
            }
        }
        command.args(args).uid(NOBODY).gid(NOBODY).current_dir("/").stdin(Stdio::null());
        command
    }

    fn as_nobody(&self, args: &[&str], xdg: Option<&Path>) -> Output {
        bigbang_testkit::program::spawn_retrying(
            self.command(args, xdg).stdout(Stdio::piped()).stderr(Stdio::piped()),
        )
        .unwrap()
        .wait_with_output()
        .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.as_nobody(args, None);
        assert!(
            out.status.success(),
            "bang-oci {args:?} as nobody failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn bundle(&self) -> &str {
        self.bundle.path().to_str().unwrap()
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        if let Ok(entries) = fs::read_dir(self.state.path()) {
            for entry in entries.flatten() {
                let id = entry.file_name().to_string_lossy().into_owned();
                let _ = self.as_nobody(&["delete", "--force", &id], None);
            }
        }
    }
}

fn host_ids(pid: i32) -> (String, String) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().next().unwrap().to_string())
            .unwrap()
    };
    (field("Uid:"), field("Gid:"))
}

#[test]
fn nobody_runs_a_rootless_bundle_as_root_of_its_user_namespace() {
    let rootless = Rootless::new(&[
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; hostname; grep CapEff /proc/self/status",
    ]);
    let out = rootless.ok(&["run", "--bundle", rootless.bundle(), "rl-run"]);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["0"], "inside, the payload is root of its user namespace:\n{out}");
    assert_eq!(lines[1], ["0", "65534", "1"], "uid_map maps 0 onto nobody and nothing else:\n{out}");
    assert_eq!(lines[2], ["runc"], "the hostname of runc's rootless config:\n{out}");
    assert_eq!(
        lines[3],
        ["CapEff:", "0000000020000420"],
        "runc's default capabilities, inside the namespace:\n{out}"
    );
    assert!(fs::read_dir(rootless.state.path()).unwrap().next().is_none(), "run must delete its container");
}

#[test]
fn the_lifecycle_works_unprivileged_and_the_init_is_nobody_on_the_host() {
    let rootless = Rootless::new(&["sleep", "1000"]);
    let pid_file = rootless.state.path().join("pid");
    // The container inherits create's standard streams: files, not pipes, or reading
    // create's output would wait for the container to end.
    let err = rootless.state.path().join("create.err");
    let status = rootless
        .command(
            &["create", "--bundle", rootless.bundle(), "--pid-file", pid_file.to_str().unwrap(), "rl-life"],
            None,
        )
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "create as nobody failed: {}", fs::read_to_string(&err).unwrap());
    let pid: i32 = fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert_eq!(host_ids(pid), ("65534".to_string(), "65534".to_string()), "the host sees the init as nobody");
    let state: Value = serde_json::from_str(&rootless.ok(&["state", "rl-life"])).unwrap();
    assert_eq!(state["status"], "created");
    rootless.ok(&["start", "rl-life"]);
    rootless.ok(&["kill", "rl-life", "KILL"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state: Value = serde_json::from_str(&rootless.ok(&["state", "rl-life"])).unwrap();
        if state["status"] == "stopped" {
            break;
        }
        assert!(Instant::now() < deadline, "the killed container never stopped: {state}");
        std::thread::sleep(Duration::from_millis(20));
    }
    rootless.ok(&["delete", "rl-life"]);
    assert!(!rootless.state.path().join("rl-life").exists(), "delete left the state directory");
    for hierarchy in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = hierarchy.path().join("bang-oci").join("rl-life");
        assert!(!dir.exists(), "nobody may not create cgroups, yet {} exists", dir.display());
    }
}

#[test]
fn the_state_root_defaults_to_xdg_runtime_dir() {
    let rootless = Rootless::new(&["true"]);
    let xdg = nobodys_dir("bigbang-rootless-xdg-");
    let out =
        rootless.as_nobody(&["run", "--detach", "--bundle", rootless.bundle(), "rl-xdg"], Some(xdg.path()));
    assert!(out.status.success(), "run --detach as nobody failed: {}", String::from_utf8_lossy(&out.stderr));
    let dir: PathBuf = xdg.path().join("bang-oci").join("rl-xdg");
    let kept = dir.join("state.json").exists();
    let _ = rootless.as_nobody(&["delete", "--force", "rl-xdg"], Some(xdg.path()));
    assert!(kept, "the container's state is not in $XDG_RUNTIME_DIR/bang-oci ({})", dir.display());

    let mut bare = Command::new(rootless.program.path());
    bare.arg("list").env_remove("XDG_RUNTIME_DIR").uid(NOBODY).gid(NOBODY);
    let out = bare.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("XDG_RUNTIME_DIR is not set") && err.contains("--root"), "{err}");
}

#[test]
fn limits_that_an_unprivileged_user_cannot_enforce_are_refused() {
    let rootless = Rootless::new(&["true"]);
    rootless.edit(|config| config["linux"]["resources"] = serde_json::json!({"pids": {"limit": 10}}));
    let out = rootless.as_nobody(&["run", "--bundle", rootless.bundle(), "rl-limits"], None);
    assert!(!out.status.success(), "a pids limit nobody cannot enforce must not be dropped silently");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("linux.resources") && err.contains("remove linux.resources"), "{err}");
    assert!(fs::read_dir(rootless.state.path()).unwrap().next().is_none(), "a refused create leaves nothing");
}

/// `linux.devices` in a user namespace, where mknod(2) of a device is refused: a FIFO
/// is still made (that needs no privilege), a device the host has is its node bound
/// in, and one the host has nowhere (10:666) fails `run` with an error naming it.
#[test]
fn devices_in_a_user_namespace_are_bound_or_refused_by_name() {
    let rootless = Rootless::new(&["stat", "-c", "%n %F %t:%T", "/dev/test-null", "/dev/test-fifo"]);
    rootless.edit(|config| {
        config["linux"]["devices"] = serde_json::json!([
            { "path": "/dev/test-null", "type": "c", "major": 1, "minor": 3 },
            { "path": "/dev/test-fifo", "type": "p" },
        ])
    });
    let out = rootless.ok(&["run", "--bundle", rootless.bundle(), "rl-devices"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["/dev/test-null character special file 1:3", "/dev/test-fifo fifo 0:0"],
        "{out}"
    );
    rootless.edit(|config| {
        config["linux"]["devices"] =
            serde_json::json!([{ "path": "/dev/test1", "type": "c", "major": 10, "minor": 666 }])
    });
    let out = rootless.as_nobody(&["run", "--bundle", rootless.bundle(), "rl-devices-missing"], None);
    assert!(!out.status.success(), "a device nobody can create must not be dropped silently");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/test1 (character 10:666) in a user namespace"), "{err}");
    assert!(fs::read_dir(rootless.state.path()).unwrap().next().is_none(), "a refused create leaves nothing");
}
