//! The device rules of a cgroup (chapter 4, used by chapter 6): which device nodes its
//! tasks may open (read, write) or create (mknod). v1 keeps an allow/deny list per
//! cgroup, written line by line to `devices.allow` and `devices.deny`; v2 has no such
//! files and runs an eBPF program instead, which this file assembles from the same
//! rules. Read the kernel's admin-guide/cgroup-v1/devices.rst, cgroup-v2.rst ("Device
//! controller") and the runtime-spec's config-linux.md ("Allowed Device Access").

use std::collections::BTreeMap;
use std::path::Path;

use super::ebpf::{self, Insn};
use super::error::CgroupError;
use super::files::{read_file, write_file};
use super::resources::DeviceRule;
use super::valid::ValidResources;

/// Bits of `access` as the kernel's device programs see them (linux/bpf.h BPF_DEVCG_ACC_*).
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const ACC_ALL: i32 = ACC_MKNOD | ACC_READ | ACC_WRITE;
/// Device types as the programs see them (BPF_DEVCG_DEV_*).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

impl DeviceRule {
    /// A rule allowing `access` to character device `major`:`minor` (`None`: any).
    pub fn allow_char(major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceRule {
        DeviceRule { allow: true, kind: Some("c".into()), major, minor, access: Some(access.into()) }
    }

    /// The rule that denies everything: `a *:* rwm` on `devices.deny`.
    pub fn deny_all() -> DeviceRule {
        DeviceRule { allow: false, kind: None, major: None, minor: None, access: Some("rwm".into()) }
    }

    /// `a`, `b` or `c` (absent is `a`).
    pub fn kind_char(&self) -> char {
        self.kind.as_deref().and_then(|k| k.chars().next()).unwrap_or('a')
    }

    /// The access letters, in rwm order (absent is `rwm`).
    pub fn access_letters(&self) -> String {
        let given = self.access.as_deref().unwrap_or("rwm");
        "rwm".chars().filter(|c| given.contains(*c)).collect()
    }

    fn number(n: Option<i64>) -> Option<i64> {
        n.filter(|n| *n >= 0)
    }

    // ANCHOR: v1_line
    /// The rule as one line of `devices.allow`/`devices.deny`: `c 1:5 rwm`, `*` for
    /// any number. The kernel parses one rule per write(2).
    pub fn v1_line(&self) -> String {
        let number = |n: Option<i64>| Self::number(n).map_or("*".to_owned(), |n| n.to_string());
        format!(
            "{} {}:{} {}",
            self.kind_char(),
            number(self.major),
            number(self.minor),
            self.access_letters()
        )
    }
    // ANCHOR_END: v1_line

    /// Whether the rule covers every device and every access (`a *:* rwm`).
    pub fn is_wildcard(&self) -> bool {
        self.kind_char() == 'a'
            && Self::number(self.major).is_none()
            && Self::number(self.minor).is_none()
            && self.access_letters() == "rwm"
    }

    fn access_mask(&self) -> i32 {
        self.access_letters().chars().fold(0, |mask, c| {
            mask | match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                _ => ACC_MKNOD,
            }
        })
    }
}

/// The (type, major, minor) → access letters that an allow-list ends up as in
/// `devices.list`, when the rules are "deny everything, then allow these"; `None` for
/// any other shape of rules.
fn allow_list(rules: &[DeviceRule]) -> Option<BTreeMap<String, String>> {
    let (first, rest) = rules.split_first()?;
    if first.allow || !first.is_wildcard() || rest.iter().any(|r| !r.allow || r.kind_char() == 'a') {
        return None;
    }
    let mut list = BTreeMap::new();
    for rule in rest {
        let line = rule.v1_line();
        let (device, access) = line.rsplit_once(' ').expect("v1_line has spaces");
        let merged: &mut String = list.entry(device.to_owned()).or_default();
        // The kernel merges rules for the same numbers by OR-ing their access.
        *merged = "rwm".chars().filter(|c| merged.contains(*c) || access.contains(*c)).collect();
    }
    Some(list)
}

fn parse_list(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(device, access)| (device.to_owned(), access.trim().to_owned()))
        .collect()
}

// ANCHOR: apply_v1
/// Writes the device rules of `resources` (checked by [`check_rules`](super::validate::check_rules) when they were
/// validated) in order to the v1 devices cgroup `dir`: each allow rule to
/// `devices.allow`, each deny rule to `devices.deny`. A new cgroup starts with its
/// parent's list, so the first rule is usually `a *:* rwm` denied (everything off),
/// followed by what is allowed. When `devices.list` already holds exactly the allow-list
/// the rules describe (an update that does not change them), nothing is written, so a
/// running container never loses its devices for the moment between the two writes.
/// (runc computes the minimal set of writes from any list to any other with an emulator
/// of the kernel's rules; this covers the deny-then-allow shape every runtime emits.)
pub fn apply_v1(dir: &Path, resources: &ValidResources) -> Result<(), CgroupError> {
    let rules = &resources.devices;
    if let Some(wanted) = allow_list(rules) {
        if parse_list(&read_file(&dir.join("devices.list"))?) == wanted {
            return Ok(());
        }
    }
    for rule in rules {
        let file = if rule.allow { "devices.allow" } else { "devices.deny" };
        write_file(&dir.join(file), &rule.v1_line())?;
    }
    Ok(())
}
// ANCHOR_END: apply_v1

// ANCHOR: program
/// The eBPF program that enforces `rules` as v1 would: the last rule that matches a
/// request decides. So the program tests the rules from the last to the first and
/// returns at the first match: 1 (allow) or 0 (deny, open(2) fails with EPERM); no
/// match denies. An allow rule matches when it grants every access asked for (an open
/// for reading and writing asks for both), a deny rule when it forbids any of them.
///
/// The kernel calls it with r1 pointing at struct bpf_cgroup_dev_ctx: `access_type`
/// (device type in the low 16 bits, access in the high 16), `major`, `minor`.
pub fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut out = vec![
        Insn::load_word(2, 1, 0), // r2 = access_type
        Insn::and_imm(2, 0xffff), // r2 = device type
        Insn::load_word(3, 1, 0), // r3 = access_type
        Insn::rsh_imm(3, 16),     // r3 = access asked for
        Insn::load_word(4, 1, 4), // r4 = major
        Insn::load_word(5, 1, 8), // r5 = minor
    ];
    for rule in rules.iter().rev() {
        // Jumps go to the next rule's block: off = block length - (index + 1),
        // patched once the block's length is known.
        let mut block: Vec<Insn> = Vec::new();
        match rule.kind_char() {
            'c' => block.push(Insn::jne_imm(2, DEV_CHAR, 0)),
            'b' => block.push(Insn::jne_imm(2, DEV_BLOCK, 0)),
            _ => {}
        }
        let mask = rule.access_mask();
        if mask != ACC_ALL {
            block.push(Insn::mov_reg(1, 3));
            if rule.allow {
                // Skip unless (asked & !granted) == 0.
                block.push(Insn::and_imm(1, !mask & ACC_ALL));
                block.push(Insn::jne_imm(1, 0, 0));
            } else {
                // Skip unless (asked & denied) != 0.
                block.push(Insn::and_imm(1, mask));
                block.push(Insn::jeq_imm(1, 0, 0));
            }
        }
        if let Some(major) = DeviceRule::number(rule.major) {
            block.push(Insn::jne_imm(4, major as i32, 0));
        }
        if let Some(minor) = DeviceRule::number(rule.minor) {
            block.push(Insn::jne_imm(5, minor as i32, 0));
        }
        let unconditional = block.is_empty();
        let len = block.len() + 2;
        // Jumps only: in any other instruction `off` is a reserved field, and the
        // verifier refuses a `mov` or `and` that sets it ("uses reserved fields").
        for (i, insn) in block.iter_mut().enumerate().filter(|(_, insn)| insn.is_jump()) {
            insn.off = (len - (i + 1)) as i16;
        }
        out.extend(block);
        out.push(Insn::mov_imm(0, i32::from(rule.allow)));
        out.push(Insn::exit());
        // The verifier refuses unreachable instructions: nothing may follow a rule
        // that matches every request.
        if unconditional {
            return out;
        }
    }
    out.push(Insn::mov_imm(0, 0));
    out.push(Insn::exit());
    out
}
// ANCHOR_END: program

/// Enforces the device rules of `resources` on the v2 cgroup `dir` with a device
/// program in place of the one there (see [`ebpf::replace_device_program`]).
pub fn apply_v2(dir: &Path, resources: &ValidResources) -> Result<(), CgroupError> {
    ebpf::replace_device_program(dir, &program(&resources.devices))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// What `devices.allow` gets, in runc's spelling.
    #[test]
    fn v1_lines() {
        assert_eq!(DeviceRule::deny_all().v1_line(), "a *:* rwm");
        assert_eq!(DeviceRule::allow_char(Some(1), Some(5), "wr").v1_line(), "c 1:5 rw");
        assert_eq!(DeviceRule::allow_char(Some(136), None, "rwm").v1_line(), "c 136:* rwm");
    }

    /// The rules go to devices.deny and devices.allow in order; an unchanged allow-list
    /// is not written again.
    #[test]
    fn v1_writes_in_order_and_skips_an_unchanged_list() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["devices.allow", "devices.deny"] {
            fs::write(dir.path().join(f), "").unwrap();
        }
        fs::write(dir.path().join("devices.list"), "a *:* rwm\n").unwrap();
        let rules = [DeviceRule::deny_all(), DeviceRule::allow_char(Some(1), Some(3), "rwm")];
        let rules =
            crate::cgroups::Resources { devices: rules.to_vec(), ..Default::default() }.validated().unwrap();
        apply_v1(dir.path(), &rules).unwrap();
        // write_file truncates, so each file shows its last write.
        assert_eq!(fs::read_to_string(dir.path().join("devices.deny")).unwrap(), "a *:* rwm");
        assert_eq!(fs::read_to_string(dir.path().join("devices.allow")).unwrap(), "c 1:3 rwm");
        fs::write(dir.path().join("devices.allow"), "").unwrap();
        fs::write(dir.path().join("devices.list"), "c 1:3 rwm\n").unwrap();
        apply_v1(dir.path(), &rules).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("devices.allow")).unwrap(), "");
    }

    /// Runs the program's logic on one request by interpreting it, so that its
    /// decisions are checked without a kernel (the kernel test is crates/bang/tests/cgroups.rs).
    fn run(program: &[Insn], kind: i32, access: i32, major: i32, minor: i32) -> i64 {
        let ctx = [(kind | (access << 16)) as u32, major as u32, minor as u32];
        let mut r = [0i64; 11];
        let mut pc = 0usize;
        loop {
            let i = program[pc];
            let (d, s) = (i.dst as usize, i.src as usize);
            pc += 1;
            match i.code {
                0x61 => r[d] = ctx[i.off as usize / 4] as i64,
                0x54 => r[d] = ((r[d] as u32) & (i.imm as u32)) as i64,
                0x74 => r[d] = ((r[d] as u32) >> i.imm) as i64,
                0xb4 => r[d] = i.imm as u32 as i64,
                0xbc => r[d] = r[s] as u32 as i64,
                0x55 if r[d] != i.imm as i64 => pc += i.off as usize,
                0x15 if r[d] == i.imm as i64 => pc += i.off as usize,
                0x55 | 0x15 => {}
                0x95 => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    /// Deny everything, allow /dev/null and read-only /dev/zero: the last match decides.
    #[test]
    fn program_decides_like_v1() {
        let rules = [
            DeviceRule::deny_all(),
            DeviceRule::allow_char(Some(1), Some(3), "rwm"),
            DeviceRule::allow_char(Some(1), Some(5), "r"),
            DeviceRule::allow_char(Some(136), None, "rwm"),
            DeviceRule { allow: false, ..DeviceRule::allow_char(Some(136), Some(7), "w") },
        ];
        let p = program(&rules);
        assert_eq!(run(&p, DEV_CHAR, ACC_READ | ACC_WRITE, 1, 3), 1, "/dev/null rw");
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 1, 5), 1, "/dev/zero r");
        assert_eq!(run(&p, DEV_CHAR, ACC_READ | ACC_WRITE, 1, 5), 0, "/dev/zero rw");
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ, 1, 3), 0, "a block device 1:3");
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 136, 2), 1, "a pty");
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 136, 7), 1, "pty 7 read");
        assert_eq!(run(&p, DEV_CHAR, ACC_WRITE, 136, 7), 0, "pty 7 write");
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 4, 1), 0, "anything else");
        // The wildcard deny is the last block tested: no unreachable default after it.
        assert_eq!(p[p.len() - 2], Insn::mov_imm(0, 0));
        let allow_all = program(&[DeviceRule { allow: true, ..DeviceRule::deny_all() }]);
        assert_eq!(run(&allow_all, DEV_BLOCK, ACC_MKNOD, 8, 0), 1);
        assert_eq!(allow_all.len(), 8);
    }

    /// Only jumps carry an offset: a rule with part of the accesses (runc's default
    /// `c *:* m`) adds a mov and an and, whose `off` the kernel requires to be 0.
    #[test]
    fn only_jumps_have_offsets() {
        let p = program(&[DeviceRule::deny_all(), DeviceRule::allow_char(None, None, "m")]);
        assert!(p.iter().any(|i| !i.is_jump() && i.code & 0x07 == 0x04), "the rule tests the access: {p:?}");
        // (Loads keep theirs: there `off` is the field's place in the context.)
        for insn in p.iter().filter(|i| i.code & 0x07 == 0x04) {
            assert_eq!(insn.off, 0, "{insn:?} in {p:?}");
        }
    }
}
