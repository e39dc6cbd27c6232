//! Interop tests of `bang-oci` with containerd 1.6 and its `ctr` client: `ctr run
//! --runc-binary <bang-oci>` makes containerd-shim-runc-v2 call bang-oci where it
//! would call runc, with runc's flags and containerd's config.json. Each case runs
//! under bang-oci and under runc and must give the same output and exit code. Each
//! test starts a containerd of its own (root, state, sockets in a temp dir, the CRI
//! plugin off) and stops it with all it started.
//!
//! They need root and containerd: `apt-get install containerd`, then
//! `sudo -E env PATH="$PATH" cargo test -p bigbang --test containerd`.
//!
//! ctr's flags: `--rootfs` runs a busybox directory as the root filesystem (no image,
//! no snapshotter, no registry); `--runc-root` keeps the runtime's state in the temp
//! dir too (the default is /run/containerd/runc/<namespace>), and `--fifo-dir` ctr's
//! stdio fifos (default /run/containerd/fifo); `--cgroup` puts each
//! container below a cgroup of the test's own; `--env PATH=/bin` because ctr's
//! config.json without an image has no PATH, and runc (Go's LookPath) then finds no
//! program by its bare name, where bang-oci falls back to execvp(3)'s default PATH.

#[path = "support/docker.rs"]
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bigbang_testkit::wait::eventually_within;
use support::*;

/// containerd and its client, with a namespace of the test's own.
struct Containerd {
    daemon: Daemon,
    ctr: PathBuf,
    namespace: String,
}

impl Containerd {
    fn start(test: &str) -> Containerd {
        let containerd = require("containerd", "containerd", "containerd");
        let ctr = require("ctr", "containerd", "containerd");
        let dir = tempfile::Builder::new().prefix("bigbang-containerd-").tempdir().unwrap();
        let d = dir.path();
        let socket = d.join("containerd.sock");
        let config = format!(
            "version = 2\nroot = {:?}\nstate = {:?}\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = {:?}\n[ttrpc]\n  address = {:?}\n[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n",
            d.join("root"),
            d.join("state"),
            socket,
            d.join("containerd.sock.ttrpc"),
        );
        fs::write(d.join("config.toml"), config).unwrap();
        let args = vec!["--config".to_string(), d.join("config.toml").to_string_lossy().into_owned()];
        let parent = format!("bigbang-ctr-{test}-{}", std::process::id());
        let ctr_for_ready = ctr.clone();
        let daemon = Daemon::start(&containerd, dir, socket, parent, &args, move |daemon| {
            Command::new(&ctr_for_ready)
                .arg("--address")
                .arg(&daemon.socket)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
        Containerd { daemon, ctr, namespace: format!("bigbang-{test}") }
    }

    /// `ctr --address <ours> --namespace <ours>`, standard input closed.
    fn cmd(&self) -> Command {
        let mut command = Command::new(&self.ctr);
        command.arg("--address").arg(&self.daemon.socket).arg("--namespace").arg(&self.namespace);
        command.stdin(Stdio::null());
        command
    }

    /// `ctr run` of `args` in `rootfs` with `runtime` (runc or bang-oci's path) as
    /// the shim's runc binary; `flags` go before the rootfs.
    fn run(&self, runtime: &Path, id: &str, flags: &[&str], rootfs: &Path, args: &[&str]) -> Command {
        let mut command = self.cmd();
        command
            .arg("run")
            .args(flags)
            .arg("--runc-binary")
            .arg(runtime)
            .arg("--runc-root")
            .arg(self.daemon.dir.path().join("runc-root"))
            // ctr's own fifos for the task's stdio (default /run/containerd/fifo).
            .arg("--fifo-dir")
            .arg(self.daemon.dir.path().join("fifo"))
            .arg("--cgroup")
            .arg(format!("/{}/{id}", self.daemon.cgroup_parent))
            .args(["--env", "PATH=/bin", "--rootfs"])
            .arg(rootfs)
            .arg(id)
            .args(args);
        command
    }

    fn run_rm(&self, runtime: &Path, id: &str, flags: &[&str], rootfs: &Path, args: &[&str]) -> Output {
        self.run(runtime, id, &[&["--rm"][..], flags].concat(), rootfs, args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.cmd().args(args).output().unwrap();
        assert!(output.status.success(), "ctr {args:?} failed:\n{}", output_text(&output));
        text(&output.stdout)
    }

    /// Removes what is left of the test's containers, then stops containerd and
    /// checks nothing is left.
    fn finish(self) {
        for id in self.ok(&["containers", "list", "--quiet"]).lines() {
            let _ = self.cmd().args(["task", "kill", "--signal", "SIGKILL", id]).output();
            let _ = self.cmd().args(["task", "delete", "--force", id]).output();
            let _ = self.cmd().args(["containers", "delete", id]).output();
        }
        self.daemon.finish();
    }
}

/// runc, and bang-oci, with a name for each.
fn runtimes() -> [(&'static str, PathBuf); 2] {
    let runc = bigbang_testkit::probe::program("runc").expect("apt-get install runc");
    [("runc", runc), ("bang", bang_oci().to_path_buf())]
}

/// `ctr run --rm` passes the payload's output and exit code through.
#[test]
fn ctr_run_reports_output_and_exit_code() {
    let ctd = Containerd::start("exit");
    for (name, runtime) in runtimes() {
        let rootfs = busybox_rootfs();
        let output = ctd.run_rm(
            &runtime,
            &format!("out-{name}"),
            &[],
            rootfs.path(),
            &["sh", "-c", "echo hello; exit 3"],
        );
        assert_eq!(output.status.code(), Some(3), "{name}:\n{}", output_text(&output));
        assert_eq!(text(&output.stdout), "hello\n", "{name}");
    }
    ctd.finish();
}

/// `ctr run --cwd /newdir/sub`: a working directory the rootfs does not have is made
/// there and entered, as runc makes it.
#[test]
fn ctr_run_cwd_makes_the_directory() {
    let ctd = Containerd::start("cwd");
    for (name, runtime) in runtimes() {
        let rootfs = busybox_rootfs();
        let output =
            ctd.run_rm(&runtime, &format!("cwd-{name}"), &["--cwd", "/newdir/sub"], rootfs.path(), &["pwd"]);
        assert!(output.status.success(), "{name}:\n{}", output_text(&output));
        assert_eq!(text(&output.stdout), "/newdir/sub\n", "{name}");
        assert!(rootfs.path().join("newdir/sub").is_dir(), "{name}: not made in the rootfs");
    }
    ctd.finish();
}

/// `ctr task kill --signal SIGKILL` ends a running task: the foreground `ctr run`
/// exits 137 and the task's cgroup goes with it.
#[test]
fn ctr_task_kill_ends_the_task() {
    let ctd = Containerd::start("kill");
    for (name, runtime) in runtimes() {
        let rootfs = busybox_rootfs();
        let id = format!("kill-{name}");
        let mut run = ctd
            .run(&runtime, &id, &["--rm"], rootfs.path(), &["sh", "-c", "echo ready; exec sleep 1000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(run.stdout.take().unwrap()), &mut first)
            .unwrap();
        assert_eq!(first, "ready\n", "{name}");
        let tasks = ctd.ok(&["task", "list"]);
        assert!(tasks.lines().any(|l| l.starts_with(&id) && l.ends_with("RUNNING")), "{name}: {tasks}");
        let cgroup = || ctd.daemon.cgroups().iter().any(|parent| parent.join(&id).is_dir());
        assert!(cgroup(), "{name}: no cgroup {}/{id}", ctd.daemon.cgroup_parent);
        ctd.ok(&["task", "kill", "--signal", "SIGKILL", &id]);
        assert_eq!(run.wait().unwrap().code(), Some(137), "{name}");
        eventually_within(ENGINE_PATIENCE, "the task's cgroup is gone", || !cgroup());
    }
    ctd.finish();
}

/// Chapter 5's fake /proc, through containerd as Kubernetes drives it (no_new_privs
/// off: `--allow-new-privs`): the root filesystem's `/proc` is a link to `/data/p`,
/// a bind mount at /data covers it with the attacker's tree (a `cap_last_cap` of 0,
/// plain files for `self/fd/*`). Before the fix the payload ran at create, before
/// start, with every capability. Both runtimes refuse the container: runc with
/// "must be mounted on ordinary directory", bang-oci naming the link; the payload
/// never runs (it would leave /data/ran) and no task is left.
#[test]
fn ctr_refuses_a_rootfs_whose_proc_is_a_link_into_a_volume() {
    let ctd = Containerd::start("fakeproc");
    for (name, runtime) in runtimes() {
        let rootfs = busybox_rootfs();
        let proc = rootfs.path().join("proc");
        if proc.exists() {
            fs::remove_dir(&proc).unwrap();
        }
        std::os::unix::fs::symlink("/data/p", &proc).unwrap();
        fs::create_dir_all(rootfs.path().join("data")).unwrap();
        let volume = tempfile::tempdir().unwrap();
        let fake = volume.path().join("p");
        fs::create_dir_all(fake.join("sys/kernel")).unwrap();
        fs::write(fake.join("sys/kernel/cap_last_cap"), "0\n").unwrap();
        fs::create_dir_all(fake.join("self/fd")).unwrap();
        for fd in 0..64 {
            fs::write(fake.join(format!("self/fd/{fd}")), "").unwrap();
        }
        let mount = format!("type=bind,src={},dst=/data,options=rbind:rw", volume.path().display());
        let id = format!("fakeproc-{name}");
        let output = ctd.run_rm(
            &runtime,
            &id,
            &["--allow-new-privs", "--mount", &mount],
            rootfs.path(),
            &["sh", "-c", "touch /data/ran; sleep 30"],
        );
        let printed = output_text(&output);
        assert!(!output.status.success(), "{name}: the container ran:\n{printed}");
        let expected = if name == "runc" {
            "must be mounted on ordinary directory"
        } else {
            "goes through a symbolic link to /data/p"
        };
        assert!(printed.contains(expected), "{name}: expected {expected:?} in:\n{printed}");
        assert!(!volume.path().join("ran").exists(), "{name}: the payload ran");
        let tasks = ctd.ok(&["task", "list", "--quiet"]);
        assert!(!tasks.lines().any(|t| t == id), "{name}: a task is left: {tasks}");
        let _ = ctd.cmd().args(["containers", "delete", &id]).output();
    }
    ctd.finish();
}
