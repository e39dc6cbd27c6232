//! Which cgroup interface a driver speaks (chapter 4): v1, one hierarchy per
//! controller, or v2, the unified tree. Read cgroups(7), "CGROUPS VERSION 1" and
//! "CGROUPS VERSION 2". A file of its own because the error type names it too.

use std::fmt;

use serde::Serialize;

/// Which cgroup interface a driver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    V1,
    V2,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        })
    }
}
