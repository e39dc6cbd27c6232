//! Disk: the bytes an unprivileged user may still write where the workspace lives.
//! Read statvfs(3).

use std::io;
use std::path::Path;

use super::ProbeError;

/// Bytes an unprivileged user may still write on the filesystem holding `path` (statvfs(3)).
// fsblkcnt_t and c_ulong are u32 on 32-bit targets, u64 here: the conversions are for them.
#[allow(clippy::useless_conversion)]
pub fn free_bytes(path: &Path) -> Result<u64, ProbeError> {
    let stat = nix::sys::statvfs::statvfs(path)
        .map_err(|errno| ProbeError::Read { path: path.to_owned(), source: io::Error::from(errno) })?;
    Ok(u64::from(stat.blocks_available()) * u64::from(stat.fragment_size()))
}
