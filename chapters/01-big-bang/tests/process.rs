//! Chapter 1's checks: a command run in a busybox rootfs with your `process.rs`.
//!
//! Each test says what it proves. When one fails on a `todo!()`, its message is
//! the hint of the hole to fill next.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use bigbang_testkit::program::{spawn_retrying, SharedProgram};
use bigbang_testkit::rootfs::BusyboxRootfs;
use chapter_1::process::{check_rootfs, find_program, run_chrooted, spawn_chrooted, Exit, ProcessError};

fn rootfs() -> BusyboxRootfs {
    BusyboxRootfs::new().unwrap_or_else(|err| panic!("cannot build the test rootfs: {err}"))
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The chapter's demo binary, which runs your code.
fn demo() -> Command {
    Command::cargo_bin("chapter-1").expect("the chapter-1 demo binary is built by cargo test")
}

/// Kills and reaps a child even when the test panics.
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The kernel sees the child's root directory as the rootfs: `/proc/<pid>/root` points there.
#[test]
fn child_root_is_the_rootfs() {
    let rootfs = rootfs();
    let child = Reap(spawn_chrooted(rootfs.path(), &argv(&["sleep", "30"])).unwrap());
    let pid = child.0.id();
    // The link shows the new root once exec has happened; until then it may still be the host's.
    let expected = fs::canonicalize(rootfs.path()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = PathBuf::new();
    while Instant::now() < deadline {
        seen = fs::read_link(format!("/proc/{pid}/root")).unwrap();
        if seen == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(seen, expected, "/proc/{pid}/root of the child");
    let cwd = fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, expected, "/proc/{pid}/cwd: the child must chdir(\"/\") after chroot");
}

/// Inside, `/` is the rootfs: a file placed in it is there, the host's files are not.
#[test]
fn sees_only_the_rootfs() {
    let rootfs = rootfs();
    fs::write(rootfs.path().join("marker-from-the-test"), "hello").unwrap();
    let out = demo().arg(rootfs.path()).args(["ls", "/"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ls / failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(listing.contains("marker-from-the-test"), "ls / inside shows: {listing}");
    assert!(!listing.contains("work") && !listing.contains("home"), "the host's / leaks in: {listing}");
}

/// Stdout and stderr reach the caller separately, and stdin reaches the command.
#[test]
fn stdio_is_passed_through() {
    let rootfs = rootfs();
    let out =
        demo().arg(rootfs.path()).args(["sh", "-c", "echo to-stdout; echo to-stderr >&2"]).output().unwrap();
    assert!(out.status.success(), "sh -c 'echo …' failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "to-stdout\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "to-stderr\n");

    let mut cat = demo()
        .arg(rootfs.path())
        .arg("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    cat.stdin.take().unwrap().write_all(b"through stdin\n").unwrap();
    let out = cat.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "through stdin\n");
}

/// Exit codes 0, 1 and 255 come back as they were given to exit(2).
#[test]
fn exit_codes_come_back() {
    let rootfs = rootfs();
    for code in [0, 1, 255] {
        let exit = run_chrooted(rootfs.path(), &argv(&["sh", "-c", &format!("exit {code}")])).unwrap();
        assert_eq!(exit, Exit::Code(code));
        let status = demo().arg(rootfs.path()).args(["sh", "-c", &format!("exit {code}")]).status().unwrap();
        assert_eq!(status.code(), Some(code), "the demo's own exit status");
    }
}

/// A command killed by SIGKILL is reported as signal 9, which a shell shows as 137.
#[test]
fn a_signal_death_is_128_plus_n() {
    let rootfs = rootfs();
    let exit = run_chrooted(rootfs.path(), &argv(&["sh", "-c", "kill -9 $$"])).unwrap();
    assert_eq!(exit, Exit::Signal(9));
    assert_eq!(exit.shell_code(), 137);
    let status = demo().arg(rootfs.path()).args(["sh", "-c", "kill -9 $$"]).status().unwrap();
    assert_eq!(status.code(), Some(137));
}

/// Programs are looked up inside the rootfs, never on the host; a missing one is reported (127).
#[test]
fn a_missing_program_is_reported() {
    let rootfs = rootfs();
    // The first directory of CONTAINER_PATH that has it: /usr/bin links to /bin in the rootfs.
    assert_eq!(find_program(rootfs.path(), "sh"), Some(PathBuf::from("/usr/bin/sh")));
    assert_eq!(find_program(rootfs.path(), "/bin/cat"), Some(PathBuf::from("/bin/cat")));
    // `cargo` is on the host's PATH, not in the rootfs.
    assert_eq!(find_program(rootfs.path(), "cargo"), None);
    assert_eq!(find_program(rootfs.path(), "/bin"), None, "a directory is not a program");
    // `..` stops at the container's `/`: a program beside the rootfs on the host is not found.
    let outside = tempfile::tempdir_in(rootfs.path().parent().unwrap()).unwrap();
    fs::write(outside.path().join("beside"), "#!/bin/sh\n").unwrap();
    let name = outside.path().file_name().unwrap().to_str().unwrap();
    assert_eq!(find_program(rootfs.path(), &format!("../{name}/beside")), None, "found outside the rootfs");
    assert_eq!(find_program(rootfs.path(), "../../bin/sh"), Some(PathBuf::from("/bin/sh")));
    let err = run_chrooted(rootfs.path(), &argv(&["no-such-program"])).unwrap_err();
    assert!(
        matches!(err, ProcessError::ProgramNotFound { ref program, .. } if program == "no-such-program"),
        "{err:?}"
    );
    let out = demo().arg(rootfs.path()).arg("no-such-program").output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-program: command not found"));
}

/// An absolute program path names a file inside the container: a file that exists at
/// that path only on the host is not found. (`Path::join` with an absolute path throws the
/// rootfs away: `rootfs.join("/tmp/x")` is `/tmp/x`, the host's file.)
#[test]
fn an_absolute_path_is_looked_up_inside_the_rootfs() {
    let rootfs = rootfs();
    let host_only = tempfile::tempdir().unwrap();
    let program = host_only.path().join("host-only-program");
    fs::write(&program, "#!/bin/sh\n").unwrap();
    let program = program.to_str().unwrap();
    assert_eq!(
        find_program(rootfs.path(), program),
        None,
        "{program} exists on the host but not in the rootfs; join the rootfs with the path \
         without its leading / (Path::join with an absolute path replaces the rootfs)"
    );
    assert_eq!(
        find_program(rootfs.path(), "/proc/self/exe"),
        None,
        "/proc/self/exe is the host's, the rootfs has an empty /proc"
    );
}

/// A file that is there but not executable is reported as such: 126, as shells do.
#[test]
fn a_file_that_is_not_a_program_is_126() {
    let rootfs = rootfs();
    let err = run_chrooted(rootfs.path(), &argv(&["/etc/passwd"])).unwrap_err();
    assert!(
        matches!(err, ProcessError::NotExecutable { ref program, .. } if program == "/etc/passwd"),
        "{err:?}"
    );
    let out = demo().arg(rootfs.path()).arg("/etc/passwd").output().unwrap();
    assert_eq!(out.status.code(), Some(126), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A rootfs that is a file, or is missing, is refused before anything runs.
#[test]
fn a_bad_rootfs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, "").unwrap();
    let err = check_rootfs(&file).unwrap_err();
    assert!(matches!(err, ProcessError::RootfsNotDirectory { ref path } if path == &file), "{err:?}");
    let missing = dir.path().join("missing");
    let err = run_chrooted(&missing, &argv(&["sh"])).unwrap_err();
    assert!(matches!(err, ProcessError::RootfsMissing { ref path } if path == &missing), "{err:?}");
    assert_eq!(check_rootfs(dir.path()).unwrap(), fs::canonicalize(dir.path()).unwrap());
    // The path comes back resolved: no `..`, no symbolic link, as the kernel will see it.
    fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("sub"), dir.path().join("link")).unwrap();
    let canonical = fs::canonicalize(dir.path()).unwrap();
    assert_eq!(check_rootfs(&dir.path().join("sub/..")).unwrap(), canonical, "`..` must be resolved");
    assert_eq!(
        check_rootfs(&dir.path().join("link")).unwrap(),
        canonical.join("sub"),
        "links must be resolved"
    );
}

/// An unprivileged user runs it too: the child enters a user namespace where it is root.
#[test]
fn runs_as_an_unprivileged_user() {
    if !nix::unistd::geteuid().is_root() {
        // Every other test here already ran as an unprivileged user.
        return;
    }
    let rootfs = rootfs();
    // The demo binary may sit under a directory nobody cannot enter (e.g. /root).
    let bin = SharedProgram::new(demo().get_program().as_ref()).unwrap();
    let nobody = 65534;
    let mut command = Command::new(bin.path());
    command
        .arg(rootfs.path())
        .args(["sh", "-c", "id -u; touch /tmp/made-inside"])
        .uid(nobody)
        .gid(nobody)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = spawn_retrying(&mut command).unwrap().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "as uid {nobody}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "0", "id -u inside: root in the user namespace");
    // What root inside created belongs to nobody outside: the uid map at work.
    let owner = fs::metadata(rootfs.path().join("tmp/made-inside")).unwrap().uid();
    assert_eq!(owner, nobody, "owner on the host of a file made inside");
}
