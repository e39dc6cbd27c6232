//! A process's mount table, `/proc/<pid>/mountinfo`, parsed once for every chapter that
//! reads it: rootfs (chapter 3) for propagation and its own mounts, cgroups (chapter 4)
//! for the hierarchies, and the tests for what the kernel shows. One line per mount, its
//! fields as proc(5) lists them; read proc(5) ("/proc/pid/mountinfo") and
//! mount_namespaces(7) (the optional fields: peer groups and propagation).

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// This process's mount table.
pub const SELF: &str = "/proc/self/mountinfo";

/// What can go wrong while reading a mount table.
#[derive(Debug, thiserror::Error)]
pub enum MountinfoError {
    #[error("cannot read {path}: {source}; is /proc mounted?")]
    Read { path: PathBuf, source: io::Error },
    #[error("line {line} of mountinfo is not a mount as proc(5) describes it ({reason}): {text:?}")]
    Malformed { line: usize, text: String, reason: &'static str },
}

/// One line of mountinfo: a mount in the process's mount namespace.
///
/// ```text
/// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
/// (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// (1) A unique id of the mount (it may be reused after umount(2)).
    pub mount_id: u64,
    /// (2) The id of the parent mount, or of this one at the top of the tree.
    pub parent_id: u64,
    /// (3) The device the files are on (`st_dev` of stat(2)).
    pub major: u32,
    pub minor: u32,
    /// (4) The path within the filesystem that is mounted here: `/` for a whole
    /// filesystem, a directory for a bind mount of it.
    pub root: PathBuf,
    /// (5) Where it is mounted, relative to the process's root directory.
    pub mount_point: PathBuf,
    /// (6) The per-mount options: `rw` or `ro`, `nosuid`, `nodev`, `noexec`, atime flags.
    pub options: Vec<String>,
    /// (7) The optional fields, in order: peer groups and propagation.
    pub optional: Vec<OptionalField>,
    /// (9) The filesystem type, `type.subtype` for FUSE (`fuse.sshfs`).
    pub fstype: String,
    /// (10) Filesystem-specific: a device, `none`, or what mount(2) was given.
    pub source: String,
    /// (11) The per-superblock options (`mode=755`, `lowerdir=…`, a v1 cgroup's controllers).
    pub super_options: Vec<String>,
}

/// An optional field of a mountinfo line (mount_namespaces(7)). Tags the kernel may
/// add later are skipped, as proc(5) tells parsers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalField {
    /// `shared:N`: the mount is in peer group N; mounts and unmounts propagate among peers.
    Shared(u64),
    /// `master:N`: the mount is a slave of peer group N; it receives their events.
    Master(u64),
    /// `propagate_from:N`: a slave that receives from peer group N, the nearest
    /// dominant one this process can see.
    PropagateFrom(u64),
    /// `unbindable`: the mount cannot be bind mounted.
    Unbindable,
}

impl fmt::Display for OptionalField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionalField::Shared(n) => write!(f, "shared:{n}"),
            OptionalField::Master(n) => write!(f, "master:{n}"),
            OptionalField::PropagateFrom(n) => write!(f, "propagate_from:{n}"),
            OptionalField::Unbindable => f.write_str("unbindable"),
        }
    }
}

impl MountInfo {
    /// Parses one line; `Err` says what is wrong with it.
    pub fn from_line(line: &str) -> Result<Self, &'static str> {
        let (left, right) =
            line.split_once(" - ").ok_or("no \" - \" separator before the filesystem type")?;
        let mut fields = left.split(' ');
        let mut next = |what| fields.next().ok_or(what);
        let mount_id = next("no mount id")?.parse().map_err(|_| "the mount id is not a number")?;
        let parent_id = next("no parent id")?.parse().map_err(|_| "the parent id is not a number")?;
        let (major, minor) = next("no major:minor")?.split_once(':').ok_or("no major:minor")?;
        let major = major.parse().map_err(|_| "the major device number is not a number")?;
        let minor = minor.parse().map_err(|_| "the minor device number is not a number")?;
        let root = path(next("no root")?);
        let mount_point = path(next("no mount point")?);
        let options = list(next("no mount options")?);
        let optional = fields.map(optional_field).filter_map(Result::transpose).collect::<Result<_, _>>()?;
        // The super options are the rest of the line: an option the filesystem printed
        // with a space in it unescaped does not make the line unreadable.
        let mut right = right.splitn(3, ' ');
        let fstype = unescape(right.next().filter(|t| !t.is_empty()).ok_or("no filesystem type")?);
        let source = unescape(right.next().ok_or("no mount source")?);
        let super_options = list(right.next().ok_or("no super options")?);
        Ok(Self {
            mount_id,
            parent_id,
            major,
            minor,
            root,
            mount_point,
            options,
            optional,
            fstype,
            source,
            super_options,
        })
    }

    /// Whether `option` is among the per-mount options (`ro`, `nosuid`, …).
    pub fn has_option(&self, option: &str) -> bool {
        self.options.iter().any(|o| o == option)
    }

    /// The peer group of a shared mount (`shared:N`).
    pub fn shared(&self) -> Option<u64> {
        self.optional.iter().find_map(|f| match f {
            OptionalField::Shared(n) => Some(*n),
            _ => None,
        })
    }

    /// The peer group a slave mount receives from (`master:N`).
    pub fn master(&self) -> Option<u64> {
        self.optional.iter().find_map(|f| match f {
            OptionalField::Master(n) => Some(*n),
            _ => None,
        })
    }

    /// Whether the mount is a cgroup filesystem, v1 (`cgroup`) or v2 (`cgroup2`).
    pub fn is_cgroup(&self) -> bool {
        self.fstype == "cgroup" || self.fstype == "cgroup2"
    }
}

/// One optional field; `None` for a tag this parser does not know.
fn optional_field(field: &str) -> Result<Option<OptionalField>, &'static str> {
    let number = |n: &str| n.parse().map_err(|_| "a peer group in the optional fields is not a number");
    Ok(Some(match field.split_once(':') {
        Some(("shared", n)) => OptionalField::Shared(number(n)?),
        Some(("master", n)) => OptionalField::Master(number(n)?),
        Some(("propagate_from", n)) => OptionalField::PropagateFrom(number(n)?),
        None if field == "unbindable" => OptionalField::Unbindable,
        None if field.is_empty() => return Err("an empty optional field (two spaces)"),
        _ => return Ok(None),
    }))
}

/// A comma-separated option list, each option unescaped (so an escaped `\054` stays
/// inside its option).
fn list(field: &str) -> Vec<String> {
    field.split(',').filter(|o| !o.is_empty()).map(unescape).collect()
}

fn path(field: &str) -> PathBuf {
    PathBuf::from(OsString::from_vec(unescape_bytes(field)))
}

/// Parses the text of a mountinfo file, one [`MountInfo`] per line. A line that is
/// not a mount is an error naming it: the kernel writes none, so one is a file that
/// is not mountinfo, or a fixture with a typo.
pub fn parse(text: &str) -> Result<Vec<MountInfo>, MountinfoError> {
    entries(text).collect()
}

/// The lines of `text` one by one, each parsed or the error naming it: for a caller
/// that prefers to skip what it cannot read (a diagnostic that must not fail).
pub fn entries(text: &str) -> impl Iterator<Item = Result<MountInfo, MountinfoError>> + '_ {
    text.lines().enumerate().filter(|(_, line)| !line.is_empty()).map(|(i, line)| {
        MountInfo::from_line(line).map_err(|reason| MountinfoError::Malformed {
            line: i + 1,
            text: line.to_owned(),
            reason,
        })
    })
}

/// Reads and parses a mountinfo file: [`SELF`], or `/proc/<pid>/mountinfo`.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<MountInfo>, MountinfoError> {
    let path = path.as_ref();
    let text =
        fs::read_to_string(path).map_err(|source| MountinfoError::Read { path: path.to_owned(), source })?;
    parse(&text)
}

/// Decodes mountinfo's `\ooo` octal escapes (the kernel writes space, tab, newline
/// and backslash so), as text; bytes that are not UTF-8 become U+FFFD.
pub fn unescape(field: &str) -> String {
    String::from_utf8_lossy(&unescape_bytes(field)).into_owned()
}

/// Decodes the `\ooo` escapes to the bytes the kernel escaped.
fn unescape_bytes(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = field.get(i + 1..i + 4).and_then(|digits| u8::from_str_radix(digits, 8).ok());
        if let (b'\\', Some(code)) = (bytes[i], octal) {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of a line, as proc(5)'s own example has them.
    #[test]
    fn every_field() {
        let line = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue";
        let m = MountInfo::from_line(line).unwrap();
        assert_eq!((m.mount_id, m.parent_id, m.major, m.minor), (36, 35, 98, 0));
        assert_eq!((m.root.as_path(), m.mount_point.as_path()), (Path::new("/mnt1"), Path::new("/mnt2")));
        assert_eq!(m.options, ["rw", "noatime"]);
        assert_eq!(m.optional, [OptionalField::Master(1)]);
        assert_eq!((m.fstype.as_str(), m.source.as_str()), ("ext3", "/dev/root"));
        assert_eq!(m.super_options, ["rw", "errors=continue"]);
        assert!(m.has_option("noatime") && !m.has_option("ro"));
        assert_eq!((m.master(), m.shared()), (Some(1), None));
    }

    /// Octal escapes are decoded in the paths, the source and the options; an escaped
    /// comma stays inside its option, and a backslash without three octal digits is kept.
    #[test]
    fn escapes_are_decoded() {
        let line = "99 30 0:50 /a\\040dir /mnt/with\\040space\\011tab rw - fuse.sshfs me@host:/x\\134y rw,opt=a\\054b";
        let m = MountInfo::from_line(line).unwrap();
        assert_eq!(m.root, Path::new("/a dir"));
        assert_eq!(m.mount_point, Path::new("/mnt/with space\ttab"));
        assert_eq!(m.fstype, "fuse.sshfs");
        assert_eq!(m.source, "me@host:/x\\y");
        assert_eq!(m.super_options, ["rw", "opt=a,b"]);
        assert_eq!(unescape("\\012 \\9 \\"), "\n \\9 \\");
        // A name that is not UTF-8 is kept as the kernel's bytes in a path.
        let m = MountInfo::from_line("1 0 0:1 / /x\\377 rw - tmpfs tmpfs rw").unwrap();
        assert_eq!(m.mount_point.as_os_str().as_encoded_bytes(), b"/x\xff");
    }

    /// Zero or more optional fields, each tag decoded; unknown tags are skipped.
    #[test]
    fn optional_fields() {
        let none = MountInfo::from_line("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755").unwrap();
        assert!(none.optional.is_empty());
        assert!(!none.is_cgroup());
        let all =
            "40 31 0:37 / /a rw shared:5 master:1 propagate_from:2 unbindable future:7 - cgroup2 cgroup2 rw";
        let m = MountInfo::from_line(all).unwrap();
        use OptionalField::*;
        assert_eq!(m.optional, [Shared(5), Master(1), PropagateFrom(2), Unbindable]);
        let shown: Vec<String> = m.optional.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["shared:5", "master:1", "propagate_from:2", "unbindable"]);
        assert_eq!(m.shared(), Some(5));
        assert!(m.is_cgroup());
        // An empty source (mount(2) given "") is a field, not a missing one.
        let empty = MountInfo::from_line("41 1 0:40 / /e rw - tmpfs  rw").unwrap();
        assert_eq!((empty.source.as_str(), empty.super_options.as_slice()), ("", &["rw".to_owned()][..]));
    }

    /// A line that is not a mount is an error naming its number and text; blank lines
    /// are skipped, and `entries` lets a caller skip bad lines itself.
    #[test]
    fn malformed_lines_are_named() {
        let good = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw";
        for (bad, reason) in [
            ("31 23 0:28 / /sys/fs/cgroup rw tmpfs tmpfs rw", "separator"),
            ("x 23 0:28 / /p rw - tmpfs tmpfs rw", "mount id"),
            ("31 23 028 / /p rw - tmpfs tmpfs rw", "major:minor"),
            ("31 23 0:28 / /p - tmpfs tmpfs rw", "no mount options"),
            ("31 23 0:28 / /p rw shared:x - tmpfs tmpfs rw", "peer group"),
            ("31 23 0:28 / /p rw - tmpfs", "mount source"),
        ] {
            let text = format!("{good}\n\n{bad}\n");
            let err = parse(&text).unwrap_err();
            let MountinfoError::Malformed { line, text, reason: why } = &err else { panic!("{err:?}") };
            assert_eq!((*line, text.as_str()), (3, bad), "{err}");
            assert!(why.contains(reason), "{bad}: {why}");
            assert!(err.to_string().starts_with("line 3 of mountinfo"), "{err}");
            let readable: Vec<MountInfo> =
                entries(&format!("{good}\n{bad}\n")).filter_map(Result::ok).collect();
            assert_eq!(readable.len(), 1);
        }
        assert!(parse("").unwrap().is_empty());
    }

    /// This process's own table reads: the kernel's lines are all well formed.
    #[test]
    fn reads_its_own_table() {
        let mounts = read(SELF).unwrap();
        assert!(mounts.iter().any(|m| m.mount_point == Path::new("/")), "{mounts:?}");
        let err = read("/proc/self/no-such-file").unwrap_err();
        assert!(matches!(err, MountinfoError::Read { .. }), "{err}");
    }
}
