//! config.json's `process`: the command, its environment, working directory and user,
//! and the limits chapter 5 puts on it. Chapter 6. Read config.md "Process" and
//! "POSIX process" of the OCI runtime specification, execve(2), umask(2).

use serde::{Deserialize, Serialize};

use crate::security::capabilities::LinuxCapabilities;
use crate::security::rlimits::PosixRlimit;
use crate::security::User;

/// `process`: what the container runs, and as whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    /// Give the process a pseudo-terminal (the runtime's caller passes its master side).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<ConsoleSize>,
    /// Absent means root (uid 0, gid 0).
    #[serde(default)]
    pub user: ProcessUser,
    /// The program and its arguments; `args[0]` is looked up in the container's PATH.
    #[serde(default)]
    pub args: Vec<String>,
    /// `NAME=value` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Absolute path inside the container. Required; kept empty when absent so that
    /// validation can say so (a silent default of `/` would hide the mistake).
    #[serde(default)]
    pub cwd: String,
    /// Chapter 5's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<LinuxCapabilities>,
    /// Chapter 5's type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rlimits: Vec<PosixRlimit>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_new_privileges: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apparmor_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux_label: Option<String>,
}

/// `process.consoleSize`, in characters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSize {
    pub height: u32,
    pub width: u32,
}

/// `process.user`: chapter 5's [`User`] (uid, gid, additionalGids) and the umask,
/// which chapter 5 does not set. Flattened rather than copied, so the two cannot
/// drift apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessUser {
    #[serde(flatten)]
    pub id: User,
    /// The file mode creation mask, e.g. 18 (0o022). Absent: left as inherited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
}
