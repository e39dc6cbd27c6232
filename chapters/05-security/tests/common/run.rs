//! The run command of chapter 5's checks but seal.rs: sealing has its own checks
//! (tests/seal.rs), the others skip it, so that each file's holes are checked on
//! their own.

use std::path::Path;
use std::process::Command;

use crate::common::{runtime, ProfileFile};

/// `chapter-5 run --no-seal --profile P ROOTFS -- argv…`, ready to spawn or run.
pub fn run_cmd(profile: &ProfileFile, rootfs: &Path, argv: &[&str]) -> Command {
    let mut cmd = runtime();
    cmd.args(["run", "--no-seal", "--profile"]).arg(&profile.path).arg(rootfs).arg("--").args(argv);
    cmd
}
