//! Chapter 5's descriptor checks: nothing the runtime inherited reaches the
//! payload, and a leaked descriptor cannot become its working directory
//! (CVE-2024-21626).

mod common;
#[path = "common/run.rs"]
mod run;

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use bigbang_testkit::process::status_field;
use common::*;
use run::run_cmd;
use serde_json::json;

/// The descriptor the tests leak into the runtime, as runc leaked one in 2024.
const LEAKED: i32 = 42;

fn fd_numbers(pid: u32) -> Vec<i32> {
    let mut fds: Vec<i32> = fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    fds.sort_unstable();
    fds
}

/// A descriptor to a host directory, inherited without close-on-exec by the
/// runtime, is not open in the payload: `/proc/<pid>/fd` lists only 0, 1 and 2.
#[test]
fn inherited_descriptors_are_closed() {
    require_root();
    let rootfs = rootfs();
    let host_dir = fs::File::open("/").unwrap();
    let profile = profile_file(&json!({"process": {"noNewPrivileges": true}}));
    let mut cmd = run_cmd(&profile, rootfs.path(), &["sleep", "30"]);
    leak_fd(&mut cmd, &host_dir, LEAKED);
    let mut running = spawn(cmd);
    let pid = payload_pid(&mut running);
    assert_eq!(fd_numbers(pid), [0, 1, 2], "descriptors open in the payload");
}

/// A descriptor the caller asks to preserve stays open in the payload, and only that one.
#[test]
fn preserved_descriptor_reaches_the_payload() {
    require_root();
    let rootfs = rootfs();
    let file = fs::File::open(rootfs.path().join("bin")).unwrap();
    let profile = profile_file(&json!({}));
    let mut cmd = runtime();
    cmd.args(["run", "--no-seal", "--preserve-fd", &LEAKED.to_string(), "--profile"]).arg(&profile.path);
    cmd.arg(rootfs.path()).args(["--", "sleep", "30"]);
    leak_fd(&mut cmd, &file, LEAKED);
    let mut running = spawn(cmd);
    let pid = payload_pid(&mut running);
    assert_eq!(fd_numbers(pid), [0, 1, 2, LEAKED], "descriptors open in the payload");
}

/// CVE-2024-21626: a working directory of /proc/self/fd/42, where 42 is a leaked
/// host directory, is refused: the runtime fails (125) and the payload never runs.
#[test]
fn leaked_descriptor_cannot_be_the_cwd() {
    require_root();
    let rootfs = rootfs();
    let host_dir = tempfile::tempdir().unwrap();
    let profile = profile_file(&json!({"process": {"cwd": format!("/proc/self/fd/{LEAKED}")}}));
    let mut cmd = run_cmd(&profile, rootfs.path(), &["touch", "escaped"]);
    let leaked = fs::File::open(host_dir.path()).unwrap();
    leak_fd(&mut cmd, &leaked, LEAKED);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(125), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(!host_dir.path().join("escaped").exists(), "the payload wrote into the host directory");
}

/// Even a preserved descriptor to a host directory cannot be the cwd: after
/// chdir the runtime checks that getcwd is inside the root, and refuses.
#[test]
fn preserved_host_directory_cannot_be_the_cwd() {
    require_root();
    let rootfs = rootfs();
    let host_dir = tempfile::tempdir().unwrap();
    let profile = profile_file(&json!({"process": {"cwd": format!("/proc/self/fd/{LEAKED}")}}));
    let mut cmd = runtime();
    cmd.args(["run", "--no-seal", "--preserve-fd", &LEAKED.to_string(), "--profile"]).arg(&profile.path);
    cmd.arg(rootfs.path()).args(["--", "touch", "escaped"]);
    let leaked = fs::File::open(host_dir.path()).unwrap();
    leak_fd(&mut cmd, &leaked, LEAKED);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "stderr: {stderr}");
    assert!(stderr.contains("outside the container"), "the runtime says why: {stderr}");
    assert!(!host_dir.path().join("escaped").exists(), "the payload wrote into the host directory");
}

/// A default-deny seccomp profile without no_new_privs, as the OCI runtime-tools
/// validation config has: the filter goes in early, while the init still holds
/// CAP_SYS_ADMIN, and lists none of close_range, close, chdir and getcwd. The
/// descriptors must be closed and the cwd entered (and checked) before it: the
/// payload runs, under the filter, with only 0, 1 and 2 open.
#[test]
fn descriptors_are_closed_before_a_default_deny_filter() {
    require_root();
    let rootfs = rootfs();
    // What the init's steps after the filter (prctl, capset, execve, allocations)
    // and busybox's `sleep` need, nothing more.
    let allowed = [
        "arch_prctl",
        "brk",
        "capget",
        "capset",
        "chdir",
        "clock_nanosleep",
        "execve",
        "exit",
        "exit_group",
        "fcntl",
        "fstat",
        "futex",
        "getcwd",
        "getegid",
        "geteuid",
        "getgid",
        "getpid",
        "getrandom",
        "getuid",
        "ioctl",
        "lseek",
        "madvise",
        "mmap",
        "mprotect",
        "munmap",
        "nanosleep",
        "newfstatat",
        "openat",
        "prctl",
        "prlimit64",
        "read",
        "readlink",
        "rseq",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "sched_yield",
        "set_robust_list",
        "set_tid_address",
        "sigaltstack",
        "statx",
        "uname",
        "write",
    ];
    let profile = profile_file(&json!({
        "process": {"noNewPrivileges": false},
        "linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": allowed.to_vec(), "action": "SCMP_ACT_ALLOW"}]
        }}
    }));
    let host_dir = fs::File::open("/").unwrap();
    let mut cmd = run_cmd(&profile, rootfs.path(), &["sleep", "30"]);
    leak_fd(&mut cmd, &host_dir, LEAKED);
    let mut running = spawn(cmd);
    let pid = payload_pid(&mut running);
    assert_eq!(status_field(pid, "Seccomp"), "2", "Seccomp mode of the payload");
    assert_eq!(status_field(pid, "NoNewPrivs"), "0");
    assert_eq!(fd_numbers(pid), [0, 1, 2], "descriptors open in the payload");
}

/// Where close_range(2) is refused, as under an older seccomp profile that answers
/// EPERM or on a kernel before 5.9 (ENOSYS), the runtime closes the inherited
/// descriptors one by one: the payload still has only 0, 1 and 2.
#[test]
fn descriptors_are_closed_where_close_range_is_refused() {
    require_root();
    let rootfs = rootfs();
    let host_dir = fs::File::open("/").unwrap();
    let profile = profile_file(&json!({"process": {"noNewPrivileges": true}}));
    let mut cmd = run_cmd(&profile, rootfs.path(), &["sleep", "30"]);
    leak_fd(&mut cmd, &host_dir, LEAKED);
    refuse_close_range(&mut cmd);
    let mut running = spawn(cmd);
    let pid = payload_pid(&mut running);
    assert_eq!(status_field(pid, "Seccomp"), "2", "the runtime ran under the test's filter");
    assert_eq!(fd_numbers(pid), [0, 1, 2], "descriptors open in the payload");
}

/// Runs the spawned runtime under a seccomp filter that answers ENOSYS to close_range(2)
/// and allows everything else, written here as four BPF instructions (not with the
/// chapter's own seccomp code, which this test does not check). Root may install a
/// filter without no_new_privs.
fn refuse_close_range(cmd: &mut Command) {
    let stmt = |code: u32, k: u32| libc::sock_filter { code: code as u16, jt: 0, jf: 0, k };
    let program = [
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0), // the system call's number
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_close_range as u32,
        },
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    // SAFETY: the closure only calls prctl(2) on memory built before fork.
    unsafe {
        cmd.pre_exec(move || {
            let fprog = libc::sock_fprog { len: program.len() as u16, filter: program.as_ptr() as *mut _ };
            if libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog as *const libc::sock_fprog)
                != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Gives the spawned runtime `file` as descriptor `fd`, without close-on-exec:
/// the leaked descriptor of CVE-2024-21626. dup2 is async-signal-safe. Keep
/// `file` open until the command has been spawned.
fn leak_fd(cmd: &mut Command, file: &fs::File, fd: i32) {
    let source = file.as_raw_fd();
    // SAFETY: the closure only calls dup2, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(source, fd) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
