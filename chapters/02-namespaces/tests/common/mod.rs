//! Helpers every one of chapter 2's checks uses: the demo binary (your code), a
//! busybox rootfs it can run in, and text of an output stream. The container guard of
//! init.rs and namespaces.rs is in common/container.rs; /proc readers are the testkit's.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use bigbang_testkit::rootfs::BusyboxRootfs;

/// A busybox rootfs with an empty regular file at /dev/null: busybox sh opens it as
/// the stdin of a background job (`cmd &`). Chapter 2 makes no device nodes (mknod
/// needs root outside any user namespace); chapter 3 binds the real ones.
pub fn rootfs() -> BusyboxRootfs {
    let rootfs = BusyboxRootfs::new().unwrap_or_else(|err| panic!("cannot build the test rootfs: {err}"));
    fs::write(rootfs.path().join("dev/null"), "").expect("cannot create dev/null in the test rootfs");
    fs::set_permissions(rootfs.path().join("dev/null"), fs::Permissions::from_mode(0o666)).unwrap();
    rootfs
}

/// The chapter's demo binary, which runs your code.
pub fn demo() -> Command {
    Command::cargo_bin("chapter-2").expect("the chapter-2 demo binary is built by cargo test")
}

/// Text of an output stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
