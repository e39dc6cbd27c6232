//! Programs: how an ELF executable is linked (elf(5): a PT_INTERP header or none),
//! finding busybox and the interop tools on PATH, and their version lines.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use super::ProbeError;

/// How an ELF executable is linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Linkage {
    /// No PT_INTERP program header: runs without a dynamic loader (static or static-pie),
    /// so it works inside a rootfs that has nothing else.
    Static,
    /// Needs the loader named in PT_INTERP (e.g. `/lib64/ld-linux-x86-64.so.2`).
    Dynamic { interpreter: String },
}

const PT_INTERP: u32 = 3;

/// Reads the ELF header and program headers (elf(5)) in `bytes` (the file's start, up to
/// the end of its program headers) and says whether a PT_INTERP header is present.
pub fn elf_linkage(bytes: &[u8]) -> Result<Linkage, ProbeError> {
    let bad = |reason| ProbeError::BadElf { reason };
    if bytes.len() < 52 || bytes[..4] != *b"\x7fELF" {
        return Err(bad("no ELF magic number"));
    }
    let wide = match bytes[4] {
        1 => false,
        2 => true,
        _ => return Err(bad("unknown ELF class")),
    };
    let little = match bytes[5] {
        1 => true,
        2 => false,
        _ => return Err(bad("unknown ELF byte order")),
    };
    let uint = |offset: usize, size: usize| -> Result<u64, ProbeError> {
        let field = bytes.get(offset..offset + size).ok_or(bad("truncated header"))?;
        let mut value = 0u64;
        for (i, byte) in field.iter().enumerate() {
            let shift = if little { i } else { size - 1 - i };
            value |= u64::from(*byte) << (8 * shift);
        }
        Ok(value)
    };
    // e_phoff, e_phentsize, e_phnum; then p_offset and p_filesz within a program header.
    let (phoff, phentsize, phnum) = if wide {
        (uint(0x20, 8)?, uint(0x36, 2)?, uint(0x38, 2)?)
    } else {
        (uint(0x1C, 4)?, uint(0x2A, 2)?, uint(0x2C, 2)?)
    };
    let (p_offset, p_filesz) = if wide { ((8, 8), (32, 8)) } else { ((4, 4), (16, 4)) };
    for index in 0..phnum {
        let header = usize::try_from(phoff + index * phentsize).map_err(|_| bad("huge offset"))?;
        if uint(header, 4)? as u32 == PT_INTERP {
            let start = uint(header + p_offset.0, p_offset.1)? as usize;
            let len = uint(header + p_filesz.0, p_filesz.1)? as usize;
            let interpreter = bytes
                .get(start..start.saturating_add(len))
                .map(|raw| String::from_utf8_lossy(raw).trim_end_matches('\0').to_owned())
                .unwrap_or_default();
            return Ok(Linkage::Dynamic { interpreter });
        }
    }
    Ok(Linkage::Static)
}

/// [`elf_linkage`] of the file at `path`.
pub fn elf_linkage_of(path: &Path) -> Result<Linkage, ProbeError> {
    let bytes = fs::read(path).map_err(|source| ProbeError::Read { path: path.to_owned(), source })?;
    elf_linkage(&bytes).map_err(|e| match e {
        ProbeError::BadElf { reason } => ProbeError::BadElfFile { path: path.to_owned(), reason },
        other => other,
    })
}

/// The first executable file called `name` in the directories of `path_var` (a `$PATH`
/// value), then in `fallback` directories.
pub fn find_program(name: &str, path_var: Option<&OsStr>, fallback: &[&Path]) -> Option<PathBuf> {
    let from_path = path_var.into_iter().flat_map(std::env::split_paths);
    from_path.chain(fallback.iter().map(|p| p.to_path_buf())).map(|dir| dir.join(name)).find(|candidate| {
        fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// `name` on this process's PATH, or in /usr/bin, /bin, /usr/sbin, /sbin.
pub fn program(name: &str) -> Option<PathBuf> {
    let fallback = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(Path::new);
    find_program(name, std::env::var_os("PATH").as_deref(), &fallback)
}

/// The first non-empty line `program <args>` prints on stdout or stderr.
pub fn version_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    [output.stdout, output.stderr]
        .iter()
        .flat_map(|out| String::from_utf8_lossy(out).lines().map(str::to_owned).collect::<Vec<_>>())
        .map(|line| line.trim().to_owned())
        .find(|line| !line.is_empty())
}

/// busybox as the rootfs fixtures use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Busybox {
    pub path: PathBuf,
    pub linkage: Linkage,
    /// e.g. `BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary.`
    pub version: Option<String>,
}

impl Busybox {
    pub fn is_static(&self) -> bool {
        self.linkage == Linkage::Static
    }
}

/// Names the busybox to use instead of searching, as for the rootfs fixture.
pub const BUSYBOX_ENV: &str = "BIGBANG_BUSYBOX";

/// busybox as `$BIGBANG_BUSYBOX` names it, else on PATH (or /usr/bin, /bin, /usr/sbin),
/// its linkage and version; `None` when there is none.
pub fn busybox() -> Result<Option<Busybox>, ProbeError> {
    let named = std::env::var_os(BUSYBOX_ENV).map(PathBuf::from).filter(|p| p.is_file());
    let Some(path) = named.or_else(|| program("busybox")) else {
        return Ok(None);
    };
    let linkage = elf_linkage_of(&path)?;
    let version = version_line(&path, &["--help"]);
    Ok(Some(Busybox { path, linkage, version }))
}

/// An interop tool (podman, runc, skopeo, umoci, etcd) found on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub path: PathBuf,
    /// The first line of `<tool> --version`.
    pub version: Option<String>,
}

/// `name` on PATH and its `--version` line; `None` when absent.
pub fn tool(name: &str) -> Option<Tool> {
    let path = program(name)?;
    let version = version_line(&path, &["--version"]);
    Some(Tool { path, version })
}
