//! The running kernel and this process's privileges: uname(2)'s release, the
//! effective uid. Read uname(2) and credentials(7).

use super::{read, ProbeError};
use serde::Serialize;

/// The running kernel, from its release string (`uname -r`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kernel {
    pub release: String,
    pub major: u32,
    pub minor: u32,
}

impl Kernel {
    /// Parses a release such as `6.18.44-fc-v595` or `5.15.0-91-generic`.
    pub fn parse(release: &str) -> Self {
        let release = release.trim();
        let mut numbers =
            release.split(|c: char| !c.is_ascii_digit()).map(|part| part.parse::<u32>().unwrap_or(0));
        let major = numbers.next().unwrap_or(0);
        let minor = numbers.next().unwrap_or(0);
        Self { release: release.to_owned(), major, minor }
    }

    /// Whether this kernel is `major.minor` or newer.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// The running kernel, read from `/proc/sys/kernel/osrelease` (what uname(2) reports).
pub fn kernel() -> Result<Kernel, ProbeError> {
    Ok(Kernel::parse(&read("/proc/sys/kernel/osrelease")?))
}

/// This process's effective uid.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
