//! Capabilities: root's power cut into 41 pieces, and the five sets a process
//! holds them in (chapter 5).
//!
//! The bounding set caps what any later execve(2) can grant; permitted, effective
//! and inheritable are set with capset(2); ambient ones survive execve for a non-root
//! user. Read capabilities(7), prctl(2) (PR_CAPBSET_DROP, PR_CAP_AMBIENT), capset(2).

use std::io;

use serde::{Deserialize, Serialize};

/// Every capability this runtime knows, by its number (the bit in `CapEff` & co.).
/// `CAP_CHECKPOINT_RESTORE` (40, Linux 5.9) is the last one Linux 6.18 has.
pub const CAPABILITIES: &[(&str, u32)] = &[
    ("CAP_CHOWN", 0),
    ("CAP_DAC_OVERRIDE", 1),
    ("CAP_DAC_READ_SEARCH", 2),
    ("CAP_FOWNER", 3),
    ("CAP_FSETID", 4),
    ("CAP_KILL", 5),
    ("CAP_SETGID", 6),
    ("CAP_SETUID", 7),
    ("CAP_SETPCAP", 8),
    ("CAP_LINUX_IMMUTABLE", 9),
    ("CAP_NET_BIND_SERVICE", 10),
    ("CAP_NET_BROADCAST", 11),
    ("CAP_NET_ADMIN", 12),
    ("CAP_NET_RAW", 13),
    ("CAP_IPC_LOCK", 14),
    ("CAP_IPC_OWNER", 15),
    ("CAP_SYS_MODULE", 16),
    ("CAP_SYS_RAWIO", 17),
    ("CAP_SYS_CHROOT", 18),
    ("CAP_SYS_PTRACE", 19),
    ("CAP_SYS_PACCT", 20),
    ("CAP_SYS_ADMIN", 21),
    ("CAP_SYS_BOOT", 22),
    ("CAP_SYS_NICE", 23),
    ("CAP_SYS_RESOURCE", 24),
    ("CAP_SYS_TIME", 25),
    ("CAP_SYS_TTY_CONFIG", 26),
    ("CAP_MKNOD", 27),
    ("CAP_LEASE", 28),
    ("CAP_AUDIT_WRITE", 29),
    ("CAP_AUDIT_CONTROL", 30),
    ("CAP_SETFCAP", 31),
    ("CAP_MAC_OVERRIDE", 32),
    ("CAP_MAC_ADMIN", 33),
    ("CAP_SYSLOG", 34),
    ("CAP_WAKE_ALARM", 35),
    ("CAP_BLOCK_SUSPEND", 36),
    ("CAP_AUDIT_READ", 37),
    ("CAP_PERFMON", 38),
    ("CAP_BPF", 39),
    ("CAP_CHECKPOINT_RESTORE", 40),
];

// ANCHOR: defaults
/// What `runc spec` (runc 1.1–1.3) writes into a new config.json's bounding,
/// effective and permitted sets: the smallest set a shell needs to be useful.
pub const RUNC_DEFAULT: &[&str] = &["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// The set Docker and podman give a container by default (moby's
/// `oci/caps/defaults.go`, containers.conf `default_capabilities`): enough for
/// package managers (`chown`, `setuid`, `mknod`) and `ping` (`NET_RAW`).
/// podman leaves out `CAP_MKNOD`, `CAP_NET_RAW` and `CAP_AUDIT_WRITE` since 4.0.
pub const DOCKER_DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];
// ANCHOR_END: defaults

/// What can go wrong with a capability set.
#[derive(Debug, thiserror::Error)]
pub enum CapabilityError {
    #[error("unknown capability {name:?} in the {set} set; capability names look like CAP_NET_BIND_SERVICE (see capabilities(7))")]
    Unknown { name: String, set: &'static str },
    #[error("ambient capability {name} must also be in the permitted and inheritable sets (capabilities(7)); add it to both or remove it from ambient")]
    AmbientNotAllowed { name: String },
    #[error("cannot ask the kernel which capabilities it knows (prctl PR_CAPBSET_READ): {source}")]
    LastCap { source: io::Error },
    #[error("cannot drop {name} from the bounding set: {source}; dropping needs CAP_SETPCAP, run the runtime as root")]
    DropBounding { name: &'static str, source: io::Error },
    #[error("capset(2) refused permitted {permitted:#x}, effective {effective:#x}, inheritable {inheritable:#x}: {source}; a process can only keep capabilities it has")]
    Capset { permitted: u64, effective: u64, inheritable: u64, source: io::Error },
    #[error("cannot raise ambient capability {name}: {source}")]
    Ambient { name: &'static str, source: io::Error },
    #[error("cannot read this process's capabilities with capget(2): {source}")]
    Capget { source: io::Error },
    #[error("prctl(PR_SET_KEEPCAPS) failed: {source}")]
    KeepCaps { source: io::Error },
}

/// The OCI `process.capabilities` object: five lists of `CAP_…` names. A missing
/// list is an empty set, as the runtime specification says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxCapabilities {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bounding: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effective: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inheritable: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permitted: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ambient: Vec<String>,
}

impl LinuxCapabilities {
    /// The same `names` in bounding, effective and permitted, as `runc spec` writes them.
    pub fn uniform(names: &[&str]) -> Self {
        let set: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        Self { bounding: set.clone(), effective: set.clone(), permitted: set, ..Self::default() }
    }
}

/// The five sets as bit masks (bit n = capability n), the way `/proc/<pid>/status`
/// prints them in `CapBnd`, `CapEff`, `CapPrm`, `CapInh` and `CapAmb`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub inheritable: u64,
    pub permitted: u64,
    pub ambient: u64,
}

/// The number of a capability name, e.g. `CAP_KILL` → 5.
pub fn number(name: &str) -> Option<u32> {
    CAPABILITIES.iter().find(|(n, _)| *n == name).map(|&(_, bit)| bit)
}

/// The name of capability number `bit`.
pub fn name(bit: u32) -> Option<&'static str> {
    CAPABILITIES.iter().find(|&&(_, b)| b == bit).map(|&(n, _)| n)
}

// ANCHOR: mask
/// The bit mask of a list of names; `set` names the list in the error.
pub fn mask(names: &[String], set: &'static str) -> Result<u64, CapabilityError> {
    // exercise: Turn each CAP_… name into its bit (capabilities::number gives the bit number) and OR them together; an unknown name is CapabilityError::Unknown naming it and the set.
    let mut mask = 0u64;
    for name in names {
        let bit = number(name).ok_or_else(|| CapabilityError::Unknown { name: name.clone(), set })?;
        mask |= 1 << bit;
    }
    Ok(mask)
    // end exercise
}
// ANCHOR_END: mask

impl CapSets {
    /// Checks every name and computes the masks, before anything is applied.
    pub fn from_spec(spec: &LinuxCapabilities) -> Result<Self, CapabilityError> {
        let sets = CapSets {
            bounding: mask(&spec.bounding, "bounding")?,
            effective: mask(&spec.effective, "effective")?,
            inheritable: mask(&spec.inheritable, "inheritable")?,
            permitted: mask(&spec.permitted, "permitted")?,
            ambient: mask(&spec.ambient, "ambient")?,
        };
        // The kernel refuses to raise an ambient capability that is not both
        // permitted and inheritable; say so now rather than fail after fork.
        let missing = sets.ambient & !(sets.permitted & sets.inheritable);
        if missing != 0 {
            let bit = missing.trailing_zeros();
            return Err(CapabilityError::AmbientNotAllowed { name: name(bit).unwrap_or("?").to_owned() });
        }
        Ok(sets)
    }
}

// ANCHOR: last_cap
/// The highest capability number the running kernel knows, asked of the kernel
/// itself: prctl(PR_CAPBSET_READ) answers EINVAL for a number past the last one.
/// Not /proc/sys/kernel/cap_last_cap: the runtime drops the bounding set after
/// pivot_root, and the /proc it would read there is whatever the image made of it
/// (a symlink into a volume with a fake file saying "0" once kept every capability
/// above 0 in the bounding set, see chapter 5's escapes).
pub fn last_cap() -> Result<u32, CapabilityError> {
    // SAFETY: prctl with integer arguments only.
    let known = |bit: u32| unsafe { libc::prctl(libc::PR_CAPBSET_READ, bit as libc::c_ulong, 0, 0, 0) } >= 0;
    if !known(0) {
        return Err(CapabilityError::LastCap { source: io::Error::last_os_error() });
    }
    // Capability numbers are dense from 0: the first unknown one ends them.
    Ok((1..64).take_while(|&bit| known(bit)).last().unwrap_or(0))
}
// ANCHOR_END: last_cap

// ANCHOR: drop_bounding
/// Removes from the bounding set every capability not in `bounding`. After this,
/// no execve(2) of any file, set-user-ID or with file capabilities, can give them back.
pub fn drop_bounding(bounding: u64) -> Result<(), CapabilityError> {
    for bit in 0..=last_cap()? {
        if bounding & (1 << bit) != 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, bit as libc::c_ulong, 0, 0, 0) } != 0 {
            let source = io::Error::last_os_error();
            // A capability newer than this runtime's table: it was never ours to keep.
            let name = name(bit).unwrap_or("a capability unknown to this runtime");
            return Err(CapabilityError::DropBounding { name, source });
        }
    }
    Ok(())
}
// ANCHOR_END: drop_bounding

/// Keeps the permitted set across a change of user id (setuid(2) from 0 clears it
/// otherwise). Call before changing user; capset afterwards restores effective.
pub fn keep_caps() -> Result<(), CapabilityError> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } != 0 {
        return Err(CapabilityError::KeepCaps { source: io::Error::last_os_error() });
    }
    Ok(())
}

/// `_LINUX_CAPABILITY_VERSION_3` (linux/capability.h): 64-bit sets as two 32-bit words.
pub const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct` of capget(2)/capset(2), which the libc crate lacks.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CapHeader {
    pub version: u32,
    pub pid: libc::c_int,
}

/// `struct __user_cap_data_struct`: one 32-bit word of each set.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CapData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}

/// This process's effective, permitted and inheritable sets, from capget(2).
pub fn current() -> Result<CapSets, CapabilityError> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two data words for version 3 into `data`.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } != 0 {
        return Err(CapabilityError::Capget { source: io::Error::last_os_error() });
    }
    let join = |f: fn(&CapData) -> u32| f(&data[0]) as u64 | (f(&data[1]) as u64) << 32;
    Ok(CapSets {
        effective: join(|d| d.effective),
        permitted: join(|d| d.permitted),
        inheritable: join(|d| d.inheritable),
        ..CapSets::default()
    })
}

// ANCHOR: capset
/// Sets permitted, effective and inheritable with capset(2), version 3 (two 32-bit
/// words per set). nix has no wrapper, and the libcap C library is not a
/// dependency worth adding for one system call.
pub fn set_pei(sets: &CapSets) -> Result<(), CapabilityError> {
    let header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let word = |mask: u64, i: u32| (mask >> (32 * i)) as u32;
    let data: [CapData; 2] = [0, 1].map(|i| CapData {
        effective: word(sets.effective, i),
        permitted: word(sets.permitted, i),
        inheritable: word(sets.inheritable, i),
    });
    // SAFETY: the header and the two data words live on this stack frame for the call.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(CapabilityError::Capset {
            permitted: sets.permitted,
            effective: sets.effective,
            inheritable: sets.inheritable,
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}
// ANCHOR_END: capset

// ANCHOR: ambient
/// Clears the ambient set and raises each capability of `ambient` in it.
pub fn set_ambient(ambient: u64) -> Result<(), CapabilityError> {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) };
    for bit in 0..64u32 {
        if ambient & (1 << bit) == 0 {
            continue;
        }
        let raise = libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong;
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAP_AMBIENT, raise, bit as libc::c_ulong, 0, 0) } != 0 {
            let name = name(bit).unwrap_or("?");
            return Err(CapabilityError::Ambient { name, source: io::Error::last_os_error() });
        }
    }
    Ok(())
}
// ANCHOR_END: ambient

#[cfg(test)]
mod tests {
    use super::*;

    /// The masks are the bits /proc/<pid>/status prints.
    #[test]
    fn runc_default_mask() {
        let names: Vec<String> = RUNC_DEFAULT.iter().map(|s| s.to_string()).collect();
        assert_eq!(mask(&names, "bounding").unwrap(), 0x2000_0420);
    }

    /// An unknown name is refused, naming it and its set.
    #[test]
    fn unknown_name() {
        let err = mask(&["CAP_FLY".into()], "effective").unwrap_err();
        assert!(matches!(err, CapabilityError::Unknown { ref name, set: "effective" } if name == "CAP_FLY"));
    }

    /// Numbers are unique and dense from 0.
    #[test]
    fn table_is_dense() {
        for (i, &(_, bit)) in CAPABILITIES.iter().enumerate() {
            assert_eq!(bit as usize, i);
        }
    }
}
