//! Chapter 5's seccomp checks: the BPF program your seccomp.rs assembles, run in
//! an interpreter on chosen system calls, then installed in the kernel under a
//! real payload.

mod common;
#[path = "common/run.rs"]
mod run;

use bigbang_testkit::process::{cap_mask, status_field};
use chapter_5::security::seccomp::{Filter, LinuxSeccomp, SeccompError};
use common::*;
use run::run_cmd;
use serde_json::{json, Value};

fn filter(spec: Value) -> Filter {
    let spec: LinuxSeccomp = serde_json::from_value(spec).expect("a valid linux.seccomp object");
    Filter::from_spec(&spec).expect("the profile is accepted")
}

fn program(spec: Value) -> Vec<libc::sock_filter> {
    filter(spec).program().expect("the program assembles")
}

const MOUNT: u32 = libc::SYS_mount as u32;
const UNSHARE: u32 = libc::SYS_unshare as u32;
const KEYCTL: u32 = libc::SYS_keyctl as u32;
const GETPID: u32 = libc::SYS_getpid as u32;

/// A deny-list profile returns each rule's errno for its system calls, allows
/// the rest, and kills a foreign architecture or an x32 system call.
#[test]
fn deny_list_program() {
    let prog = program(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mount", "umount2"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS"},
        ]
    }));
    assert_eq!(run_bpf(&prog, X86_64, MOUNT, [0; 6]), ret_errno(libc::EPERM), "mount");
    assert_eq!(run_bpf(&prog, X86_64, libc::SYS_umount2 as u32, [0; 6]), ret_errno(libc::EPERM), "umount2");
    assert_eq!(run_bpf(&prog, X86_64, UNSHARE, [0; 6]), ret_errno(libc::ENOSYS), "unshare");
    assert_eq!(run_bpf(&prog, X86_64, KEYCTL, [0; 6]), RET_KILL_PROCESS, "keyctl");
    assert_eq!(run_bpf(&prog, X86_64, GETPID, [0; 6]), RET_ALLOW, "getpid");
    assert_eq!(run_bpf(&prog, 0x4000_0003, GETPID, [0; 6]), RET_KILL_PROCESS, "i386 arch");
    assert_eq!(run_bpf(&prog, X86_64, GETPID | 0x4000_0000, [0; 6]), RET_KILL_PROCESS, "x32 call");
}

/// An allow-list profile allows its names and gives everything else the default errno.
#[test]
fn allow_list_program() {
    let prog = program(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "syscalls": [{"names": ["read", "write", "exit_group", "getpid"], "action": "SCMP_ACT_ALLOW"}]
    }));
    for nr in [libc::SYS_read, libc::SYS_write, libc::SYS_exit_group, libc::SYS_getpid] {
        assert_eq!(run_bpf(&prog, X86_64, nr as u32, [0; 6]), RET_ALLOW, "syscall {nr}");
    }
    assert_eq!(run_bpf(&prog, X86_64, MOUNT, [0; 6]), ret_errno(libc::EPERM));
}

/// Each operator compares the full 64-bit argument: values that differ only in
/// the high word, or sit on either side of the boundary, get the right answer.
#[test]
fn argument_comparisons_are_64_bit() {
    let edges: [u64; 9] = [
        0,
        1,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_0001,
        0x2_0000_0000,
        0x1_ffff_ffff,
        u64::MAX - 1,
        u64::MAX,
    ];
    for &value in &[0x1_0000_0000u64, 0xffff_ffff, 7, u64::MAX] {
        for (op, holds) in [
            ("SCMP_CMP_EQ", (|a, v| a == v) as fn(u64, u64) -> bool),
            ("SCMP_CMP_NE", |a, v| a != v),
            ("SCMP_CMP_LT", |a, v| a < v),
            ("SCMP_CMP_LE", |a, v| a <= v),
            ("SCMP_CMP_GT", |a, v| a > v),
            ("SCMP_CMP_GE", |a, v| a >= v),
        ] {
            let prog = program(json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                              "args": [{"index": 2, "value": value, "op": op}]}]
            }));
            for &arg in edges.iter().chain([value.wrapping_sub(1), value, value.wrapping_add(1)].iter()) {
                let expected = if holds(arg, value) { ret_errno(libc::EACCES) } else { RET_ALLOW };
                let args = [0, 0, arg, 0, 0, 0];
                assert_eq!(
                    run_bpf(&prog, X86_64, KEYCTL, args),
                    expected,
                    "keyctl arg2 = {arg:#x} {op} {value:#x}"
                );
            }
        }
    }
}

/// SCMP_CMP_MASKED_EQ tests `arg & value == valueTwo`, and several conditions must all hold.
#[test]
fn masked_and_combined_conditions() {
    let newuser = libc::CLONE_NEWUSER as u64;
    let prog = program(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": newuser, "valueTwo": newuser, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_EQ"},
                      {"index": 5, "value": 0x8_0000_0000u64, "op": "SCMP_CMP_GE"}]},
        ]
    }));
    let unshare = |flags: u64| run_bpf(&prog, X86_64, UNSHARE, [flags, 0, 0, 0, 0, 0]);
    assert_eq!(unshare(newuser), ret_errno(libc::EPERM));
    assert_eq!(unshare(newuser | libc::CLONE_NEWNS as u64), ret_errno(libc::EPERM));
    assert_eq!(unshare(libc::CLONE_NEWUTS as u64), RET_ALLOW);
    assert_eq!(unshare(newuser << 32), RET_ALLOW, "the high word is not the low word");
    // The mask applies to both words: bits it leaves out do not count, in the high word too.
    assert_eq!(unshare(newuser | 1 << 40), ret_errno(libc::EPERM), "a high bit outside the mask");
    let keyctl = |a0: u64, a5: u64| run_bpf(&prog, X86_64, KEYCTL, [a0, 0, 0, 0, 0, a5]);
    assert_eq!(keyctl(5, 0x8_0000_0000), ret_errno(libc::EACCES));
    assert_eq!(keyctl(5, 0x7_ffff_ffff), RET_ALLOW);
    assert_eq!(keyctl(4, 0x8_0000_0000), RET_ALLOW);
}

/// Bad input is refused with an error that names it; names of other
/// architectures' system calls are skipped.
#[test]
fn bad_profiles_are_refused() {
    let from = |spec: Value| Filter::from_spec(&serde_json::from_value::<LinuxSeccomp>(spec).unwrap());
    let syscall = |name: &str| json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [name], "action": "SCMP_ACT_ERRNO"}]});
    match from(syscall("mountt")) {
        Err(SeccompError::UnknownSyscall { name, arch }) => {
            assert_eq!((name.as_str(), arch), ("mountt", "x86_64"))
        }
        other => panic!("expected UnknownSyscall, got {other:?}"),
    }
    assert_eq!(from(syscall("mmap2")).unwrap().rules.len(), 0, "mmap2 exists only on 32-bit architectures");
    assert!(matches!(
        from(json!({"defaultAction": "SCMP_ACT_MAYBE"})),
        Err(SeccompError::UnknownAction { name }) if name == "SCMP_ACT_MAYBE"
    ));
    assert!(matches!(
        from(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})
        ),
        Err(SeccompError::ArgumentIndex { index: 6, .. })
    ));
    assert!(matches!(
        from(json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"]})),
        Err(SeccompError::Architecture { .. })
    ));
}

/// Under the filter, `unshare -U` fails with the configured errno (ENOSYS) while
/// `unshare -u`, which the argument condition does not match, still works; the
/// kernel reports `Seccomp: 2` (filter mode) for the payload.
#[test]
fn denied_syscall_fails_with_the_configured_errno() {
    require_root();
    let rootfs = rootfs();
    let newuser = libc::CLONE_NEWUSER as u64;
    let profile = profile_file(&json!({
        "process": {"noNewPrivileges": true},
        "linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS,
                          "args": [{"index": 0, "value": newuser, "valueTwo": newuser, "op": "SCMP_CMP_MASKED_EQ"}]}]
        }}
    }));
    let out = run_cmd(&profile, rootfs.path(), &["unshare", "-U", "true"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "unshare -U succeeded under the filter");
    assert!(stderr.contains("Function not implemented"), "unshare -U must fail with ENOSYS: {stderr}");
    let out = run_cmd(&profile, rootfs.path(), &["unshare", "-u", "true"]).output().unwrap();
    assert!(out.status.success(), "unshare -u must be allowed: {}", String::from_utf8_lossy(&out.stderr));

    let mut running = spawn(run_cmd(&profile, rootfs.path(), &["sleep", "30"]));
    let pid = payload_pid(&mut running);
    assert_eq!(status_field(pid, "Seccomp"), "2", "Seccomp mode of the payload");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
}

/// A system call with a kill action kills the payload with SIGSYS: the runtime
/// exits 128 + 31, and the command after it never runs.
#[test]
fn denied_syscall_with_kill_action_kills() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {"noNewPrivileges": true},
        "linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]
        }}
    }));
    let out = run_cmd(&profile, rootfs.path(), &["mkdir", "/made-by-the-payload"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGSYS),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!rootfs.path().join("made-by-the-payload").exists(), "mkdir ran");
}

/// Without no_new_privs the filter is installed while the runtime still holds
/// CAP_SYS_ADMIN, before capabilities are dropped, and still applies.
#[test]
fn filter_without_no_new_privs() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {"capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}},
        "linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS}]
        }}
    }));
    let mut running = spawn(run_cmd(&profile, rootfs.path(), &["sleep", "30"]));
    let pid = payload_pid(&mut running);
    assert_eq!(status_field(pid, "Seccomp"), "2");
    assert_eq!(status_field(pid, "NoNewPrivs"), "0");
    assert_eq!(cap_mask(pid, "CapEff"), 1 << 5);
}

/// Runs a classic BPF seccomp program on one system call, as the kernel would,
/// and returns the action it chose. Panics on an instruction the assembler
/// should never emit or a jump out of the program.
fn run_bpf(program: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
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
const X86_64: u32 = 0xc000_003e;
/// seccomp's return values.
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
fn ret_errno(errno: i32) -> u32 {
    0x0005_0000 | errno as u32
}

/// A payload that is not root gets its filter too: with no_new_privs the filter goes in
/// after the change of user, which the kernel allows only once no_new_privs is set
/// (seccomp(2): without it, installing a filter needs CAP_SYS_ADMIN).
#[test]
fn a_non_root_payload_runs_under_its_filter() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {"user": {"uid": 1000, "gid": 1000}, "noNewPrivileges": true},
        "linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EPERM}]
        }}
    }));
    let mut running = spawn(run_cmd(&profile, rootfs.path(), &["sleep", "30"]));
    let pid = payload_pid(&mut running);
    assert_eq!(status_field(pid, "Uid").split_whitespace().next(), Some("1000"), "Uid of the payload");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    assert_eq!(status_field(pid, "Seccomp"), "2", "Seccomp mode of the payload");
}
