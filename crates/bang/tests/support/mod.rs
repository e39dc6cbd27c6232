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

/// Parses mountinfo text with the product's parser (`bigbang_container::mountinfo`),
/// keeping the per-mount options and the propagation fields these tests need. Lines
/// that are not mounts (a payload's other output around its `cat`) are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountLine> {
    bigbang_container::mountinfo::entries(text)
        .filter_map(Result::ok)
        .map(|m| MountLine {
            root: m.root.to_string_lossy().into_owned(),
            mount_point: m.mount_point.to_string_lossy().into_owned(),
            options: m.options,
            propagation: m.optional.iter().map(ToString::to_string).collect(),
            fstype: m.fstype,
            source: m.source,
        })
        .collect()
}
