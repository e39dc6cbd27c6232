//! The mounts a test looks at, read with the product's one mountinfo parser
//! (`bigbang_container::mountinfo`): a payload's `cat /proc/self/mountinfo` among its
//! other output, a process's table read from the host, and the mount a path lookup
//! sees at a mount point. Read proc(5) ("/proc/pid/mountinfo").

use std::fmt::Display;
use std::path::Path;

use bigbang_container::mountinfo::{self, MountInfo};

/// The mounts in `text`, a mountinfo or a payload's output that holds one: the lines
/// that are not mounts (what the payload printed around its `cat`) are skipped.
pub fn parse(text: &str) -> Vec<MountInfo> {
    mountinfo::entries(text).filter_map(Result::ok).collect()
}

/// The mounts of process `pid`, from `/proc/<pid>/mountinfo`; fails naming what went
/// wrong (a line the kernel wrote is always a mount, so none is skipped).
pub fn of(pid: impl Display) -> Vec<MountInfo> {
    mountinfo::read(format!("/proc/{pid}/mountinfo")).unwrap_or_else(|err| panic!("{err}"))
}

/// The mount at `point`: the top one when several are stacked there, the one a path
/// lookup sees.
pub fn mount_at(mounts: &[MountInfo], point: impl AsRef<Path>) -> Option<&MountInfo> {
    let point = point.as_ref();
    mounts.iter().rev().find(|m| m.mount_point == point)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payload's other output is skipped, and the top of two stacked mounts is found.
    #[test]
    fn parses_a_payloads_output_and_finds_the_top_mount() {
        let text = "=== mountinfo\n\
                    1 0 0:1 / / ro - overlay overlay rw\n\
                    2 1 0:2 / /tmp rw - tmpfs first rw\n\
                    not a mount\n\
                    3 2 0:3 / /tmp rw,nosuid - tmpfs second rw\n";
        let mounts = parse(text);
        assert_eq!(mounts.len(), 3, "{mounts:#?}");
        assert_eq!(mount_at(&mounts, "/tmp").map(|m| m.source.as_str()), Some("second"));
        assert!(mount_at(&mounts, "/").is_some_and(|m| m.has_option("ro")));
        assert!(mount_at(&mounts, "/proc").is_none());
    }

    /// This process's own table is read, its root among its mounts.
    #[test]
    fn reads_a_process_table() {
        let mounts = of("self");
        assert!(mount_at(&mounts, "/").is_some(), "{mounts:#?}");
    }
}
