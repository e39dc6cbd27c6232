//! The mountinfo parser of the bang-oci suites that read mounts (cgroupfs, validation,
//! runc_parity): every field of a line, per-mount options and propagation included.
//! Everything else these suites share lives in bigbang-testkit. Read proc(5)
//! (mountinfo).

/// One mountinfo line's fields the tests look at (proc(5)).
// A record of a whole line: each suite that includes this module reads the fields it
// needs, none reads all of them (runc_parity compares only points, types and flags).
#[allow(dead_code)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountLine {
    /// Field 4: the path of the mounted filesystem that is mounted here (`/etc` for a bind of /etc).
    pub root: String,
    pub mount_point: String,
    /// Field 6: per-mount options (`ro`, `nosuid`, …).
    pub options: Vec<String>,
    /// The optional fields: `shared:N`, `master:N`, `unbindable`.
    pub propagation: Vec<String>,
    pub fstype: String,
    pub source: String,
}

/// Parses mountinfo text (the testkit's parser leaves out the per-mount options and
/// the propagation fields, which these tests need).
pub fn parse_mountinfo(text: &str) -> Vec<MountLine> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            Some(MountLine {
                root: fields.get(3)?.to_string(),
                mount_point: fields.get(4)?.to_string(),
                options: fields.get(5)?.split(',').map(str::to_string).collect(),
                propagation: fields[6..].iter().map(|s| s.to_string()).collect(),
                fstype: right.next()?.to_string(),
                source: right.next()?.to_string(),
            })
        })
        .collect()
}
