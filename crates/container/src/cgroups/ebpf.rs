//! Just enough eBPF to guard devices on cgroup v2 (chapter 4, used from chapter 6): the
//! instruction encoding, and the bpf(2) commands that load a `BPF_PROG_TYPE_CGROUP_DEVICE`
//! program, attach it to a cgroup directory, and list and detach the ones there. v2 has
//! no devices.allow file: the kernel runs the cgroup's programs on every open(2) and
//! mknod(2) of a device node instead. Read bpf(2), the kernel's Documentation/bpf/
//! (instruction-set.rst, prog_cgroup_device) and linux/bpf.h.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;

use super::error::CgroupError;

// ANCHOR: insn_struct
/// One eBPF instruction as the kernel reads it (struct bpf_insn, 8 bytes): an opcode,
/// the destination and source registers in one byte, a jump offset and an immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    /// For jumps: how many instructions to skip after this one.
    pub off: i16,
    pub imm: i32,
}
// ANCHOR_END: insn_struct

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const BPF_LDX: u8 = 0x01;
const BPF_ALU: u8 = 0x04; // 32-bit arithmetic
const BPF_JMP: u8 = 0x05;
const BPF_MEM: u8 = 0x60;
const BPF_W: u8 = 0x00; // a 32-bit word
const BPF_K: u8 = 0x00; // operand: the immediate
const BPF_X: u8 = 0x08; // operand: the source register
const BPF_AND: u8 = 0x50;
const BPF_RSH: u8 = 0x70;
const BPF_MOV: u8 = 0xb0;
const BPF_JEQ: u8 = 0x10;
const BPF_JNE: u8 = 0x50;
const BPF_EXIT: u8 = 0x90;

impl Insn {
    /// `dst = *(u32 *)(src + off)`
    pub fn load_word(dst: u8, src: u8, off: i16) -> Insn {
        Insn { code: BPF_LDX | BPF_MEM | BPF_W, dst, src, off, imm: 0 }
    }
    /// `dst = (u32) imm`
    pub fn mov_imm(dst: u8, imm: i32) -> Insn {
        Insn { code: BPF_ALU | BPF_MOV | BPF_K, dst, src: 0, off: 0, imm }
    }
    /// `dst = (u32) src`
    pub fn mov_reg(dst: u8, src: u8) -> Insn {
        Insn { code: BPF_ALU | BPF_MOV | BPF_X, dst, src, off: 0, imm: 0 }
    }
    /// `dst &= imm` (32 bits)
    pub fn and_imm(dst: u8, imm: i32) -> Insn {
        Insn { code: BPF_ALU | BPF_AND | BPF_K, dst, src: 0, off: 0, imm }
    }
    /// `dst >>= imm` (32 bits, logical)
    pub fn rsh_imm(dst: u8, imm: i32) -> Insn {
        Insn { code: BPF_ALU | BPF_RSH | BPF_K, dst, src: 0, off: 0, imm }
    }
    /// `if dst != imm goto +off`
    pub fn jne_imm(dst: u8, imm: i32, off: i16) -> Insn {
        Insn { code: BPF_JMP | BPF_JNE | BPF_K, dst, src: 0, off, imm }
    }
    /// `if dst == imm goto +off`
    pub fn jeq_imm(dst: u8, imm: i32, off: i16) -> Insn {
        Insn { code: BPF_JMP | BPF_JEQ | BPF_K, dst, src: 0, off, imm }
    }
    /// `return r0`
    pub fn exit() -> Insn {
        Insn { code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 }
    }

    /// Whether this is a jump (or exit), the only kind whose `off` is a jump offset.
    pub fn is_jump(&self) -> bool {
        self.code & 0x07 == BPF_JMP
    }

    // ANCHOR: insn_encode
    /// The 8 bytes of struct bpf_insn, in this machine's byte order.
    pub fn encode(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0] = self.code;
        out[1] = (self.src << 4) | (self.dst & 0x0f);
        out[2..4].copy_from_slice(&self.off.to_ne_bytes());
        out[4..8].copy_from_slice(&self.imm.to_ne_bytes());
        out
    }
    // ANCHOR_END: insn_encode
}

// bpf(2) commands, program and attach types, flags (linux/bpf.h).
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs may sit on one cgroup; a request passes only if all allow it.
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;

/// The part of `union bpf_attr` that BPF_PROG_LOAD reads; the kernel takes a shorter
/// union than its own and treats the rest as zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// BPF_PROG_ATTACH and BPF_PROG_DETACH.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// BPF_PROG_QUERY: the kernel writes `attach_flags` and `prog_cnt` back.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// bpf(2) with one of the attribute structs above.
fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> Result<libc::c_long, Errno> {
    // SAFETY: `attr` is a live, fully initialised #[repr(C)] struct of the layout the
    // command reads, and its size is passed along so the kernel reads no further.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

fn error(what: &'static str, path: &Path, errno: Errno, hint: impl Into<String>) -> CgroupError {
    CgroupError::Bpf { what, path: path.to_owned(), errno, hint: hint.into() }
}

// ANCHOR: load
/// Loads `program` as a cgroup device program and returns its descriptor. The
/// verifier's log comes back in the error when it refuses the program.
pub fn load_device_program(program: &[Insn], cgroup: &Path) -> Result<OwnedFd, CgroupError> {
    let code: Vec<u8> = program.iter().flat_map(|i| i.encode()).collect();
    let license = CString::new("Apache-2.0").expect("no NUL");
    let mut log = vec![0u8; 64 * 1024];
    let mut name = [0u8; 16];
    name[..10].copy_from_slice(b"bang_devcg");
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: program.len() as u32,
        insns: code.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        prog_name: name,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..ProgLoadAttr::default()
    };
    match bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: BPF_PROG_LOAD returns a new descriptor that nothing else owns.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }),
        Err(errno) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let verifier = String::from_utf8_lossy(&log[..end]).trim().to_owned();
            let hint = match errno {
                Errno::EPERM => "; loading eBPF programs needs CAP_BPF or root".to_owned(),
                _ if !verifier.is_empty() => format!("; the verifier said: {verifier}"),
                _ => String::new(),
            };
            Err(error("load", cgroup, errno, hint))
        }
    }
}
// ANCHOR_END: load

fn open_dir(cgroup: &Path) -> Result<File, CgroupError> {
    File::open(cgroup).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CgroupError::NotFound { path: cgroup.to_owned() },
        _ => CgroupError::Read { path: cgroup.to_owned(), source },
    })
}

/// The ids of the device programs attached to `cgroup` itself (not inherited ones).
pub fn attached_programs(cgroup: &Path) -> Result<Vec<u32>, CgroupError> {
    let dir = open_dir(cgroup)?;
    let mut ids = vec![0u32; 64];
    let mut attr = QueryAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..QueryAttr::default()
    };
    bpf(BPF_PROG_QUERY, &mut attr).map_err(|errno| error("list", cgroup, errno, ""))?;
    ids.truncate(attr.prog_cnt as usize);
    Ok(ids)
}

// ANCHOR: replace
/// Makes `program` the device program of `cgroup`: attaches it next to the programs
/// already there (BPF_F_ALLOW_MULTI), then detaches those. In that order the cgroup is
/// never without a filter; for a moment both apply, and a request must pass both.
/// The attachment holds the program: it lives until detached or the cgroup is removed,
/// so the descriptors can be closed when this returns.
pub fn replace_device_program(cgroup: &Path, program: &[Insn]) -> Result<(), CgroupError> {
    let dir = open_dir(cgroup)?;
    let old = attached_programs(cgroup)?;
    let prog = load_device_program(program, cgroup)?;
    let mut attach = AttachAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..AttachAttr::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attach).map_err(|errno| {
        let hint = match errno {
            Errno::EPERM => "; a program attached to an ancestor without BPF_F_ALLOW_MULTI forbids more",
            _ => "",
        };
        error("attach", cgroup, errno, hint)
    })?;
    for id in old {
        detach(&dir, cgroup, id)?;
    }
    Ok(())
}
// ANCHOR_END: replace

/// Detaches program `id` from the cgroup open as `dir`; one already gone is fine.
fn detach(dir: &File, cgroup: &Path, id: u32) -> Result<(), CgroupError> {
    let mut get = GetFdAttr { prog_id: id, ..GetFdAttr::default() };
    let fd = match bpf(BPF_PROG_GET_FD_BY_ID, &mut get) {
        // SAFETY: a new descriptor that nothing else owns.
        Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd as RawFd) },
        Err(Errno::ENOENT) => return Ok(()),
        Err(errno) => return Err(error("find", cgroup, errno, format!(" (program id {id})"))),
    };
    let mut attr = AttachAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: fd.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..AttachAttr::default()
    };
    match bpf(BPF_PROG_DETACH, &mut attr) {
        Ok(_) | Err(Errno::ENOENT) => Ok(()),
        Err(errno) => Err(error("detach", cgroup, errno, format!(" (program id {id})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding puts the source register in the high nibble, as struct bpf_insn has it.
    #[test]
    fn encoding_matches_struct_bpf_insn() {
        assert_eq!(Insn::load_word(2, 1, 4).encode(), [0x61, 0x12, 4, 0, 0, 0, 0, 0]);
        assert_eq!(Insn::mov_imm(0, 1).encode(), [0xb4, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(Insn::jne_imm(4, 136, 3).encode(), [0x55, 4, 3, 0, 136, 0, 0, 0]);
        assert_eq!(Insn::exit().encode(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(std::mem::size_of::<QueryAttr>(), 32);
        assert_eq!(std::mem::size_of::<ProgLoadAttr>(), 72);
    }
}
