//! An OCI runtime under test, driven through its runc-compatible command line
//! (runtime-spec, runtime.md; runc(8)): bang-oci, chapter 6's binary (the learner's
//! lifecycle) or runc for comparison. Each [`Runtime`] has a state root of its own;
//! on drop it force-deletes every container in it and then, because the `delete`
//! under test may still be `todo!()`, kills what is left in their cgroups and removes
//! those. Also here: the scans for what a container may leave behind.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::bundle::Bundle;
use crate::privilege::require_root;
use crate::wait::PATIENCE;

/// Where runc is installed on the book's machine (Debian's runc package).
const RUNC: &str = "/usr/sbin/runc";

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

/// What a failed command said.
#[derive(Debug)]
pub struct Failure {
    pub code: Option<i32>,
    pub stderr: String,
}

/// An OCI runtime with a state root of its own. Every container left in it, and every
/// id handed out by [`Runtime::id`], is force-deleted on drop, even when the test panics.
pub struct Runtime {
    program: PathBuf,
    root: tempfile::TempDir,
    logs: tempfile::TempDir,
    /// The ids handed out by [`Runtime::id`], cleaned up on drop.
    ids: RefCell<Vec<String>>,
}

impl Runtime {
    /// bang-oci; fails when not root, naming the test binary `suite` of package bang.
    pub fn new(suite: &str) -> Runtime {
        require_root_for_suite(suite);
        Runtime::of(bang_oci_path())
    }

    /// runc, for the parity tests.
    pub fn runc(suite: &str) -> Runtime {
        require_root_for_suite(suite);
        Runtime::of(runc_path())
    }

    /// Any runc-compatible `program` (chapter 6's binary); the caller checks for root.
    pub fn of(program: PathBuf) -> Runtime {
        Runtime {
            program,
            root: tempfile::Builder::new().prefix("bigbang-oci-root-").tempdir().unwrap(),
            logs: tempfile::Builder::new().prefix("bigbang-oci-logs-").tempdir().unwrap(),
            ids: RefCell::default(),
        }
    }

    /// The program's file name (`bang-oci`, `runc`, `chapter-6`).
    pub fn name(&self) -> String {
        self.program.file_name().unwrap().to_string_lossy().into_owned()
    }

    /// The state root (`--root`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A directory of the test's own for the runtime's output files (pid files, logs).
    pub fn logs(&self) -> &Path {
        self.logs.path()
    }

    /// A container id unique to this test process, `name-<pid>`, remembered for the
    /// cleanup: an id must not collide with what an unfinished exercise left behind in
    /// an earlier run (a `delete` that is still `todo!()` cannot remove its cgroup).
    pub fn id(&self, name: &str) -> String {
        let id = crate::names::unique(name);
        self.ids.borrow_mut().push(id.clone());
        id
    }

    /// `<runtime> --root <our root>`, standard input closed.
    pub fn cmd(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.arg("--root").arg(self.root.path()).stdin(Stdio::null());
        command
    }

    /// Runs a verb that starts no container (its output is read through pipes, which
    /// a container would inherit and hold open).
    pub fn output(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs a verb that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.output(args);
        assert!(
            output.status.success(),
            "`{} {}` failed ({}): {}{}",
            self.name(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr),
            {
                let note = crate::holes::note(&String::from_utf8_lossy(&output.stderr));
                if note.is_empty() {
                    self.hole_note()
                } else {
                    note
                }
            }
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs a verb that must fail; returns its exit code and standard error.
    pub fn fails(&self, args: &[&str]) -> Failure {
        let output = self.output(args);
        assert!(!output.status.success(), "`{} {}` succeeded but must fail", self.name(), args.join(" "));
        Failure { code: output.status.code(), stderr: String::from_utf8_lossy(&output.stderr).into_owned() }
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
            .stdout(fs::File::create(self.out_path(id)).unwrap())
            .stderr(fs::File::create(self.err_path(id)).unwrap())
            .status()
            .unwrap();
        (status, self.err(id))
    }

    /// `create` that must succeed.
    pub fn created(&self, bundle: &Bundle, id: &str) {
        let (status, err) = self.create(bundle, id, &[]);
        assert!(
            status.success(),
            "`{} create {id}` failed ({status}): {err}{}",
            self.name(),
            crate::holes::note(&err)
        );
    }

    /// `create --pid-file` that must succeed; returns the pid the runtime wrote.
    pub fn created_with_pid_file(&self, bundle: &Bundle, id: &str) -> i32 {
        let pid_file = self.logs.path().join(format!("{}.pid", log_name(id)));
        let pid_arg = pid_file.to_str().expect("a UTF-8 temp dir");
        let (status, err) = self.create(bundle, id, &["--pid-file", pid_arg]);
        assert!(
            status.success(),
            "`{} create {id}` failed ({status}): {err}{}",
            self.name(),
            crate::holes::note(&err)
        );
        let pid = fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("create returned but wrote no pid file {}: {e}", pid_file.display()));
        pid.trim().parse().unwrap_or_else(|_| panic!("the pid file holds {pid:?}, not a pid"))
    }

    /// `run --bundle BUNDLE ID` in the foreground; the container's standard streams go
    /// to files (see [`Runtime::out`]): a container left waiting by a broken `start`
    /// must not keep the test waiting for the end of a pipe. Returns its status.
    pub fn run_container(&self, bundle: &Bundle, id: &str) -> ExitStatus {
        self.cmd()
            .arg("run")
            .arg("--bundle")
            .arg(bundle.path())
            .arg(id)
            .stdout(fs::File::create(self.out_path(id)).unwrap())
            .stderr(fs::File::create(self.err_path(id)).unwrap())
            .status()
            .unwrap()
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

    /// For an assertion's message: the first `todo!()` that `create`, `run` or a
    /// container of this test reached, as their standard error files show (a
    /// container's init writes there too), and that it comes first; else empty.
    pub fn hole_note(&self) -> String {
        self.ids
            .borrow()
            .iter()
            .map(|id| crate::holes::note(&self.err(id)))
            .find(|n| !n.is_empty())
            .unwrap_or_default()
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
        crate::process::wait_for_exec(pid, |exe| Some(exe) != init_exe.as_deref());
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
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let state = self.state(id);
            if state["status"] == status {
                return state;
            }
            assert!(std::time::Instant::now() < deadline, "container {id} never became {status}: {state}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The state directory of container `id`.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.path().join(id)
    }

    /// The entries of the state root (one directory per container).
    pub fn state_dirs(&self) -> Vec<String> {
        fs::read_dir(self.root.path())
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Runtime {
    /// Deletes every container left in the state root, and every id handed out, with
    /// the runtime's own `delete --force`; then, because that `delete` may not work yet,
    /// kills whatever is still in their cgroups and removes those.
    fn drop(&mut self) {
        let mut ids = self.ids.borrow().clone();
        for id in self.state_dirs() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        for id in ids {
            let _ = self.cmd().args(["delete", "--force", &id]).output();
            for dir in crate::cgroups::container_dirs(&id) {
                crate::cgroups::kill_and_remove(&dir);
            }
        }
    }
}

/// The root check of the bang-oci suites: `suite` is the test binary of package bang.
pub fn require_root_for_suite(suite: &str) {
    require_root(
        "these tests create containers and need root",
        &format!("cargo test -p bang --test {suite}"),
    );
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

/// Everything a container `id` made from `bundle` in `runtime` that is still there:
/// its state directory, cgroup directories, mounts, processes. Empty when clean.
pub fn leftovers(runtime: &Runtime, id: &str, bundle: &Bundle) -> Vec<String> {
    let mut left = Vec::new();
    if runtime.state_dirs().iter().any(|d| d.contains(id)) {
        left.push(format!("state directory: {:?}", runtime.state_dirs()));
    }
    left.extend(crate::cgroups::leftovers(id).iter().map(|p| format!("cgroup: {}", p.display())));
    let mut paths = bundle.paths();
    paths.push(runtime.root().to_path_buf());
    left.extend(mounts_mentioning(&paths).into_iter().map(|l| format!("mount: {l}")));
    left.extend(
        crate::process::processes_touching(&bundle.paths()).into_iter().map(|p| format!("process: {p}")),
    );
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
