// Your file for chapter 5: replace each todo!() with working code, then run
// `cargo workshop check 5`. Generated from crates/container/src/security/seccomp.rs by `cargo xtask exercises`;
// `cargo workshop reset 5` gives you a fresh copy.
//! seccomp-bpf: a filter program the kernel runs on every system call the
//! container makes, built here from the OCI `linux.seccomp` section (chapter 5).
//!
//! The program is classic BPF over `struct seccomp_data` (nr, arch, args); it
//! returns an action: allow, fail with an errno, trap, log or kill. Read
//! seccomp(2), the kernel's Documentation/userspace-api/seccomp_filter.rst, and
//! the runtime specification's config-linux.md#seccomp.

use std::io;

use serde::{Deserialize, Serialize};

use super::syscalls_x86_64::{OTHER_ARCHITECTURES, SYSCALLS};

/// The longest program the kernel accepts (BPF_MAXINSNS).
pub const MAX_INSTRUCTIONS: usize = 4096;
/// `AUDIT_ARCH_X86_64` from linux/audit.h: EM_X86_64 | 64-bit | little-endian.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// System call numbers with this bit set are the x32 ABI's, which share the
/// x86_64 architecture value: a filter that ignored it could be bypassed.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Offsets in struct seccomp_data (linux/seccomp.h).
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
const OFFSET_ARGS: u32 = 16;

// Return values of a filter (linux/seccomp.h); the low 16 bits carry data.
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_KILL_THREAD: u32 = 0x0000_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_TRACE: u32 = 0x7ff0_0000;
const RET_LOG: u32 = 0x7ffc_0000;
const RET_ALLOW: u32 = 0x7fff_0000;

// Classic BPF opcodes (linux/bpf_common.h, linux/filter.h).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_ALU_AND_K: u16 = 0x54;
const BPF_JMP_JEQ_K: u16 = 0x15;
const BPF_JMP_JGT_K: u16 = 0x25;
const BPF_JMP_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;

/// What can go wrong while building or installing a seccomp filter.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("unknown system call {name:?} for architecture {arch}; check the spelling against syscalls(2), or remove it from the profile")]
    UnknownSyscall { name: String, arch: &'static str },
    #[error("unknown seccomp action {name:?}; use one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG")]
    UnknownAction { name: String },
    #[error("seccomp action SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which this runtime does not support; use another action for {syscall}")]
    NotifyUnsupported { syscall: String },
    #[error("unknown seccomp operator {name:?} in a rule for {syscall}; use one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ")]
    UnknownOperator { name: String, syscall: String },
    #[error(
        "argument index {index} in a rule for {syscall} is out of range; system calls have arguments 0 to 5"
    )]
    ArgumentIndex { index: u32, syscall: String },
    #[error(
        "errno {errno} in the seccomp profile is out of range; use a value from 0 to 4095, e.g. 1 (EPERM)"
    )]
    Errno { errno: u32 },
    #[error("unknown seccomp flag {name:?}; use SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG or SECCOMP_FILTER_FLAG_SPEC_ALLOW")]
    UnknownFlag { name: String },
    #[error("the seccomp profile lists architectures {listed:?} but not SCMP_ARCH_X86_64, the only one this runtime builds filters for")]
    Architecture { listed: Vec<String> },
    #[error("the rule for {syscall} compiles to {len} instructions, more than a BPF jump (255) can skip; split its arguments into several rules")]
    RuleTooLong { syscall: String, len: usize },
    #[error("the seccomp program has {len} instructions, more than the kernel's limit of {MAX_INSTRUCTIONS}; merge rules or use a default action that needs fewer of them")]
    ProgramTooLong { len: usize },
    #[error("this runtime builds seccomp filters for x86_64 only, and this machine is {arch}")]
    HostArchitecture { arch: &'static str },
    #[error("seccomp(SECCOMP_SET_MODE_FILTER) was refused: {source}; without CAP_SYS_ADMIN a filter needs no_new_privs set first (seccomp(2))")]
    NotPermitted { source: io::Error },
    #[error("seccomp(SECCOMP_SET_MODE_FILTER) failed: {source}")]
    Install { source: io::Error },
}

/// The OCI `linux.seccomp` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSeccomp {
    /// What a system call no rule matches gets, e.g. `SCMP_ACT_ERRNO`.
    pub default_action: String,
    /// The errno of a default `SCMP_ACT_ERRNO` (EPERM when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syscalls: Vec<LinuxSyscall>,
}

/// One entry of `linux.seccomp.syscalls`: these names, with these argument
/// conditions, get this action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSyscall {
    pub names: Vec<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<LinuxSeccompArg>,
}

/// A condition on one argument: `args[index] op value` (for SCMP_CMP_MASKED_EQ,
/// `args[index] & value == valueTwo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSeccompArg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: String,
}

/// What the filter tells the kernel to do with a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    KillProcess,
    KillThread,
    /// Send SIGSYS, which the process may handle.
    Trap,
    /// Fail the call with this errno without running it.
    Errno(u16),
    /// Notify a ptrace(2) tracer, passing this value.
    Trace(u16),
    /// Allow, and log it to the audit log.
    Log,
    Allow,
}

impl Action {
    /// Parses an OCI action name; `errno` is the rule's errnoRet.
    pub fn parse(name: &str, errno: Option<u32>, syscall: &str) -> Result<Action, SeccompError> {
        let data = |default: u32| -> Result<u16, SeccompError> {
            match errno.unwrap_or(default) {
                e @ 0..=4095 => Ok(e as u16),
                errno => Err(SeccompError::Errno { errno }),
            }
        };
        Ok(match name {
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRAP" => Action::Trap,
            "SCMP_ACT_ERRNO" => Action::Errno(data(libc::EPERM as u32)?),
            "SCMP_ACT_TRACE" => Action::Trace(data(libc::EPERM as u32)?),
            "SCMP_ACT_LOG" => Action::Log,
            "SCMP_ACT_ALLOW" => Action::Allow,
            "SCMP_ACT_NOTIFY" => return Err(SeccompError::NotifyUnsupported { syscall: syscall.to_owned() }),
            _ => return Err(SeccompError::UnknownAction { name: name.to_owned() }),
        })
    }

    /// The value the filter returns for it (SECCOMP_RET_*).
    pub fn ret(self) -> u32 {
        match self {
            Action::KillProcess => RET_KILL_PROCESS,
            Action::KillThread => RET_KILL_THREAD,
            Action::Trap => RET_TRAP,
            Action::Errno(errno) => RET_ERRNO | errno as u32,
            Action::Trace(data) => RET_TRACE | data as u32,
            Action::Log => RET_LOG,
            Action::Allow => RET_ALLOW,
        }
    }
}

/// How an argument is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    NotEqual,
    LessThan,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    GreaterThan,
    /// `arg & mask == value`.
    MaskedEqual {
        mask: u64,
    },
}

/// `args[index] op value`, all unsigned 64-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCondition {
    pub index: u8,
    pub op: Op,
    pub value: u64,
}

/// One system call, its conditions and its action: one rule of the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub nr: u32,
    pub args: Vec<ArgCondition>,
    pub action: Action,
}

/// A whole filter, checked: rules in the profile's order, the first that
/// matches decides; a call no rule matches gets `default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub rules: Vec<Rule>,
    pub default: Action,
    /// SECCOMP_FILTER_FLAG_* bits for seccomp(2).
    pub flags: u32,
}

/// The x86_64 number of a system call; `None` for a name that exists only on
/// other architectures (skipped, as runc does), an error for any other name.
pub fn syscall_number(name: &str) -> Result<Option<u32>, SeccompError> {
    if let Some(&(_, nr)) = SYSCALLS.iter().find(|(n, _)| *n == name) {
        return Ok(Some(nr));
    }
    if OTHER_ARCHITECTURES.contains(&name) {
        return Ok(None);
    }
    Err(SeccompError::UnknownSyscall { name: name.to_owned(), arch: "x86_64" })
}

impl Filter {
    /// Checks every name, action, operator and flag of `spec`.
    pub fn from_spec(spec: &LinuxSeccomp) -> Result<Filter, SeccompError> {
        if !spec.architectures.is_empty() && !spec.architectures.iter().any(|a| a == "SCMP_ARCH_X86_64") {
            return Err(SeccompError::Architecture { listed: spec.architectures.clone() });
        }
        let mut flags = 0;
        for flag in &spec.flags {
            flags |= match flag.as_str() {
                "SECCOMP_FILTER_FLAG_TSYNC" => 1,
                "SECCOMP_FILTER_FLAG_LOG" => 2,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => 4,
                _ => return Err(SeccompError::UnknownFlag { name: flag.clone() }),
            };
        }
        let default = Action::parse(&spec.default_action, spec.default_errno_ret, "the default action")?;
        let mut rules = Vec::new();
        for entry in &spec.syscalls {
            let first = entry.names.first().map(String::as_str).unwrap_or("an empty rule");
            let action = Action::parse(&entry.action, entry.errno_ret, first)?;
            for name in &entry.names {
                let Some(nr) = syscall_number(name)? else { continue };
                let mut args = Vec::new();
                for arg in &entry.args {
                    if arg.index > 5 {
                        return Err(SeccompError::ArgumentIndex { index: arg.index, syscall: name.clone() });
                    }
                    let (op, value) = match arg.op.as_str() {
                        "SCMP_CMP_NE" => (Op::NotEqual, arg.value),
                        "SCMP_CMP_LT" => (Op::LessThan, arg.value),
                        "SCMP_CMP_LE" => (Op::LessOrEqual, arg.value),
                        "SCMP_CMP_EQ" => (Op::Equal, arg.value),
                        "SCMP_CMP_GE" => (Op::GreaterOrEqual, arg.value),
                        "SCMP_CMP_GT" => (Op::GreaterThan, arg.value),
                        "SCMP_CMP_MASKED_EQ" => (Op::MaskedEqual { mask: arg.value }, arg.value_two),
                        other => {
                            return Err(SeccompError::UnknownOperator {
                                name: other.to_owned(),
                                syscall: name.clone(),
                            })
                        }
                    };
                    args.push(ArgCondition { index: arg.index as u8, op, value });
                }
                rules.push(Rule { name: name.clone(), nr, args, action });
            }
        }
        Ok(Filter { rules, default, flags })
    }

    /// Assembles the BPF program:
    ///
    /// ```text
    ///   load arch;  if arch != x86_64: kill process
    ///   load nr;    if nr has the x32 bit: kill process
    ///   rule 1:     if nr == N1 [and args match]: return action 1
    ///   rule 2:     …
    ///   return the default action
    /// ```
    pub fn program(&self) -> Result<Vec<libc::sock_filter>, SeccompError> {
        let mut program = vec![
            stmt(BPF_LD_W_ABS, OFFSET_ARCH),
            jump(BPF_JMP_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
            stmt(BPF_RET_K, RET_KILL_PROCESS),
            stmt(BPF_LD_W_ABS, OFFSET_NR),
            jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, 0, 1),
            stmt(BPF_RET_K, RET_KILL_PROCESS),
        ];
        // Whether the accumulator still holds nr: true after a rule without
        // argument conditions, which saves reloading it for the next rule.
        let mut holds_nr = true;
        for rule in &self.rules {
            let mut insns = rule_insns(rule);
            if holds_nr && insns.first() == Some(&Insn::Load(OFFSET_NR)) {
                insns.remove(0);
            }
            program.extend(resolve(&insns, &rule.name)?);
            holds_nr = rule.args.is_empty();
        }
        program.push(stmt(BPF_RET_K, self.default.ret()));
        if program.len() > MAX_INSTRUCTIONS {
            return Err(SeccompError::ProgramTooLong { len: program.len() });
        }
        Ok(program)
    }
}

/// Where a conditional jump goes: `Skip(n)` skips the next n instructions
/// (0 falls through), `NextRule` leaves this rule for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Skip(u8),
    NextRule,
}

/// The comparisons classic BPF has (jump if A == k, A > k, A >= k), all unsigned
/// 32-bit. Less-than is greater-or-equal with the targets swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Gt,
    Ge,
}

/// One instruction of a rule, before its jumps are resolved to offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insn {
    /// A = the 32-bit word at this offset of struct seccomp_data.
    Load(u32),
    /// A = A & k.
    And(u32),
    /// if A cmp k goto jt else goto jf.
    Jump { cmp: Cmp, k: u32, jt: Target, jf: Target },
    /// return k.
    Ret(u32),
}

/// Offsets of the low and high 32-bit words of argument `index`: x86_64 is
/// little-endian, so the low word comes first.
pub fn arg_words(index: u8) -> (u32, u32) {
    let low = OFFSET_ARGS + 8 * index as u32;
    (low, low + 4)
}

/// The instructions of one rule: compare nr, check each argument condition
/// (all must hold), return the action. Any failed check goes to the next rule.
pub fn rule_insns(rule: &Rule) -> Vec<Insn> {
    todo!("Load nr (Insn::Load(OFFSET_NR)), jump to Target::NextRule unless it equals rule.nr, append arg_insns for each condition, and end with Insn::Ret(rule.action.ret()).");
}

/// The instructions that check `args[index] op value` on 64 bits with 32-bit
/// loads: they fall through past their last instruction when the condition
/// holds and jump to `Target::NextRule` when it does not.
pub fn arg_insns(condition: &ArgCondition) -> Vec<Insn> {
    use Target::{NextRule, Skip};
    let (low, high) = arg_words(condition.index);
    let (hi, lo) = ((condition.value >> 32) as u32, condition.value as u32);
    let jump = |cmp, k, jt, jf| Insn::Jump { cmp, k, jt, jf };
    todo!("Compare the high word first, then the low word: EQ needs both equal, NE either different; for GT/GE/LT/LE a strictly greater/smaller high word decides, an equal one defers to the low word; MASKED_EQ ANDs each word (Insn::And) with its half of the mask before comparing.");
}

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Turns a rule's instructions into BPF, `NextRule` becoming the offset to the
/// first instruction after the rule. Jumps hold 8 bits, so a rule may be at most
/// 256 instructions long (six conditions take at most 36).
pub fn resolve(insns: &[Insn], syscall: &str) -> Result<Vec<libc::sock_filter>, SeccompError> {
    let too_long = || SeccompError::RuleTooLong { syscall: syscall.to_owned(), len: insns.len() };
    let offset = |target: Target, at: usize| -> Result<u8, SeccompError> {
        match target {
            Target::Skip(n) => Ok(n),
            Target::NextRule => u8::try_from(insns.len() - 1 - at).map_err(|_| too_long()),
        }
    };
    insns
        .iter()
        .enumerate()
        .map(|(at, insn)| {
            Ok(match *insn {
                Insn::Load(offset) => stmt(BPF_LD_W_ABS, offset),
                Insn::And(k) => stmt(BPF_ALU_AND_K, k),
                Insn::Ret(k) => stmt(BPF_RET_K, k),
                Insn::Jump { cmp, k, jt, jf } => {
                    let code = match cmp {
                        Cmp::Eq => BPF_JMP_JEQ_K,
                        Cmp::Gt => BPF_JMP_JGT_K,
                        Cmp::Ge => BPF_JMP_JGE_K,
                    };
                    jump(code, k, offset(jt, at)?, offset(jf, at)?)
                }
            })
        })
        .collect()
}

/// Installs `program` on the calling thread with seccomp(2). From here on,
/// every system call of this process and of whatever it execs runs through it.
pub fn install(program: &[libc::sock_filter], flags: u32) -> Result<(), SeccompError> {
    if !cfg!(target_arch = "x86_64") {
        return Err(SeccompError::HostArchitecture { arch: std::env::consts::ARCH });
    }
    let fprog =
        libc::sock_fprog { len: program.len() as u16, filter: program.as_ptr() as *mut libc::sock_filter };
    // SAFETY: the kernel copies the program during the call; fprog points into `program`.
    let rc = unsafe {
        libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, flags as libc::c_ulong, &fprog)
    };
    if rc != 0 {
        let source = io::Error::last_os_error();
        return Err(match source.raw_os_error() {
            Some(libc::EACCES) => SeccompError::NotPermitted { source },
            _ => SeccompError::Install { source },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name of the other-architecture list is really absent on x86_64.
    #[test]
    fn tables_do_not_overlap() {
        for name in OTHER_ARCHITECTURES {
            assert!(!SYSCALLS.iter().any(|(n, _)| n == name), "{name} is in both tables");
        }
        let mut numbers: Vec<u32> = SYSCALLS.iter().map(|&(_, nr)| nr).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), SYSCALLS.len(), "numbers are unique and sorted");
    }

    /// The calls Docker's default profile (moby profiles/seccomp/default.json)
    /// allows only to a container holding a capability: mount, namespaces, modules,
    /// clocks, tracing, kernel logs, reboot. Several of them are 32-bit-only names
    /// that x86_64 does not have.
    const CAPABILITY_GATED: &[&str] = &[
        "acct",
        "bpf",
        "chroot",
        "clock_settime",
        "clock_settime64",
        "clone",
        "clone3",
        "delete_module",
        "fanotify_init",
        "finit_module",
        "fsconfig",
        "fsmount",
        "fsopen",
        "fspick",
        "get_mempolicy",
        "init_module",
        "ioperm",
        "iopl",
        "kcmp",
        "lookup_dcookie",
        "mbind",
        "mount",
        "mount_setattr",
        "move_mount",
        "open_by_handle_at",
        "open_tree",
        "perf_event_open",
        "pidfd_getfd",
        "process_madvise",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
        "quotactl",
        "quotactl_fd",
        "reboot",
        "set_mempolicy",
        "set_mempolicy_home_node",
        "setdomainname",
        "sethostname",
        "setns",
        "settimeofday",
        "stime",
        "syslog",
        "umount",
        "umount2",
        "unshare",
        "vhangup",
    ];

    /// An allow list of every x86_64 call but the capability-gated ones: the size of
    /// program the book quotes (05-security/seccomp.md). Names x86_64 lacks make no
    /// rule, which is why the subtraction does not add up.
    #[test]
    fn an_allow_list_without_the_gated_calls() {
        let absent: Vec<&str> =
            CAPABILITY_GATED.iter().copied().filter(|n| syscall_number(n).unwrap().is_none()).collect();
        let allowed: Vec<String> = SYSCALLS
            .iter()
            .map(|&(name, _)| name)
            .filter(|name| !CAPABILITY_GATED.contains(name))
            .map(String::from)
            .collect();
        let spec = LinuxSeccomp {
            default_action: "SCMP_ACT_ERRNO".into(),
            default_errno_ret: None,
            architectures: vec![],
            flags: vec![],
            syscalls: vec![LinuxSyscall {
                names: allowed,
                action: "SCMP_ACT_ALLOW".into(),
                errno_ret: None,
                args: vec![],
            }],
        };
        let filter = Filter::from_spec(&spec).unwrap();
        let program = filter.program().unwrap();
        println!(
            "{} calls in the table; {} gated, {} of them absent on x86_64\n({}): {} rules, {} instructions",
            SYSCALLS.len(),
            CAPABILITY_GATED.len(),
            absent.len(),
            absent.join(", "),
            filter.rules.len(),
            program.len()
        );
        assert_eq!(filter.rules.len(), SYSCALLS.len() - (CAPABILITY_GATED.len() - absent.len()));
    }

    /// Names resolve to the kernel's numbers, as libc's constants say.
    #[test]
    fn numbers_match_libc() {
        assert_eq!(syscall_number("mount").unwrap(), Some(libc::SYS_mount as u32));
        assert_eq!(syscall_number("unshare").unwrap(), Some(libc::SYS_unshare as u32));
        assert_eq!(syscall_number("keyctl").unwrap(), Some(libc::SYS_keyctl as u32));
        assert_eq!(syscall_number("mseal").unwrap(), Some(libc::SYS_mseal as u32));
        assert_eq!(syscall_number("mmap2").unwrap(), None);
        assert!(matches!(syscall_number("mountt"), Err(SeccompError::UnknownSyscall { .. })));
    }
}
