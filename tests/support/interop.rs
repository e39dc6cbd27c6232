//! What the interop tests of bang-oci with engines share (tests/podman*.rs,
//! tests/docker.rs, tests/containerd.rs): the bang-oci binary built for them. The pty
//! the test holds for `-it` is `bigbang_testkit::pty`, an image imported from a
//! busybox rootfs `bigbang_testkit::rootfs::import_rootfs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The bang-oci binary, built once per test process.
///
/// Why build it here rather than take target/debug/bang-oci next to the test executable:
/// `cargo test -p bigbang` builds only this package's targets, so that file may be
/// missing or, worse, left over from an older commit, and the tests would pass or fail
/// against a runtime nobody is looking at. The nested cargo gets a target directory of
/// its own (target/interop) so that it never waits for the lock the outer cargo holds
/// on target/; it is incremental, so after the first run this takes well under a second.
pub fn bang_oci() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = workspace.join("target").join("interop");
        let output = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "bang", "--bin", "bang-oci"])
            .current_dir(workspace)
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("running cargo to build bang-oci");
        assert!(
            output.status.success(),
            "cargo build -p bang --bin bang-oci failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target.join("debug").join("bang-oci")
    })
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
