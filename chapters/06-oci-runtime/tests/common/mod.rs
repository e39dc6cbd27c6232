//! What chapter 6's tests share: a bundle whose config.json YOUR `chapter-6 spec`
//! writes, and YOUR `chapter-6` as the runtime under test, on the testkit's bundle and
//! runtime guard (a state root of its own; on drop every container is force-deleted,
//! then killed and its cgroups removed, even while your `delete` is a `todo!()`).

use std::ops::Deref;
use std::path::PathBuf;

use bigbang_testkit::{bundle, privilege, runtime};

pub use bigbang_testkit::process::alive as process_lives;
pub use bigbang_testkit::wait::eventually;

/// The chapter's binary, which runs your code.
fn chapter_6() -> PathBuf {
    assert_cmd::cargo::cargo_bin("chapter-6")
}

/// A bundle running a payload, with the config.json of `chapter-6 spec`.
pub struct Bundle(bundle::Bundle);

impl Bundle {
    /// A bundle running `args`, without a terminal, with a writable root.
    pub fn new(args: &[&str]) -> Bundle {
        let bundle = bundle::Bundle::spec_by(&chapter_6(), args);
        bundle.writable();
        Bundle(bundle)
    }
}

impl Deref for Bundle {
    type Target = bundle::Bundle;

    fn deref(&self) -> &bundle::Bundle {
        &self.0
    }
}

/// `chapter-6` with a state root of its own; ids from [`runtime::Runtime::id`] carry
/// a suffix unique to this test process.
pub struct Runtime(runtime::Runtime);

impl Runtime {
    pub fn new() -> Runtime {
        privilege::require_root(
            "chapter 6 creates containers (cgroups, namespaces, mounts) and needs root",
            "cargo test -p chapter-6",
        );
        Runtime(runtime::Runtime::of(chapter_6()))
    }

    /// `create --pid-file … ID`; the container's standard streams go to files (nobody
    /// must wait for the container to close a pipe). Panics unless it worked; returns
    /// the pid the pid file holds.
    pub fn create(&self, bundle: &Bundle, id: &str) -> i32 {
        self.0.created_with_pid_file(bundle, id)
    }

    /// Runs a verb that must fail; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        self.0.fails(args).stderr
    }

    /// What the container `id` wrote to its standard output so far.
    pub fn stdout(&self, id: &str) -> String {
        self.0.out(id)
    }
}

impl Deref for Runtime {
    type Target = runtime::Runtime;

    fn deref(&self) -> &runtime::Runtime {
        &self.0
    }
}
