//! What bang-oci's black-box suites (chapter 6: validation, bad_input, leaks,
//! runc_parity) share: a bundle from `bang-oci spec` or `runc spec` with a busybox
//! rootfs, a runtime (bang-oci or runc) with a state root of its own whose containers
//! are force-deleted on drop, a payload that prints what it sees in sections, and the
//! scans for what a container may leave behind: state directories, cgroup directories
//! in every hierarchy, mounts, processes. Read proc(5) (mountinfo, status, fd) and
//! cgroups(7). lifecycle.rs keeps its own copies of a few of these on purpose (other
//! suites build on it).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use bigbang_container::security::capabilities;
use bigbang_testkit::probe;
use bigbang_testkit::rootfs::BusyboxRootfs;
use serde_json::Value;

/// Where runc is installed on the book's machine (Debian's runc package).
pub const RUNC: &str = "/usr/sbin/runc";

/// How long a test waits for something the kernel does quickly (a process to exit,
/// a status to change) before it calls it a failure. Generous: a loaded 2-core VM.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Fails with one line when not root: every suite here creates containers.
pub fn require_root(suite: &str) {
    assert!(
        probe::is_root(),
        "these tests create containers and need root: run `sudo -E env PATH=\"$PATH\" cargo test -p bang --test {suite}`"
    );
}

/// The bang-oci binary cargo built for this test run.
pub fn bang_oci_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("bang-oci")
}

/// runc, which the parity tests compare with; fails with what to install when missing.
pub fn runc_path() -> PathBuf {
    let path = PathBuf::from(RUNC);
    assert!(
        path.exists(),
        "runc is not installed at {RUNC}, and this test compares with it: apt-get install runc"
    );
    path
}

/// An id no other test, and no other run of the suite at the same time, uses.
pub fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// A bundle: a busybox rootfs (in a directory of its own) and a config.json written
/// by `<runtime> spec`, then edited.
pub struct Bundle {
    dir: tempfile::TempDir,
    rootfs: BusyboxRootfs,
}

impl Bundle {
    /// A bundle from `bang-oci spec` running `args`, without a terminal.
    pub fn new<S: AsRef<str>>(args: &[S]) -> Bundle {
        Bundle::spec_by(&bang_oci_path(), args)
    }

    /// A bundle whose config.json is what `<program> spec` writes (bang-oci or runc),
    /// adapted as runc's documentation says: no terminal, `args`, our rootfs.
    pub fn spec_by<S: AsRef<str>>(program: &Path, args: &[S]) -> Bundle {
        let dir = tempfile::Builder::new().prefix("bigbang-bundle-").tempdir().expect("bundle tempdir");
        let rootfs = BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)");
        let output = Command::new(program).args(["spec", "--bundle"]).arg(dir.path()).output().unwrap();
        assert!(
            output.status.success(),
            "{} spec failed: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let bundle = Bundle { dir, rootfs };
        bundle.edit(|config| {
            config["process"]["terminal"] = Value::Bool(false);
            config["process"]["args"] = args.iter().map(|a| Value::from(a.as_ref())).collect();
        });
        bundle
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    /// The rootfs directory on the host (`root.path` points at it).
    pub fn rootfs(&self) -> &Path {
        self.rootfs.path()
    }

    pub fn config(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(self.config_path()).unwrap()).unwrap()
    }

    /// Changes config.json; `root.path` always names this bundle's rootfs.
    pub fn edit(&self, change: impl FnOnce(&mut Value)) {
        let mut config = self.config();
        config["root"]["path"] = Value::from(self.rootfs.path().to_str().unwrap());
        change(&mut config);
        fs::write(self.config_path(), serde_json::to_string_pretty(&config).unwrap()).unwrap();
    }

    /// Replaces the payload.
    pub fn set_args<S: AsRef<str>>(&self, args: &[S]) {
        self.edit(|c| c["process"]["args"] = args.iter().map(|a| Value::from(a.as_ref())).collect());
    }

    /// Makes the root filesystem writable (runc's default mounts it read-only), for
    /// payloads that leave a file in it for the test to read from the host.
    pub fn writable(&self) -> &Self {
        self.edit(|c| c["root"]["readonly"] = Value::Bool(false));
        self
    }

    /// The paths a leftover of this bundle's containers would mention.
    pub fn paths(&self) -> Vec<PathBuf> {
        vec![self.path().to_path_buf(), self.rootfs().to_path_buf()]
    }
}

/// What a failed command said.
#[derive(Debug)]
pub struct Failure {
    pub code: Option<i32>,
    pub stderr: String,
}

/// An OCI runtime (bang-oci, or runc for comparison) with a state root of its own.
/// Every container left in it is force-deleted on drop, even when the test panics.
pub struct Runtime {
    program: PathBuf,
    root: tempfile::TempDir,
    logs: tempfile::TempDir,
}

impl Runtime {
    /// bang-oci; fails when not root.
    pub fn new(suite: &str) -> Runtime {
        require_root(suite);
        Runtime::of(bang_oci_path())
    }

    /// runc, for the parity tests.
    pub fn runc(suite: &str) -> Runtime {
        require_root(suite);
        Runtime::of(runc_path())
    }

    fn of(program: PathBuf) -> Runtime {
        Runtime {
            program,
            root: tempfile::Builder::new().prefix("bigbang-oci-root-").tempdir().unwrap(),
            logs: tempfile::Builder::new().prefix("bigbang-oci-logs-").tempdir().unwrap(),
        }
    }

    pub fn name(&self) -> String {
        self.program.file_name().unwrap().to_string_lossy().into_owned()
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn logs(&self) -> &Path {
        self.logs.path()
    }

    /// `<runtime> --root <our root>`.
    pub fn cmd(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.arg("--root").arg(self.root.path());
        command
    }

    /// Runs a verb that must succeed and leaves no process holding its output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.cmd().args(args).stdin(Stdio::null()).output().unwrap();
        assert!(
            output.status.success(),
            "{} {args:?} failed: {}",
            self.name(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a verb that must fail; returns its exit code and standard error.
    pub fn fails(&self, args: &[&str]) -> Failure {
        let output = self.cmd().args(args).stdin(Stdio::null()).output().unwrap();
        assert!(!output.status.success(), "{} {args:?} succeeded", self.name());
        Failure { code: output.status.code(), stderr: String::from_utf8(output.stderr).unwrap() }
    }

    /// `create`: the container inherits its standard streams, which go to files
    /// (`out(id)`, `err(id)`) so that nobody waits for the container to close them.
    pub fn create(&self, bundle: &Bundle, id: &str, extra: &[&str]) -> (ExitStatus, String) {
        let status = self
            .cmd()
            .arg("create")
            .arg("--bundle")
            .arg(bundle.path())
            .args(extra)
            .arg(id)
            .stdin(Stdio::null())
            .stdout(fs::File::create(self.out_path(id)).unwrap())
            .stderr(fs::File::create(self.err_path(id)).unwrap())
            .status()
            .unwrap();
        (status, self.err(id))
    }

    /// `create` that must succeed.
    pub fn created(&self, bundle: &Bundle, id: &str) {
        let (status, err) = self.create(bundle, id, &[]);
        assert!(status.success(), "{} create {id} failed: {err}", self.name());
    }

    fn out_path(&self, id: &str) -> PathBuf {
        self.logs.path().join(format!("{}.out", log_name(id)))
    }

    fn err_path(&self, id: &str) -> PathBuf {
        self.logs.path().join(format!("{}.err", log_name(id)))
    }

    /// What the container (and `create`) wrote to standard output so far.
    pub fn out(&self, id: &str) -> String {
        fs::read_to_string(self.out_path(id)).unwrap_or_default()
    }

    /// What `create` and the container wrote to standard error so far.
    pub fn err(&self, id: &str) -> String {
        fs::read_to_string(self.err_path(id)).unwrap_or_default()
    }

    /// create, start, and wait until the payload has exited; returns its output.
    pub fn run_to_end(&self, bundle: &Bundle, id: &str) -> String {
        self.created(bundle, id);
        self.ok(&["start", id]);
        self.wait_status(id, "stopped");
        let out = self.out(id);
        self.ok(&["delete", id]);
        out
    }

    /// create and start a long-running payload; returns the init's pid once it has
    /// executed the payload (left the runtime's binary).
    pub fn start_running(&self, bundle: &Bundle, id: &str) -> i64 {
        self.created(bundle, id);
        let pid = self.pid(id);
        let init_exe = fs::read_link(format!("/proc/{pid}/exe")).ok();
        self.ok(&["start", id]);
        wait_for_exec(pid, init_exe);
        pid
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["state", id])).unwrap()
    }

    pub fn pid(&self, id: &str) -> i64 {
        let state = self.state(id);
        state["pid"].as_i64().unwrap_or_else(|| panic!("no pid in {state}"))
    }

    /// Waits (at most [`PATIENCE`], then fails) until the container has `status`.
    pub fn wait_status(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.state(id);
            if state["status"] == status {
                return state;
            }
            assert!(Instant::now() < deadline, "{id} never became {status}: {state}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The entries of the state root (one directory per container).
    pub fn state_dirs(&self) -> Vec<String> {
        fs::read_dir(self.root.path())
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for id in self.state_dirs() {
            let _ = self.cmd().args(["delete", "--force", &id]).stdin(Stdio::null()).output();
        }
    }
}

/// A file name for the logs of container `id`, which may be hostile (`../x`, empty,
/// 5000 bytes long).
fn log_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    format!("id-{safe}-{}", id.len())
}

/// A payload that runs each `(name, command)` with sh and prints its output, stderr
/// included, under a `=== name` line; [`sections`] splits it again. The last command
/// is followed by `true` so that sh stays PID 1 and does not exec it.
pub fn probe_args(commands: &[(&str, &str)]) -> Vec<String> {
    let mut script = String::new();
    for (name, command) in commands {
        script.push_str(&format!("echo '=== {name}'; {{ {command} ; }} 2>&1; "));
    }
    script.push_str("true");
    vec!["sh".into(), "-c".into(), script]
}

/// Splits a probe's output into its sections.
pub fn sections(output: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            current = Some(name.to_string());
            map.insert(name.to_string(), String::new());
        } else if let Some(name) = &current {
            let text = map.get_mut(name).unwrap();
            text.push_str(line);
            text.push('\n');
        }
    }
    map
}

/// A field of a /proc/<pid>/status text (`CapEff`, `NoNewPrivs`), trimmed.
pub fn status_line(status: &str, field: &str) -> Option<String> {
    status.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).map(|v| v.trim().to_string())
}

/// A field of /proc/<pid>/status.
pub fn status_field(pid: i64, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status_line(&status, field).unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The capability set a CapEff-style hex mask holds, by name.
pub fn capability_names(mask_hex: &str) -> BTreeSet<String> {
    let mask = u64::from_str_radix(mask_hex.trim(), 16).unwrap();
    (0..64)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| capabilities::name(bit).map(str::to_string).unwrap_or_else(|| format!("bit {bit}")))
        .collect()
}

/// The mask of a set of capability names, as /proc/<pid>/status prints it.
pub fn capability_mask(names: &[String]) -> String {
    let mask = names.iter().fold(0u64, |m, n| m | 1 << capabilities::number(n).unwrap());
    format!("{mask:016x}")
}

/// The capabilities of this process's bounding set: all a container here can get.
pub fn host_bounding_set() -> Vec<String> {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    capability_names(&status_line(&status, "CapBnd").unwrap()).into_iter().collect()
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: i64) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits (at most [`PATIENCE`]) for `pid` to be gone, reaped by its parent.
pub fn wait_gone(pid: i64) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Path::new(&format!("/proc/{pid}")).exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits (at most [`PATIENCE`]) until the init `pid` runs something other than
/// `before` (the runtime's binary): it has executed the payload.
pub fn wait_for_exec(pid: i64, before: Option<PathBuf>) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match fs::read_link(format!("/proc/{pid}/exe")) {
            Ok(exe) if Some(&exe) != before.as_ref() => return,
            Err(_) => return, // exited already: nothing more to wait for
            _ => {}
        }
        assert!(Instant::now() < deadline, "the init {pid} never executed the payload");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The namespace `ns` (`net`, `mnt`, …) of process `pid`, as its /proc link reads.
pub fn namespace_of(pid: &str, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap().to_string_lossy().into_owned()
}

/// The directories of the cgroup hierarchies mounted here: each v1 controller's (and
/// the named systemd one's), and the v2 tree; /sys/fs/cgroup itself on a v2-only host.
pub fn cgroup_hierarchies() -> Vec<PathBuf> {
    let base = Path::new("/sys/fs/cgroup");
    if base.join("cgroup.controllers").exists() {
        return vec![base.to_path_buf()];
    }
    let mut found: Vec<PathBuf> = fs::read_dir(base)
        .map(|d| {
            d.flatten()
                // `cpu,cpuacct` and friends are symbolic links to a hierarchy already listed.
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Cgroup directories in every hierarchy whose name `matches`, at any depth.
pub fn cgroup_dirs_matching(matches: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, matches: &dyn Fn(&str) -> bool, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            if !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            if matches(&entry.file_name().to_string_lossy()) {
                found.push(entry.path());
            }
            if depth < 12 {
                walk(&entry.path(), depth + 1, matches, found);
            }
        }
    }
    let mut found = Vec::new();
    for hierarchy in cgroup_hierarchies() {
        walk(&hierarchy, 0, &matches, &mut found);
    }
    found
}

/// The cgroup directories named `id`, in any hierarchy.
pub fn cgroup_leftovers(id: &str) -> Vec<PathBuf> {
    cgroup_dirs_matching(|name| name == id)
}

/// Lines of this process's mountinfo that mention one of `paths` (bundles, rootfs,
/// state root): a mount the container made that leaked into the host's namespace.
pub fn mounts_mentioning(paths: &[PathBuf]) -> Vec<String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    mountinfo
        .lines()
        .filter(|line| paths.iter().any(|p| line.contains(p.to_str().unwrap())))
        .map(str::to_string)
        .collect()
}

/// The numeric entries of /proc: every process.
pub fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

/// Processes whose command line, working directory, root or executable mentions one
/// of `paths`: a container process (its root is the rootfs) or a runtime process
/// (its command line names the bundle) that outlived its container.
pub fn processes_touching(paths: &[PathBuf]) -> Vec<String> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    for pid in all_pids().into_iter().filter(|&p| p != me) {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        let link = |what: &str| {
            fs::read_link(format!("/proc/{pid}/{what}"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let (cwd, root, exe) = (link("cwd"), link("root"), link("exe"));
        let text = format!("{cmdline} cwd={cwd} root={root} exe={exe}");
        if paths.iter().any(|p| text.contains(p.to_str().unwrap())) {
            found.push(format!("pid {pid}: {text}"));
        }
    }
    found
}

/// The processes whose parent chain leads to `ancestor`.
pub fn descendants_of(ancestor: i32) -> Vec<i32> {
    let parent: BTreeMap<i32, i32> = all_pids()
        .into_iter()
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    parent
        .keys()
        .copied()
        .filter(|&pid| {
            let mut at = pid;
            for _ in 0..64 {
                match parent.get(&at) {
                    Some(&p) if p == ancestor => return true,
                    Some(&p) if p > 1 => at = p,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// Everything a container `id` made from `bundle` in `runtime` that is still there:
/// its state directory, cgroup directories, mounts, processes. Empty when clean.
pub fn leftovers(runtime: &Runtime, id: &str, bundle: &Bundle) -> Vec<String> {
    let mut left = Vec::new();
    if runtime.state_dirs().iter().any(|d| d.contains(id)) {
        left.push(format!("state directory: {:?}", runtime.state_dirs()));
    }
    left.extend(cgroup_leftovers(id).iter().map(|p| format!("cgroup: {}", p.display())));
    let mut paths = bundle.paths();
    paths.push(runtime.root().to_path_buf());
    left.extend(mounts_mentioning(&paths).into_iter().map(|l| format!("mount: {l}")));
    left.extend(processes_touching(&bundle.paths()).into_iter().map(|p| format!("process: {p}")));
    left
}

/// Asserts that a failed operation left nothing of container `id` behind.
pub fn assert_nothing_left(runtime: &Runtime, id: &str, bundle: &Bundle) {
    let left = leftovers(runtime, id, bundle);
    assert!(left.is_empty(), "container {id} left behind:\n{}", left.join("\n"));
}

/// Checks that `create` of `bundle` fails with exit status 1 (a handled error, not a
/// crash), with an error naming each of `needles`, and leaves nothing. Returns it.
pub fn assert_create_fails(runtime: &Runtime, bundle: &Bundle, id: &str, needles: &[&str]) -> String {
    let (status, err) = runtime.create(bundle, id, &[]);
    assert_eq!(status.code(), Some(1), "create {id}: {status}; stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "the error does not mention {needle:?}: {err}");
    }
    assert_nothing_left(runtime, id, bundle);
    err
}

/// One mountinfo line's fields the tests look at (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountLine {
    /// Field 4: the path of the mounted filesystem that is mounted here (`/etc` for a bind of /etc).
    pub root: String,
    pub mount_point: String,
    /// Field 6: per-mount options (`ro`, `nosuid`, …).
    pub options: Vec<String>,
    /// The optional fields: `shared:N`, `master:N`, `unbindable`.
    pub propagation: Vec<String>,
    pub fstype: String,
    pub source: String,
}

/// Parses mountinfo text with the product's parser (`bigbang_container::mountinfo`),
/// keeping the per-mount options and the propagation fields these tests need. Lines
/// that are not mounts (a payload's other output around its `cat`) are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountLine> {
    bigbang_container::mountinfo::entries(text)
        .filter_map(Result::ok)
        .map(|m| MountLine {
            root: m.root.to_string_lossy().into_owned(),
            mount_point: m.mount_point.to_string_lossy().into_owned(),
            options: m.options,
            propagation: m.optional.iter().map(ToString::to_string).collect(),
            fstype: m.fstype,
            source: m.source,
        })
        .collect()
}

/// The last mount at `mount_point` (the one a path lookup sees).
pub fn mount_at<'a>(mounts: &'a [MountLine], mount_point: &str) -> Option<&'a MountLine> {
    mounts.iter().rev().find(|m| m.mount_point == mount_point)
}

/// The descriptors process `pid` has open, by number.
pub fn open_fds(pid: &str) -> BTreeSet<i32> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

/// Runs `command` and returns its output, failing the test if it does not succeed.
pub fn output_of(command: &mut Command) -> Output {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}
