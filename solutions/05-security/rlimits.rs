// Answer key for chapter 5, generated from crates/container/src/security/rlimits.rs by `cargo xtask exercises`.
// Do not edit: change the product file and regenerate.
//! Resource limits: per-process ceilings on open files, processes, memory, core
//! size and more, inherited across fork and exec (chapter 5).
//!
//! Each limit has a soft value (what the kernel enforces) and a hard one (how far
//! an unprivileged process may raise the soft one). Raising a hard limit needs
//! CAP_SYS_RESOURCE. Read getrlimit(2) and `/proc/<pid>/limits`.

use std::io;

use serde::{Deserialize, Serialize};

/// What can go wrong with a resource limit.
#[derive(Debug, thiserror::Error)]
pub enum RlimitError {
    #[error("unknown rlimit type {name:?}; the names are those of getrlimit(2), e.g. RLIMIT_NOFILE")]
    Unknown { name: String },
    #[error("{name}: soft limit {soft} is above the hard limit {hard}; the soft limit may be at most the hard one")]
    SoftAboveHard { name: String, soft: u64, hard: u64 },
    #[error("{name}: hard limit {value} is above this machine's hard limit {allowed}, and raising it needs CAP_SYS_RESOURCE, which this process lacks; ask for at most {allowed}")]
    AboveHardLimit { name: String, value: u64, allowed: u64 },
    #[error("cannot read the current {name}: {source}")]
    Get { name: String, source: io::Error },
    #[error("setrlimit({name}, soft {soft}, hard {hard}) failed: {source}")]
    Set { name: String, soft: u64, hard: u64, source: io::Error },
}

/// One entry of the OCI `process.rlimits` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosixRlimit {
    /// `RLIMIT_NOFILE`, `RLIMIT_NPROC`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub hard: u64,
    pub soft: u64,
}

/// The names of getrlimit(2), with their resource numbers. (The casts are for
/// C libraries whose resource type is not u32, as musl's c_int.)
#[allow(clippy::unnecessary_cast)]
pub const RLIMITS: &[(&str, u32)] = &[
    ("RLIMIT_CPU", libc::RLIMIT_CPU as u32),
    ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE as u32),
    ("RLIMIT_DATA", libc::RLIMIT_DATA as u32),
    ("RLIMIT_STACK", libc::RLIMIT_STACK as u32),
    ("RLIMIT_CORE", libc::RLIMIT_CORE as u32),
    ("RLIMIT_RSS", libc::RLIMIT_RSS as u32),
    ("RLIMIT_NPROC", libc::RLIMIT_NPROC as u32),
    ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE as u32),
    ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK as u32),
    ("RLIMIT_AS", libc::RLIMIT_AS as u32),
    ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS as u32),
    ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING as u32),
    ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE as u32),
    ("RLIMIT_NICE", libc::RLIMIT_NICE as u32),
    ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO as u32),
    ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME as u32),
];

/// A checked limit, ready for setrlimit(2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    pub name: String,
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

fn current(name: &str, resource: u32) -> Result<(u64, u64), RlimitError> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(resource as _, &mut limit) } != 0 {
        return Err(RlimitError::Get { name: name.to_owned(), source: io::Error::last_os_error() });
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Checks `spec` against the names getrlimit(2) knows and the hard limits this
/// process has now. `can_raise` says whether it holds CAP_SYS_RESOURCE, which
/// lets it raise a hard limit. Nothing is changed.
pub fn check(spec: &[PosixRlimit], can_raise: bool) -> Result<Vec<Rlimit>, RlimitError> {
    let mut out = Vec::new();
    for limit in spec {
        let resource = RLIMITS
            .iter()
            .find(|(n, _)| *n == limit.kind)
            .map(|&(_, r)| r)
            .ok_or_else(|| RlimitError::Unknown { name: limit.kind.clone() })?;
        if limit.soft > limit.hard {
            return Err(RlimitError::SoftAboveHard {
                name: limit.kind.clone(),
                soft: limit.soft,
                hard: limit.hard,
            });
        }
        let (_, allowed) = current(&limit.kind, resource)?;
        if limit.hard > allowed && !can_raise {
            return Err(RlimitError::AboveHardLimit { name: limit.kind.clone(), value: limit.hard, allowed });
        }
        out.push(Rlimit { name: limit.kind.clone(), resource, soft: limit.soft, hard: limit.hard });
    }
    Ok(out)
}

/// Sets each limit with setrlimit(2). Limits are inherited by the payload across execve.
pub fn apply(limits: &[Rlimit]) -> Result<(), RlimitError> {
    for limit in limits {
        let value = libc::rlimit { rlim_cur: limit.soft, rlim_max: limit.hard };
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(limit.resource as _, &value) } != 0 {
            return Err(RlimitError::Set {
                name: limit.name.clone(),
                soft: limit.soft,
                hard: limit.hard,
                source: io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}
