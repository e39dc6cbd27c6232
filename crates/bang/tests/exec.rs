//! Black-box tests of `bang-oci exec`, `ps` and terminals (chapter 6): a process
//! started in a running container shares its init's namespaces (/proc/<pid>/ns),
//! root and cgroup, has the cwd, environment, user and security the flags asked for
//! (/proc/<pid>/status), passes its exit status on; a terminal's master arrives over
//! the console socket this test listens on, and the process inside sees a tty of
//! the window size asked for. They need root:
//! `sudo -E env PATH="$PATH" cargo test -p bang --test exec`.

use std::fs;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::names::unique;
use bigbang_testkit::process::{alive, status_field};
use bigbang_testkit::runtime::Runtime;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use serde_json::Value;

const TEST: &str = "exec";

/// Runs a verb that leaves a process holding its standard streams (`exec --detach`):
/// they go elsewhere (stderr to a file), so that nobody waits for that process to
/// close them, as `Command::output` would.
fn ok_detached(runtime: &Runtime, args: &[&str]) {
    let err = runtime.logs().join("detached.err");
    let status = runtime
        .cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "bang-oci {args:?} failed: {}", fs::read_to_string(err).unwrap());
}

/// `exec --detach` returns once the process has executed its program (its socket to
/// the runtime closed at execve): /proc/<pid>/exe is busybox already.
fn assert_executed(pid: i64) {
    let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(exe.ends_with("busybox"), "exec returned before pid {pid} executed its program: {exe:?}");
}

/// `exec --detach` starts a process that is in every namespace of the container's
/// init, under the same root and in the same cgroup, and `ps` lists both.
#[test]
fn exec_joins_the_namespaces_root_and_cgroup_of_the_init() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("ns");
    let init = runtime.start_running(&bundle, &id);
    let pid_file = runtime.logs().join("exec.pid");
    ok_detached(
        &runtime,
        &["exec", "--detach", "--pid-file", pid_file.to_str().unwrap(), &id, "sleep", "999"],
    );
    let pid: i64 = fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert_executed(pid);
    for ns in ["pid", "mnt", "uts", "ipc", "net", "cgroup", "user"] {
        let of = |p: i64| fs::read_link(format!("/proc/{p}/ns/{ns}")).unwrap();
        assert_eq!(of(pid), of(init), "the exec'd process is not in the init's {ns} namespace");
    }
    assert_ne!(
        fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap(),
        fs::read_link("/proc/self/ns/pid").unwrap(),
        "the container has a pid namespace of its own"
    );
    // Its pid inside is not 1 (that is the init), and it is in the container's pid
    // namespace: NSpid has two entries.
    let nspid = status_field(pid, "NSpid");
    assert_eq!(nspid.split_whitespace().count(), 2, "NSpid {nspid}");
    // Neither inherits a descriptor of the runtime's (the init socket, the console
    // socket): 0, 1 and 2 only.
    for p in [init, pid] {
        let fds: Vec<_> =
            fs::read_dir(format!("/proc/{p}/fd")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(fds.len(), 3, "pid {p} holds descriptors {fds:?}");
    }
    let root = |p: i64| fs::metadata(format!("/proc/{p}/root/")).map(|m| (m.dev(), m.ino())).unwrap();
    assert_eq!(root(pid), root(init), "the exec'd process has another root");
    let procs = fs::read_to_string(format!("/sys/fs/cgroup/pids/bang-oci/{id}/cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == pid.to_string()), "{pid} is not in the container's cgroup:\n{procs}");

    let pids: Vec<i64> = serde_json::from_str(&runtime.ok(&["ps", "--format", "json", &id])).unwrap();
    assert_eq!(pids, {
        let mut both = vec![init, pid];
        both.sort();
        both
    });
    let table = runtime.ok(&["ps", &id, "--", "-o", "pid,comm"]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two rows:\n{table}");
    assert!(rows[0].contains("PID"));
    assert!(rows.iter().any(|r| r.split_whitespace().next() == Some(&pid.to_string())), "{table}");
    runtime.ok(&["delete", "--force", &id]);
    assert!(!alive(pid), "delete --force leaves the exec'd process {pid}");
}

/// In a container with a user namespace, the exec'd process joins it too (first of
/// all, as the namespace's root) and runs as the mapped host uid.
#[test]
fn exec_joins_a_user_namespace() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sleep", "1000"]);
    bundle.edit(|config| {
        let linux = &mut config["linux"];
        linux["namespaces"].as_array_mut().unwrap().push(serde_json::json!({"type": "user"}));
        let map = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        linux["uidMappings"] = map.clone();
        linux["gidMappings"] = map;
    });
    let id = unique("userns");
    let init = runtime.start_running(&bundle, &id);
    let pid_file = runtime.logs().join("exec.pid");
    ok_detached(
        &runtime,
        &["exec", "-d", "--pid-file", pid_file.to_str().unwrap(), "--user", "7:8", &id, "sleep", "997"],
    );
    let pid: i64 = fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert_executed(pid);
    for ns in ["user", "pid", "mnt", "uts", "ipc", "net"] {
        let of = |p: i64| fs::read_link(format!("/proc/{p}/ns/{ns}")).unwrap();
        assert_eq!(of(pid), of(init), "the exec'd process is not in the init's {ns} namespace");
    }
    assert_ne!(
        fs::read_link(format!("/proc/{pid}/ns/user")).unwrap(),
        fs::read_link("/proc/self/ns/user").unwrap()
    );
    assert_eq!(
        status_field(pid, "Uid").split_whitespace().next(),
        Some("100007"),
        "uid 7 inside is 100007 outside"
    );
    assert_eq!(status_field(pid, "Gid").split_whitespace().next(), Some("100008"));
    runtime.ok(&["delete", "--force", &id]);
}

/// `exec` in the foreground runs with --cwd, --env and --user, and exits with the
/// process's status: the code, or 128+n for signal n.
#[test]
fn exec_sets_cwd_env_user_and_passes_exit_codes() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("flags");
    runtime.start_running(&bundle, &id);
    let output = runtime
        .cmd()
        .args(["exec", "--cwd", "/bin", "--env", "GREETING=hi", "--user", "1000:1001", &id])
        .args(["sh", "-c", "pwd; echo $GREETING; id -u; id -g; exit 7"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "/bin\nhi\n1000\n1001\n");
    let killed = runtime.cmd().args(["exec", &id, "sh", "-c", "kill -KILL $$"]).status().unwrap();
    assert_eq!(killed.code(), Some(137));
    runtime.ok(&["delete", "--force", &id]);
}

/// The exec'd process gets its own security profile: the process file's
/// capabilities and no_new_privs, and the container's seccomp filter.
#[test]
fn exec_applies_the_process_security_profile() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sleep", "1000"]);
    bundle.edit(|config| {
        config["linux"]["seccomp"] = serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["sethostname"], "action": "SCMP_ACT_ERRNO"}]
        });
    });
    let id = unique("security");
    runtime.start_running(&bundle, &id);
    let process = runtime.logs().join("process.json");
    fs::write(
        &process,
        r#"{"args": ["sleep", "998"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0},
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "noNewPrivileges": false}"#,
    )
    .unwrap();
    let pid_file = runtime.logs().join("exec.pid");
    ok_detached(
        &runtime,
        &[
            "exec",
            "-d",
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--process",
            process.to_str().unwrap(),
            &id,
        ],
    );
    let pid: i64 = fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert_executed(pid);
    assert_eq!(status_field(pid, "CapEff"), "0000000000000020", "CAP_KILL alone");
    assert_eq!(status_field(pid, "CapBnd"), "0000000000000020");
    assert_eq!(status_field(pid, "NoNewPrivs"), "0");
    assert_eq!(status_field(pid, "Seccomp"), "2", "the container's filter");
    runtime.ok(&["delete", "--force", &id]);
}

/// Only a running container can exec; a mistake exits 255 (not a process's status)
/// with a message naming the container.
#[test]
fn exec_refuses_containers_that_do_not_run() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sleep", "1000"]);
    let id = unique("refuse");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(status.success(), "{err}");
    let refused = runtime.cmd().args(["exec", &id, "true"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(255));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains(&format!("container {id} is created, not running")), "{message}");
    let unknown = runtime.cmd().args(["exec", "no-such-container", "true"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(255));
    let tty = runtime.cmd().args(["exec", "--tty", &id, "sh"]).output().unwrap();
    assert_eq!(tty.status.code(), Some(255), "a terminal in the foreground is refused");
    runtime.ok(&["delete", "--force", &id]);
}

/// A unix socket the test listens on, as conmon does for `--console-socket`.
struct ConsoleSocket {
    _dir: tempfile::TempDir,
    path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    fn new() -> ConsoleSocket {
        let dir = tempfile::Builder::new().prefix("bigbang-console-").tempdir().unwrap();
        let path = dir.path().join("console.sock");
        let listener = UnixListener::bind(&path).unwrap();
        ConsoleSocket { _dir: dir, path, listener }
    }

    fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// Accepts the runtime's connection and receives the master: one SCM_RIGHTS
    /// message with one descriptor, and its name as data. The runtime connected and
    /// sent before returning, so nothing here waits for it.
    fn receive_master(&self) -> (OwnedFd, String) {
        let (stream, _) = self.listener.accept().unwrap();
        let mut name = [0u8; 256];
        let mut iov = [IoSliceMut::new(&mut name)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
            .expect("recvmsg on the console socket");
        let fds: Vec<_> = msg
            .cmsgs()
            .unwrap()
            .flat_map(|c| match c {
                ControlMessageOwned::ScmRights(fds) => fds,
                other => panic!("unexpected control message {other:?}"),
            })
            .collect();
        let len = msg.bytes;
        assert_eq!(fds.len(), 1, "one descriptor");
        drop(stream);
        // SAFETY: the kernel just installed this descriptor for us.
        (unsafe { OwnedFd::from_raw_fd(fds[0]) }, String::from_utf8_lossy(&name[..len]).into_owned())
    }
}

/// Writes `input` to the master and reads what the terminal prints until the other
/// side is closed (EIO once no process holds the slave), for at most 20 s.
fn converse(master: &OwnedFd, input: &str) -> String {
    nix::unistd::write(master, input.as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(200u16)).unwrap() == 0 {
            continue;
        }
        match nix::unistd::read(master, &mut buf) {
            Ok(0) | Err(Errno::EIO) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(err) => panic!("reading the master: {err}"),
        }
    }
    panic!("the terminal never closed; it printed:\n{}", String::from_utf8_lossy(&out));
}

/// Lines as a terminal prints them (\r\n), without the carriage returns.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_end_matches('\r').to_string()).collect()
}

/// process.terminal: the init's master arrives over --console-socket; inside, the
/// shell's stdin is a tty, /dev/pts/0, of process.consoleSize, and /dev/console is
/// that pty; then `exec --tty --console-socket` gives an exec'd shell a tty of its
/// own, of the process file's size.
#[test]
fn terminal_masters_arrive_over_the_console_socket() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sh"]);
    bundle.edit(|config| {
        config["process"]["terminal"] = Value::Bool(true);
        config["process"]["consoleSize"] = serde_json::json!({"height": 40, "width": 120});
    });
    let id = unique("tty");
    let console = ConsoleSocket::new();
    let (status, err) = runtime.create(&bundle, &id, &["--console-socket", console.arg()]);
    assert!(status.success(), "create failed: {err}");
    let (master, name) = console.receive_master();
    assert_eq!(name, "/dev/ptmx");
    let init = runtime.state(&id)["pid"].as_i64().unwrap();
    let dev_console = fs::metadata(format!("/proc/{init}/root/dev/console")).unwrap();
    assert!(dev_console.file_type().is_char_device(), "/dev/console is not the pty");
    assert_eq!(dev_console.rdev() >> 8, 136, "/dev/console is not a pty slave (major 136)");
    runtime.ok(&["start", &id]);

    // An exec'd shell with a terminal of its own, while the init's shell waits.
    let exec_console = ConsoleSocket::new();
    let process = runtime.logs().join("process.json");
    fs::write(
        &process,
        r#"{"terminal": true, "consoleSize": {"height": 25, "width": 81}, "args": ["sh"],
            "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}"#,
    )
    .unwrap();
    let process = process.to_str().unwrap();
    ok_detached(
        &runtime,
        &["exec", "-d", "--tty", "--console-socket", exec_console.arg(), "--process", process, &id],
    );
    let (exec_master, _) = exec_console.receive_master();
    let said = lines(&converse(&exec_master, "tty; [ -t 0 ] && echo isatty; stty size; exit 4\n"));
    assert!(said.contains(&"/dev/pts/1".to_string()), "{said:?}");
    assert!(said.contains(&"isatty".to_string()), "{said:?}");
    assert!(said.contains(&"25 81".to_string()), "{said:?}");

    let said = lines(&converse(&master, "tty; [ -t 0 ] && echo isatty; stty size; exit 3\n"));
    assert!(said.contains(&"/dev/pts/0".to_string()), "{said:?}");
    assert!(said.contains(&"isatty".to_string()), "{said:?}");
    assert!(said.contains(&"40 120".to_string()), "{said:?}");
    runtime.wait_status(&id, "stopped");
    runtime.ok(&["delete", &id]);
}

/// A terminal needs a console socket, and a console socket a terminal: both
/// mistakes fail `create` and leave nothing behind.
#[test]
fn terminal_and_console_socket_must_come_together() {
    let runtime = Runtime::new(TEST);
    let bundle = Bundle::new(&["sh"]);
    bundle.edit(|config| config["process"]["terminal"] = Value::Bool(true));
    let (status, err) = runtime.create(&bundle, &unique("nosocket"), &[]);
    assert!(!status.success());
    assert!(err.contains("no --console-socket was given"), "{err}");
    let plain = Bundle::new(&["sh"]);
    let console = ConsoleSocket::new();
    let (status, err) = runtime.create(&plain, &unique("noterminal"), &["--console-socket", console.arg()]);
    assert!(!status.success());
    assert!(err.contains("the process has no terminal"), "{err}");
    assert!(runtime.state_dirs().is_empty(), "{:?}", runtime.state_dirs());
}
