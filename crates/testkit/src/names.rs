//! Names no other test uses: container ids, cgroup names, bridge names. Tests of one
//! run share the machine with other runs (other sessions, a learner's second terminal),
//! so a name carries this process's pid.

use std::sync::atomic::{AtomicU32, Ordering};

/// `<name>-<pid>`: the same name in one test process, another in every other one.
pub fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// `<prefix>-<pid>-<n>`: a new name at every call.
pub fn numbered(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
