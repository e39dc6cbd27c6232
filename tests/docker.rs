//! Interop tests of `bang-oci`, the OCI runtime of chapter 6, with Docker Engine 20.10
//! (Debian's docker.io): dockerd drives it through its containerd and
//! containerd-shim-runc-v2 as it drives runc (`dockerd --add-runtime bang=<bang-oci>`,
//! `docker run --runtime bang`). Every case runs under `--runtime bang` and
//! `--runtime runc`, and what Docker reports (exit codes, `docker inspect`, output)
//! and what the kernel reports (the container's cgroup files) must agree. Each test
//! starts a dockerd of its own and stops it with all it started, then checks that
//! no process, mount or cgroup of it is left.
//!
//! They need root and Docker: `apt-get install docker.io containerd`, then
//! `sudo -E env PATH="$PATH" cargo test -p bigbang --test docker`.
//!
//! dockerd's flags: `--data-root`, `--exec-root`, `--pidfile` and `-H unix://…` in a
//! temp directory, so that the machine's own Docker (if any) is neither used nor
//! touched; `--iptables=false --ip-masq=false --ip-forward=false --bridge=none` so that
//! it changes no firewall rule, sysctl or interface of the host (every container runs
//! with `--network none`: networking is not the runtime's job); `--cgroup-parent`
//! with a name of the test's own, so its cgroups are found and removed;
//! `--config-file` an empty file, so no /etc/docker/daemon.json applies. The client is
//! Debian's /usr/bin/docker, the daemon's own version, whatever else is on PATH.
//! Images: a busybox rootfs tarred into `docker import`; no registry is reached.

#[path = "support/docker.rs"]
mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use bigbang_testkit::cgroups;
use bigbang_testkit::pty::PtySession;
use bigbang_testkit::rootfs::import_rootfs;
use bigbang_testkit::wait::eventually_within;
use support::*;

/// The runtimes every case runs under, runc first: what it does is the reference.
const RUNTIMES: [&str; 2] = ["runc", "bang"];

/// A shell function that doubles a string to 256 MiB in memory the shell holds;
/// bounded, so that a missing limit makes it finish instead of eating the host.
const HOG: &str = "x=a; i=0; while [ $i -lt 28 ]; do x=$x$x; i=$((i+1)); done; echo survived";

/// dockerd with bang-oci as runtime `bang`, and the test's image.
struct Docker {
    daemon: Daemon,
    client: PathBuf,
    /// The image imported from a busybox rootfs.
    image: String,
}

impl Docker {
    fn start(test: &str) -> Docker {
        let dockerd = require("dockerd", "docker.io containerd", "docker");
        // Debian's client, beside the daemon's package, rather than the first on PATH.
        let client = ["/usr/bin/docker"]
            .map(PathBuf::from)
            .into_iter()
            .find(|p| p.exists())
            .or_else(|| bigbang_testkit::probe::program("docker"))
            .expect("the docker client: apt-get install docker.io");
        let dir = tempfile::Builder::new().prefix("bigbang-docker-").tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("daemon.json"), "{}").unwrap();
        let socket = d.join("docker.sock");
        let parent = format!("bigbang-docker-{test}-{}", std::process::id());
        let path = |name: &str| d.join(name).to_string_lossy().into_owned();
        let args: Vec<String> = [
            "--data-root",
            &path("data"),
            "--exec-root",
            &path("exec"),
            "--pidfile",
            &path("docker.pid"),
            "--host",
            &format!("unix://{}", socket.display()),
            "--config-file",
            &path("daemon.json"),
            "--add-runtime",
            &format!("bang={}", bang_oci().display()),
            "--iptables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            "--bridge=none",
            "--cgroup-parent",
            &parent,
            "--exec-opt",
            "native.cgroupdriver=cgroupfs",
        ]
        .map(String::from)
        .to_vec();
        let client_for_ready = client.clone();
        let daemon = Daemon::start(&dockerd, dir, socket, parent, &args, move |daemon| {
            Command::new(&client_for_ready)
                .arg("--host")
                .arg(format!("unix://{}", daemon.socket.display()))
                .args(["version", "--format", "{{.Server.Version}}"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        let image = format!("bigbang-docker-{test}:{}", std::process::id());
        let docker = Docker { daemon, client, image };
        let rootfs = busybox_rootfs();
        let mut import = docker.cmd();
        import.args(["import", "-", &docker.image]);
        import_rootfs(rootfs.path(), import, "docker import");
        docker
    }

    /// `docker --host <ours>`, standard input closed.
    fn cmd(&self) -> Command {
        let mut command = Command::new(&self.client);
        command.arg("--host").arg(format!("unix://{}", self.daemon.socket.display()));
        command.stdin(Stdio::null());
        command
    }

    fn output(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// `docker <args>`, which must succeed; its standard output, trimmed.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.output(args);
        assert!(output.status.success(), "docker {args:?} failed:\n{}", output_text(&output));
        text(&output.stdout).trim().to_string()
    }

    /// `docker run --rm --runtime <runtime> --network none <flags> <image> <cmd>`.
    fn run_rm(&self, runtime: &str, flags: &[&str], cmd: &[&str]) -> Output {
        self.cmd()
            .args(["run", "--rm", "--runtime", runtime, "--network", "none"])
            .args(flags)
            .arg(&self.image)
            .args(cmd)
            .output()
            .unwrap()
    }

    /// `docker run -d --name <name> --runtime <runtime> --network none …`.
    fn run_detached(&self, runtime: &str, name: &str, flags: &[&str], cmd: &[&str]) {
        let output = self
            .cmd()
            .args(["run", "-d", "--name", name, "--runtime", runtime, "--network", "none"])
            .args(flags)
            .arg(&self.image)
            .args(cmd)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "docker run -d --runtime {runtime} failed:\n{}",
            output_text(&output)
        );
    }

    fn inspect(&self, name: &str, format: &str) -> String {
        self.ok(&["inspect", "--format", format, name])
    }

    /// The container's cgroup file `file` in v1 hierarchy `controller` (or in the v2
    /// tree on a v2 host), found from its init's /proc/<pid>/cgroup.
    fn cgroup_file(&self, name: &str, controller: &str, file: &str) -> String {
        let pid = self.inspect(name, "{{.State.Pid}}");
        cgroups::read(cgroups::v1_dir_of(pid, controller).join(file))
    }

    /// Removes every container, then stops dockerd and checks nothing is left.
    fn finish(self) {
        let all = self.ok(&["ps", "-aq"]);
        if !all.is_empty() {
            self.ok(&[&["rm", "-f"][..], &all.lines().collect::<Vec<_>>()].concat());
        }
        self.daemon.finish();
    }
}

/// A name for a container of this test.
fn name(what: &str, runtime: &str) -> String {
    format!("{what}-{runtime}")
}

/// `docker run --rm` passes the output and the exit code through, and maps the
/// runtime's exec failures as Docker maps runc's: 0, 3, 127 for a program not on PATH
/// and for a path that does not exist, 126 for a directory and for a file without
/// execute permission, 137 for a payload killed by SIGKILL; the same under both.
#[test]
fn run_reports_output_and_exit_codes_as_with_runc() {
    let docker = Docker::start("exit");
    let cases: &[(&[&str], i32)] = &[
        (&["sh", "-c", "echo to-stdout; echo to-stderr >&2"], 0),
        (&["sh", "-c", "exit 3"], 3),
        (&["no-such-program"], 127),
        (&["/no/such/program"], 127),
        (&["/etc"], 126),
        (&["/etc/passwd"], 126),
    ];
    for runtime in RUNTIMES {
        for (cmd, code) in cases {
            let output = docker.run_rm(runtime, &[], cmd);
            assert_eq!(
                output.status.code(),
                Some(*code),
                "--runtime {runtime} {cmd:?}:\n{}",
                output_text(&output)
            );
        }
        let output = docker.run_rm(runtime, &[], &["sh", "-c", "echo to-stdout; echo to-stderr >&2"]);
        assert_eq!(text(&output.stdout), "to-stdout\n", "--runtime {runtime}");
        assert!(text(&output.stderr).lines().any(|l| l == "to-stderr"), "--runtime {runtime}");
        // Killed from outside: a container's pid 1 ignores SIGKILL sent from inside.
        let victim = name("victim", runtime);
        let mut run = docker
            .cmd()
            .args([
                "run",
                "--rm",
                "--name",
                &victim,
                "--runtime",
                runtime,
                "--network",
                "none",
                &docker.image,
            ])
            .args(["sh", "-c", "echo ready; exec sleep 1000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(run.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert_eq!(first, "ready\n");
        docker.ok(&["kill", &victim]);
        assert_eq!(run.wait().unwrap().code(), Some(137), "--runtime {runtime}: killed");
    }
    docker.finish();
}

/// A detached container: `exec` runs in it (output, exit code), `top` lists its
/// process, pause freezes its cgroup and unpause thaws it, `logs` has its output,
/// `stop` kills it after the timeout (137, it ignores SIGTERM as pid 1), `rm` removes it.
#[test]
fn detached_container_exec_top_pause_logs_stop_rm() {
    let docker = Docker::start("detached");
    for runtime in RUNTIMES {
        let c = name("sleeper", runtime);
        docker.run_detached(runtime, &c, &[], &["sh", "-c", "echo started; exec sleep 1000"]);
        eventually_within(ENGINE_PATIENCE, "the container's first log line is there", || {
            docker.ok(&["logs", &c]) == "started"
        });
        let exec = docker.output(&["exec", &c, "sh", "-c", "echo in-exec; exit 4"]);
        assert_eq!(exec.status.code(), Some(4), "--runtime {runtime}:\n{}", output_text(&exec));
        assert_eq!(text(&exec.stdout), "in-exec\n");
        let top = docker.ok(&["top", &c]);
        assert!(top.lines().any(|l| l.ends_with("sleep 1000")), "--runtime {runtime}: top:\n{top}");
        docker.ok(&["pause", &c]);
        assert_eq!(docker.inspect(&c, "{{.State.Status}}"), "paused");
        assert_eq!(docker.cgroup_file(&c, "freezer", "freezer.state"), "FROZEN");
        docker.ok(&["unpause", &c]);
        assert_eq!(docker.inspect(&c, "{{.State.Status}}"), "running");
        assert_eq!(docker.cgroup_file(&c, "freezer", "freezer.state"), "THAWED");
        docker.ok(&["stop", "--time", "1", &c]);
        assert_eq!(docker.inspect(&c, "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
        docker.ok(&["rm", &c]);
        assert!(!docker.output(&["inspect", &c]).status.success(), "--runtime {runtime}: {c} is still there");
    }
    docker.finish();
}

/// `docker run -it`, typed into through a pty this test holds as a person's terminal:
/// the payload's standard streams are a terminal, what is typed reaches it, and the
/// exit code comes back.
#[test]
fn run_it_is_a_terminal() {
    let docker = Docker::start("tty");
    for runtime in RUNTIMES {
        let mut command = docker.cmd();
        command.args(["run", "--rm", "-it", "--runtime", runtime, "--network", "none", &docker.image]);
        command.args(["sh", "-c", "tty; read line; echo got:$line; exit 5"]);
        let mut session = PtySession::spawn(command, 24, 80);
        session.wait_for("/dev/pts/0");
        session.send("hello\r");
        session.wait_for("got:hello");
        let (lines, status) = session.finish();
        assert_eq!(status.code(), Some(5), "--runtime {runtime}: {lines:?}");
    }
    docker.finish();
}

/// The limits Docker sets reach the kernel as runc writes them: `--memory` (an OOM
/// kill: exit 137 and OOMKilled), `--pids-limit`, `--cpus`; the deprecated
/// `--kernel-memory` is accepted (ignored, as runc ignores it); `stats` reads them back;
/// `update --memory` changes the memory limit and leaves the rest (Docker sends 0
/// for every field it does not change).
#[test]
fn limits_reach_the_cgroup_as_with_runc() {
    let docker = Docker::start("limits");
    let mut seen = Vec::new();
    for runtime in RUNTIMES {
        let oom = name("oom", runtime);
        let output = docker
            .cmd()
            .args(["run", "--name", &oom, "--runtime", runtime, "--network", "none"])
            .args(["--memory", "32m", "--memory-swap", "32m", &docker.image, "sh", "-c", HOG])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(137), "--runtime {runtime}:\n{}", output_text(&output));
        assert_eq!(docker.inspect(&oom, "{{.State.ExitCode}} {{.State.OOMKilled}}"), "137 true");
        docker.ok(&["rm", &oom]);

        let forks = docker.run_rm(
            runtime,
            &["--pids-limit", "10"],
            &["sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 1000 & i=$((i+1)); done; echo all forked"],
        );
        assert!(
            !text(&forks.stdout).contains("all forked"),
            "--runtime {runtime}: 20 forks under a limit of 10"
        );
        assert!(text(&forks.stderr).contains("can't fork"), "--runtime {runtime}:\n{}", output_text(&forks));

        // Deprecated, and ignored with a warning by both runtimes: the container runs.
        let kmem = docker.run_rm(runtime, &["--kernel-memory", "64m"], &["echo", "ran"]);
        assert_eq!(
            text(&kmem.stdout),
            "ran\n",
            "--runtime {runtime} --kernel-memory:\n{}",
            output_text(&kmem)
        );

        let c = name("limited", runtime);
        docker.run_detached(
            runtime,
            &c,
            &["--cpus", "0.5", "--pids-limit", "50", "--memory", "64m", "--memory-swap", "128m"],
            &["sleep", "1000"],
        );
        let files = [
            ("cpu", "cpu.cfs_quota_us"),
            ("cpu", "cpu.cfs_period_us"),
            ("cpu", "cpu.shares"),
            ("pids", "pids.max"),
            ("memory", "memory.limit_in_bytes"),
            ("memory", "memory.memsw.limit_in_bytes"),
        ];
        let read = |files: &[(&str, &str)]| -> Vec<String> {
            files.iter().map(|(controller, file)| docker.cgroup_file(&c, controller, file)).collect()
        };
        let before = read(&files);
        assert_eq!(before, ["50000", "100000", "1024", "50", "67108864", "134217728"], "--runtime {runtime}");
        let stats = docker.ok(&["stats", "--no-stream", "--format", "{{.MemUsage}} {{.PIDs}}", &c]);
        assert!(stats.ends_with("/ 64MiB 1"), "--runtime {runtime}: stats {stats:?}");
        docker.ok(&["update", "--memory", "48m", &c]);
        let after = read(&files);
        assert_eq!(after[4], (48 << 20).to_string(), "--runtime {runtime}: update --memory");
        assert_eq!([&after[..4], &after[5..]].concat(), [&before[..4], &before[5..]].concat());
        seen.push(after);
        docker.ok(&["rm", "-f", &c]);
    }
    assert_eq!(seen[1], seen[0], "bang (right) differs from runc (left)");
    docker.finish();
}

/// What the payload sees under Docker's security and storage flags is the same under
/// both runtimes: `--read-only`, `-v` (a bind mount), `--user`, `--cap-drop ALL
/// --cap-add`, `--security-opt no-new-privileges`, and `--init` (docker-init as pid 1).
#[test]
fn payload_sees_the_same_flags_as_with_runc() {
    let docker = Docker::start("flags");
    let volume = docker.daemon.dir.path().join("volume");
    fs::create_dir(&volume).unwrap();
    fs::write(volume.join("from-the-host"), "hello from the host\n").unwrap();
    let bind = format!("{}:/data", volume.display());
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["--read-only"], "touch /x 2>&1; echo $?", "touch: /x: Read-only file system\n1\n"),
        (
            vec!["-v", &bind],
            "cat /data/from-the-host; touch /data/new && echo written",
            "hello from the host\nwritten\n",
        ),
        (vec!["--user", "1000:1000"], "id", "uid=1000 gid=1000 groups=1000\n"),
        (
            vec!["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"],
            "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status",
            "CapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000000000400\n",
        ),
        (
            vec!["--security-opt", "no-new-privileges"],
            "grep NoNewPrivs /proc/self/status",
            "NoNewPrivs:\t1\n",
        ),
        (vec!["--init"], "cat /proc/1/comm; [ $$ != 1 ] && echo not-pid-1", "docker-init\nnot-pid-1\n"),
    ];
    for runtime in RUNTIMES {
        for (flags, script, expected) in &cases {
            let output = docker.run_rm(runtime, flags, &["sh", "-c", script]);
            assert!(output.status.success(), "--runtime {runtime} {flags:?}:\n{}", output_text(&output));
            assert_eq!(text(&output.stdout), *expected, "--runtime {runtime} {flags:?}");
        }
        assert!(volume.join("new").exists());
        fs::remove_file(volume.join("new")).unwrap();
    }
    docker.finish();
}

/// `--restart on-failure:2` restarts a failing container twice through the runtime
/// (a new create and start each time), then leaves it exited with its code.
#[test]
fn restart_on_failure_restarts_through_the_runtime() {
    let docker = Docker::start("restart");
    for runtime in RUNTIMES {
        let c = name("failing", runtime);
        docker.run_detached(runtime, &c, &["--restart", "on-failure:2"], &["sh", "-c", "echo try; exit 5"]);
        eventually_within(ENGINE_PATIENCE, "two restarts and the last exit are done", || {
            docker.inspect(&c, "{{.RestartCount}} {{.State.Status}}") == "2 exited"
        });
        assert_eq!(docker.inspect(&c, "{{.State.ExitCode}}"), "5");
        assert_eq!(docker.ok(&["logs", &c]), "try\ntry\ntry", "--runtime {runtime}");
        docker.ok(&["rm", &c]);
    }
    docker.finish();
}
