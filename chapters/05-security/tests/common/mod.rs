//! Helpers for chapter 5's checks: run the chapter binary on a busybox rootfs
//! with a profile, find the payload, read what the kernel says about it, and
//! run a seccomp program in a small classic-BPF interpreter.

#![allow(dead_code)]

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use bigbang_testkit::rootfs::BusyboxRootfs;
use serde_json::Value;

/// Fails the test with one clear line when not root: these checks create mount
/// namespaces, chroot and change capabilities, which only root may do.
pub fn require_root() {
    if !bigbang_testkit::probe::is_root() {
        panic!(
            "chapter 5's checks need root (mount namespaces, chroot, capability changes); run them with: \
             sudo -E env PATH=\"$PATH\" cargo test -p chapter-5"
        );
    }
}

pub fn rootfs() -> BusyboxRootfs {
    BusyboxRootfs::new().unwrap_or_else(|err| panic!("cannot build the test rootfs: {err}"))
}

/// A profile file in a temporary directory, removed on drop.
pub struct ProfileFile {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn profile_file(profile: &Value) -> ProfileFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    fs::write(&path, serde_json::to_vec_pretty(profile).unwrap()).unwrap();
    ProfileFile { _dir: dir, path }
}

/// The chapter binary, which runs your code.
pub fn runtime() -> Command {
    Command::cargo_bin("chapter-5").expect("the chapter-5 binary is built by cargo test")
}

/// `chapter-5 run --no-seal --profile P ROOTFS -- argv…`, ready to spawn or run.
/// Sealing has its own checks (tests/seal.rs, with [`run_cmd_sealed`]); the
/// others skip it, so that each file's holes are checked on their own.
pub fn run_cmd(profile: &ProfileFile, rootfs: &Path, argv: &[&str]) -> Command {
    let mut cmd = runtime();
    cmd.args(["run", "--no-seal", "--profile"]).arg(&profile.path).arg(rootfs).arg("--").args(argv);
    cmd
}

/// `chapter-5 run --profile P ROOTFS -- argv…`: the runtime seals itself first.
pub fn run_cmd_sealed(profile: &ProfileFile, rootfs: &Path, argv: &[&str]) -> Command {
    let mut cmd = runtime();
    cmd.arg("run").arg("--profile").arg(&profile.path).arg(rootfs).arg("--").args(argv);
    cmd
}

/// Gives the spawned runtime `file` as descriptor `fd`, without close-on-exec:
/// the leaked descriptor of CVE-2024-21626. dup2 is async-signal-safe. Keep
/// `file` open until the command has been spawned.
pub fn leak_fd(cmd: &mut Command, file: &fs::File, fd: i32) {
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

/// Kills and reaps the runtime and its payload even when the test panics.
pub struct Running {
    pub child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(payload) = children(self.child.id()).first() {
            // SAFETY: kill with a pid we found as our child's child.
            unsafe { libc::kill(*payload as i32, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(mut cmd: Command) -> Running {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    Running { child: cmd.spawn().expect("spawning chapter-5") }
}

fn children(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The payload's pid once it has exec'd busybox: the runtime's only child.
pub fn payload_pid(running: &mut Running) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = running.child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            running.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("chapter-5 ended ({status}) before its payload ran: {err}");
        }
        if let Some(&pid) = children(running.child.id()).first() {
            if fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe.ends_with("busybox")) {
                return pid;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the payload did not start within 20 s");
}

/// A field of `/proc/<pid>/status`, e.g. `CapEff` or `NoNewPrivs`.
pub fn status_field(pid: u32, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("/proc/{pid}/status has no {field}"))
        .trim()
        .to_owned()
}

/// A capability mask of `/proc/<pid>/status` (`CapEff`, `CapBnd` …) as a number.
pub fn cap_mask(pid: u32, field: &str) -> u64 {
    u64::from_str_radix(&status_field(pid, field), 16).unwrap()
}

/// Runs a classic BPF seccomp program on one system call, as the kernel would,
/// and returns the action it chose. Panics on an instruction the assembler
/// should never emit or a jump out of the program.
pub fn run_bpf(program: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = Vec::with_capacity(64);
    data.extend_from_slice(&nr.to_le_bytes());
    data.extend_from_slice(&arch.to_le_bytes());
    data.extend_from_slice(&0u64.to_le_bytes());
    for arg in args {
        data.extend_from_slice(&arg.to_le_bytes());
    }
    let word = |k: u32| u32::from_le_bytes(data[k as usize..k as usize + 4].try_into().unwrap());
    let (mut pc, mut a) = (0usize, 0u32);
    loop {
        let insn = program.get(pc).unwrap_or_else(|| panic!("jumped out of the program at {pc}"));
        pc += 1;
        let branch = |taken: bool| if taken { insn.jt as usize } else { insn.jf as usize };
        match insn.code {
            0x20 => a = word(insn.k),
            0x54 => a &= insn.k,
            0x15 => pc += branch(a == insn.k),
            0x25 => pc += branch(a > insn.k),
            0x35 => pc += branch(a >= insn.k),
            0x06 => return insn.k,
            code => panic!("unexpected BPF opcode {code:#x} at {}", pc - 1),
        }
    }
}

/// `AUDIT_ARCH_X86_64`.
pub const X86_64: u32 = 0xc000_003e;
/// seccomp's return values.
pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub fn ret_errno(errno: i32) -> u32 {
    0x0005_0000 | errno as u32
}
