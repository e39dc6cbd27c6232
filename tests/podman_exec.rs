//! Interop tests of `bang-oci exec` and terminals with podman 4.3 (chapter 6):
//! `podman exec` (output, exit code, --user, -e, -w), `podman top`, and `podman run
//! -it` / `podman exec -it` typed into through a pty this test holds, as a person's
//! terminal would be. conmon calls `bang-oci exec --process FILE --detach --pid-file`
//! (with `--tty --console-socket` for -it) and `bang-oci create --console-socket`.
//!
//! They need root and podman: `apt-get install podman`, then
//! `sudo -E env PATH="$PATH" cargo test -p bigbang --test podman_exec`. The flags
//! podman gets are explained in tests/podman.rs.

#[path = "support/podman.rs"]
mod support;

use bigbang_testkit::pty::PtySession;
use support::*;

/// A shell prompt as busybox's ash prints it for root.
const PROMPT: &str = "/ # ";

/// `podman exec` runs in the running container: its output and exit code come back,
/// and --user, -e and -w reach the process; the container then stops and goes.
#[test]
fn podman_exec_runs_a_process_in_the_container() {
    let mut fx = Fixture::new("exec");
    let (name, _) = fx.run_detached("sleeper", &[], &["sleep", "1000"]);
    let output =
        podman().args(["exec", &name, "sh", "-c", "echo out; echo err >&2; exit 3"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "out\n");
    assert!(text(&output.stderr).lines().any(|l| l == "err"), "{}", text(&output.stderr));

    let flags = ["exec", "--user", "1000:1001", "-e", "GREETING=hi", "-w", "/bin", &name];
    let said = podman_ok(&[&flags[..], &["sh", "-c", "id -u; id -g; echo $GREETING; pwd"]].concat());
    assert_eq!(said, "1000\n1001\nhi\n/bin\n");

    // The container's init and the exec'd process share the pid namespace: the
    // exec'd `ps` sees the init as pid 1.
    let ps = podman_ok(&["exec", &name, "ps", "-o", "pid,args"]);
    assert!(ps.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sleep", "1000"]), "{ps}");

    podman_ok(&["stop", "--time", "1", &name]);
    assert_eq!(inspect(&name, "{{.State.Status}}"), "exited");
    podman_ok(&["rm", &name]);
    fx.finish();
}

/// `podman top` lists the payload's processes, an exec'd one included.
#[test]
fn podman_top_lists_the_payload() {
    let mut fx = Fixture::new("top");
    let (name, _) = fx.run_detached("top", &[], &["sleep", "1000"]);
    podman_ok(&["exec", "--detach", &name, "sleep", "999"]);
    let top = podman_ok(&["top", &name, "pid", "args"]);
    let rows: Vec<Vec<&str>> = top.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.contains(&vec!["1", "sleep", "1000"]), "{top}");
    assert!(rows.iter().any(|r| r[1..] == ["sleep", "999"]), "{top}");
    fx.finish();
}

/// `podman run -it`: the container's shell has a terminal of the size of ours; what
/// we type reaches it and its exit code comes back.
#[test]
fn podman_run_it_is_a_terminal() {
    let mut fx = Fixture::new("runit");
    let name = fx.container("shell");
    let mut run = fx.podman_run();
    run.args(["--rm", "-it", "--name", &name, &fx.name, "sh"]);
    let mut session = PtySession::spawn(run, 31, 97);
    session.wait_for(PROMPT);
    session.send("tty; stty size; echo hello; exit 3\r");
    let (lines, status) = session.finish();
    assert_eq!(status.code(), Some(3), "{lines:?}");
    for expected in ["/dev/pts/0", "31 97", "hello"] {
        assert!(lines.iter().any(|l| l == expected), "no line {expected:?} in {lines:?}");
    }
    fx.finish();
}

/// `podman exec -it` gives the exec'd shell a terminal of its own.
#[test]
fn podman_exec_it_is_a_terminal() {
    let mut fx = Fixture::new("execit");
    let (name, _) = fx.run_detached("sleeper", &[], &["sleep", "1000"]);
    let mut exec = podman();
    exec.args(["exec", "-it", &name, "sh"]).current_dir(fx.scratch.path());
    let mut session = PtySession::spawn(exec, 24, 80);
    session.wait_for(PROMPT);
    session.send("[ -t 0 ] && echo isatty; stty size; echo hello; exit 4\r");
    let (lines, status) = session.finish();
    assert_eq!(status.code(), Some(4), "{lines:?}");
    for expected in ["isatty", "24 80", "hello"] {
        assert!(lines.iter().any(|l| l == expected), "no line {expected:?} in {lines:?}");
    }
    fx.finish();
}
